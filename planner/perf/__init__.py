"""Performance model: memory fit, latency and throughput of one replica (roofline + fitted efficiencies)."""

from planner.perf.api import EngineSettings, calibration_caveat, engine_settings, estimate, fits, max_batch, memory
from planner.perf.bands import DEFAULT_CONFIDENCE, Band, Bands, bands, conservative, conservative_factors
from planner.perf.geometry import Geometry, geometry
from planner.perf.types import Config, Estimate, MemoryReport, Shape

__all__ = [
    "DEFAULT_CONFIDENCE",
    "Band",
    "Bands",
    "Config",
    "EngineSettings",
    "Estimate",
    "Geometry",
    "MemoryReport",
    "Shape",
    "bands",
    "calibration_caveat",
    "conservative",
    "conservative_factors",
    "engine_settings",
    "estimate",
    "fits",
    "geometry",
    "max_batch",
    "memory",
]
