"""Fit the performance model's efficiency constants to measured benchmark points (one implementation).

`bench/fit_efficiency.py` refits the shipped constants on bench/data with no prior (every family and the
global constants free). `qwen-plan calibrate` fits the constants of the user's GPU family (and its
engines' request overhead) pulled toward the shipped values: a regularised least squares whose prior is
worth `prior_points` measurements per constant, so two points move a constant little and twenty move it
most of the way. Constants the data carry (almost) no information about are reported and left alone.

Residuals are log(predicted / measured) per metric; the fit is robust (soft L1) so one odd point does
not drag the rest. Parameters stay in their physical units between the bounds of planner/perf/constants.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from planner.perf.api import estimate_prepared
from planner.perf.constants import (
    FIT_BOUNDS,
    FIT_FIELDS,
    FIT_NEUTRAL,
    GLOBAL_FIT_BOUNDS,
    GLOBAL_FIT_FIELDS,
    GLOBAL_FIT_NEUTRAL,
    PER_ENGINE_FIT_FIELDS,
    Constants,
)
from planner.perf.roofline import Prepared
from planner.perf.types import Config, Shape

METRICS = ("ttft", "tpot", "throughput")
WEIGHT = {"tpot": 1.0, "throughput": 1.0, "ttft": 0.7}
"""TTFT counts less: at a benchmark's median it still carries some queueing the model does not see."""
F_SCALE = 0.3
"""Soft-L1 scale on log residuals: a point ~35 % off is where its pull stops growing quadratically."""
PRIOR_POINTS = 3.0
"""A shipped constant fitted on bench/data weighs as much as this many of the user's points."""
PRIOR_POINTS_UNFITTED = 1.0
"""A family without measurements of its own (values borrowed from the fallback family) is known worse."""
RIDGE_WEIGHT = 0.05
"""Pull of each log-constant toward its shipped value, far below one point's: it only breaks ties."""
MIN_INFORMATION = 0.5
"""A constant is identified when the data hold at least half an average point's worth of information on
it after the other constants have explained what they can (see `information`)."""


@dataclass(frozen=True)
class Point:
    """One measured configuration: what ran, at which load, and its medians (None: not measured)."""

    label: str
    cfg: Config
    shape: Shape
    batch: int
    """Concurrent requests on one replica."""
    ttft_ms: float | None
    tpot_ms: float | None
    thr: float | None
    """Output tokens/s of one replica."""
    family: str
    source: str = ""

    def measured(self, metric: str) -> float | None:
        return {"ttft": self.ttft_ms, "tpot": self.tpot_ms, "throughput": self.thr}[metric]


@dataclass(frozen=True)
class Param:
    """One fitted constant: where it lives in `Constants`, its bounds, and the value it starts from."""

    name: str
    """`hopper.bandwidth`, `hopper.request_overhead_ms.vllm`, `moe_compute`, `request_overhead_ms.vllm`."""
    lo: float
    hi: float


def family_params(families: Sequence[str], engines: Sequence[str] = ()) -> list[Param]:
    """The per-family constants, plus (for a profile) the family's own request overhead per engine."""
    out = [Param(f"{f}.{name}", *FIT_BOUNDS[name]) for f in families for name in FIT_FIELDS]
    lo, hi = GLOBAL_FIT_BOUNDS["request_overhead_ms"]
    out += [Param(f"{f}.request_overhead_ms.{e}", lo, hi) for f in families for e in engines]
    return out


def global_params(engines: Sequence[str]) -> list[Param]:
    out = [Param(name, *GLOBAL_FIT_BOUNDS[name]) for name in GLOBAL_FIT_FIELDS]
    return out + [Param(f"{name}.{e}", *GLOBAL_FIT_BOUNDS[name]) for name in PER_ENGINE_FIT_FIELDS for e in engines]


def value(c: Constants, name: str) -> float:
    parts = name.split(".")
    if parts[0] in PER_ENGINE_FIT_FIELDS:
        return float(getattr(c, parts[0]).get(parts[1], 0.0))
    if len(parts) == 1:
        return float(getattr(c, name))
    eff = c.family(parts[0])
    if parts[1] == "request_overhead_ms":
        own = eff.request_overhead_ms or {}
        return own.get(parts[2], c.request_overhead_ms[parts[2]])
    return float(getattr(eff, parts[1]))


def neutral(name: str) -> float:
    """The start of a fit that must not see the shipped values (cross-validation)."""
    if "request_overhead_ms" in name.split("."):
        return GLOBAL_FIT_NEUTRAL["request_overhead_ms"]
    if name.split(".")[0] in PER_ENGINE_FIT_FIELDS:
        return GLOBAL_FIT_NEUTRAL[name.split(".")[0]]
    field = name.split(".")[-1]
    return FIT_NEUTRAL[field] if field in FIT_NEUTRAL else GLOBAL_FIT_NEUTRAL[field]


def with_values(base: Constants, params: Sequence[Param], x: Sequence[float]) -> Constants:
    """`base` with each param set to its value in `x`; families not named keep theirs."""
    fams: dict[str, dict[str, object]] = {}
    glob: dict[str, object] = {}
    req = dict(base.request_overhead_ms)
    multi = dict(base.multi_gpu_request_ms)
    for p, v in zip(params, x, strict=True):
        parts = p.name.split(".")
        if parts[0] == "request_overhead_ms":
            req[parts[1]] = float(v)
        elif parts[0] == "multi_gpu_request_ms":
            multi[parts[1]] = float(v)
        elif len(parts) == 1:
            glob[p.name] = float(v)
        elif parts[1] == "request_overhead_ms":
            own = fams.setdefault(parts[0], {}).setdefault("request_overhead_ms", {})
            assert isinstance(own, dict)
            own[parts[2]] = float(v)
        else:
            fams.setdefault(parts[0], {})[parts[1]] = float(v)
    families = dict(base.families)
    for f, changes in fams.items():
        eff = base.family(f)
        if "request_overhead_ms" in changes:
            changes["request_overhead_ms"] = {**(eff.request_overhead_ms or {}), **changes["request_overhead_ms"]}  # type: ignore[dict-item]
        families[f] = dataclasses.replace(eff, fitted=True, **changes)  # type: ignore[arg-type]
    out = dataclasses.replace(base, families=families, request_overhead_ms=req, multi_gpu_request_ms=multi)
    return dataclasses.replace(out, **glob)  # type: ignore[arg-type]


# ---------------------------------------------------------------- residuals and errors


def residuals(consts: Constants, points: Sequence[Point]) -> list[tuple[Point, str, float]]:
    """log(predicted / measured) of every measured metric of every point whose memory fits."""
    out: list[tuple[Point, str, float]] = []
    for pt in points:
        p = Prepared(pt.cfg, consts.family(pt.family), consts)
        e = estimate_prepared(p, pt.shape, pt.batch)
        if not e.fits:
            continue  # the memory fit does not depend on the fitted constants
        for metric, pred in (("tpot", e.tpot_ms), ("ttft", e.ttft_ms), ("throughput", e.output_tokens_per_s)):
            meas = pt.measured(metric)
            if meas:
                out.append((pt, metric, math.log(pred / meas)))
    return out


@dataclass(frozen=True)
class ErrorStats:
    median_pct: float
    p90_pct: float
    n: int


def error_table(res: Sequence[tuple[object, str, float]]) -> dict[str, ErrorStats]:
    """Median and p90 absolute percentage error per metric."""
    out: dict[str, ErrorStats] = {}
    for metric in METRICS:
        errs = sorted(abs(math.exp(r) - 1) * 100 for _, m, r in res if m == metric)
        if errs:
            out[metric] = ErrorStats(statistics.median(errs), errs[int(0.9 * (len(errs) - 1) + 0.5)], len(errs))
    return out


# ---------------------------------------------------------------- the fit


@dataclass(frozen=True)
class FitResult:
    constants: Constants
    params: tuple[Param, ...]
    """What was free to move (identified ones only, when a prior was used)."""
    values: dict[str, float]
    prior: dict[str, float]
    """The value each parameter was pulled toward (shipped); empty without a prior."""
    unidentified: tuple[str, ...]
    """Parameters the data could not tell apart from the prior: left at their shipped value."""
    information: dict[str, float]
    """Points' worth of information the data carry on each parameter (conditional on the others)."""


def _log_ratio(x: float, x0: float) -> float:
    floor = 1e-3  # quant_compute and request overhead may sit at 0: log of a small floor instead
    return math.log(max(x, floor) / max(x0, floor))


def _robust(r: np.ndarray) -> np.ndarray:
    """Residuals whose squares are scipy's soft-L1 loss, so a quadratic prior can sit beside them."""
    z = (r / F_SCALE) ** 2
    return np.asarray(np.sign(r) * F_SCALE * np.sqrt(2.0 * (np.sqrt(1.0 + z) - 1.0)), dtype=float)


def _data_fun(points: Sequence[Point], base: Constants, params: Sequence[Param]) -> Callable[[np.ndarray],
                                                                                             np.ndarray]:
    def fun(x: np.ndarray) -> np.ndarray:
        res = residuals(with_values(base, params, list(x)), points)
        return np.array([r * WEIGHT[m] for _, m, r in res])
    return fun


def fit(points: Sequence[Point], base: Constants, params: Sequence[Param], *,
        prior_points: dict[str, float] | None = None, start: dict[str, float] | None = None) -> FitResult:
    """Least squares over `params`. Without `prior_points`: the plain robust fit bench/ uses. With it:
    each parameter is pulled toward its value in `base` with the weight of that many points, and those
    the data cannot identify are held at that value."""
    params = list(params)
    if not points or not params:
        return FitResult(base, tuple(params), {p.name: value(base, p.name) for p in params}, {}, (), {})
    if prior_points is None:
        x0 = _start(base, params, start)
        sol = least_squares(_data_fun(points, base, params), x0, bounds=_bounds(params), loss="soft_l1",
                            f_scale=F_SCALE, diff_step=1e-3)
        values = dict(zip([p.name for p in params], map(float, sol.x), strict=True))
        return FitResult(with_values(base, params, sol.x), tuple(params), values, {}, (), {})
    prior = {p.name: value(base, p.name) for p in params}
    info = information(points, base, params, prior_points)
    free = [p for p in params if info[p.name] >= MIN_INFORMATION]
    held = tuple(p.name for p in params if p not in free)
    if not free:
        return FitResult(base, (), {}, prior, held, info)
    data = _data_fun(points, base, free)
    names = [p.name for p in free]
    x_prior = _start(base, free, None)
    r_prior = data(x_prior)
    # The shipped model's prediction at every measured point counts as prior_points / n extra measurements
    # of it (Zellner's g-prior, in prediction space): n exact points move the predictions n / (n + prior
    # points) of the way, whichever constants move them. A weak ridge on the constants themselves picks,
    # among equally good fits, the one nearest the shipped values.
    rows = [pt for pt, _, _ in residuals(base, points)]
    k0 = np.array([_family_prior(prior_points, pt.family) for pt in rows])
    pull_w = np.sqrt(k0 / len(points))

    def fun(x: np.ndarray) -> np.ndarray:
        r = data(x)
        ridge = RIDGE_WEIGHT * np.array([_log_ratio(v, prior[n]) for v, n in zip(x, names, strict=True)])
        return np.concatenate([_robust(r), pull_w * (r - r_prior), ridge])

    sol = least_squares(fun, _start(base, free, start), bounds=_bounds(free), diff_step=1e-3)
    values = dict(zip(names, map(float, sol.x), strict=True))
    return FitResult(with_values(base, free, sol.x), tuple(free), values, prior, held, info)


def _start(base: Constants, params: Sequence[Param], start: dict[str, float] | None) -> np.ndarray:
    x = [start[p.name] if start and p.name in start else value(base, p.name) for p in params]
    return np.array([min(max(v, p.lo), p.hi) for v, p in zip(x, params, strict=True)])


def _bounds(params: Sequence[Param]) -> tuple[list[float], list[float]]:
    return [p.lo for p in params], [p.hi for p in params]


def _jacobian(points: Sequence[Point], base: Constants, params: Sequence[Param]) -> np.ndarray:
    """d (weighted log residual) / d log(parameter) at the parameters' values in `base`, by central
    differences of 2 % either way inside the bounds."""
    x0 = _start(base, params, None)
    data = _data_fun(points, base, params)
    jac = np.zeros((data(x0).size, len(params)))
    for j, p in enumerate(params):
        up = x0.copy()
        dn = x0.copy()
        up[j] = min(x0[j] * math.exp(0.02), p.hi)
        dn[j] = max(x0[j] * math.exp(-0.02), p.lo)
        span = math.log(max(up[j], 1e-9) / max(dn[j], 1e-9))
        if span > 0:
            jac[:, j] = (data(up) - data(dn)) / span
    return jac


def _family_prior(prior_points: dict[str, float], family: str) -> float:
    own = [v for k, v in prior_points.items() if k.startswith(f"{family}.")]
    return max(own) if own else PRIOR_POINTS


def information(points: Sequence[Point], base: Constants, params: Sequence[Param],
                prior_points: dict[str, float]) -> dict[str, float]:
    """Points' worth of information the data hold on each parameter once the others have explained what
    they can: the Schur complement of the Fisher matrix, with a diagonal g-prior on the others, in
    average points of these data. 0 when the predictions do not depend on it (an all-reduce constant
    measured at TP=1) or another parameter mimics it exactly."""
    jac = _jacobian(points, base, params)
    if jac.shape[0] == 0:
        return {p.name: 0.0 for p in params}
    h_data = jac.T @ jac
    per_point = np.diag(h_data) / max(len(points), 1)
    tiny = 1e-12
    pri = np.array([prior_points[p.name] * max(float(per_point[j]), tiny) for j, p in enumerate(params)])
    cov = np.linalg.inv(h_data + np.diag(pri))
    worth = {}
    for j, p in enumerate(params):
        conditional = max(float(1.0 / cov[j, j] - pri[j]), 0.0)
        worth[p.name] = conditional / float(per_point[j]) if per_point[j] > tiny else 0.0
    return worth


def prior_weights(base: Constants, params: Sequence[Param]) -> dict[str, float]:
    """PRIOR_POINTS per parameter; less for a family whose shipped values are only borrowed."""
    out = {}
    for p in params:
        head = p.name.split(".")[0]
        is_family = head not in GLOBAL_FIT_FIELDS and head not in PER_ENGINE_FIT_FIELDS
        known = not is_family or base.family(head).fitted
        out[p.name] = PRIOR_POINTS if known else PRIOR_POINTS_UNFITTED
    return out


def neutral_start(params: Sequence[Param]) -> dict[str, float]:
    return {p.name: neutral(p.name) for p in params}
