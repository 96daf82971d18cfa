"""Performance side of one candidate: batch, latency, replicas and capacity, or why it fails."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from planner import perf
from planner.perf import Config
from planner.plan import Constraint
from planner.solver import queueing
from planner.solver.resolve import Resolved

MAX_REPLICAS = 4096


@dataclass(frozen=True)
class Sized:
    """A configuration that meets memory, TPOT and TTFT, sized for the load."""

    cfg: Config
    batch: int
    ttft_ms: float  # p95: steady-state TTFT plus the p95 queueing delay at the sized load
    tpot_ms: float  # at a full batch, the worst steady state the engine allows (max_num_seqs)
    replicas: int
    capacity_rps: float  # what the replicas sustain within the TTFT target (with a load: the load, see exact_capacity)
    service_s: float
    wait_budget_s: float  # TTFT target minus steady-state TTFT: room for queueing


def exact_capacity(sized: Sized, known: float = 0.0) -> float:
    """Largest Poisson rate the sized replicas sustain within the TTFT target.

    With a load the search only needs to know the load is met, so this bisection runs only for
    the options that are shown.
    """
    return queueing.max_rps(sized.replicas * sized.batch, sized.service_s, sized.wait_budget_s, known)


@dataclass(frozen=True)
class Failure:
    constraint: Constraint
    detail: str
    shortfall: float
    gpu: str | None = None  # availability: the GPU nobody sells on the allowed terms


# Batch sizes tried, a fixed √2 ladder: a tighter target only removes rungs, never adds new ones,
# which keeps "a tighter SLO never lowers cost" true by construction.
LADDER = tuple(sorted({round(2 ** (k / 2)) for k in range(0, 25)}))


def _batches(top: int) -> list[int]:
    """Ladder rungs up to `top`, largest first: smaller batches trade throughput for TTFT."""
    return [b for b in reversed(LADDER) if b <= top]


def memory_failure(cfg: Config, res: Resolved) -> Failure | None:
    """Why the weights and one sequence do not fit on the GPUs, if they do not."""
    if perf.fits(cfg, res.shape):
        return None
    mem = perf.memory(cfg, res.shape)
    return Failure("memory", f"short of {mem.shortfall_gb:.1f} GB per GPU (weights {mem.weights_gb:.1f} GB "
                   f"of a {mem.budget_gb:.1f} GB budget)", mem.shortfall_gb)


@dataclass(frozen=True)
class Rung:
    """One batch size a configuration may run at, before any load: its latencies and queueing room."""

    batch: int
    ttft_ms: float
    tpot_ms: float
    service_s: float
    wait_budget_s: float


@dataclass(frozen=True)
class Ladder:
    """The part of sizing that does not depend on the load (the fleet shares it across workloads)."""

    failure: Failure | None  # memory or TPOT: no rung at all
    rungs: tuple[Rung, ...]  # largest batch first
    min_ttft: float


def ladder(cfg: Config, res: Resolved) -> Ladder:
    """Memory fit, the largest rung meeting TPOT, then each rung's TTFT and TPOT, down the ladder
    until TTFT has ample headroom."""
    short = memory_failure(cfg, res)
    if short is not None:
        return Ladder(short, (), 0.0)
    q = res.request.confidence  # above 0.5: latencies at a conservative quantile of their error band
    top = perf.max_batch(cfg, res.shape, res.tpot_ms, q, rungs=LADDER)
    if top < 1:
        best = perf.estimate(cfg, res.shape, 1)
        if not best.fits:
            return Ladder(Failure("memory", "no room for one sequence of this length", best.memory_per_gpu_gb),
                          (), 0.0)
        return Ladder(Failure("tpot", f"TPOT {best.tpot_ms:.1f} ms at batch 1 > target {res.tpot_ms:g} ms",
                              best.tpot_ms - res.tpot_ms), (), 0.0)
    rungs: list[Rung] = []
    min_ttft = float("inf")
    for batch in _batches(top):
        est = perf.conservative(cfg, res.shape, perf.estimate(cfg, res.shape, batch, breakdown=False), q)
        if est.effective_batch < batch:
            # Prefill-bound: only effective_batch sequences decode and the rest queue inside the engine,
            # which the queueing model would count twice. A smaller rung describes the same replica.
            continue
        min_ttft = min(min_ttft, est.ttft_ms)
        wait_budget_s = (res.ttft_ms - est.ttft_ms) / 1000.0
        if wait_budget_s <= 0:
            continue
        rungs.append(Rung(batch, est.ttft_ms, est.tpot_ms, (est.ttft_ms + res.osl * est.tpot_ms) / 1000.0,
                          wait_budget_s))
        if est.ttft_ms <= res.ttft_ms / 2:
            break  # TTFT has ample headroom: smaller batches only lose throughput from here
    return Ladder(None, tuple(rungs), min_ttft)


def size_on(cfg: Config, res: Resolved, lad: Ladder) -> Sized | Failure:
    """The configuration sized for the request's load: the best rung once its queue is sized."""
    if lad.failure is not None:
        return lad.failure
    best: Sized | None = None
    for r in lad.rungs:
        if best is not None and _cannot_win(r, best, res):
            continue
        sized = _sized(cfg, res, r.batch, r.ttft_ms, r.tpot_ms, r.service_s, r.wait_budget_s)
        if sized is not None and (best is None or _better(sized, best, res.has_load)):
            best = sized
    if best is None:
        if lad.min_ttft >= res.ttft_ms:
            return Failure("ttft", f"TTFT {lad.min_ttft:.0f} ms even at low batch > target {res.ttft_ms:g} ms",
                           lad.min_ttft - res.ttft_ms)
        return Failure("load", f"needs more than {MAX_REPLICAS} replicas", float(MAX_REPLICAS))
    return best


def size(cfg: Config, res: Resolved) -> Sized | Failure:
    return size_on(cfg, res, ladder(cfg, res))


def _sized(
    cfg: Config, res: Resolved, batch: int, ttft: float, tpot: float, service_s: float, wait_budget_s: float
) -> Sized | None:
    if res.concurrency is not None and res.think_s > 0:
        # Users who think between requests hold no slot meanwhile: size for their request rate
        # N / (think + latency) as an open queue, which is conservative (it ignores that a user who
        # waits also sends later).
        rate = res.users_rps(service_s)
        n = queueing.replicas_for_rps(rate, batch, service_s, wait_budget_s, MAX_REPLICAS)
        closed = -(-res.concurrency // batch)
        if n is None or n >= closed:
            # A slot per user is always enough (no queue at all): never size above it.
            if closed > MAX_REPLICAS:
                return None
            return Sized(cfg, batch, ttft, tpot, closed, closed * batch / service_s, service_s, wait_budget_s)
        wait = queueing.wait_quantile_s(n * batch, rate, service_s)
        cap = queueing.max_rps(n * batch, service_s, wait_budget_s, rate)
        return Sized(cfg, batch, ttft + wait * 1000.0, tpot, n, cap, service_s, wait_budget_s)
    if res.concurrency is not None:
        # Closed loop: every user holds a slot; no queue forms if slots cover the users.
        replicas = -(-res.concurrency // batch)
        if replicas > MAX_REPLICAS:
            return None
        return Sized(cfg, batch, ttft, tpot, replicas, replicas * batch / service_s, service_s, wait_budget_s)
    load = res.sizing_rps
    if load is not None:
        n = queueing.replicas_for_rps(load, batch, service_s, wait_budget_s, MAX_REPLICAS)
        if n is None:
            return None
        wait = queueing.wait_quantile_s(n * batch, load, service_s)
        return Sized(cfg, batch, ttft + wait * 1000.0, tpot, n, load, service_s, wait_budget_s)
    capacity = queueing.max_rps(batch, service_s, wait_budget_s)
    return Sized(cfg, batch, ttft, tpot, 1, capacity, service_s, wait_budget_s)


def _cannot_win(r: Rung, best: Sized, res: Resolved) -> bool:
    """True when the rung's stability bound already loses to `best` (so its queue need not be sized):
    no open queue sustains its slots' service rate, or needs fewer replicas than that rate implies."""
    if res.concurrency is not None:
        return False  # closed loops are sized without a queue search
    load = res.sizing_rps
    if load is None:
        return r.batch / r.service_s < best.capacity_rps
    return max(1, math.ceil(load * r.service_s / r.batch)) > best.replicas


def _better(a: Sized, b: Sized, has_load: bool) -> bool:
    """Fewer replicas for a load; more capacity without one; then lower latency."""
    if has_load:
        return (a.replicas, a.ttft_ms + a.tpot_ms) < (b.replicas, b.ttft_ms + b.tpot_ms)
    return (-a.capacity_rps, a.ttft_ms) < (-b.capacity_rps, b.ttft_ms)


def fill(sized: Sized, replicas: int, res: Resolved) -> Sized:
    """The same configuration on `replicas` replicas (at least as many as sized): latency and capacity
    follow from the queue over the extra slots. Used when whole servers or instances hold more GPUs
    than the sized replicas need, so the GPUs paid for serve."""
    n = min(replicas, MAX_REPLICAS)
    if n <= sized.replicas:
        return sized
    slots = n * sized.batch
    if res.concurrency is not None and res.think_s == 0:
        return dataclasses.replace(sized, replicas=n, capacity_rps=slots / sized.service_s)
    steady_ms = res.ttft_ms - sized.wait_budget_s * 1000.0
    rate = res.sizing_rps if res.concurrency is None else res.users_rps(sized.service_s)
    if rate is not None:
        wait = queueing.wait_quantile_s(slots, rate, sized.service_s)
        capacity = (sized.capacity_rps if res.concurrency is None
                    else queueing.max_rps(slots, sized.service_s, sized.wait_budget_s, sized.capacity_rps,
                                          start=sized.capacity_rps * n / sized.replicas))
        return dataclasses.replace(sized, replicas=n, ttft_ms=min(sized.ttft_ms, steady_ms + wait * 1000.0),
                                   capacity_rps=capacity)
    capacity = queueing.max_rps(slots, sized.service_s, sized.wait_budget_s, sized.capacity_rps,
                                start=sized.capacity_rps * n / sized.replicas)
    return dataclasses.replace(sized, replicas=n, capacity_rps=capacity)
