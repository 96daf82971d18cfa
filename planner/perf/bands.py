"""Error bands: how far measurements fell from the model's predictions, per regime, and where it extrapolates.

bands.yaml (written by bench/calib_bands.py) holds, per metric and concurrency class, quantiles of
measured ÷ predicted over leave-one-source-out residuals: each quantile comes from rows whose source the
fit never saw, so it describes the error on a new publication, not the fit's own rows. It also holds the
range the measurements cover (batch, context, GPU family, engine on a family, throughput per GPU).
A prediction outside that range gets its band widened and says why.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from planner.catalog.snapshot import packaged_yaml
from planner.errors import CatalogError, RequestError
from planner.perf.types import Config, Estimate, Shape

Metric = Literal["ttft", "tpot", "throughput"]
METRICS: tuple[Metric, ...] = ("ttft", "tpot", "throughput")
LOW_Q, HIGH_Q = 0.1, 0.9
DEFAULT_CONFIDENCE = 0.5
"""Plans are sized on the central prediction unless --confidence asks for a conservative quantile."""
MAX_CONFIDENCE = 0.95


def concurrency_class(batch: int) -> str:
    """The regimes residuals are grouped by: latency-bound, mixed, throughput-bound batches."""
    if batch <= 16:
        return "low"
    return "mid" if batch <= 128 else "high"


@dataclass(frozen=True)
class Regime:
    rows: int
    quantiles: tuple[float, ...]
    ratios: tuple[float, ...]
    """measured ÷ predicted at each quantile (ascending)."""

    def ratio(self, q: float) -> float:
        """Linear interpolation in log space between the stored quantiles (clamped at the ends)."""
        qs, rs = self.quantiles, self.ratios
        if q <= qs[0]:
            return rs[0]
        for i in range(1, len(qs)):
            if q <= qs[i]:
                t = (q - qs[i - 1]) / (qs[i] - qs[i - 1])
                return math.exp((1 - t) * math.log(rs[i - 1]) + t * math.log(rs[i]))
        return rs[-1]


@dataclass(frozen=True)
class Coverage:
    batch_max: int
    context_max: int
    tokens_per_s_per_gpu_max: dict[str, float]
    """Per GPU family: the highest measured output tokens/s per GPU."""
    families: frozenset[str]
    engine_families: dict[str, frozenset[str]]


@dataclass(frozen=True)
class BandData:
    regimes: dict[tuple[str, str], Regime]
    coverage: Coverage
    per_doubling: float
    unmeasured: float
    source: str
    as_of: str


@dataclass(frozen=True)
class Band:
    low: float
    high: float


@dataclass(frozen=True)
class Bands:
    """p10–p90 of what a replica measured where the model predicted `estimate`'s numbers."""

    ttft_ms: Band
    tpot_ms: Band
    output_tokens_per_s: Band
    regime: str
    widen: float
    """Factor on the band's log-width (1 inside the measured range)."""
    outside: tuple[str, ...]
    """Why the prediction is outside the measured range (empty inside it)."""


@functools.cache
def band_data() -> BandData:
    d: Any = packaged_yaml(Path(__file__).with_name("bands.yaml"))
    try:
        qs = tuple(float(q) for q in d["quantiles"])
        regimes = {(m, k): Regime(int(v["rows"]), qs, tuple(float(r) for r in v["ratio"]))
                   for m, per in d["regimes"].items() for k, v in per.items()}
        c = d["coverage"]
        cov = Coverage(int(c["batch_max"]), int(c["context_max"]),
                       {str(k): float(v) for k, v in c["tokens_per_s_per_gpu_max"].items()},
                       frozenset(c["families"]), {e: frozenset(f) for e, f in c["engine_families"].items()})
        x = d["extrapolation"]
        return BandData(regimes, cov, float(x["per_doubling"]), float(x["unmeasured"]), str(d["source"]),
                        str(d["as_of"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"planner/perf/bands.yaml malformed: {exc}") from None


def _regime(data: BandData, metric: Metric, cls: str) -> Regime:
    r = data.regimes.get((metric, cls))
    if r is not None and r.rows >= 5:
        return r
    return data.regimes[(metric, "all")]


def coverage_gaps(cfg: Config, shape: Shape, batch: int, per_gpu: float) -> tuple[float, tuple[str, ...]]:
    """(widening factor, reasons) for a prediction at `batch` running sequences and `per_gpu` output
    tokens/s per GPU outside what the measurements cover. Each doubling past a covered maximum adds
    `per_doubling` to the factor; an unmeasured GPU family, or engine on that family, multiplies it."""
    data = band_data()
    cov = data.coverage
    widen, why = 1.0, []
    b = max(batch, 1)
    if b > cov.batch_max:
        widen += data.per_doubling * math.log2(b / cov.batch_max)
        why.append(f"batch {b} > {cov.batch_max} measured")
    ctx = shape.isl + shape.osl
    if ctx > cov.context_max:
        widen += data.per_doubling * math.log2(ctx / cov.context_max)
        why.append(f"context {ctx:,} > {cov.context_max:,} tokens measured")
    fam = cfg.gpu.family
    top = cov.tokens_per_s_per_gpu_max.get(fam)
    if top and per_gpu > top:
        widen += data.per_doubling * math.log2(per_gpu / top)
        why.append(f"{per_gpu:,.0f} output tok/s per GPU > {top:,.0f} measured on {fam}")
    if fam not in cov.families:
        widen *= data.unmeasured
        why.append(f"no measurements on {fam} GPUs")
    elif fam not in cov.engine_families.get(cfg.engine, frozenset()):
        widen *= data.unmeasured
        why.append(f"no {cfg.engine} measurements on {fam} GPUs")
    return widen, tuple(why)


def _scaled(reg: Regime, q: float, widen: float) -> float:
    """measured ÷ predicted at quantile q, its distance from the median stretched by `widen` (log space)."""
    mid = math.log(reg.ratio(0.5))
    return math.exp(mid + widen * (math.log(reg.ratio(q)) - mid))


def bands(cfg: Config, shape: Shape, est: Estimate) -> Bands | None:
    """The p10–p90 band of each metric; None when the configuration does not fit."""
    if not est.fits:
        return None
    data = band_data()
    cls = concurrency_class(max(est.effective_batch, 1))
    widen, why = coverage_gaps(cfg, shape, est.effective_batch, est.output_tokens_per_s_per_gpu)
    out: dict[str, Band] = {}
    values: tuple[tuple[Metric, float], ...] = (("ttft", est.ttft_ms), ("tpot", est.tpot_ms),
                                                 ("throughput", est.output_tokens_per_s))
    for metric, value in values:
        reg = _regime(data, metric, cls)
        out[metric] = Band(value * _scaled(reg, LOW_Q, widen), value * _scaled(reg, HIGH_Q, widen))
    return Bands(out["ttft"], out["tpot"], out["throughput"], cls, widen, why)


def check_confidence(q: float) -> None:
    if not DEFAULT_CONFIDENCE <= q <= MAX_CONFIDENCE:
        raise RequestError(f"confidence: must be within {DEFAULT_CONFIDENCE}..{MAX_CONFIDENCE} (got {q})")


def conservative_factors(cfg: Config, shape: Shape, est: Estimate, q: float) -> tuple[float, float, float]:
    """(TTFT, TPOT, throughput) multipliers that put the prediction at the q-quantile of measured outcomes:
    latencies that were exceeded by only 1-q of measurements, throughput reached by q of them. Never more
    optimistic than the central prediction; (1, 1, 1) at the default confidence."""
    check_confidence(q)
    if q <= DEFAULT_CONFIDENCE or not est.fits:
        return 1.0, 1.0, 1.0
    data = band_data()
    cls = concurrency_class(max(est.effective_batch, 1))
    widen, _ = coverage_gaps(cfg, shape, est.effective_batch, est.output_tokens_per_s_per_gpu)
    ttft = max(1.0, _scaled(_regime(data, "ttft", cls), q, widen))
    tpot = max(1.0, _scaled(_regime(data, "tpot", cls), q, widen))
    thr = min(1.0, _scaled(_regime(data, "throughput", cls), 1.0 - q, widen))
    return ttft, tpot, thr


def tpot_factor(cfg: Config, shape: Shape, batch: int, per_gpu: float, q: float) -> float:
    """The TPOT multiplier of conservative_factors at `batch`, for searches that have no Estimate yet."""
    if q <= DEFAULT_CONFIDENCE:
        return 1.0
    widen, _ = coverage_gaps(cfg, shape, batch, per_gpu)
    return max(1.0, _scaled(_regime(band_data(), "tpot", concurrency_class(max(batch, 1))), q, widen))


def conservative(cfg: Config, shape: Shape, est: Estimate, q: float) -> Estimate:
    """`est` with its latencies and throughput at quantile q of measured outcomes (see conservative_factors)."""
    f_ttft, f_tpot, f_thr = conservative_factors(cfg, shape, est, q)
    if f_ttft == f_tpot == f_thr == 1.0:
        return est
    return Estimate(
        fits=est.fits, batch=est.batch, effective_batch=est.effective_batch,
        memory_per_gpu_gb=est.memory_per_gpu_gb, max_concurrency=est.max_concurrency,
        ttft_ms=est.ttft_ms * f_ttft, tpot_ms=est.tpot_ms * f_tpot,
        output_tokens_per_s=est.output_tokens_per_s * f_thr,
        output_tokens_per_s_per_gpu=est.output_tokens_per_s_per_gpu * f_thr,
        breakdown=est.breakdown,
    )
