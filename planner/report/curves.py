"""Monthly cost against load for one option's hardware, priced with planner.cost at each load.

Self-hosted cost steps up a replica at a time; the API bill is linear in tokens. Where the lines
cross is the break-even volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner import cost
from planner.catalog.loader import Catalog

if TYPE_CHECKING:  # procurement builds the curves, so only its types are needed here
    from planner.report.procurement import OptionCosts, Procurement

GRID_POINTS = 181
GRID_LOW, GRID_HIGH = 0.01, 10.0


@dataclass(frozen=True)
class Series:
    label: str
    kind: str  # cloud | onprem | api
    multipliers: tuple[float, ...]
    monthly_usd: tuple[float, ...]


@dataclass(frozen=True)
class Crossing:
    label: str  # e.g. "API = cloud"
    multiplier: float
    monthly_usd: float


@dataclass(frozen=True)
class LoadCurves:
    option: OptionCosts
    tokens_month_at_1x: float  # input + output tokens per month at the request's load
    series: tuple[Series, ...]
    crossings: tuple[Crossing, ...]


def _flag(label: str, stale: bool) -> str:
    """Series labels end up in the chart legend: a stale price must be visible there too."""
    return f"{label} (STALE price)" if stale else label


def _grid() -> list[float]:
    step = math.log(GRID_HIGH / GRID_LOW) / (GRID_POINTS - 1)
    return [GRID_LOW * math.exp(i * step) for i in range(GRID_POINTS)]


def _crossing(name: str, grid: list[float], selfhost: list[float], api_at_1x: float) -> Crossing | None:
    """The first load at which the linear API bill overtakes the stepped self-hosted bill.

    Exact within a step (self-hosted cost is flat there). Later re-crossings just after a replica
    is added are step artefacts, not a change of the answer, so only the first is reported.
    """
    for i in range(len(grid) - 1):
        if api_at_1x * grid[i] < selfhost[i] and api_at_1x * grid[i + 1] >= selfhost[i + 1]:
            m = min(max(selfhost[i] / api_at_1x, grid[i]), grid[i + 1])
            return Crossing(f"{name} beats API", m, api_at_1x * m)
    return None


def load_curves(proc: Procurement, catalog: Catalog) -> LoadCurves | None:
    """Curves for the first self-hosted option (the recommended one when it is self-hosted)."""
    target = next((o for o in proc.options if o.option.gpu is not None and o.option.replicas > 0), None)
    if target is None or target.workload.rps <= 0:
        return None
    o, w = target.option, target.workload
    assert o.gpu is not None
    per_replica_gpus = max(1, o.total_gpus // o.replicas)
    per_replica_rps = o.capacity_rps / o.replicas if o.capacity_rps > 0 else w.rps / o.replicas
    grid = _grid()
    replicas = [max(1, math.ceil(m * w.rps / per_replica_rps - 1e-9)) for m in grid]
    providers = proc.providers
    series: list[Series] = []
    crossings: list[Crossing] = []
    commit = proc.commit
    cloud: list[float] = []
    cloud_stale = False
    for n in replicas:
        lines = cost.replica_cloud_costs(catalog, o.gpu, per_replica_gpus, n, commit, providers,
                                         today=proc.as_of)
        if not lines:
            cloud = []
            break
        cloud.append(lines[0].monthly_usd)
        cloud_stale = cloud_stale or lines[0].stale
    basis = "on-demand" if commit == "none" else commit
    if cloud:
        series.append(Series(_flag(f"cloud, cheapest {basis}", cloud_stale), "cloud", tuple(grid),
                             tuple(cloud)))
    onprem: list[float] = []
    onprem_stale = False
    gpu = catalog.gpu(o.gpu)
    offers = catalog.purchases_for(o.gpu)
    if offers:
        for n in replicas:
            best = min((cost.purchase_cost(p, gpu, n * per_replica_gpus, proc.tco, today=proc.as_of)
                        for p in offers), key=lambda c: (c.monthly_usd, c.offer_id))
            onprem.append(best.monthly_usd)
            onprem_stale = onprem_stale or best.stale
        series.append(Series(_flag(f"on-prem, {proc.tco.years:g}y depreciation", onprem_stale), "onprem",
                             tuple(grid), tuple(onprem)))
    api_rows = [r.line for r in target.rows if r.line.kind == "api"]
    if not api_rows:
        api_rows = sorted((r.line for x in proc.options for r in x.rows if r.line.kind == "api"),
                          key=lambda c: (c.monthly_usd, c.offer_id))
    if api_rows:
        api = api_rows[0]
        # The bill is linear in tokens: rescale a line priced at another option's volume to this one's.
        priced_at = api.detail.get("output_tokens_month", 0.0)
        a = api.monthly_usd * (w.output_tokens_month / priced_at) if priced_at > 0 else 0.0
        series.append(Series(_flag(f"API: {api.provider}", api.stale), "api", tuple(grid),
                             tuple(a * m for m in grid)))
        for name, values in (("cloud", cloud), ("on-prem", onprem)):
            hit = _crossing(name, grid, values, a) if values and a > 0 else None
            if hit is not None:
                crossings.append(hit)
    return LoadCurves(target, w.input_tokens_month + w.output_tokens_month, tuple(series), tuple(crossings))
