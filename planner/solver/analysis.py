"""What the reports add to a plan: the choice re-planned at other loads, and cost against load."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from planner import cost
from planner.catalog import Catalog
from planner.cost import LoadCurves
from planner.errors import NoFeasiblePlan, RequestError
from planner.plan import Plan, SelfHosted, SensitivityPoint
from planner.request import Request
from planner.terms import SECONDS_PER_MONTH

DEFAULT_MULTIPLIERS: tuple[float, ...] = (0.5, 2.0, 5.0)


def scale_load(request: Request, multiplier: float) -> Request:
    """The same request with its load scaled (rps, concurrency or tokens per day, whichever is set)."""
    if multiplier <= 0:
        raise RequestError(f"load multiplier: must be > 0 (got {multiplier})")
    peak = {"peak_rps": request.peak_rps * multiplier} if request.peak_rps is not None else {}
    if request.rps is not None:
        return request.model_copy(update={"rps": request.rps * multiplier, **peak})
    if request.load_profile is not None:
        return request.model_copy(update={"load_profile": tuple(r * multiplier for r in request.load_profile)})
    if request.tokens_per_day is not None:
        return request.model_copy(update={"tokens_per_day": request.tokens_per_day * multiplier, **peak})
    if request.concurrency is not None:
        return request.model_copy(update={"concurrency": max(1, math.ceil(request.concurrency * multiplier))})
    raise RequestError("load: give --rps, --load-profile, --concurrency or --tokens-per-day to see how cost moves "
                       "with load")


def summary(plan: Plan) -> str:
    o = plan.recommended
    return f"{o.label}, {o.where}"


def sensitivity(plan: Plan, solve: Callable[[Request], Plan],
                multipliers: Sequence[float] = DEFAULT_MULTIPLIERS) -> list[SensitivityPoint]:
    """The recommendation at each load multiple (1× included); a load nothing serves is a result, not a failure."""
    if not plan.request.has_load:
        return []
    points = [SensitivityPoint(multiplier=1.0, summary=summary(plan), monthly_usd=plan.recommended.monthly_cost_usd,
                               feasible=True)]
    for m in sorted(multipliers):
        try:
            other = solve(scale_load(plan.request, m))
        except NoFeasiblePlan as exc:
            points.append(SensitivityPoint(multiplier=m, summary=f"no feasible plan: {exc}", monthly_usd=None,
                                           feasible=False))
            continue
        points.append(SensitivityPoint(multiplier=m, summary=summary(other),
                                       monthly_usd=other.recommended.monthly_cost_usd, feasible=True))
    return sorted(points, key=lambda p: p.multiplier)


def load_curves(plan: Plan, catalog: Catalog) -> LoadCurves | None:
    """Cost against load for the first self-hosted option (the recommended one when it is self-hosted)."""
    found = next(((i, o) for i, o in enumerate(plan.options) if isinstance(o, SelfHosted)), None)
    if found is None or found[1].priced_rps <= 0:
        return None
    index, o = found
    w = plan.workload
    apis = [ln for ln in o.costs if isinstance(ln, cost.ApiLine)]
    scale = 1.0
    if not apis:
        # No API for this model: the cheapest API anywhere in the plan, rescaled to this volume.
        apis = sorted((ln for x in plan.options for ln in x.costs if isinstance(ln, cost.ApiLine)),
                      key=lambda c: (c.monthly_usd, c.offer_id))
        if apis and apis[0].output_tokens_month > 0:
            scale = o.priced_rps * SECONDS_PER_MONTH * w.osl / apis[0].output_tokens_month
    d = o.deployment
    return cost.load_curves(
        catalog, option=index, gpu_id=d.gpu, gpus_per_replica=d.gpus_per_replica, replicas_at_1x=d.replicas,
        per_replica_rps=o.capacity_rps / d.replicas, rps_at_1x=o.priced_rps,
        tokens_month_at_1x=o.priced_rps * SECONDS_PER_MONTH * w.tokens_per_request, commit=plan.commit,
        providers=plan.request.providers, tco=plan.tco, api=apis[0] if apis else None, api_scale=scale,
        today=plan.as_of,
    )

