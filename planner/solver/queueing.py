"""Replica count from load: an M/M/c queue over the engine's batch slots.

Each replica runs `batch` requests at once; a request holds its slot for S = TTFT + OSL × TPOT.
With Poisson arrivals at λ and c = replicas × batch slots, Erlang C gives the probability of
waiting, and the wait is exponential with rate cμ − λ, so the p-quantile of the wait is
ln(P_wait / (1 − p)) / (cμ − λ) when P_wait > 1 − p, else 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from planner.solver.poisson import poisson_cdf

P95_TAIL = 0.05
_RESOLUTION = 6e-5  # of the stability bound: far below any price or ranking step


def erlang_b(servers: int, offered: float) -> float:
    """Blocking probability of M/M/c/c: the Poisson pmf over the Poisson cdf at `servers`.

    The cdf comes from the regularised incomplete gamma (planner.solver.poisson), so this is O(1)
    for any slot count.
    """
    pmf = math.exp(servers * math.log(offered) - offered - math.lgamma(servers + 1))
    return pmf / poisson_cdf(servers, offered)


def erlang_c(servers: int, offered: float) -> float:
    """Probability an arrival waits in M/M/c with `offered` = λ/μ erlangs."""
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    b = erlang_b(servers, offered)
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

    # The wait falls monotonically with replicas. Below the stability bound none fits; from the
    # replicas whose spare rate cμ − λ reaches ln(1 / tail) / W every count fits (C <= 1): bisect
    # between the two.
    offered = arrival_rps * service_s
    lo = max(1, math.ceil(offered / slots_per_replica))
    if wait_budget_s > 0:
        sure = (offered - math.log(P95_TAIL) * service_s / wait_budget_s) / slots_per_replica
        hi = max(lo, math.ceil(sure) if sure <= max_replicas else max_replicas)
        if sure <= max_replicas or ok(hi):
            return _bisect(ok, lo, hi)
        return None
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


def max_rps(
    servers: int, service_s: float, wait_budget_s: float, at_least: float = 0.0, start: float = 0.0
) -> float:
    """Largest Poisson arrival rate whose p95 queueing delay fits the budget W.

    That rate is the root of f(a) = ln C(c, a) − ln(tail) − W μ (c − a) over the offered load a
    (the p95 wait is ln(C / tail) / (cμ − λ) once C exceeds the tail; below that f < 0 anyway).
    f rises and is concave (ln C is concave in a; tests/test_queueing.py checks the answer against
    bisection on the definition), so Newton's method from a point that fits climbs to the root
    without overshooting, and the chord to a point that does not fit bounds the root from above.
    That takes about three evaluations against fourteen for bisection to the same resolution (this
    runs for every candidate of a plan without a load). An iterate that overshoots (rounding) lowers
    the bracket's top and the next step bisects, so the answer always fits.

    `at_least` is a rate already known to fit (the load the replicas were sized for): the answer
    never falls below it. `start` is a guess below the answer (checked, so a wrong one only costs
    steps): n replicas sustain at least n times one replica's rate, since pooling slots never
    lengthens the wait.
    """
    if wait_budget_s < 0 or servers <= 0:
        return 0.0
    c, w = servers, wait_budget_s / service_s  # W μ: the budget in service times
    tol = c * _RESOLUTION
    log_tail = math.log(P95_TAIL)

    def f(a: float) -> tuple[float, float]:
        """f(a) and f'(a), from ln B = c ln a − a − ln c! − ln P(X ≤ c) (no underflow at small a)."""
        log_b = c * math.log(a) - a - math.lgamma(c + 1) - math.log(poisson_cdf(c, a))
        b, rho = math.exp(log_b), a / c
        denom = 1.0 - rho + rho * b
        dlog_b = c / a - 1.0 + b
        slope = dlog_b - ((b - 1.0) / c + rho * b * dlog_b) / denom + w
        return log_b - math.log(denom) - log_tail - w * (c - a), slope

    # Since C <= 1, the wait fits whenever cμ − λ >= ln(1 / tail) / W: that load always fits, and it
    # is close to the root when the budget spans many service times (C near 1 there).
    sure = c + log_tail / w
    # The first that fits of start, at_least (if above that sure load), the sure load, c/2, c/4, ...
    guesses = sorted((x * service_s for x in (start, at_least) if x > 0 and x * service_s > sure), reverse=True)
    firm = [sure] if sure > 0 else []
    for a in itertools.chain(guesses, firm, (c * 0.5**k for k in itertools.count(1))):
        a = min(a, c * (1 - _RESOLUTION))
        fa, slope = f(a)
        if fa <= 0:
            break
    # f(c) = ln(1 / tail): C reaches 1 at the stability bound.
    hi, f_hi = float(c), -log_tail
    # From within a factor of two of the root, Newton's steps are accurate (they crawl far below it).
    while 2 * a < hi:
        f2, s2 = f(2 * a)
        if f2 > 0:
            hi, f_hi = 2 * a, f2
            break
        a, fa, slope = 2 * a, f2, s2
    while hi - a > tol:
        # f is concave: the tangent's root fits, and the chord to `hi` ends beyond the root. Once
        # they are close, a point just below the tangent's root is the answer without evaluating it.
        lower = a - fa / slope
        upper = a - fa * (hi - a) / (f_hi - fa)
        if upper - lower <= 0.75 * tol:
            a = max(a, lower - 0.25 * tol)
            break
        nxt = lower if lower < hi else (a + hi) / 2
        fn, sn = f(nxt)
        if fn <= 0:
            a, fa, slope = nxt, fn, sn
        else:  # rounding at the edge of the domain: bisect
            hi, f_hi = nxt, fn
    return max(a / service_s, at_least)
