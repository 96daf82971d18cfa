"""Size one configuration for several workloads at once: their combined load and request mix.

The performance model describes a batch of one request shape. A shared replica's batch holds any
mix of its workloads' requests, so every figure is bounded by the worst composition the engine
admits (see docs/fleet.md):
- memory and TPOT: the batch must fit, and meet the tightest TPOT target, with every slot holding
  the same workload's request, for each workload in turn (a step's cost grows with the context
  read and the prompt tokens carried, and a mix sits between those pure batches);
- TTFT of workload i: its own prompt's TTFT in the model, plus the step-time gap to the slowest
  pure batch for the half step it waits and for each of its prefill chunks;
- queueing: M/M/c over the slots at the summed peak rate with the rate-weighted mean service time,
  the wait scaled by (1 + C²)/2 when the mix's service times vary more than exponential ones
  (C² > 1: the Lee-Longton M/G/c correction), against the smallest TTFT headroom of the workloads.
One workload alone is sized by the solver's own `size`, so a shared deployment of one is exactly
what `qwen-plan plan` would size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from planner import perf
from planner.perf import Config, Estimate, Shape
from planner.solver import queueing
from planner.solver.evaluate import LADDER, MAX_REPLICAS, Failure, Sized, size
from planner.solver.resolve import Resolved


def _prompt_new(res: Resolved) -> float:
    """Prompt tokens prefilled per request (prefix-cache hits skip text tokens only), as perf counts them."""
    w = res.workload
    return max(w.input_tokens - w.isl * w.prefix_hit, 1.0)


@dataclass
class PerfMemo:
    """The performance model's answers during one fleet's column building: groups that share a member
    and a configuration ask the same questions. Keyed by the configuration's identity (perf compares
    Configs so), each kept alive here while its answers are."""

    _cfgs: dict[int, Config] = field(default_factory=dict)
    _fits: dict[tuple[int, Shape], bool] = field(default_factory=dict)
    _top: dict[tuple[int, Shape, float], int] = field(default_factory=dict)
    _est: dict[tuple[int, Shape, int], Estimate] = field(default_factory=dict)

    def fits(self, cfg: Config, shape: Shape) -> bool:
        k = (self._keep(cfg), shape)
        if k not in self._fits:
            self._fits[k] = perf.memory(cfg, shape).fits
        return self._fits[k]

    def max_batch(self, cfg: Config, shape: Shape, tpot_ms: float) -> int:
        k = (self._keep(cfg), shape, tpot_ms)
        if k not in self._top:
            self._top[k] = perf.max_batch(cfg, shape, tpot_ms)
        return self._top[k]

    def estimate(self, cfg: Config, shape: Shape, batch: int) -> Estimate:
        k = (self._keep(cfg), shape, batch)
        if k not in self._est:
            self._est[k] = perf.estimate(cfg, shape, batch)
        return self._est[k]

    def _keep(self, cfg: Config) -> int:
        self._cfgs.setdefault(id(cfg), cfg)
        return id(cfg)


@dataclass(frozen=True)
class _Rung:
    ttfts: list[float]  # each member's steady-state TTFT on the shared batch, ms
    tpot_ms: float
    mean_service_s: float
    factor: float  # the wait's M/G/c correction, >= 1


def _rung(cfg: Config, members: Sequence[Resolved], batch: int, memo: PerfMemo) -> _Rung | None:
    ests = [memo.estimate(cfg, m.shape, batch) for m in members]
    if any(e.effective_batch < batch for e in ests):
        return None  # prefill-bound for some member: a smaller rung describes the same replica
    chunk = perf.engine_settings(cfg).max_num_batched_tokens
    steps = [e.breakdown["step_ms"] for e in ests]
    slowest = max(steps)
    tpot = max(e.tpot_ms for e in ests)
    ttfts = [e.ttft_ms + (0.5 + math.ceil(_prompt_new(m) / chunk)) * (slowest - s)
             for m, e, s in zip(members, ests, steps, strict=True)]
    rates = [m.sizing_rps or 0.0 for m in members]
    total = sum(rates)
    services = [(t + m.osl * tpot) / 1000.0 for m, t in zip(members, ttfts, strict=True)]
    mean = sum(r * s for r, s in zip(rates, services, strict=True)) / total
    scv = sum(r * (s - mean) ** 2 for r, s in zip(rates, services, strict=True)) / total / mean ** 2
    return _Rung(ttfts, tpot, mean, max(1.0, (1.0 + scv) / 2.0))


def size_mix(cfg: Config, members: Sequence[Resolved], memo: PerfMemo | None = None) -> Sized | None:
    """The configuration sized for every member's load at once, or None when some member's SLO fails."""
    if len(members) == 1:
        one = size(cfg, members[0])
        return None if isinstance(one, Failure) else one
    memo = memo or PerfMemo()
    if not all(memo.fits(cfg, m.shape) for m in members):
        return None
    top = min(memo.max_batch(cfg, m.shape, min(m.tpot_ms for m in members)) for m in members)
    total = sum(m.sizing_rps or 0.0 for m in members)
    best: Sized | None = None
    for batch in (b for b in reversed(LADDER) if b <= top):
        r = _rung(cfg, members, batch, memo)
        if r is None:
            continue
        headroom = min((m.ttft_ms - t) / 1000.0 for m, t in zip(members, r.ttfts, strict=True))
        if headroom <= 0:
            continue
        budget = headroom / r.factor
        n = queueing.replicas_for_rps(total, batch, r.mean_service_s, budget, MAX_REPLICAS)
        if n is None:
            continue
        wait_ms = r.factor * queueing.wait_quantile_s(n * batch, total, r.mean_service_s) * 1000.0
        sized = Sized(cfg, batch, max(r.ttfts) + wait_ms, r.tpot_ms, n, total, r.mean_service_s, budget)
        if best is None or (sized.replicas, sized.ttft_ms + sized.tpot_ms) < (best.replicas,
                                                                            best.ttft_ms + best.tpot_ms):
            best = sized
        if all(t <= m.ttft_ms / 2 for m, t in zip(members, r.ttfts, strict=True)):
            break  # ample TTFT headroom for everyone: smaller batches only lose throughput
    return best


def member_latency(sized: Sized, members: Sequence[Resolved]) -> list[tuple[float, float]]:
    """(p95 TTFT, TPOT) each member sees on the shared deployment, by the same bounds as `size_mix`."""
    if len(members) == 1:
        return [(sized.ttft_ms, sized.tpot_ms)]
    r = _rung(sized.cfg, members, sized.batch, PerfMemo())
    assert r is not None  # size_mix chose this rung
    total = sum(m.sizing_rps or 0.0 for m in members)
    wait_ms = r.factor * queueing.wait_quantile_s(sized.replicas * sized.batch, total, r.mean_service_s) * 1000.0
    return [(t + wait_ms, r.tpot_ms) for t in r.ttfts]
