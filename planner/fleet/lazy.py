"""One workload's search, sized only where the fleet can use the answer (exact; docs/fleet.md, Speed).

`qwen-plan plan` sizes and prices every configuration the request allows. From each workload the
fleet needs three things: the plan `plan` recommends, the frontier of its candidates per deploy kind
and GPU (`frontier`), and, for shared deployments, its cheapest cost on configurations named one at
a time (`cost_on`). Without the performance model a configuration's candidates are bounded below by
the ways of paying for one replica of it: more replicas never cost less, use fewer GPUs or less
capex. A configuration is sized (by the solver's own `size`, shared per shape by `ladder`, and
`self_hosted`, so every candidate is the search's own) unless those bounds prove that none of its
candidates can be the recommendation nor on the frontier; `cost_on` sizes the rest on demand.
tests/test_fleet_lazy.py checks all three against the full search.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from planner import cost, perf
from planner.catalog import Catalog
from planner.cost import TcoInputs
from planner.feasibility import context_problem
from planner.fleet.ladder import Ladders
from planner.perf import Config, Shape
from planner.plan import DeployKind
from planner.solver.choose import split
from planner.solver.costing import Candidate, PriceBook, apis, self_hosted
from planner.solver.evaluate import Failure
from planner.solver.resolve import Resolved
from planner.solver.space import configurations

ConfigKey = tuple[str, str, str, int, str, int]  # model, precision, gpu, tp, engine, mtp
FrontierKey = tuple[str, str | None]  # deploy kind, GPU (a hosted API: its provider)
RoomKey = tuple[ConfigKey, bool, str, int]  # what the memory check reads of a Config besides the request


def key_of(cfg: Config) -> ConfigKey:
    return (cfg.model.id, cfg.precision, cfg.gpu.id, cfg.tp, cfg.engine, cfg.mtp)


def frontier_key(c: Candidate) -> FrontierKey:
    return (c.deploy, c.sized.cfg.gpu.id if c.sized else c.line.provider)


@dataclass(frozen=True)
class Bound:
    """What any candidate of a configuration on one deploy kind costs at least, and uses at least."""

    cost: float
    gpus: int
    capex: float


@dataclass
class Entry:
    pos: int  # its place in the search's order of configurations
    template: Config  # model, precision, GPU, TP, engine, MTP as searched (`LazySearch.config`: the rest)
    key: ConfigKey
    quality: float | None  # the task quality of its candidates; None: it has none
    bounds: dict[DeployKind, Bound] | None  # per deploy kind it can be paid in; None: not bounded
    low: float  # the cheapest of `bounds` (inf: no way to pay; -inf: not bounded)
    candidates: list[Candidate] | None = None  # None: not sized yet


def _bound(lines: Iterable[cost.CloudLine | cost.OnpremLine], tp: int) -> Bound | None:
    found = list(lines)
    if not found:
        return None
    # Whole instances or servers are filled with replicas (costing.self_hosted): the GPUs counted are
    # at least the replicas the smallest way of paying holds.
    return Bound(min(round(ln.monthly_usd, 2) for ln in found), min(ln.gpus // tp for ln in found) * tp,
                 min(ln.capex_usd for ln in found))


@dataclass
class Spaces:
    """What the workloads of one fleet share. The search's configurations, enumerated once: workloads
    differ only in the MTP acceptance of their task and whether the encoder is loaded (both set as
    `space.configurations` sets them). And the configurations whose weights leave no room for any
    KV cache (perf's pool is empty), which fail the memory check whatever the request. The solver's
price book per set of eligible offers, and `size`'s load-free part per shape and targets."""

    _base: dict[tuple[object, ...], list[tuple[Config, ConfigKey]]] = field(default_factory=dict)
    _variants: dict[tuple[int, float | None, bool], Config] = field(default_factory=dict)
    _no_room: dict[RoomKey, bool] = field(default_factory=dict)
    _books: dict[tuple[object, ...], PriceBook] = field(default_factory=dict)
    ladders: Ladders = field(default_factory=Ladders)  # `size` for workloads of one shape and targets

    def book(self, res: Resolved, catalog: Catalog, tco: TcoInputs) -> PriceBook:
        """One price book per set of eligible offers and pricing terms: workloads that allow the same
        offers ask the same prices (a book reads only the catalog's offers, commit, providers, date, TCO)."""
        req = res.request
        k = (tuple(sorted(catalog.cloud)), tuple(sorted(catalog.purchase)), req.commit,
             None if req.providers is None else tuple(req.providers), res.today, tco.model_dump_json())
        if k not in self._books:
            self._books[k] = PriceBook(res, catalog, tco)
        return self._books[k]

    def known_no_room(self, key: RoomKey) -> bool:
        return self._no_room.get(key, False)

    def learn_room(self, cfg: Config, shape: Shape) -> None:
        """After a memory failure: whether it is the weights alone (then it fails for every request)."""
        k = _room_key(cfg)
        if k not in self._no_room:
            m = perf.memory(cfg, shape)
            self._no_room[k] = not m.fits and m.weights_gb + m.reserve_gb >= m.budget_gb

    def of(self, res: Resolved, catalog: Catalog) -> list[tuple[Config, ConfigKey]]:
        """The configurations `space.configurations` yields for this request, as templates with their
        keys: their MTP acceptance and encoder flag are the first such request's (`config` sets this one's)."""
        req = res.request
        if not res.deploys - {"api"}:
            return []  # `search` sizes nothing for hosted APIs only

        def opt(v: Sequence[str] | None) -> tuple[str, ...] | None:
            return None if v is None else tuple(v)

        base = (req.engine, opt(req.models), opt(req.precisions), opt(req.gpus), id(catalog.models), id(catalog.gpus))
        if base not in self._base:
            self._base[base] = [(c, key_of(c)) for _, c in configurations(res, catalog) if isinstance(c, Config)]
        return self._base[base]

    def config(self, template: Config, acceptance: float | None, text_only: bool) -> Config:
        """The template as `space.configurations` builds it for a request of this task and inputs; one
        object per variant, so workloads of one task share it (and its ladders)."""
        k = (id(template), acceptance if template.mtp else None, text_only and template.engine == "vllm")
        if k not in self._variants:
            self._variants[k] = dataclasses.replace(template, mtp_acceptance=k[1], language_model_only=k[2])
        return self._variants[k]


def _room_key(cfg: Config) -> RoomKey:
    return (key_of(cfg), cfg.language_model_only, cfg.kv_dtype, cfg.ep)


@dataclass
class LazySearch:
    res: Resolved
    catalog: Catalog
    tco: TcoInputs
    spaces: Spaces
    entries: list[Entry] = field(default_factory=list)
    apis: list[Candidate] = field(default_factory=list)
    by_key: dict[ConfigKey, Entry] = field(default_factory=dict)
    lower: dict[ConfigKey, float] = field(default_factory=dict)  # lower_cost of the keys meeting the bar
    _context: dict[str, str | None] = field(default_factory=dict)
    _book: PriceBook | None = None
    _acceptance: float | None = None  # the task's MTP acceptance per drafted token
    _bounds: dict[tuple[str, int], tuple[dict[DeployKind, Bound], float]] = field(default_factory=dict)

    @classmethod
    def of(cls, res: Resolved, catalog: Catalog, tco: TcoInputs, spaces: Spaces | None = None) -> LazySearch:
        s = cls(res, catalog, tco, spaces or Spaces())
        acc = catalog.task(res.request.task).mtp_acceptance
        s._acceptance = acc.per_token if acc is not None else None
        # A load profile is billed hour by hour: one replica's all-month price is no lower bound then.
        bounded = res.workload.load_profile is None
        text_only = res.workload.text_only
        qualities: dict[tuple[str, str], float | None] = {}  # per model and precision: thousands of entries share one
        for pos, (t, key) in enumerate(s.spaces.of(res, catalog)):
            mp = (key[0], key[1])
            if mp not in qualities:
                q = res.quality(catalog, *mp)
                qualities[mp] = None if q is None else round(q, 2)
            bounds, low = s._bounds_of(t) if bounded else (None, -math.inf)
            e = Entry(pos, t, key, qualities[mp], bounds, low)
            if s.spaces.known_no_room((key, text_only and t.engine == "vllm", t.kv_dtype, t.ep)):
                e.candidates = []
            s.entries.append(e)
            s.by_key.setdefault(e.key, e)
        s.apis = list(apis(res, catalog))
        s._settle()
        for k in s.by_key:
            low = s._lower(k)
            if low < math.inf:
                s.lower[k] = low
        return s

    def _bounds_of(self, cfg: Config) -> tuple[dict[DeployKind, Bound], float]:
        """Per deploy kind, the bound of one replica of `tp` of this GPU, and the cheapest of them (inf: none)."""
        k = (cfg.gpu.id, cfg.tp)
        if k not in self._bounds:
            res, cat = self.res, self.catalog
            out: dict[DeployKind, Bound] = {}
            if "cloud" in res.deploys:
                b = _bound(cost.replica_cloud_costs(cat, cfg.gpu.id, cfg.tp, 1, res.request.commit,
                                                    res.request.providers, today=res.today), cfg.tp)
                if b is not None:
                    out["cloud"] = b
            if "onprem" in res.deploys:
                gpu = cat.gpu(cfg.gpu.id)
                b = _bound((cost.purchase_cost(o, gpu, cfg.tp, self.tco, today=res.today)
                            for o in cat.purchases_for(cfg.gpu.id)), cfg.tp)
                if b is not None:
                    out["onprem"] = b
            self._bounds[k] = (out, min((b.cost for b in out.values()), default=math.inf))
        return self._bounds[k]

    def config(self, e: Entry) -> Config:
        """The entry's Config exactly as `space.configurations` builds it for this request."""
        return self.spaces.config(e.template, self._acceptance, self.res.workload.text_only)

    def evaluate(self, e: Entry) -> list[Candidate]:
        """The entry's candidates exactly as `search` finds them (its failures are not kept)."""
        if e.candidates is None:
            e.candidates = [] if e.quality is None else self._size(self.config(e))
            if e.key in self.lower and self.by_key[e.key] is e:
                low = self._lower(e.key)
                if low < math.inf:
                    self.lower[e.key] = low
                else:
                    del self.lower[e.key]
        return e.candidates

    def _size(self, cfg: Config) -> list[Candidate]:
        res = self.res
        if cfg.model.id not in self._context:
            self._context[cfg.model.id] = context_problem(cfg.model, res.workload.input_tokens + res.osl)
        if self._context[cfg.model.id] or self.spaces.known_no_room(_room_key(cfg)):
            return []
        outcome = self.spaces.ladders.size(cfg, res)
        if isinstance(outcome, Failure):
            if outcome.constraint == "memory":
                self.spaces.learn_room(cfg, res.shape)
            return []
        if self._book is None:
            self._book = self.spaces.book(res, self.catalog, self.tco)
        return list(self_hosted(outcome, res, self.catalog, self._book))

    @property
    def candidates(self) -> list[Candidate]:
        """The sized candidates in the search's order, then the hosted APIs (as `search` lists them)."""
        return [c for e in self.entries if e.candidates for c in e.candidates] + self.apis

    def cost_on(self, key: ConfigKey) -> float | None:
        """The cheapest candidate on this configuration meeting the workload's quality bar, sized on demand."""
        e = self.by_key.get(key)
        if e is None or not self.quality_ok(e) or (e.bounds is not None and not e.bounds):
            return None
        return min((c.monthly_cost_usd for c in self.evaluate(e)), default=None)

    def _lower(self, key: ConfigKey) -> float:
        """A lower bound on `cost_on` without sizing (inf: it has no candidate meeting the bar)."""
        e = self.by_key.get(key)
        if e is None or not self.quality_ok(e):
            return math.inf
        if e.candidates is not None:
            return min((c.monthly_cost_usd for c in e.candidates), default=math.inf)
        if e.bounds is None:
            return 0.0
        return e.low

    def quality_ok(self, e: Entry) -> bool:
        floor = self.res.request.min_quality
        return e.quality is not None and (floor is None or e.quality >= floor)

    def _settle(self) -> None:
        """Size every configuration that could be recommended or on the frontier, cheapest bound first,
        so that the candidates already sized prove the others out."""
        feasible, _ = split(self.apis, self.res)
        best = min((c.monthly_cost_usd for c in feasible), default=math.inf)
        sized: dict[FrontierKey, list[_Mark]] = {}

        def order(e: Entry) -> tuple[float, int]:
            return (e.low, e.pos)

        for e in sorted(self.entries, key=order):
            if e.quality is None or (e.bounds is not None and not e.bounds):
                e.candidates = []  # no task quality, or no way to pay for it: `search` prices nothing
                continue
            if e.bounds is not None and not self._needed(e, e.bounds, best, sized):
                continue
            found = self.evaluate(e)
            for c in found:
                sized.setdefault(frontier_key(c), []).append(
                    (c.quality, c.total_gpus, c.line.capex_usd, c.monthly_cost_usd, e.pos))
            ok, _ = split(found, self.res)
            best = min([best, *(c.monthly_cost_usd for c in ok)])

    def _needed(self, e: Entry, bounds: dict[DeployKind, Bound], best: float,
                sized: dict[FrontierKey, list[_Mark]]) -> bool:
        q = e.quality
        assert q is not None
        # The recommendation is the cheapest feasible candidate: one costing more than one found cannot be it.
        if self.quality_ok(e) and e.low <= best:
            return True
        gpu, at = e.template.gpu.id, e.pos
        for kind, b in bounds.items():
            for cq, cg, cx, cc, pos in sized.get((kind, gpu), ()):
                # As good on quality, GPUs, capex and cost, and sorting first (`frontier`'s order, then
                # the search's): every candidate within `b` stays off the frontier.
                if cq >= q and cg <= b.gpus and cx <= b.capex and (
                        cc < b.cost or (cc == b.cost and (cq > q or cg < b.gpus or cx < b.capex or pos < at))):
                    break
            else:
                return True
        return False


_Mark = tuple[float, int, float, float, int]  # a sized candidate: quality, GPUs, capex, cost, position


def frontier(cands: Iterable[Candidate]) -> list[Candidate]:
    """Per deploy kind and GPU (what quotas, inventory and budgets tell apart), the candidates no other
    beats on cost, capex, GPUs and quality at once: the only ones an optimum can pick. Groups come out
    in key order, so the frontier of any subset holding it is the same list."""
    by: dict[FrontierKey, list[Candidate]] = {}
    for c in cands:
        by.setdefault(frontier_key(c), []).append(c)
    out: list[Candidate] = []
    for k in sorted(by, key=lambda k: (k[0], k[1] or "")):
        group = sorted(by[k], key=lambda c: (c.monthly_cost_usd, -c.quality, c.total_gpus, c.line.capex_usd))
        kept: list[Candidate] = []
        for c in group:
            if not any(o.quality >= c.quality and o.total_gpus <= c.total_gpus and o.line.capex_usd <= c.line.capex_usd
                       for o in kept):
                kept.append(c)
        out.extend(kept)
    return out
