"""Every way of paying for one self-hosted deployment: the rows of a procurement table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from planner.catalog import Catalog
from planner.cost.cloud import replica_cloud_costs, scheduled_replica_cloud_costs
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
    replicas_by_hour: Sequence[int] | None = None,
) -> list[CloudLine | OnpremLine]:
    """The cheapest instance per provider at each commitment, then the cheapest purchase.

    With an hourly schedule the cloud rows bill the hours used (base committed, burst on demand);
    a purchase is sized for the peak (`replicas`) either way.
    """
    lines: list[CloudLine | OnpremLine] = []
    for commit in COMMITS:
        best: dict[str, CloudLine] = {}
        rows = (replica_cloud_costs(catalog, gpu_id, gpus_per_replica, replicas, commit, providers, today=today)
                if replicas_by_hour is None else
                scheduled_replica_cloud_costs(catalog, gpu_id, gpus_per_replica, replicas_by_hour, commit, providers,
                                              today=today))
        for ln in rows:
            best.setdefault(ln.provider, ln)
        lines.extend(sorted(best.values(), key=lambda c: (c.monthly_usd, c.provider)))
    offers = catalog.purchases_for(gpu_id)
    if offers:
        gpu = catalog.gpu(gpu_id)
        candidates = [purchase_cost(p, gpu, gpus_per_replica * replicas, tco, today=today) for p in offers]
        lines.append(min(candidates, key=lambda c: (c.monthly_usd, c.offer_id)))
    return lines
