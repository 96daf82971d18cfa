"""The solver: resolve the request, search every candidate, choose, explain, and return the Plan.

`search` sizes and prices candidates, `choose` ranks them, `explain` says why the others lost,
`options`/`deployment` turn the chosen candidates into the Plan's typed Options, and `analysis`
adds what reports show (re-plans at other loads, cost against load).
"""

from __future__ import annotations

from planner import __version__
from planner.catalog import Catalog
from planner.cost.staleness import stale_entries
from planner.errors import NoFeasiblePlan
from planner.plan import Plan
from planner.request import Request
from planner.solver import analysis
from planner.solver.choose import choose, rank, split
from planner.solver.eligibility import eligible
from planner.solver.explain import near_misses, notes, rejections
from planner.solver.options import present, tco_of, with_quality_prices
from planner.solver.resolve import Resolved, resolve
from planner.solver.search import search

QUEUEING_MODEL = (
    "M/M/c over engine batch slots: Poisson arrivals, each request holds one of replicas × batch "
    "slots for TTFT + OSL × TPOT; replicas are the fewest whose Erlang-C p95 queueing delay plus "
    "the steady-state TTFT meets the TTFT target (closed-loop --concurrency: one slot per user)."
)

__all__ = ["Resolved", "resolve", "solve"]


def solve(request: Request, catalog: Catalog, *, with_analysis: bool = False) -> Plan:
    """The Plan for `request`. `with_analysis` adds sensitivity and load curves (what reports draw)."""
    res = resolve(request, catalog)
    full, allowed = catalog, eligible(res, catalog)
    catalog = allowed.catalog  # from here on, only the offers that may compete
    tco = tco_of(res, catalog)
    s = search(res, catalog, tco)
    feasible, blocked = split(s.candidates, res)
    if not feasible:
        # What to relax is read from every candidate and failure (the pruned search keeps only what a plan shows).
        s = search(res, catalog, tco, whole=True)
        feasible, blocked = split(s.candidates, res)
        raise NoFeasiblePlan(
            f"no plan meets the request ({s.evaluated} candidates evaluated)",
            near_misses(s, blocked, allowed.excluded),
        )
    best, alternatives = choose(feasible, res)
    shown = with_quality_prices([present(c, res, catalog, tco) for c in (best, *alternatives)])
    plan = Plan(
        version=__version__,
        request=res.request,
        workload=res.workload,
        commit=res.request.commit,
        tco=tco,
        as_of=res.today,
        recommended=shown[0],
        alternatives=shown[1:],
        rejected=[*rejections(s, feasible, blocked, rank(res, max(c.quality for c in feasible))), *allowed.excluded],
        queueing_model=QUEUEING_MODEL,
        candidates_evaluated=s.evaluated,
        stale_prices=stale_entries(full, res.today),
        notes=notes(best, res, s, tco),
    )
    if not with_analysis:
        return plan
    return plan.model_copy(update={
        "sensitivity": analysis.sensitivity(plan, lambda r: solve(r, full)),
        "load_curves": analysis.load_curves(plan, catalog),
    })
