"""The solver's `size`, split where the load comes in, so workloads of one request shape share the rest.

`evaluate.size` walks the batch ladder: memory fit, the largest batch meeting TPOT, then per rung
the performance model's TTFT and TPOT, stopping once TTFT has ample headroom. None of that depends
on the load: only the queue sizing of each rung (`evaluate._sized`) and the choice among rungs do.
`ladder` computes the load-free part once per configuration, shape and targets; `size_on` finishes
it for one workload's load with the solver's own functions, so the result is `size`'s
(tests/test_fleet_lazy.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner import perf
from planner.perf import Config, Shape
from planner.solver.evaluate import LADDER, MAX_REPLICAS, Failure, Sized, _better, _sized
from planner.solver.resolve import Resolved


@dataclass(frozen=True)
class Rung:
    batch: int
    ttft_ms: float
    tpot_ms: float
    service_s: float
    wait_budget_s: float


@dataclass(frozen=True)
class Ladder:
    failure: Failure | None  # memory or TPOT: no rung at all
    rungs: tuple[Rung, ...]  # the rungs `size` sizes, in its order
    min_ttft: float


def ladder(cfg: Config, res: Resolved) -> Ladder:
    """`size` up to the load, step for step."""
    mem = perf.memory(cfg, res.shape)
    if not mem.fits:
        return Ladder(Failure("memory", f"short of {mem.shortfall_gb:.1f} GB per GPU (weights {mem.weights_gb:.1f} GB "
                              f"of a {mem.budget_gb:.1f} GB budget)", mem.shortfall_gb), (), 0.0)
    q = res.request.confidence
    top = perf.max_batch(cfg, res.shape, res.tpot_ms, q)
    if top < 1:
        best = perf.estimate(cfg, res.shape, 1)
        if not best.fits:
            return Ladder(Failure("memory", "no room for one sequence of this length", best.memory_per_gpu_gb), (), 0.0)
        return Ladder(Failure("tpot", f"TPOT {best.tpot_ms:.1f} ms at batch 1 > target {res.tpot_ms:g} ms",
                              best.tpot_ms - res.tpot_ms), (), 0.0)
    rungs: list[Rung] = []
    min_ttft = float("inf")
    for batch in (b for b in reversed(LADDER) if b <= top):
        est = perf.conservative(cfg, res.shape, perf.estimate(cfg, res.shape, batch), q)
        if est.effective_batch < batch:
            continue
        min_ttft = min(min_ttft, est.ttft_ms)
        wait_budget_s = (res.ttft_ms - est.ttft_ms) / 1000.0
        if wait_budget_s <= 0:
            continue
        rungs.append(Rung(batch, est.ttft_ms, est.tpot_ms, (est.ttft_ms + res.osl * est.tpot_ms) / 1000.0,
                          wait_budget_s))
        if est.ttft_ms <= res.ttft_ms / 2:
            break
    return Ladder(None, tuple(rungs), min_ttft)


def size_on(cfg: Config, res: Resolved, lad: Ladder) -> Sized | Failure:
    """`size(cfg, res)` from its ladder: the queue sized for this workload's load on each rung."""
    if lad.failure is not None:
        return lad.failure
    best: Sized | None = None
    for r in lad.rungs:
        sized = _sized(cfg, res, r.batch, r.ttft_ms, r.tpot_ms, r.service_s, r.wait_budget_s)
        if sized is not None and (best is None or _better(sized, best, res.has_load)):
            best = sized
    if best is None:
        if lad.min_ttft >= res.ttft_ms:
            return Failure("ttft", f"TTFT {lad.min_ttft:.0f} ms even at low batch > target {res.ttft_ms:g} ms",
                           lad.min_ttft - res.ttft_ms)
        return Failure("load", f"needs more than {MAX_REPLICAS} replicas", float(MAX_REPLICAS))
    return best


LadderKey = tuple[int, Shape, float, float, float, int]


@dataclass
class Ladders:
    """Ladders by configuration (its identity: `lazy.Spaces` hands every workload of one task the same
    Config objects, and keeps them alive) and what `ladder` reads of the request."""

    _by: dict[LadderKey, Ladder] = field(default_factory=dict)

    def size(self, cfg: Config, res: Resolved) -> Sized | Failure:
        k = (id(cfg), res.shape, res.tpot_ms, res.ttft_ms, res.request.confidence, res.osl)
        if k not in self._by:
            self._by[k] = ladder(cfg, res)
        return size_on(cfg, res, self._by[k])
