"""Price a sized configuration (or a hosted API) into Candidates. Prices come from planner.cost."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from planner import cost
from planner.catalog import Catalog
from planner.catalog.schema import ApiOffer, Engine
from planner.cost import ApiLine, CloudLine, OnpremLine, TcoInputs
from planner.errors import RequestError
from planner.plan import DeployKind, PricedBasis
from planner.solver import schedule
from planner.solver.evaluate import Sized, fill
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
    api_ttft_ms: float = 0.0  # a hosted API's published TTFT and TPOT (self-hosted: see `sized`)
    api_tpot_ms: float = 0.0
    replicas_by_hour: tuple[int, ...] | None = None  # cloud with a load profile: the autoscaler's schedule

    @property
    def ttft_ms(self) -> float:
        return self.api_ttft_ms if self.sized is None else self.sized.ttft_ms

    @property
    def tpot_ms(self) -> float:
        return self.api_tpot_ms if self.sized is None else self.sized.tpot_ms

    # Cached: the ranking reads these thousands of times (cached_property writes the instance
    # __dict__ directly, which a frozen dataclass allows).
    @functools.cached_property
    def monthly_cost_usd(self) -> float:
        return round(self.line.monthly_usd, 2)

    @functools.cached_property
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
        # Little's law: each user issues one request per think time plus request latency.
        return res.users_rps(sized.service_s), "concurrency (Little's law)"
    return sized.capacity_rps, "capacity"


class PriceBook:
    """The cheapest rent and purchase for a GPU count, looked up once per search: thousands of
    configurations (models, precisions, engines, draft lengths) ask the same few questions."""

    def __init__(self, res: Resolved, catalog: Catalog, tco: TcoInputs) -> None:
        self.res, self.catalog, self.tco = res, catalog, tco
        self._cloud: dict[tuple[str, int, int | tuple[int, ...]], CloudLine | None] = {}
        self._onprem: dict[tuple[str, int], OnpremLine | None] = {}

    def cloud(self, gpu: str, tp: int, replicas: int | tuple[int, ...]) -> CloudLine | None:
        """For `replicas` replicas of `tp` GPUs, or an hourly schedule of them (a tuple)."""
        key = (gpu, tp, replicas)
        if key not in self._cloud:
            req = self.res.request
            self._cloud[key] = (
                cost.cheapest_replica_cloud(self.catalog, gpu, tp, replicas, req.commit, req.providers,
                                            today=self.res.today)
                if isinstance(replicas, int) else
                cost.cheapest_scheduled_cloud(self.catalog, gpu, tp, replicas, req.commit, req.providers,
                                              today=self.res.today))
        return self._cloud[key]

    def can_host(self, gpu: str, tp: int) -> bool:
        """Whether any allowed offer prices replicas of `tp` GPUs at all: an instance shape that fits
        one replica fits any number of them, and a purchase price covers any GPU count."""
        return (("cloud" in self.res.deploys and self.cloud(gpu, tp, 1) is not None)
                or ("onprem" in self.res.deploys and self.onprem(gpu, tp) is not None))

    def onprem(self, gpu: str, gpus: int) -> OnpremLine | None:
        key = (gpu, gpus)
        if key not in self._onprem:
            self._onprem[key] = cost.onprem_cost(self.catalog, gpu, gpus, tco=self.tco, today=self.res.today)
        return self._onprem[key]


def self_hosted(sized: Sized, res: Resolved, catalog: Catalog, prices: PriceBook) -> Iterator[Candidate]:
    """The cheapest rent and the cheapest purchase for the sized replicas, each filling what it pays for."""
    cfg = sized.cfg
    q = res.quality(catalog, cfg.model.id, cfg.precision)
    if q is None:
        return
    lines: list[CloudLine | OnpremLine] = []
    profile = res.workload.load_profile
    billed = None if profile is None else schedule.billed_by_hour(schedule.needed_by_hour(sized, profile))
    if "cloud" in res.deploys:
        line = prices.cloud(cfg.gpu.id, cfg.tp, sized.replicas if billed is None else tuple(billed))
        if line is not None:
            lines.append(line)
    if "onprem" in res.deploys:
        owned = prices.onprem(cfg.gpu.id, cfg.tp * sized.replicas)
        if owned is not None:
            lines.append(owned)
    for ln in lines:
        # Whole instances and servers are paid for whole: their GPUs run more replicas, at no extra cost.
        used = fill(sized, ln.gpus // cfg.tp, res)
        if isinstance(ln, OnpremLine) and used.replicas != sized.replicas:
            # The same servers, now counted as needed by the replicas they hold.
            ln = prices.onprem(cfg.gpu.id, cfg.tp * used.replicas) or ln
        rps, basis = _priced(res, used)
        hourly = None
        if billed is not None and isinstance(ln, CloudLine):
            # The peak hours run every replica the peak instances hold; the others what they need.
            top = max(billed)
            hourly = tuple(used.replicas if n == top else n for n in billed)
        yield Candidate(model=cfg.model.id, deploy=ln.kind, quality=round(q, 2), line=ln,
                        capacity_rps=used.capacity_rps, priced_rps=rps, priced_basis=basis, osl=res.osl, sized=used,
                        replicas_by_hour=hourly)


def api_latency_ms(offer: ApiOffer) -> tuple[float, float]:
    """(TTFT, TPOT) in ms from the offer's slowest published medians (eligibility checked they exist)."""
    assert offer.latency is not None
    return offer.latency.ttft_s * 1000.0, 1000.0 / offer.latency.output_tokens_per_s


def api_lines(res: Resolved, catalog: Catalog, model_id: str, rps: float) -> list[ApiLine]:
    """Every allowed API bill for the model at `rps`, cheapest first."""
    w = res.workload
    requests = rps * SECONDS_PER_MONTH
    return cost.api_costs(catalog, model_id, requests * w.input_tokens, requests * w.osl,
                          math.ceil(w.input_tokens), providers=res.request.providers,
                          cached_fraction=w.prefix_hit, today=res.today)


def _api_bill(res: Resolved, offer: ApiOffer, rps: float) -> ApiLine | None:
    w = res.workload
    requests = rps * SECONDS_PER_MONTH
    try:
        return cost.api_cost(offer, requests * w.input_tokens, requests * w.osl, math.ceil(w.input_tokens),
                             w.prefix_hit, today=res.today)
    except RequestError:
        return None  # this host cannot take requests this long


def apis(res: Resolved, catalog: Catalog) -> Iterator[Candidate]:
    """Hosted APIs (the eligible ones: latency measured and within the targets), one candidate per offer.

    With --concurrency, each user issues one request per measured API latency; with no load, the
    budget buys as many requests as it pays for.
    """
    req = res.request
    if "api" not in res.deploys:
        return
    for offer in sorted(catalog.api.values(), key=lambda o: o.id):
        if req.models and offer.model not in req.models:
            continue
        q = res.quality(catalog, offer.model, None)
        if q is None:
            continue
        ttft, tpot = api_latency_ms(offer)
        basis: PricedBasis
        if res.arrival_rps is not None:
            rps, basis = res.arrival_rps, "arrival rate"
        elif res.concurrency is not None:
            service_s = (ttft + res.osl * tpot) / 1000.0
            rps, basis = res.users_rps(service_s), "concurrency at the published API latency"
        elif req.budget is not None:
            one = _api_bill(res, offer, 1.0 / SECONDS_PER_MONTH)  # one request a month
            if one is None or one.monthly_usd <= 0:
                continue
            rps, basis = req.budget / one.monthly_usd / SECONDS_PER_MONTH, "budget"
        else:
            return  # per-token pricing says nothing without a load or a budget (see the plan's notes)
        line = _api_bill(res, offer, rps)
        if line is None:
            continue
        yield Candidate(model=offer.model, deploy="api", quality=round(q, 2), line=line, capacity_rps=rps,
                        priced_rps=rps, priced_basis=basis, osl=res.osl, api_ttft_ms=ttft, api_tpot_ms=tpot)
