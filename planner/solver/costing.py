"""Price a sized configuration (or a hosted API) into Candidates. Prices come from planner.cost."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from planner import cost, perf
from planner.catalog import Catalog
from planner.catalog.schema import Engine
from planner.cost import ApiLine, CloudLine, OnpremLine
from planner.feasibility import tp_choices
from planner.plan import DeployKind, PricedBasis
from planner.solver.evaluate import Sized
from planner.solver.resolve import Resolved
from planner.terms import SECONDS_PER_MONTH


@dataclass(frozen=True)
class Candidate:
    """One priced way to serve the request, as the search compares them (Options are built for the shown ones)."""

    model: str
    deploy: DeployKind
    quality: float
    line: CloudLine | OnpremLine | ApiLine
    capacity_rps: float
    priced_rps: float
    priced_basis: PricedBasis
    osl: int
    sized: Sized | None = None  # None: a hosted API

    @property
    def monthly_cost_usd(self) -> float:
        return round(self.line.monthly_usd, 2)

    @property
    def usd_per_million_tokens(self) -> float:
        tokens = self.priced_rps * SECONDS_PER_MONTH * self.osl
        return round(self.line.monthly_usd / tokens * 1e6, 4) if tokens > 0 else math.inf

    @property
    def total_gpus(self) -> int:
        return 0 if self.sized is None else self.sized.cfg.tp * self.sized.replicas

    @property
    def engine(self) -> Engine | None:
        return None if self.sized is None else self.sized.cfg.engine

    def describe(self) -> str:
        if self.sized is None:
            return self.model
        return f"{self.model} {self.sized.cfg.precision} on {self.sized.cfg.gpu.id}"


def _priced(res: Resolved, sized: Sized) -> tuple[float, PricedBasis]:
    """The request rate a self-hosted option bills for: the load, the users' rate, or its capacity."""
    if res.arrival_rps is not None:
        return res.arrival_rps, "arrival rate"
    if res.concurrency is not None:
        # Little's law: each user issues one request per request latency.
        return res.concurrency / sized.service_s, "concurrency (Little's law)"
    return sized.capacity_rps, "capacity"


def self_hosted(sized: Sized, res: Resolved, catalog: Catalog) -> Iterator[Candidate]:
    req = res.request
    cfg = sized.cfg
    q = res.quality(catalog, cfg.model.id, cfg.precision)
    if q is None:
        return
    rps, basis = _priced(res, sized)
    lines: list[CloudLine | OnpremLine] = []
    if req.deploy in ("cloud", "any"):
        line = cost.cheapest_replica_cloud(catalog, cfg.gpu.id, cfg.tp, sized.replicas, req.commit, req.providers,
                                           today=res.today)
        if line is not None:
            lines.append(line)
    if req.deploy in ("onprem", "any"):
        owned = cost.onprem_cost(
            catalog, cfg.gpu.id, cfg.tp * sized.replicas,
            years=req.years, power_price=req.power_price, pue=req.pue, utilization=req.utilization, today=res.today,
        )
        if owned is not None:
            lines.append(owned)
    for ln in lines:
        yield Candidate(model=cfg.model.id, deploy=ln.kind, quality=round(q, 2), line=ln,
                        capacity_rps=sized.capacity_rps, priced_rps=rps, priced_basis=basis, osl=res.osl, sized=sized)


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
    twin = catalog.open_twin(model_id)
    gpu = catalog.gpus.get(API_REFERENCE_GPU)
    if gpu is None or twin.architecture is None:
        return slo
    best = slo
    for ckpt in twin.checkpoints:
        for tp in tp_choices(twin, gpu, ckpt.precision, "vllm"):
            est = perf.estimate(perf.Config(twin, gpu, ckpt.precision, tp), res.shape, 1)
            if est.fits:
                best = min(best, (est.ttft_ms + res.osl * est.tpot_ms) / 1000.0)
    return best


def api_line(res: Resolved, catalog: Catalog, model_id: str, rps: float) -> ApiLine | None:
    """The cheapest allowed API bill for the model at `rps` (the prefix cache billed at cached prices)."""
    lines = api_lines(res, catalog, model_id, rps)
    return lines[0] if lines else None


def api_lines(res: Resolved, catalog: Catalog, model_id: str, rps: float) -> list[ApiLine]:
    """Every allowed API bill for the model at `rps`, cheapest first."""
    w = res.workload
    requests = rps * SECONDS_PER_MONTH
    return cost.api_costs(catalog, model_id, requests * w.input_tokens, requests * w.osl,
                          math.ceil(w.input_tokens), providers=res.request.providers,
                          cached_fraction=w.prefix_hit, today=res.today)


def apis(res: Resolved, catalog: Catalog) -> Iterator[Candidate]:
    """Hosted APIs: per-token prices; latency is the provider's, not modelled here.

    With --concurrency, the request rate comes from `api_service_s`; with no load, the budget buys
    as many requests as it pays for.
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
        basis: PricedBasis
        if res.arrival_rps is not None:
            rps, basis = res.arrival_rps, "arrival rate"
        elif res.concurrency is not None:
            rps, basis = res.concurrency / api_service_s(res, catalog, model.id), \
                "concurrency at the assumed API latency"
        elif req.budget is not None:
            one = api_line(res, catalog, model.id, 1.0 / SECONDS_PER_MONTH)  # one request a month
            if one is None or one.monthly_usd <= 0:
                continue
            rps, basis = req.budget / one.monthly_usd / SECONDS_PER_MONTH, "budget"
        else:
            return  # per-token pricing says nothing without a load or a budget (see the plan's notes)
        line = api_line(res, catalog, model.id, rps)
        if line is None:
            continue
        yield Candidate(model=model.id, deploy="api", quality=round(q, 2), line=line, capacity_rps=rps,
                        priced_rps=rps, priced_basis=basis, osl=res.osl)
