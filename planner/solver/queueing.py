"""Replica count from load: an M/M/c queue over the engine's batch slots.

Each replica runs `batch` requests at once; a request holds its slot for S = TTFT + OSL × TPOT.
With Poisson arrivals at λ and c = replicas × batch slots, Erlang C gives the probability of
waiting, and the wait is exponential with rate cμ − λ, so the p-quantile of the wait is
ln(P_wait / (1 − p)) / (cμ − λ) when P_wait > 1 − p, else 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from planner.solver.poisson import poisson_cdf

P95_TAIL = 0.05


def erlang_c(servers: int, offered: float) -> float:
    """Probability an arrival waits in M/M/c with `offered` = λ/μ erlangs.

    Erlang B is the Poisson pmf over the Poisson cdf at `servers`; the cdf comes from the
    regularised incomplete gamma (planner.solver.poisson), so this is O(1) for any slot count.
    """
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    pmf = math.exp(servers * math.log(offered) - offered - math.lgamma(servers + 1))
    b = pmf / poisson_cdf(servers, offered)
    rho = offered / servers
    return b / (1.0 - rho + rho * b)


def wait_quantile_s(servers: int, arrival_rps: float, service_s: float, tail: float = P95_TAIL) -> float:
    """Queueing delay (seconds) not exceeded with probability 1 − tail; inf when overloaded."""
    mu = 1.0 / service_s
    offered = arrival_rps * service_s
    if offered >= servers:
        return math.inf
    p_wait = erlang_c(servers, offered)
    if p_wait <= tail:
        return 0.0
    return math.log(p_wait / tail) / (servers * mu - arrival_rps)


def replicas_for_rps(
    arrival_rps: float, slots_per_replica: int, service_s: float, wait_budget_s: float, max_replicas: int = 4096
) -> int | None:
    """Fewest replicas whose p95 queueing delay fits the budget; None beyond max_replicas."""
    if wait_budget_s < 0:
        return None
    def ok(n: int) -> bool:
        return wait_quantile_s(n * slots_per_replica, arrival_rps, service_s) <= wait_budget_s

    # The wait falls monotonically with replicas: double past the stability bound, then bisect.
    lo = max(1, math.ceil(arrival_rps * service_s / slots_per_replica))
    hi = lo
    while not ok(hi):
        lo = hi + 1
        hi *= 2
        if hi > max_replicas:
            return None if not ok(max_replicas) else _bisect(ok, lo, max_replicas)
    return _bisect(ok, lo, hi)


def _bisect(ok: Callable[[int], bool], lo: int, hi: int) -> int:
    """Smallest n in [lo, hi] with ok(n), given ok(hi) and monotonicity."""
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def max_rps(servers: int, service_s: float, wait_budget_s: float, at_least: float = 0.0) -> float:
    """Largest Poisson arrival rate whose p95 queueing delay fits the budget (bisection).

    `at_least` is a rate already known to fit (the load the replicas were sized for): the answer
    never falls below it, whatever the bisection's resolution.
    """
    if wait_budget_s < 0 or servers <= 0:
        return 0.0
    lo, hi = at_least, servers / service_s
    for _ in range(14):  # 6e-5 of the stability bound: far below any price or ranking step
        mid = (lo + hi) / 2
        if wait_quantile_s(servers, mid, service_s) <= wait_budget_s:
            lo = mid
        else:
            hi = mid
    return lo
