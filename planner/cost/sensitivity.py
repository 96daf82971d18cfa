"""How the recommendation and its cost move with load. The solver is passed in, never imported."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from planner.errors import NoFeasiblePlan, RequestError
from planner.request import Request

DEFAULT_MULTIPLIERS: tuple[float, ...] = (0.5, 2.0, 5.0)

# replan(load_multiplier) -> (one-line summary of the option chosen, its monthly cost in USD)
Replan = Callable[[float], tuple[str, float]]


@dataclass(frozen=True)
class SensitivityPoint:
    multiplier: float
    summary: str
    monthly_usd: float | None
    feasible: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "multiplier": self.multiplier,
            "summary": self.summary,
            "monthly_usd": self.monthly_usd,
            "feasible": self.feasible,
        }


def sensitivity(replan: Replan, multipliers: Sequence[float] = DEFAULT_MULTIPLIERS) -> list[SensitivityPoint]:
    """Re-plan at each load multiple; a load nothing can serve is a result, not a failure."""
    points: list[SensitivityPoint] = []
    for m in sorted(multipliers):
        if m <= 0:
            raise RequestError(f"load multiplier: must be > 0 (got {m})")
        try:
            summary, monthly = replan(m)
        except NoFeasiblePlan as exc:
            points.append(SensitivityPoint(m, f"no feasible plan: {exc}", None, False))
            continue
        points.append(SensitivityPoint(m, summary, monthly, True))
    return points


def scale_load(request: Request, multiplier: float) -> Request:
    """The same request with its load scaled (rps, concurrency or tokens per day, whichever is set)."""
    if multiplier <= 0:
        raise RequestError(f"load multiplier: must be > 0 (got {multiplier})")
    if request.rps is not None:
        return request.model_copy(update={"rps": request.rps * multiplier})
    if request.tokens_per_day is not None:
        return request.model_copy(update={"tokens_per_day": request.tokens_per_day * multiplier})
    if request.concurrency is not None:
        return request.model_copy(update={"concurrency": max(1, math.ceil(request.concurrency * multiplier))})
    raise RequestError("load: give --rps, --concurrency or --tokens-per-day to see how cost moves with load")
