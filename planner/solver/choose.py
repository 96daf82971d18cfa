"""Choose: split candidates into feasible and blocked, rank them, pick the best and its alternatives.

With a load: the cheapest option meeting load, SLO and quality within budget (monthly cash) and the
capex budget. Without one: the highest task quality within budget, reporting the capacity it buys;
quality within the tolerance of the best (benchmark noise) is a tie, and lower $ per million output
tokens decides among ties. Then ties break toward fewer GPUs, vLLM (the default engine), lower latency.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from planner.cost import OnpremLine
from planner.solver.costing import Candidate
from planner.solver.resolve import Resolved

ALTERNATIVES = 8
Rank = Callable[[Candidate], tuple[float, ...]]


Blocked = list[tuple[Candidate, list[tuple[str, float]]]]  # each with the (constraint, shortfall) it violates


def violations(c: Candidate, res: Resolved) -> list[tuple[str, float]]:
    req = res.request
    out: list[tuple[str, float]] = []
    cash = monthly_cash(c, res)
    if req.budget is not None and cash > req.budget:
        out.append(("budget", cash - req.budget))
    if req.capex_budget is not None and c.line.capex_usd > req.capex_budget:
        out.append(("capex", c.line.capex_usd - req.capex_budget))
    if req.min_quality is not None and c.quality < req.min_quality:
        out.append(("quality", req.min_quality - c.quality))
    return out


def monthly_cash(c: Candidate, res: Resolved) -> float:
    """What `--budget` (monthly cash) is compared with. A purchase paid from a `--capex-budget` leaves
    only its running costs (opex and cost of capital) to the monthly budget; without one, the
    hardware is paid monthly too, as depreciation."""
    ln = c.line
    if isinstance(ln, OnpremLine) and res.request.capex_budget is not None:
        return round(ln.opex_monthly + ln.capital_monthly, 2)
    return c.monthly_cost_usd


def latency_ms(c: Candidate, osl: int) -> float:
    """End-to-end latency of one request (an API's from its published medians)."""
    return c.ttft_ms + osl * c.tpot_ms


def rank(res: Resolved, best_quality: float | None = None) -> Rank:
    """The order candidates are chosen in. Without a load, quality within the tolerance of
    `best_quality` (the best feasible) ranks as equal, so cost decides."""
    def not_default_engine(c: Candidate) -> bool:
        return c.engine not in (None, "vllm")  # vLLM is the default engine: it wins exact ties

    osl = res.osl
    if res.has_load:
        return lambda c: (c.monthly_cost_usd, -c.quality, c.total_gpus, not_default_engine(c), latency_ms(c, osl),
                          c.usd_per_million_tokens)
    floor = -math.inf if best_quality is None else best_quality - res.quality_tolerance - 1e-9

    def quality_rank(c: Candidate) -> float:
        return -math.inf if c.quality >= floor else -c.quality  # every tie ranks ahead of the rest

    return lambda c: (quality_rank(c), c.usd_per_million_tokens, -c.quality, c.total_gpus, not_default_engine(c),
                      latency_ms(c, osl), c.monthly_cost_usd)


def pareto(cands: list[Candidate], osl: int) -> list[Candidate]:
    """Candidates no other beats on cost, end-to-end latency and quality at once."""

    def axes(c: Candidate) -> tuple[float, float, float]:
        return (c.monthly_cost_usd, latency_ms(c, osl), -c.quality)

    pts = [(axes(c), c) for c in cands]
    return [c for a, c in pts
            if not any(all(x <= y for x, y in zip(b, a, strict=True)) and b != a for b, _ in pts)]


def family_key(c: Candidate) -> tuple[str, ...]:
    cfg = c.sized.cfg if c.sized is not None else None
    return (c.model, cfg.precision if cfg else "", cfg.gpu.id if cfg else "", c.deploy,
            c.line.provider if c.deploy != "onprem" else "")


def _best_per_family(ranked: list[Candidate]) -> list[Candidate]:
    """The first of each family in `ranked` (already in rank order)."""
    best: dict[tuple[str, ...], Candidate] = {}
    for c in ranked:
        best.setdefault(family_key(c), c)
    return list(best.values())


def split(cands: list[Candidate], res: Resolved) -> tuple[list[Candidate], Blocked]:
    """Feasible candidates, and the blocked ones with what they violate (budget, quality)."""
    feasible: list[Candidate] = []
    blocked: Blocked = []
    for c in cands:
        v = violations(c, res)
        if v:
            blocked.append((c, v))
        else:
            feasible.append(c)
    return feasible, blocked


def choose(feasible: list[Candidate], res: Resolved) -> tuple[Candidate, list[Candidate]]:
    """The best feasible candidate and up to ALTERNATIVES Pareto-optimal others (one per family)."""
    order = rank(res, max(c.quality for c in feasible))
    ranked = sorted(feasible, key=order)
    best = ranked[0]
    front = [c for c in pareto(_best_per_family(ranked), res.osl) if c is not best]
    return best, sorted(front, key=order)[:ALTERNATIVES]
