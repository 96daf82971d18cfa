"""Candidate deployments ("columns" of the integer program), built with the solver's own search.

Each workload is planned alone exactly as `qwen-plan plan` plans it (resolve, eligible offers,
search, sized lazily by `lazy.LazySearch` where the fleet can use the answer): its frontier of
priced candidates are its one-workload columns, so the plan each workload would get alone is
always among them. Where a quota or owned inventory changes which offer is best, the same
sized configuration is also priced on every offer the quota counts apart, and on owned servers at
their running cost. Groups of workloads that can share a configuration get columns sized by
`mix.size_mix` for their combined load and request mix, priced on the offers every member allows.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from planner import cost
from planner.catalog import Catalog
from planner.cost import CloudLine, OnpremLine, TcoInputs
from planner.errors import RequestError
from planner.fleet.lazy import ConfigKey, LazySearch, Spaces, frontier, key_of
from planner.fleet.mix import PerfMemo, size_mix
from planner.fleet.spec import FleetSpec, WorkloadSpec
from planner.perf import Config, Shape
from planner.solver.choose import monthly_cash, rank, split
from planner.solver.costing import Candidate
from planner.solver.eligibility import Eligible, eligible
from planner.solver.evaluate import Failure, Sized, fill, size
from planner.solver.options import tco_of
from planner.solver.resolve import Resolved, resolve
from planner.solver.search import Search, search

# Largest group of workloads sized onto one shared deployment: pairs always, triples for fleets of up
# to LARGE_FLEET workloads (the number of subsets grows as n^k); see `groups`.
MAX_GROUP = 3
LARGE_FLEET = 10
GROUP_TRIES = 6
__all__ = ["Column", "ConfigKey", "Single", "columns", "key_of", "plan_alone", "server_costs"]


@dataclass
class Single:
    """One workload planned alone: the solver's resolved request, offers and (lazy) search."""

    spec: WorkloadSpec
    res: Resolved
    allowed: Eligible
    lazy: LazySearch
    alone: Candidate | None  # what `qwen-plan plan` would recommend (None: nothing feasible alone)

    def full_search(self) -> Search:
        """The solver's whole search, failures included: only when explaining why nothing is feasible."""
        return search(self.res, self.allowed.catalog, self.lazy.tco, whole=True)

    def config(self, key: ConfigKey) -> Config:
        return self.lazy.config(self.lazy.by_key[key])


@dataclass(frozen=True)
class Column:
    members: tuple[int, ...]
    candidate: Candidate
    res: Resolved  # what it was sized for (one workload, or the group's envelope)
    owned: bool
    monthly_cost: float  # what the fleet pays: owned servers count only their running cost
    cash: float  # what the monthly budget compares
    capex: float
    gpus: int
    quotas: tuple[int, ...]  # the quotas its GPUs count against
    qualities: tuple[float, ...]  # each member's task quality on it
    quality_ok: bool  # every member's minimum quality met
    catalog: Catalog = field(compare=False, repr=False)  # the offers it was priced among

    @property
    def kind(self) -> Literal["cloud", "onprem", "api", "owned"]:
        return "owned" if self.owned else self.candidate.deploy

    @property
    def gpu(self) -> str | None:
        s = self.candidate.sized
        return None if s is None else s.cfg.gpu.id


def plan_alone(spec: WorkloadSpec, catalog: Catalog, spaces: Spaces | None = None) -> Single:
    try:
        res = resolve(spec.request, catalog)
    except RequestError as exc:
        raise RequestError(f"workloads[{spec.name}]: {exc}") from None
    allowed = eligible(res, catalog)
    lazy = LazySearch.of(res, allowed.catalog, tco_of(res, allowed.catalog), spaces)
    feasible, _ = split(lazy.candidates, res)
    # The same ranking `plan` uses with a load: cheapest, then quality, GPUs, engine, latency.
    alone = min(feasible, key=rank(res)) if feasible else None
    return Single(spec, res, allowed, lazy, alone)


def _quota_hits(spec: FleetSpec, line: CloudLine | OnpremLine, catalog: Catalog) -> tuple[int, ...]:
    if not isinstance(line, CloudLine):
        return ()
    offer = catalog.cloud[line.offer_id]
    return tuple(i for i, q in enumerate(spec.quotas) if q.applies(offer.gpu, offer.provider, offer.region, offer.geo))


def _column(spec: FleetSpec, members: tuple[int, ...], singles: Sequence[Single], res: Resolved,
            cand: Candidate, catalog: Catalog, owned: bool = False) -> Column:
    line = cand.line
    gpus: int
    qualities = tuple(cand.quality if len(members) == 1 else _quality(singles[m], cand, catalog) for m in members)
    floors = [singles[m].res.request.min_quality for m in members]
    ok = all(f is None or q >= f for f, q in zip(floors, qualities, strict=True))
    if owned:
        # Owned servers are paid per server powered (a variable of the program), not per column.
        assert cand.sized is not None
        monthly = cash = capex = 0.0
        gpus = cand.sized.cfg.tp * cand.sized.replicas
    else:
        monthly, cash, capex = cand.monthly_cost_usd, monthly_cash(cand, res), cand.line.capex_usd
        gpus = 0 if isinstance(line, cost.ApiLine) else line.gpus
    hits = () if owned or isinstance(line, cost.ApiLine) else _quota_hits(spec, line, catalog)
    return Column(members, cand, res, owned, monthly, cash, round(capex, 2), gpus, hits, qualities, ok, catalog)


def _quality(single: Single, cand: Candidate, catalog: Catalog) -> float:
    assert cand.sized is not None
    q = single.res.quality(catalog, cand.model, cand.sized.cfg.precision)
    return round(q if q is not None else 0.0, 2)


def _lines(spec: FleetSpec, sized: Sized, res: Resolved, catalog: Catalog,
           tco: TcoInputs) -> Iterator[tuple[CloudLine | OnpremLine, Sized]]:
    """Every way worth renting or buying the sized replicas: the cheapest offer per set of quotas that
    count it, and a purchase when allowed (owned servers: `_owned_lines`)."""
    cfg, req = sized.cfg, res.request
    if "cloud" in res.deploys:
        best: dict[tuple[int, ...], CloudLine] = {}
        for ln in cost.replica_cloud_costs(catalog, cfg.gpu.id, cfg.tp, sized.replicas, req.commit, req.providers,
                                           today=res.today):
            best.setdefault(_quota_hits(spec, ln, catalog), ln)  # cheapest first
        for ln in best.values():
            yield ln, fill(sized, ln.gpus // cfg.tp, res)
    if "onprem" in res.deploys:
        bought = cost.onprem_cost(catalog, cfg.gpu.id, cfg.tp * sized.replicas, tco=tco, today=res.today)
        if bought is not None:
            yield bought, sized


def _owned_lines(spec: FleetSpec, sized: Sized, res: Resolved, full: Catalog,
                 tco: TcoInputs) -> Iterator[OnpremLine]:
    cfg = sized.cfg
    for inv in spec.inventory:
        if inv.gpu == cfg.gpu.id and cfg.tp * sized.replicas <= inv.gpus and cfg.tp <= inv.gpus_per_server:
            line = cost.onprem_cost(full, cfg.gpu.id, cfg.tp * sized.replicas, tco=tco, today=res.today)
            if line is not None:
                yield line


def _candidate(sized: Sized, res: Resolved, line: CloudLine | OnpremLine, quality: float) -> Candidate:
    rps = res.arrival_rps or 0.0
    return Candidate(model=sized.cfg.model.id, deploy=line.kind, quality=quality, line=line,
                     capacity_rps=sized.capacity_rps, priced_rps=rps, priced_basis="arrival rate", osl=res.osl,
                     sized=sized)


def singles_columns(spec: FleetSpec, singles: Sequence[Single], full: Catalog) -> list[Column]:
    out: list[Column] = []
    for i, s in enumerate(singles):
        cat = s.allowed.catalog
        tco = tco_of(s.res, cat)
        seen: set[int] = set()
        for c in frontier(s.lazy.candidates):
            out.append(_column(spec, (i,), singles, s.res, c, cat))
            sized = c.sized
            if sized is None or id(sized.cfg) in seen:
                continue
            seen.add(id(sized.cfg))
            needs_quota = any(q.gpu == sized.cfg.gpu.id for q in spec.quotas)
            if not needs_quota and not any(inv.gpu == sized.cfg.gpu.id for inv in spec.inventory):
                continue
            # The search's candidates fill the instances they pay for; other offers start from the minimum.
            base = size(sized.cfg, s.res)
            assert not isinstance(base, Failure)  # the search sized this configuration
            if needs_quota:
                for ln, used in _lines(spec, base, s.res, cat, tco):
                    if isinstance(ln, CloudLine):
                        out.append(_column(spec, (i,), singles, s.res, _candidate(used, s.res, ln, c.quality), cat))
            for ln in _owned_lines(spec, base, s.res, full, tco):
                out.append(_column(spec, (i,), singles, s.res, _candidate(base, s.res, ln, c.quality), cat,
                                   owned=True))
    return out


def server_costs(spec: FleetSpec, singles: Sequence[Single], full: Catalog) -> tuple[float, ...]:
    """Running cost of one owned server per inventory entry: the catalog's on-prem opex per GPU (power,
    facility, operations under the fleet's TCO assumptions) times the GPUs in the server."""
    tco = tco_of(singles[0].res, full)
    out = []
    for inv in spec.inventory:
        line = cost.onprem_cost(full, inv.gpu, inv.gpus_per_server, tco=tco, today=singles[0].res.today)
        assert line is not None  # spec refused inventory without an on-prem record
        out.append(round(line.opex_monthly / line.gpus * inv.gpus_per_server, 2))
    return tuple(out)


def envelope(members: Sequence[Resolved]) -> Resolved:
    """The group as one Resolved for pricing and rendering: the combined load, the tightest targets and
    the longest request (the deployment's context length must hold every member's request)."""
    ws = [m.workload for m in members]
    peaks = [m.sizing_rps or 0.0 for m in members]
    average = sum(w.arrival_rps or 0.0 for w in ws)
    peak = sum(peaks)
    w = ws[0].model_copy(update={
        "isl": max(x.isl for x in ws), "osl": max(x.osl for x in ws), "prefix_hit": min(x.prefix_hit for x in ws),
        "images_per_request": max(x.images_per_request for x in ws), "image_pixels": max(x.image_pixels for x in ws),
        "video_frames_per_request": max(x.video_frames_per_request for x in ws),
        "frame_pixels": max(x.frame_pixels for x in ws), "visual_tokens": max(x.visual_tokens for x in ws),
        "ttft_ms": min(x.ttft_ms for x in ws), "tpot_ms": min(x.tpot_ms for x in ws),
        # A shared deployment runs its peak replicas all month: the autoscaler's hourly schedule is
        # priced for one-workload columns only (by the solver), so a group is never cheaper than it is.
        "arrival_rps": average, "peak_rps": peak if peak > average + 1e-12 else None, "load_profile": None,
    })
    shape = Shape(isl=w.isl, osl=w.osl, prefix_hit=w.prefix_hit, images=w.images_per_request,
                  image_pixels=w.image_pixels, video_frames=w.video_frames_per_request, frame_pixels=w.frame_pixels)
    request = members[0].request.model_copy(update={
        "rps": average, "peak_rps": w.peak_rps, "tokens_per_day": None, "load_profile": None, "isl": w.isl,
        "osl": w.osl,
        "ttft_ms": w.ttft_ms, "tpot_ms": w.tpot_ms, "min_quality": None, "models": None, "precisions": None})
    deploys = frozenset.intersection(*(m.deploys for m in members))
    return Resolved(request=request, workload=w, shape=shape, today=members[0].today, deploys=deploys)


def _shared_catalog(group: Sequence[Single]) -> Catalog:
    """The offers every member may use (regions and residency of each)."""
    cats = [s.allowed.catalog for s in group]
    cloud = {k: v for k, v in cats[0].cloud.items() if all(k in c.cloud for c in cats)}
    purchase = {k: v for k, v in cats[0].purchase.items() if all(k in c.purchase for c in cats)}
    return dataclasses.replace(cats[0], cloud=cloud, purchase=purchase, api={})


def groups(n: int, useful: set[tuple[int, ...]] | None = None) -> Iterator[tuple[int, ...]]:
    """Pairs, then (small fleets) triples whose every pair shares a deployment more cheaply than apart:
    a third member only adds load to a deployment that already pays for itself."""
    yield from itertools.combinations(range(n), 2)
    if n <= LARGE_FLEET and useful is not None:
        for k in range(3, min(MAX_GROUP, n) + 1):
            for g in itertools.combinations(range(n), k):
                if all(p in useful for p in itertools.combinations(g, 2)):
                    yield g


def by_bound(group: Sequence[Single], keys: set[ConfigKey],
             limit: Callable[[], float]) -> Iterator[tuple[float, ConfigKey]]:
    """The configurations every member can run as (bound, key), in increasing order, where the bound is
    the dearest member's cheapest cost there. A member is sized on a configuration only when the order
    needs it: its lazy lower cost decides what comes next, and nothing at or above `limit()` (what the
    caller stops at) is sized."""
    first, *rest = [s.lazy.lower for s in group]
    pending: list[tuple[float, ConfigKey]] = []
    inf = math.inf
    for k in keys:
        v = first.get(k, inf)
        for own in rest:
            w = own.get(k, inf)
            if w > v:
                v = w
        if v < inf:
            pending.append((v, k))
    heapq.heapify(pending)  # popped only as far as the caller reads
    ready: list[tuple[float, ConfigKey]] = []
    while True:
        while pending and (not ready or pending[0][0] <= ready[0][0]):
            low, key = heapq.heappop(pending)
            if low >= limit():
                pending = []  # every bound left is at or above the limit: the caller stops there
                break
            worst = 0.0
            for s in group:
                c = s.lazy.cost_on(key)
                if c is None:
                    break
                worst = max(worst, c)
            else:
                heapq.heappush(ready, (worst, key))
        if not ready:
            return
        yield heapq.heappop(ready)


def group_columns(spec: FleetSpec, singles: Sequence[Single], full: Catalog,
                  single_cols: Sequence[Column]) -> list[Column]:
    """Shared deployments, tried in order of a lower bound on their cost: a group sized for the members'
    combined load needs at least the replicas any member needs alone on the same configuration, so it
    costs at least the dearest member's own column there. Minimising cost with no quota, inventory or
    capex budget, a group's configurations stop once that bound reaches the cheapest way found to serve
    the members (shared, or each on its own cheapest column); otherwise the GROUP_TRIES lowest bounds
    are sized."""
    out: list[Column] = []
    cheapest = [min((c.monthly_cost for c in single_cols if c.members == (i,) and c.quality_ok), default=math.inf)
                for i in range(len(singles))]
    # Exact only where a cheaper set of one-workload columns can always replace a group: no quota or
    # owned server to share out, and the monthly figure is what every budget row compares.
    exact = spec.objective == "cost" and not spec.quotas and not spec.inventory and spec.capex_budget is None
    useful: set[tuple[int, ...]] = set()
    memo = PerfMemo()
    for members in groups(len(singles), useful):
        group = [singles[m] for m in members]
        shared = set.intersection(*(set(s.lazy.lower) for s in group))
        if not shared:
            continue
        res = envelope([s.res for s in group])
        if not res.deploys - {"api"}:
            continue
        cat = _shared_catalog(group)
        tco = tco_of(res, cat)
        best = sum(cheapest[m] for m in members)
        # Read late on purpose: the bar falls as cheaper ways of serving the group are found.
        limit: Callable[[], float] = (lambda: best) if exact else (lambda: math.inf)  # noqa: B023
        for tried, (bound, key) in enumerate(by_bound(group, shared, limit)):
            if (exact and bound >= best) or (not exact and tried >= GROUP_TRIES):
                break
            # A member with images needs the encoder loaded: take its configuration.
            cfg = next((s.config(key) for s in group if not s.config(key).language_model_only),
                       group[0].config(key))
            sized = size_mix(cfg, [s.res for s in group], memo)
            if sized is None:
                continue
            priced = [(ln, used, False) for ln, used in _lines(spec, sized, res, cat, tco)]
            priced += [(ln, sized, True) for ln in _owned_lines(spec, sized, res, full, tco)]
            for ln, used, owned in priced:
                cand = _candidate(used, res, ln, 0.0)
                col = _column(spec, members, singles, res, cand, cat, owned=owned)
                col = dataclasses.replace(col, candidate=dataclasses.replace(cand, quality=min(col.qualities)))
                out.append(col)
                if col.quality_ok:
                    best = min(best, col.monthly_cost)
        if best < sum(cheapest[m] for m in members) - 0.005:
            useful.add(members)
    return out


def _dominated(cols: list[Column]) -> list[Column]:
    """Drop columns another column of the same members and resources beats on every count."""
    by: dict[tuple[object, ...], list[Column]] = {}
    for c in cols:
        by.setdefault((c.members, c.kind == "owned", c.gpu if c.owned else None, c.quotas, c.quality_ok), []).append(c)
    out = []
    for group in by.values():
        group.sort(key=lambda c: (c.monthly_cost, c.gpus, c.capex, c.cash, tuple(-q for q in c.qualities)))
        kept: list[Column] = []
        for c in group:
            if not any(k.monthly_cost <= c.monthly_cost and k.cash <= c.cash and k.capex <= c.capex
                       and k.gpus <= c.gpus and all(a >= b for a, b in zip(k.qualities, c.qualities, strict=True))
                       for k in kept):
                kept.append(c)
        out.extend(kept)
    return out


def columns(spec: FleetSpec, singles: Sequence[Single], full: Catalog) -> list[Column]:
    single = singles_columns(spec, singles, full)
    return _dominated(single + group_columns(spec, singles, full, single))

