"""Replicas hour by hour for a 24-hour load profile: what the autoscaler follows and the cloud bills.

The replicas are sized for the busiest hour; every other hour needs the fewest replicas whose p95
queueing delay still fits the TTFT target at that hour's rate (the same M/M/c queue as the peak).
A replica needed in hour h is started during hour h-1, because start-up (engine compile and CUDA
graphs, then the weight download and load) takes minutes, under an hour for these models, and
leaves only after the scale-down window that follows hour h: each hour is billed for the most
replicas needed in it or either neighbour. That is what a cron-driven autoscaler with a one-hour
lead does exactly, and an upper bound for a reactive one.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.solver import queueing
from planner.solver.evaluate import Sized


def needed_by_hour(sized: Sized, profile: Sequence[float]) -> tuple[int, ...]:
    """Replicas each hour's rate needs (at least one: a cold start takes far longer than any TTFT target)."""
    memo: dict[float, int] = {}
    out = []
    for rps in profile:
        if rps not in memo:
            n = (queueing.replicas_for_rps(rps, sized.batch, sized.service_s, sized.wait_budget_s, sized.replicas)
                 if rps > 0 else 1)
            memo[rps] = min(max(1, n or sized.replicas), sized.replicas)
        out.append(memo[rps])
    return tuple(out)


def billed_by_hour(needed: Sequence[int]) -> tuple[int, ...]:
    """Replicas running (and billed) each hour: the need of the hour and of both neighbours (the day wraps)."""
    n = len(needed)
    return tuple(max(needed[h - 1], needed[h], needed[(h + 1) % n]) for h in range(n))
