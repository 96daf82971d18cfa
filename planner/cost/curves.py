"""Monthly cost against load for one deployment's hardware, priced at each load.

Self-hosted cost steps up a replica at a time; the API bill is linear in tokens. Where the lines
cross is the break-even volume.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict

from planner.catalog import Catalog
from planner.cost.cloud import replica_cloud_costs
from planner.cost.lines import ApiLine
from planner.cost.onprem import TcoInputs, purchase_cost
from planner.terms import Commit, commit_basis

GRID_POINTS = 181
GRID_LOW, GRID_HIGH = 0.01, 10.0


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)


class Series(_Frozen):
    label: str
    kind: Literal["cloud", "onprem", "api"]
    monthly_usd: tuple[float, ...]


class Crossing(_Frozen):
    label: str  # e.g. "cloud beats API"
    multiplier: float
    monthly_usd: float


class LoadCurves(_Frozen):
    """Cost at `multipliers` × the request's load; `option` is the Plan option's index (0 = recommended)."""

    option: int
    tokens_month_at_1x: float
    multipliers: tuple[float, ...]
    series: tuple[Series, ...]
    crossings: tuple[Crossing, ...]


def _flag(label: str, stale: bool) -> str:
    """Series labels end up in the chart legend: a stale price must be visible there too."""
    return f"{label} (STALE price)" if stale else label


def grid() -> list[float]:
    step = math.log(GRID_HIGH / GRID_LOW) / (GRID_POINTS - 1)
    return [GRID_LOW * math.exp(i * step) for i in range(GRID_POINTS)]


def _crossing(name: str, xs: list[float], selfhost: list[float], api_at_1x: float) -> Crossing | None:
    """The first load at which the linear API bill overtakes the stepped self-hosted bill.

    Exact within a step (self-hosted cost is flat there). Later re-crossings just after a replica
    is added are step artefacts, not a change of the answer, so only the first is reported.
    """
    for i in range(len(xs) - 1):
        if api_at_1x * xs[i] < selfhost[i] and api_at_1x * xs[i + 1] >= selfhost[i + 1]:
            m = min(max(selfhost[i] / api_at_1x, xs[i]), xs[i + 1])
            return Crossing(label=f"{name} beats API", multiplier=m, monthly_usd=api_at_1x * m)
    return None


def load_curves(
    catalog: Catalog,
    *,
    option: int,
    gpu_id: str,
    gpus_per_replica: int,
    replicas_at_1x: int,
    per_replica_rps: float,
    rps_at_1x: float,
    tokens_month_at_1x: float,
    commit: Commit,
    providers: Collection[str] | None,
    tco: TcoInputs,
    api: ApiLine | None,
    api_scale: float = 1.0,
    today: dt.date,
) -> LoadCurves:
    """Cloud (cheapest at `commit`), on-prem and API cost from 0.01× to 10× the load.

    `api` is an API line and `api_scale` the factor from its volume to 1× this load (an API bill is
    linear in tokens); None when no API is priced.
    """
    xs = grid()
    replicas = [max(1, math.ceil(m * rps_at_1x / per_replica_rps - 1e-9)) if per_replica_rps > 0
                else replicas_at_1x for m in xs]
    series: list[Series] = []
    cloud: list[float] = []
    cloud_stale = False
    for n in replicas:
        lines = replica_cloud_costs(catalog, gpu_id, gpus_per_replica, n, commit, providers, today=today)
        if not lines:
            cloud = []
            break
        cloud.append(lines[0].monthly_usd)
        cloud_stale = cloud_stale or lines[0].stale
    if cloud:
        series.append(Series(label=_flag(f"cloud, cheapest {commit_basis(commit)}", cloud_stale), kind="cloud",
                             monthly_usd=tuple(cloud)))
    onprem: list[float] = []
    offers = catalog.purchases_for(gpu_id)
    if offers:
        gpu = catalog.gpu(gpu_id)
        stale = False
        for n in replicas:
            best = min((purchase_cost(p, gpu, n * gpus_per_replica, tco, today=today) for p in offers),
                       key=lambda c: (c.monthly_usd, c.offer_id))
            onprem.append(best.monthly_usd)
            stale = stale or best.stale
        series.append(Series(label=_flag(f"on-prem, {tco.years:g}y depreciation", stale), kind="onprem",
                             monthly_usd=tuple(onprem)))
    crossings: list[Crossing] = []
    if api is not None:
        a = api.monthly_usd * api_scale
        series.append(Series(label=_flag(f"API: {api.provider}", api.stale), kind="api",
                             monthly_usd=tuple(a * m for m in xs)))
        for name, values in (("cloud", cloud), ("on-prem", onprem)):
            hit = _crossing(name, xs, values, a) if values and a > 0 else None
            if hit is not None:
                crossings.append(hit)
    return LoadCurves(option=option, tokens_month_at_1x=tokens_month_at_1x, multipliers=tuple(xs),
                      series=tuple(series), crossings=tuple(crossings))
