"""Choose: split candidates into feasible and blocked, rank them, pick the best and its alternatives.

With a load: the cheapest option meeting load, SLO and quality within budget.
Without one: the highest task quality within budget, reporting the capacity it buys.
Ties break toward fewer GPUs, then vLLM (the default engine), then lower latency; without a load,
lower $ per million output tokens comes before all of them.
"""

from __future__ import annotations

from collections.abc import Callable

from planner.solver.costing import Candidate
from planner.solver.resolve import Resolved

ALTERNATIVES = 8
Rank = Callable[[Candidate], tuple[float, ...]]


Blocked = list[tuple[Candidate, list[tuple[str, float]]]]  # each with the (constraint, shortfall) it violates


def violations(c: Candidate, res: Resolved) -> list[tuple[str, float]]:
    req = res.request
    out: list[tuple[str, float]] = []
    if req.budget is not None and c.monthly_cost_usd > req.budget:
        out.append(("budget", c.monthly_cost_usd - req.budget))
    if req.min_quality is not None and c.quality < req.min_quality:
        out.append(("quality", req.min_quality - c.quality))
    return out


def latency_ms(c: Candidate, osl: int) -> float:
    """End-to-end latency of one request; an API's is not modelled (0 here, never on a Pareto axis)."""
    return 0.0 if c.sized is None else c.sized.ttft_ms + osl * c.sized.tpot_ms


def rank(res: Resolved) -> Rank:
    def not_default_engine(c: Candidate) -> bool:
        return c.engine not in (None, "vllm")  # vLLM is the default engine: it wins exact ties

    osl = res.osl
    if res.has_load:
        return lambda c: (c.monthly_cost_usd, c.total_gpus, not_default_engine(c), latency_ms(c, osl),
                          c.usd_per_million_tokens)
    return lambda c: (-c.quality, c.usd_per_million_tokens, c.total_gpus, not_default_engine(c), latency_ms(c, osl),
                      c.monthly_cost_usd)


def pareto(cands: list[Candidate], osl: int) -> list[Candidate]:
    """Candidates no other beats on cost, end-to-end latency and quality at once."""

    def axes(c: Candidate) -> tuple[float, float, float]:
        lat = latency_ms(c, osl) if c.sized is not None else float("inf")
        return (c.monthly_cost_usd, lat, -c.quality)

    pts = [(axes(c), c) for c in cands]
    return [c for a, c in pts
            if not any(all(x <= y for x, y in zip(b, a, strict=True)) and b != a for b, _ in pts)]


def family_key(c: Candidate) -> tuple[str, ...]:
    cfg = c.sized.cfg if c.sized is not None else None
    return (c.model, cfg.precision if cfg else "", cfg.gpu.id if cfg else "", c.deploy,
            c.line.provider if c.deploy != "onprem" else "")


def _best_per_family(cands: list[Candidate], order: Rank) -> list[Candidate]:
    best: dict[tuple[str, ...], Candidate] = {}
    for c in sorted(cands, key=order):
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
    order = rank(res)
    ranked = sorted(feasible, key=order)
    best = ranked[0]
    front = [c for c in pareto(_best_per_family(ranked, order), res.osl) if c is not best]
    return best, sorted(front, key=order)[:ALTERNATIVES]
