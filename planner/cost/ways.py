"""Every way of paying for one self-hosted deployment: the rows of a procurement table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from planner.catalog import Catalog
from planner.cost.cloud import replica_cloud_costs
from planner.cost.lines import CloudLine, OnpremLine
from planner.cost.onprem import TcoInputs, purchase_cost
from planner.terms import COMMITS


def self_hosted_costs(
    catalog: Catalog,
    gpu_id: str,
    gpus_per_replica: int,
    replicas: int,
    tco: TcoInputs,
    providers: Collection[str] | None,
    *,
    today: dt.date,
) -> list[CloudLine | OnpremLine]:
    """The cheapest instance per provider at each commitment, then the cheapest purchase."""
    lines: list[CloudLine | OnpremLine] = []
    for commit in COMMITS:
        best: dict[str, CloudLine] = {}
        for ln in replica_cloud_costs(catalog, gpu_id, gpus_per_replica, replicas, commit, providers, today=today):
            best.setdefault(ln.provider, ln)
        lines.extend(sorted(best.values(), key=lambda c: (c.monthly_usd, c.provider)))
    offers = catalog.purchases_for(gpu_id)
    if offers:
        gpu = catalog.gpu(gpu_id)
        candidates = [purchase_cost(p, gpu, gpus_per_replica * replicas, tco, today=today) for p in offers]
        lines.append(min(candidates, key=lambda c: (c.monthly_usd, c.offer_id)))
    return lines
