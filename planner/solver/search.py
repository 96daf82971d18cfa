"""Search: size and price every candidate the request allows; record why the others fail."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner import parallel
from planner.catalog import Catalog
from planner.cost import TcoInputs
from planner.feasibility import Problem, context_problem
from planner.perf import Config
from planner.solver.costing import Candidate, PriceBook, apis, self_hosted
from planner.solver.evaluate import Failure, Ladder, ladder, memory_failure, size_on
from planner.solver.prune import Pruner
from planner.solver.resolve import Resolved
from planner.solver.space import Family, configurations


@dataclass
class Search:
    res: Resolved
    catalog: Catalog
    candidates: list[Candidate] = field(default_factory=list)
    failures: dict[Family, list[Failure]] = field(default_factory=dict)
    evaluated: int = 0

    def fail(self, fam: Family, failure: Failure) -> None:
        self.failures.setdefault(fam, []).append(failure)


def _failure(problem: Problem) -> Failure:
    return Failure("engine" if problem.field == "engine" else "precision", problem.message, 0.0)


# The child's share of the ladders: this process also sizes and prices every configuration, so the two
# finish together when it ladders fewer than half (about a third with a load, more without one).
CHILD_SHARE = 0.6


def search(res: Resolved, catalog: Catalog, tco: TcoInputs, *, whole: bool = False) -> Search:
    """Every configuration's candidates and failures; without `whole`, only those a plan can show
    (planner.solver.prune: the plan is the same, with fewer configurations priced)."""
    s = Search(res, catalog)
    too_long: dict[str, str | None] = {}
    book = PriceBook(res, catalog, tco)
    pruner = None if whole else Pruner(res, book)
    # Configurations no allowed offer can price: sized only if nothing else is, where the reason
    # "meets the targets, but nobody sells it on these terms" is what the user needs to hear.
    unsellable: list[tuple[Family, Config]] = []
    # MTP drafts only add memory (their weights, KV and state slots): once a family's TP size fails
    # memory, its longer drafts (generated next) fail it by more, which changes no reported reason.
    short: tuple[Family, int] | None = None
    space = list(configurations(res, catalog)) if res.deploys - {"api"} else []

    def too_long_for(cfg: Config) -> str | None:
        if cfg.model.id not in too_long:
            too_long[cfg.model.id] = context_problem(cfg.model, res.workload.input_tokens + res.osl)
        return too_long[cfg.model.id]

    # The configurations the loop below may size, in its order: where the CLI allows, a forked child
    # computes the ladders of the last 60 % while this process sizes and prices the first (planner.parallel).
    hosted = [cfg for _, cfg in space if not isinstance(cfg, Problem) and not too_long_for(cfg)
              and book.can_host(cfg.gpu.id, cfg.tp)]
    position = {id(cfg): i for i, cfg in enumerate(hosted)}
    with parallel.map_tail(lambda cfg: ladder(cfg, res), hosted, share=CHILD_SHARE) as lads:
        for fam, cfg in space:
            s.evaluated += 1
            if isinstance(cfg, Problem):
                s.fail(fam, _failure(cfg))
                continue
            if cfg.mtp and short == (fam, cfg.tp):
                continue
            reason = too_long_for(cfg)
            if reason:
                s.fail(fam, Failure("context", reason, 0.0))
            elif id(cfg) in position:
                failure = _size_and_price(s, fam, cfg, book, pruner, lads.get(position[id(cfg)]))
                short = (fam, cfg.tp) if failure is not None and failure.constraint == "memory" else None
            else:
                unsellable.append((fam, cfg))
    sized_any = bool(s.candidates)
    for fam, cfg in unsellable:
        if sized_any:
            # Unsized, one that fits memory reports availability, the reason explain ranks above
            # every performance one anyway (a memory shortfall is as cheap to find as before).
            s.fail(fam, memory_failure(cfg, res) or Failure("availability", f"{unpriced(res)} for {fam.gpu}", 0.0,
                                                            gpu=fam.gpu))
        else:
            _size_and_price(s, fam, cfg, book)
    api = list(apis(res, catalog))
    s.evaluated += len(api)
    s.candidates.extend(api)
    return s


def _size_and_price(s: Search, fam: Family, cfg: Config, book: PriceBook, pruner: Pruner | None = None,
                    lad: Ladder | None = None) -> Failure | None:
    """Size and price one configuration; the performance failure that stopped it, if one did."""
    if lad is None:
        lad = ladder(cfg, s.res)
    if pruner is not None and pruner.skip_ladder(fam, cfg, lad):
        return None
    outcome = size_on(cfg, s.res, lad)
    if isinstance(outcome, Failure):
        s.fail(fam, outcome)
        return outcome
    if pruner is not None and pruner.skip(fam, outcome):
        return None
    priced = list(self_hosted(outcome, s.res, s.catalog, book))
    if not priced:
        s.fail(fam, Failure("availability", f"{unpriced(s.res)} for {fam.gpu}", 0.0, gpu=fam.gpu))
    s.candidates.extend(priced)
    if pruner is not None:
        pruner.record(priced)
    return None


def unpriced(res: Resolved) -> str:
    """What is missing when a configuration meets the targets but has no price on the allowed terms."""
    req = res.request
    where = []
    if "cloud" in res.deploys:
        providers = f" from {', '.join(req.providers)}" if req.providers else ""
        basis = "" if req.commit == "none" else f" at a {req.commit} commitment"
        where.append(f"no eligible cloud offer{providers}{basis}")
    if "onprem" in res.deploys:
        where.append("no eligible purchase price")
    return " and ".join(where)
