"""Performance model: memory fit, latency and throughput of one replica (roofline + fitted efficiencies)."""

from planner.perf.api import EngineSettings, calibration_caveat, engine_settings, estimate, max_batch, memory
from planner.perf.geometry import Geometry, geometry
from planner.perf.types import Config, Estimate, MemoryReport, Shape

__all__ = [
    "Config",
    "EngineSettings",
    "Estimate",
    "Geometry",
    "MemoryReport",
    "Shape",
    "calibration_caveat",
    "engine_settings",
    "estimate",
    "geometry",
    "max_batch",
    "memory",
]
