"""Turn a sized configuration (or a hosted API) into costed Options. Prices come from planner.cost."""

from __future__ import annotations

import math
from collections.abc import Iterator

from planner import cost, perf
from planner.catalog.loader import Catalog
from planner.feasibility import tp_choices
from planner.plan import DeployKind, Option
from planner.solver.evaluate import Sized
from planner.solver.space import SECONDS_PER_MONTH, Resolved, visual_tokens_of


def monthly_requests(res: Resolved, sized_capacity_rps: float) -> float:
    """Requests a month the option serves: the load if given, else what it can sustain."""
    if res.arrival_rps is not None:
        return res.arrival_rps * SECONDS_PER_MONTH
    return sized_capacity_rps * SECONDS_PER_MONTH


def _per_million_output(monthly_usd: float, requests_month: float, osl: int) -> float:
    tokens = requests_month * osl
    return monthly_usd / tokens * 1e6 if tokens > 0 else math.inf


def self_hosted_options(sized: Sized, res: Resolved, catalog: Catalog) -> Iterator[Option]:
    req = res.request
    cfg = sized.cfg
    gpu = cfg.gpu
    q = res.quality(catalog, cfg.model.id, cfg.precision)
    if q is None:
        return
    total_gpus = cfg.tp * sized.replicas
    requests_month = monthly_requests(res, sized.capacity_rps)

    def option(
        kind: DeployKind, provider: str | None, instance: str | None, instances: int, line: cost.CostLine
    ) -> Option:
        return Option(
            model=cfg.model.id,
            precision=cfg.precision,
            gpu=gpu.id,
            tp=cfg.tp,
            ep=cfg.ep,
            replicas=sized.replicas,
            total_gpus=total_gpus,
            engine=cfg.engine,
            mtp_tokens=cfg.mtp,
            deploy=kind,
            provider=provider,
            instance=instance,
            instances=instances,
            monthly_cost_usd=round(line.monthly_usd, 2),
            capex_usd=round(line.capex_usd, 2),
            usd_per_million_tokens=round(_per_million_output(line.monthly_usd, requests_month, res.osl), 4),
            ttft_ms=round(sized.ttft_ms, 1),
            tpot_ms=round(sized.tpot_ms, 2),
            capacity_rps=round(sized.capacity_rps, 4),
            capacity_tokens_per_day=round(sized.capacity_rps * 86400 * (res.isl + res.osl)),
            batch_per_replica=sized.batch,
            quality=round(q, 2),
            stale_price=line.stale,
            price_as_of=line.as_of.isoformat(),
        )

    if req.deploy in ("cloud", "any"):
        line = cost.cheapest_replica_cloud(catalog, gpu.id, cfg.tp, sized.replicas, req.commit, req.providers,
                                           today=res.today)
        if line is not None:
            yield option("cloud", line.provider, line.instance, line.instances, line)
    if req.deploy in ("onprem", "any"):
        line = cost.onprem_cost(
            catalog, gpu.id, total_gpus,
            years=req.years, power_price=req.power_price, pue=req.pue, utilization=req.utilization, today=res.today,
        )
        if line is not None:
            servers = line.instances or math.ceil(total_gpus / gpu.gpus_per_node)
            yield option("onprem", None, None, servers, line)


# The GPU a hosted API's speed is pegged to under --concurrency (its latency is not published).
API_REFERENCE_GPU = "h100-sxm"


def api_service_s(res: Resolved, catalog: Catalog, model_id: str) -> float:
    """Seconds one request takes through a hosted API, for closed-loop pricing.

    Taken as one stream of the model (or its open twin) on the reference GPU, at the best precision and
    TP the catalog allows there: a fixed, filter-independent figure — so narrowing --gpus cannot change
    an API's price — and a fast one, so the API is priced at a high request rate, not flattered. Without
    the reference GPU or weights, the SLO targets stand in.
    """
    slo = (res.ttft_ms + res.osl * res.tpot_ms) / 1000.0
    model = catalog.model(model_id)
    twin = catalog.model(model.hosted_twin_of) if model.hosted_twin_of else model
    gpu = catalog.gpus.get(API_REFERENCE_GPU)
    if gpu is None or twin.architecture is None:
        return slo
    best = slo
    for ckpt in twin.checkpoints:
        if ckpt.precision not in gpu.native_precisions:
            continue
        for tp in tp_choices(twin, gpu):
            est = perf.estimate(perf.Config(twin, gpu, ckpt.precision, tp), res.shape, 1)
            if est.fits:
                best = min(best, (est.ttft_ms + res.osl * est.tpot_ms) / 1000.0)
    return best


def api_options(res: Resolved, catalog: Catalog) -> Iterator[Option]:
    """Hosted APIs: per-token prices; latency is the provider's, not modelled here.

    With --concurrency, the request rate comes from `api_service_s`.
    """
    req = res.request
    if req.deploy not in ("api", "any"):
        return
    for model in catalog.models.values():
        if req.models and model.id not in req.models:
            continue
        q = res.quality(catalog, model.id, None)
        if q is None:
            continue
        rps = res.arrival_rps
        if rps is None and res.concurrency is not None:
            # Closed loop: N users each waiting one request's latency (see api_service_s).
            rps = res.concurrency / api_service_s(res, catalog, model.id)
        input_tokens = res.isl + visual_tokens(res, catalog, model.id)
        # The prefix the engine would cache is billed at the provider's cached-input price, where listed.
        per_request = cost.cheapest_api(catalog, model.id, float(input_tokens), float(res.osl), input_tokens,
                                        providers=req.providers, cached_fraction=res.shape.prefix_hit,
                                        today=res.today)
        if per_request is None:
            continue
        usd_per_request = per_request.monthly_usd
        if rps is not None:
            monthly = usd_per_request * rps * SECONDS_PER_MONTH
            capacity = rps
        elif req.budget is not None:
            # No load: the API is worth the whole budget, in as many requests as that buys.
            monthly = req.budget
            capacity = req.budget / usd_per_request / SECONDS_PER_MONTH
        else:
            return  # per-token pricing says nothing without a load or a budget (see the plan's notes)
        yield Option(
            model=model.id,
            precision=None,
            gpu=None,
            tp=0,
            ep=0,
            replicas=0,
            total_gpus=0,
            engine=None,
            mtp_tokens=0,
            deploy="api",
            provider=per_request.provider,
            instance=None,
            instances=0,
            monthly_cost_usd=round(monthly, 2),
            usd_per_million_tokens=round(usd_per_request / res.osl * 1e6, 4),
            ttft_ms=None,
            tpot_ms=None,
            capacity_rps=round(capacity, 4),
            capacity_tokens_per_day=round(capacity * 86400 * (res.isl + res.osl)),
            batch_per_replica=0,
            quality=round(q, 2),
            stale_price=per_request.stale,
            price_as_of=per_request.as_of.isoformat(),
        )


def visual_tokens(res: Resolved, catalog: Catalog, model_id: str) -> int:
    """Prompt tokens the request's images/frames add for this model (see space.visual_tokens_of)."""
    return visual_tokens_of(res.shape, catalog, model_id)
