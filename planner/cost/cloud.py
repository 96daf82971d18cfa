"""Cloud rental: on-demand and 1-/3-year committed prices, whole instances only."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence

from planner.catalog import Catalog
from planner.catalog.schema import CloudOffer
from planner.cost.lines import CloudLine
from planner.cost.staleness import is_stale
from planner.errors import RequestError
from planner.terms import COMMITS, DAYS_PER_MONTH, HOURS_PER_DAY, HOURS_PER_MONTH, Commit


def _check_gpus(gpus_needed: int) -> None:
    if gpus_needed < 1:
        raise RequestError(f"gpus_needed: must be a positive whole number (got {gpus_needed})")


def instance_price(offer: CloudOffer, commit: Commit) -> float | None:
    """The instance $/hour for that commitment, or None when the provider does not sell it."""
    if commit == "none":
        return offer.usd_per_hour
    if commit == "1y":
        return offer.usd_per_hour_1y
    if commit == "3y":
        return offer.usd_per_hour_3y
    raise RequestError(f"commit: unknown value {commit!r}; accepted: {', '.join(COMMITS)}")


def cloud_cost(
    offer: CloudOffer, gpus_needed: int, commit: Commit, *, today: dt.date | None = None
) -> CloudLine | None:
    """Monthly rent of enough whole instances for `gpus_needed` GPUs; None if that price is unknown.

    Instances come whole: 3 GPUs on an 8-GPU instance pay for all 8.
    """
    _check_gpus(gpus_needed)
    price = instance_price(offer, commit)
    if price is None:
        return None
    instances = math.ceil(gpus_needed / offer.gpus)
    monthly = price * instances * HOURS_PER_MONTH
    return CloudLine(
        provider=offer.provider,
        offer_id=offer.id,
        monthly_usd=monthly,
        as_of=offer.as_of,
        stale=is_stale(offer.as_of, today),
        source=offer.source,
        instance_type=offer.instance_type,
        commit=commit,
        usd_per_instance_hour=price,
        instances=instances,
        gpus_per_instance=offer.gpus,
        gpus_needed=gpus_needed,
        hours_per_month=HOURS_PER_MONTH,
    )


def scheduled_cloud_cost(
    offer: CloudOffer, instances_by_hour: Sequence[int], commit: Commit, gpus_needed: int,
    *, today: dt.date | None = None,
) -> CloudLine | None:
    """Monthly rent when the instance count follows a 24-hour schedule.

    The k-th instance is needed H_k hours a day. With a commitment it is committed when that is
    cheaper than renting it on demand for those hours (24 x committed rate <= H_k x on-demand rate),
    and otherwise rented on demand for its hours: commit the base load, burst on demand. On-demand
    only, every instance is billed for its hours. None when a needed price is unknown.
    """
    _check_gpus(gpus_needed)
    if len(instances_by_hour) != HOURS_PER_DAY or min(instances_by_hour) < 1:
        raise RequestError(f"instances_by_hour: expected {HOURS_PER_DAY} counts >= 1, got {list(instances_by_hour)}")
    price = instance_price(offer, commit)
    on_demand = offer.usd_per_hour
    if price is None:
        return None
    peak = max(instances_by_hour)
    hours = [sum(1 for n in instances_by_hour if n >= k) for k in range(1, peak + 1)]  # H_k, falling
    if on_demand is None:
        base = peak  # nothing to burst on: the whole peak is committed
    else:
        base = sum(1 for h in hours if h == HOURS_PER_DAY or HOURS_PER_DAY * price <= h * on_demand)
    burst = sum(hours[base:]) * DAYS_PER_MONTH
    monthly = price * base * HOURS_PER_MONTH + (on_demand or 0.0) * burst
    return CloudLine(
        provider=offer.provider, offer_id=offer.id, monthly_usd=monthly, as_of=offer.as_of,
        stale=is_stale(offer.as_of, today), source=offer.source, instance_type=offer.instance_type,
        commit=commit, usd_per_instance_hour=price, instances=peak, gpus_per_instance=offer.gpus,
        gpus_needed=gpus_needed, hours_per_month=HOURS_PER_MONTH, always_on_instances=base,
        burst_instance_hours=burst, burst_usd_per_instance_hour=on_demand if burst > 0 else None,
    )


def scheduled_replica_cloud_costs(
    catalog: Catalog, gpu_id: str, gpus_per_replica: int, replicas_by_hour: Sequence[int], commit: Commit,
    providers: Collection[str] | None = None, *, today: dt.date | None = None,
) -> list[CloudLine]:
    """Every offer that can host replicas following a 24-hour schedule (whole instances each hour), cheapest first."""
    per_node = catalog.gpu(gpu_id).gpus_per_node
    lines = []
    for offer in catalog.offers_for(gpu_id):
        if providers is not None and offer.provider not in providers:
            continue
        counts = [instances_for_replicas(offer, gpus_per_replica, n, per_node) for n in replicas_by_hour]
        hourly = [c for c in counts if c is not None]
        if len(hourly) < len(counts):
            continue
        line = scheduled_cloud_cost(offer, hourly, commit, gpus_per_replica * max(replicas_by_hour), today=today)
        if line is not None:
            lines.append(line)
    return sorted(lines, key=lambda ln: (ln.monthly_usd, ln.offer_id))


def cheapest_scheduled_cloud(
    catalog: Catalog, gpu_id: str, gpus_per_replica: int, replicas_by_hour: Sequence[int], commit: Commit,
    providers: Collection[str] | None = None, *, today: dt.date | None = None,
) -> CloudLine | None:
    found = scheduled_replica_cloud_costs(catalog, gpu_id, gpus_per_replica, replicas_by_hour, commit, providers,
                                          today=today)
    return found[0] if found else None


def instances_for_replicas(
    offer: CloudOffer, gpus_per_replica: int, replicas: int, gpus_per_node: int
) -> int | None:
    """Whole instances for `replicas` replicas; None when a replica cannot be placed on this instance.

    A replica never spans instances unless it is a multi-node replica on full-node instances
    (the fast link does not cross a smaller instance's boundary).
    """
    if gpus_per_replica <= offer.gpus:
        return math.ceil(replicas / (offer.gpus // gpus_per_replica))
    if offer.gpus == gpus_per_node:
        return replicas * math.ceil(gpus_per_replica / offer.gpus)
    return None


def _placements(
    catalog: Catalog, gpu_id: str, gpus_per_replica: int, replicas: int, commit: Commit,
    providers: Collection[str] | None,
) -> list[tuple[float, str, CloudOffer, int]]:
    """(instance $/hour × instances, offer id, offer, instances) for every offer that can host them."""
    per_node = catalog.gpu(gpu_id).gpus_per_node
    out = []
    for offer in catalog.offers_for(gpu_id):
        if providers is not None and offer.provider not in providers:
            continue
        n = instances_for_replicas(offer, gpus_per_replica, replicas, per_node)
        price = instance_price(offer, commit)
        if n is not None and price is not None:
            out.append((price * n, offer.id, offer, n))
    return out


def replica_cloud_costs(
    catalog: Catalog,
    gpu_id: str,
    gpus_per_replica: int,
    replicas: int,
    commit: Commit,
    providers: Collection[str] | None = None,
    *,
    today: dt.date | None = None,
) -> list[CloudLine]:
    """Every offer that can host the replicas, priced for whole instances, cheapest first."""
    found = sorted(_placements(catalog, gpu_id, gpus_per_replica, replicas, commit, providers), key=lambda p: p[:2])
    lines = [cloud_cost(offer, n * offer.gpus, commit, today=today) for _, _, offer, n in found]
    return [line for line in lines if line is not None]


def cheapest_replica_cloud(
    catalog: Catalog,
    gpu_id: str,
    gpus_per_replica: int,
    replicas: int,
    commit: Commit,
    providers: Collection[str] | None = None,
    *,
    today: dt.date | None = None,
) -> CloudLine | None:
    """The first line of `replica_cloud_costs`, without pricing the rest (the solver asks thousands of times)."""
    found = _placements(catalog, gpu_id, gpus_per_replica, replicas, commit, providers)
    if not found:
        return None
    _, _, offer, n = min(found, key=lambda p: p[:2])
    return cloud_cost(offer, n * offer.gpus, commit, today=today)
