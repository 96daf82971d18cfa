"""One calibration: fit the measured points' GPU families, then score the fit in and out of sample."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.calibrate.fit import (
    ErrorStats,
    FitResult,
    Point,
    error_table,
    family_params,
    fit,
    prior_weights,
    residuals,
)
from planner.perf.constants import Constants


@dataclass(frozen=True)
class Calibration:
    points: tuple[Point, ...]
    result: FitResult
    before: dict[str, ErrorStats]
    after: dict[str, ErrorStats]
    leave_one_out: dict[str, ErrorStats]
    """Each point predicted by a fit on the others: the error to expect on a configuration not measured."""
    rows: tuple[tuple[Point, str, float, float, float], ...]
    """(point, metric, measured, predicted before, predicted after)."""


def fit_points(points: Sequence[Point], base: Constants) -> FitResult:
    families = sorted({p.family for p in points})
    engines = sorted({p.cfg.engine for p in points})
    params = family_params(families, engines)
    return fit(points, base, params, prior_points=prior_weights(base, params))


def calibrate(points: Sequence[Point], base: Constants, *, leave_one_out: bool = True) -> Calibration:
    points = tuple(points)
    result = fit_points(points, base)
    res_before = residuals(base, points)
    res_after = residuals(result.constants, points)
    held: list[tuple[Point, str, float]] = []
    if leave_one_out and len(points) > 1:
        for i, p in enumerate(points):
            others = points[:i] + points[i + 1:]
            held += residuals(fit_points(others, base).constants, [p])
    after = {(id(p), m): r for p, m, r in res_after}
    rows = []
    for p, m, r in res_before:
        meas = p.measured(m)
        assert meas is not None
        rows.append((p, m, meas, meas * math.exp(r), meas * math.exp(after.get((id(p), m), r))))
    return Calibration(points, result, error_table(res_before), error_table(res_after), error_table(held),
                       tuple(rows))
