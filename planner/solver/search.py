"""Search: size and price every candidate the request allows; record why the others fail."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.catalog import Catalog
from planner.cost import TcoInputs
from planner.feasibility import Problem, context_problem
from planner.solver.costing import Candidate, PriceBook, apis, self_hosted
from planner.solver.evaluate import Failure, size
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


def search(res: Resolved, catalog: Catalog, tco: TcoInputs) -> Search:
    s = Search(res, catalog)
    too_long: dict[str, str | None] = {}
    book = PriceBook(res, catalog, tco)
    for fam, cfg in configurations(res, catalog) if res.deploys - {"api"} else ():
        s.evaluated += 1
        if isinstance(cfg, Problem):
            s.fail(fam, _failure(cfg))
            continue
        if fam.model not in too_long:
            too_long[fam.model] = context_problem(cfg.model, res.workload.input_tokens + res.osl)
        reason = too_long[fam.model]
        if reason:
            s.fail(fam, Failure("context", reason, 0.0))
            continue
        outcome = size(cfg, res)
        if isinstance(outcome, Failure):
            s.fail(fam, outcome)
            continue
        priced = list(self_hosted(outcome, res, catalog, tco, book))
        if not priced:
            s.fail(fam, Failure("availability", f"{unpriced(res)} for {fam.gpu}", 0.0, gpu=fam.gpu))
        s.candidates.extend(priced)
    api = list(apis(res, catalog))
    s.evaluated += len(api)
    s.candidates.extend(api)
    return s


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
