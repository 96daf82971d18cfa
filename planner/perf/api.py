"""Public entry points: memory(), estimate(), max_batch()."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.catalog.schema import GpuSpec
from planner.errors import RequestError
from planner.perf.bands import DEFAULT_CONFIDENCE, tpot_factor
from planner.perf.constants import constants
from planner.perf.roofline import GB, Prepared, prepared, vision_flops
from planner.perf.tokens import visual
from planner.perf.types import Config, Estimate, MemoryReport, Shape

INF = math.inf


def _check(shape: Shape) -> None:
    if shape.isl < 1 or shape.osl < 1:
        raise RequestError(f"isl/osl: must be >= 1 (got isl={shape.isl}, osl={shape.osl})")
    if not 0.0 <= shape.prefix_hit <= 1.0:
        raise RequestError(f"prefix_hit: must be within 0..1 (got {shape.prefix_hit})")


class _Req:
    """Shape-derived numbers for one Prepared config."""

    __slots__ = ("ctx", "p_new", "patches", "pre_ctx", "prompt", "total", "vision_s")

    def __init__(self, p: Prepared, shape: Shape) -> None:
        if shape.images or shape.video_frames:
            v = visual(shape, p.g.vis_patch, p.g.vis_temporal, p.g.vis_merge)
            vis, self.patches = v.tokens, v.patches
            self.vision_s = vision_flops(shape, p.g) / p.peak_bf16
        else:
            vis, self.patches, self.vision_s = 0.0, 0.0, 0.0
        self.prompt = shape.isl + vis
        self.total = self.prompt + shape.osl
        # Prefix-cache hits skip text tokens only; images are re-encoded and re-prefilled.
        hit = shape.isl * shape.prefix_hit
        self.p_new = max(self.prompt - hit, 1.0)
        self.ctx = self.prompt + shape.osl / 2.0
        self.pre_ctx = (hit + self.prompt) / 2.0


# A search asks memory, max_batch and estimate of one configuration at one shape in a row, and
# estimate's first step is max_batch's check of the top rung: one entry each avoids redoing them.
_req = functools.lru_cache(maxsize=1)(_Req)


def _prefill_chunk_time(
    p: Prepared, others: float, r: _Req, tokens: float
) -> tuple[float, float, float, float]:
    """Time of one prefill step of `tokens` prompt tokens, and its (memory, compute, comm) parts."""
    dec = others if p.mixed else 0.0
    mem, comp, comm = p.step(dec, r.ctx, tokens, r.pre_ctx)
    return max(mem, comp) + comm + p.overhead_s + dec * p.seq_s, mem, comp, comm


_Steady = tuple[float, float, float, float, float, float, float, float]


@functools.lru_cache(maxsize=1)
def _steady(p: Prepared, r: _Req, osl: int, b: float) -> _Steady:
    """Steady-state step at concurrency b:
    (step_s, mem_s, comp_s, comm_s, prefill_s, draft_s, prefill_tok, decoding_b).

    Each request needs osl/a steps and one prefill of p_new tokens, so b decoding sequences bring
    b·p_new·a/osl prompt tokens per step. Prompts are processed as chunks, not spread thinly over every
    step: a fraction f of the steps carries a chunk of max(p_new, demand) tokens (capped by the token
    budget). Averaging the step time (not the token count) matters for MoE models, whose expert reads are
    concave in the tokens of a step. vLLM mixes chunks into decode steps within `chunk` tokens per step;
    when the demand exceeds that budget the replica is prefill-bound and only
    d = chunk / (p_new·a/osl + n+1) sequences decode while the rest wait. SGLang runs prefill batches
    apart from decode batches, so their time adds up.
    """
    a = p.accept_len
    per_seq = p.n_draft + 1.0
    rate = r.p_new * a / osl
    if p.mixed and b * (rate + per_seq) > p.chunk:
        b = max(p.chunk / (rate + per_seq), 1.0)
    prefill_tok = b * rate
    draft = p.draft_time(b, r.ctx)
    mem, comp, comm = p.step(b, r.ctx, 0.0, 0.0)
    base = max(mem, comp) + comm
    if p.mixed:
        room = max(p.chunk - b * per_seq, 1.0)
        chunk = min(room, max(r.p_new, prefill_tok))
        cm, cc, ccomm = p.step(b, r.ctx, chunk, r.pre_ctx)
        prefill = prefill_tok / chunk * (max(cm, cc) + ccomm - base)
    else:
        chunk = min(float(p.chunk), max(r.p_new, prefill_tok))
        prefill = prefill_tok / chunk * _prefill_chunk_time(p, 0.0, r, chunk)[0]
    # Each finished request was once a new one whose images the encoder ran: b·a/osl of them per step.
    prefill += b * a / osl * r.vision_s
    step = base + p.overhead_s + b * p.seq_s + draft + prefill
    return step, mem, comp, comm, prefill, draft, prefill_tok, b


def _tpot_step(step: float, prefill_share: float, b: float, cohort: bool = False) -> float:
    """The step time a decoding request sees: every step's share of prefill work except its own prompt's,
    which came before its first token (a request alone decodes at the bare step).

    In lock-step cohorts (`Shape.cohort`) the b prompts of a cohort are prefilled back to back and
    nothing else is prefilled until the cohort finishes: the i-th prompt's request sees only the b - i
    prefills after its own, the median one (b - 1)/2 of the b - 1 others, half what it sees when
    requests are staggered. (Engines give waiting prompts priority over decode steps, SGLang outright
    and vLLM within its token budget, so a cohort arriving together is prefilled before it decodes.)"""
    if cohort:
        return step - prefill_share * (b + 1.0) / (2.0 * b)
    return step - prefill_share / b


def _ttft(p: Prepared, r: _Req, b: float, step: float, prefill_share: float, cohort: bool = False
          ) -> tuple[float, float, float, float, float, float, float]:
    """(ttft_s, prefill_s, vision_s, mem_s, comp_s, comm_s, wait_s): a fixed request cost, the wait for
    the engine, the own prompt in chunks (sharing steps with the other b-1 decodes when the engine mixes
    them), and the vision encoder.

    The wait: a request arriving among b-1 others finds a step in flight (half a step, on average; with
    SGLang's `--scheduler-recv-interval k` the scheduler looks for new requests every k decode steps, so
    an arrival waits k/2 steps to be seen) and,
    a fraction rho = prefill_share/step of the time, other prompts being prefilled ahead of it. Prompts
    are served first come first served, so that wait is the M/D/1 queue's rho·S / (2(1-rho)) for a
    prompt of S seconds, at most the b-1 prompts of the other requests. Alone (b = 1) nothing waits.
    In lock-step cohorts the median prompt waits for the (b-1)/2 prompts of its cohort ahead of it."""
    n_chunks = math.ceil(r.p_new / p.chunk)
    t, mem, comp, comm = _prefill_chunk_time(p, b - 1.0, r, r.p_new / n_chunks)
    prefill = n_chunks * t
    vision = r.vision_s
    others = (b - 1.0) / b
    rho = min(prefill_share / step, 0.99) if step > 0 else 0.0
    service = prefill + vision
    if cohort:
        wait = (b - 1.0) / 2.0 * service
    else:
        wait = others * 0.5 * p.eng.recv_interval * step + min(rho * service / (2.0 * (1.0 - rho)), (b - 1.0) * service)
    return (p.request_s + wait + prefill + vision, prefill, vision, mem * n_chunks, comp * n_chunks,
            comm * n_chunks, wait)


def memory(cfg: Config, shape: Shape) -> MemoryReport:
    _check(shape)
    p = prepared(cfg)
    r = _req(p, shape)
    pool = p.pool_bytes()
    per_seq = p.per_seq_bytes(r.total)
    maxc = p.max_concurrency(r.total)
    return MemoryReport(
        fits=maxc >= 1,
        budget_gb=p.budget / GB,
        weights_gb=p.weights / GB,
        reserve_gb=(p.w_reserve + p.w_activation) / GB,
        kv_pool_gb=pool / GB,
        kv_per_seq_gb=(p.kv_tok + p.mtp_kv_tok) * r.total / GB,
        state_per_seq_gb=p.state_seq / GB,
        max_concurrency=maxc,
        shortfall_gb=max(0.0, per_seq - pool) / GB,
    )


def fits(cfg: Config, shape: Shape) -> bool:
    """Whether the weights and one sequence fit (`memory(...).fits`, without the report)."""
    _check(shape)
    p = prepared(cfg)
    return p.max_concurrency(_req(p, shape).total) >= 1


def estimate(cfg: Config, shape: Shape, batch: int, *, breakdown: bool = True) -> Estimate:
    """Steady-state medians at concurrency `batch` (capped at what memory and the engine allow).
    Without `breakdown` the Estimate's breakdown is left empty (a search reads only the totals)."""
    if batch < 1:
        raise RequestError(f"batch: must be >= 1 (got {batch})")
    _check(shape)
    return estimate_prepared(prepared(cfg), shape, batch, breakdown=breakdown)


def estimate_prepared(p: Prepared, shape: Shape, batch: int, *, breakdown: bool = True) -> Estimate:
    """`estimate` on explicit per-Config constants (the efficiency fit builds them with trial values)."""
    r = _req(p, shape)
    maxc = p.max_concurrency(r.total)
    fixed = p.weights + p.w_reserve + p.w_activation
    per_seq = p.per_seq_bytes(r.total)
    if maxc < 1:
        need = fixed + per_seq
        return Estimate(
            fits=False, batch=batch, effective_batch=0, memory_per_gpu_gb=need / GB, max_concurrency=0,
            ttft_ms=INF, tpot_ms=INF, output_tokens_per_s=0.0, output_tokens_per_s_per_gpu=0.0,
            breakdown={
                "weights_gb": p.weights / GB,
                "reserve_gb": (p.w_reserve + p.w_activation) / GB,
                "kv_cache_gb": (p.kv_tok + p.mtp_kv_tok) * r.total / GB,
                "recurrent_state_gb": p.state_seq / GB,
                "budget_gb": p.budget / GB,
                "shortfall_gb": (need - p.budget) / GB,
            },
        )
    b = float(min(batch, maxc))
    step, mem, comp, comm, prefill, draft, prefill_tok, b = _steady(p, r, shape.osl, b)
    ttft, own_prefill, vision, pmem, pcomp, pcomm, wait = _ttft(p, r, b, step, prefill, shape.cohort)
    a = p.accept_len
    tpot_step = _tpot_step(step, prefill, b, shape.cohort)
    # Little's law over the b requests inside the engine: each holds its slot from admission to its last
    # token, TTFT less the fixed API-server cost (HTTP, tokenise: before admission) + (osl - 1) TPOT.
    thr = b * shape.osl / (ttft - p.request_s + (shape.osl - 1) * tpot_step / a)
    # Requests beyond what memory (or the prefill token budget) holds wait for a slot: each of the
    # batch-b queued ahead needs one of the b running requests to finish (osl tokens at thr/b tokens/s each).
    queue = max(0.0, batch - b) * shape.osl / thr
    ttft += queue
    kv_gb = b * (p.kv_tok + p.mtp_kv_tok) * r.total / GB
    state_gb = b * p.state_seq / GB
    return Estimate(
        fits=True, batch=batch, effective_batch=int(b), memory_per_gpu_gb=fixed / GB + kv_gb + state_gb,
        max_concurrency=maxc, ttft_ms=ttft * 1e3, tpot_ms=tpot_step / a * 1e3, output_tokens_per_s=thr,
        output_tokens_per_s_per_gpu=thr / p.tp,
        breakdown={} if not breakdown else {
            "weights_gb": p.weights / GB,
            "kv_cache_gb": kv_gb,
            "recurrent_state_gb": state_gb,
            "reserve_gb": (p.w_reserve + p.w_activation) / GB,
            "budget_gb": p.budget / GB,
            "decode_memory_ms": mem * 1e3,
            "decode_compute_ms": comp * 1e3,
            "decode_comm_ms": comm * 1e3,
            "step_overhead_ms": p.overhead_s * 1e3,
            "step_sequences_ms": b * p.seq_s * 1e3,
            "draft_ms": draft * 1e3,
            "prefill_share_ms": prefill * 1e3,
            "prefill_tokens_per_step": prefill_tok,
            "step_ms": step * 1e3,
            "accepted_tokens_per_step": a,
            "experts_touched_per_layer": p.experts_touched(b * (p.n_draft + 1) + prefill_tok),
            "ttft_request_overhead_ms": p.request_s * 1e3,
            "ttft_wait_ms": wait * 1e3,
            "ttft_queue_ms": queue * 1e3,
            "ttft_prefill_ms": own_prefill * 1e3,
            "ttft_prefill_memory_ms": pmem * 1e3,
            "ttft_prefill_compute_ms": pcomp * 1e3,
            "ttft_prefill_comm_ms": pcomm * 1e3,
            "ttft_vision_ms": vision * 1e3,
            "visual_tokens": r.prompt - shape.isl,
        },
    )


def max_batch(cfg: Config, shape: Shape, tpot_ms: float | None = None,
              confidence: float = DEFAULT_CONFIDENCE, rungs: Sequence[int] | None = None) -> int:
    """Largest concurrency that fits memory and (if given) keeps TPOT at or under `tpot_ms`; 0 if none.
    Above the default `confidence` the TPOT checked is its conservative quantile (planner.perf.bands).
    With `rungs` (ascending, starting at 1), the largest rung that does: a search that only tries
    those batch sizes needs no finer answer, and bisecting over a few rungs takes fewer steps."""
    _check(shape)
    p = prepared(cfg)
    r = _req(p, shape)
    hi = p.max_concurrency(r.total)
    if hi < 1 or tpot_ms is None:
        return max(hi, 0)
    target = tpot_ms * 1e-3 * p.accept_len

    def ok(b: int) -> bool:
        full, _, _, _, prefill, _, _, eff_b = _steady(p, r, shape.osl, float(b))
        step = _tpot_step(full, prefill, eff_b, shape.cohort)
        if confidence > DEFAULT_CONFIDENCE:
            step *= tpot_factor(cfg, shape, int(eff_b), eff_b * p.accept_len / step / p.tp, confidence)
        return step <= target

    sizes = range(1, hi + 1) if rungs is None else [b for b in rungs if b <= hi]
    if ok(sizes[-1]):  # the common case: memory, not TPOT, limits the batch
        return sizes[-1]
    if not ok(sizes[0]):
        return 0
    lo, top = 0, len(sizes) - 1  # ok(sizes[lo]) holds, ok(sizes[top]) does not: TPOT grows with the batch
    while top - lo > 1:
        mid = (lo + top) // 2
        if ok(sizes[mid]):
            lo = mid
        else:
            top = mid
    return sizes[lo]


@dataclass(frozen=True)
class EngineSettings:
    """The engine limits the model assumed, so a deployment can set exactly these."""

    gpu_memory_utilization: float
    max_num_batched_tokens: int
    max_context_tokens: int
    """Longest single sequence the KV pool holds (engines refuse a max-model-len beyond it)."""


def engine_settings(cfg: Config) -> EngineSettings:
    p = prepared(cfg)
    per_token = p.kv_tok + p.mtp_kv_tok
    room = p.kv_room()
    longest = int(room // per_token) if per_token > 0 and room > 0 else 0
    return EngineSettings(
        gpu_memory_utilization=p.eng.gpu_memory_utilization,
        max_num_batched_tokens=int(p.chunk),
        max_context_tokens=longest,
    )


def calibration_caveat(gpu: GpuSpec) -> str | None:
    """Said wherever a number for this GPU is shown: its family has no measurements of its own."""
    c = constants()
    borrowed = None if c.family(gpu.family).fitted else (
        f"{gpu.id} ({gpu.family}) has no calibration measurements: its efficiencies are borrowed from "
        f"{c.fallback_family}, so its latency and throughput are less certain")
    if c.calibration is None:
        return borrowed
    # A profile in force is named in every output, whether or not it covers this GPU's family.
    covers = c.calibration_families is not None and gpu.family in c.calibration_families
    scope = f"{gpu.id}'s predictions use it" if covers else \
        f"it does not cover {gpu.family}: {gpu.id}'s predictions are the shipped model's"
    return f"{c.calibration}; {scope}" + (f"; {borrowed}" if borrowed else "")
