"""Which offers may compete: tier, region, market, price age and (APIs) measured latency.

The solver works on the catalog this returns, so every later step (search, options, break-evens,
load curves) sees the same eligible offers; each excluded offer becomes a Rejection with its reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from planner.catalog import Catalog
from planner.catalog.schema import ApiOffer, CloudOffer
from planner.cost.staleness import is_stale
from planner.plan import Constraint, DeployKind, Rejection
from planner.request import DEFAULT_TIERS
from planner.solver.resolve import Resolved


@dataclass(frozen=True)
class Eligible:
    catalog: Catalog  # the catalog with only the offers that may compete
    excluded: list[Rejection]


def _reject(kind: DeployKind, offer_id: str, provider: str | None, gpu: str | None, model: str | None,
            constraint: Constraint, detail: str, shortfall: float | None = None) -> Rejection:
    return Rejection(model=model, offer=offer_id, deploy=kind, provider=provider, gpu=gpu, constraint=constraint,
                     detail=detail, shortfall=shortfall)


def _tier_region(o: CloudOffer | ApiOffer, res: Resolved) -> tuple[Constraint, str] | None:
    req = res.request
    tiers = req.tiers or DEFAULT_TIERS
    if o.tier not in tiers:
        return "tier", f"{o.tier} tier; allowed: {', '.join(tiers)} (widen with --tiers {o.tier})"
    if req.regions and o.region not in req.regions and o.geo not in req.regions:
        return "region", f"region {o.region} ({o.geo}) is not in --regions {','.join(req.regions)}"
    return None


def _stale(as_of: dt.date, res: Resolved) -> tuple[Constraint, str] | None:
    if res.request.allow_stale or not is_stale(as_of, res.today):
        return None
    return "stale", f"price as_of {as_of.isoformat()} is older than 12 months on {res.today.isoformat()} " \
                    "(--allow-stale to use it)"


def _api_latency(o: ApiOffer, res: Resolved) -> tuple[Constraint, str, float] | None:
    """An API is checked like any option: its slowest published median TTFT and output speed."""
    lat = o.latency
    if lat is None:
        return "latency", "no published TTFT/output-speed measurement, so the TTFT/TPOT targets cannot be checked", 0.0
    ttft_ms, tpot_ms = lat.ttft_s * 1000.0, 1000.0 / lat.output_tokens_per_s
    if ttft_ms > res.ttft_ms:
        return "ttft", f"published TTFT {ttft_ms:,.0f} ms > target {res.ttft_ms:g} ms", ttft_ms - res.ttft_ms
    if tpot_ms > res.tpot_ms:
        return "tpot", f"published {lat.output_tokens_per_s:g} tokens/s = TPOT {tpot_ms:.1f} ms > target " \
                       f"{res.tpot_ms:g} ms", tpot_ms - res.tpot_ms
    return None


def eligible(res: Resolved, catalog: Catalog) -> Eligible:
    """Every kind of offer is filtered (the ways of paying an option lists compare only eligible offers);
    exclusions are reported for the kinds the plan may use."""
    req = res.request
    out: list[Rejection] = []
    cloud = {}
    for o in catalog.cloud.values():
        if req.providers is not None and o.provider not in req.providers:
            continue  # not asked for: filtered, not rejected
        why = _tier_region(o, res) or _stale(o.as_of, res)
        if why:
            out.append(_reject("cloud", o.id, o.provider, o.gpu, None, *why))
        else:
            cloud[o.id] = o
    purchase = {}
    for p in catalog.purchase.values():
        gpu = catalog.gpus.get(p.gpu)
        note = f": {gpu.availability_note}" if gpu is not None and gpu.availability_note else ""
        reason: tuple[Constraint, str] | None = None
        if gpu is not None and req.market != "any":
            if not gpu.sold_new:
                reason = "market", f"{gpu.id} is not sold new{note} (--market any to allow)"
            elif req.market not in gpu.markets:
                reason = "market", f"{gpu.id} is sold new only in {', '.join(gpu.markets)}{note}"
        reason = reason or _stale(p.as_of, res)
        if reason:
            out.append(_reject("onprem", p.id, None, p.gpu, None, *reason))
        else:
            purchase[p.id] = p
    api = {}
    for a in catalog.api.values():
        if req.providers is not None and a.provider not in req.providers:
            continue
        if req.models and a.model not in req.models:
            continue
        found = _tier_region(a, res) or _stale(a.as_of, res)
        if found:
            out.append(_reject("api", a.id, a.provider, None, a.model, *found))
            continue
        slow = _api_latency(a, res)
        if slow:
            out.append(_reject("api", a.id, a.provider, None, a.model, *slow))
        else:
            api[a.id] = a
    shown = [r for r in out if r.deploy in res.deploys]
    return Eligible(dataclasses.replace(catalog, cloud=cloud, purchase=purchase, api=api), shown)
