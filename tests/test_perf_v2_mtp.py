"""MTP: drafting pays on memory-bound batches and costs on large ones; state slots per engine; per-task acceptance."""

from __future__ import annotations

import dataclasses
import math

from planner.catalog import Catalog
from planner.feasibility import mtp_choices
from planner.perf import Config, Shape, estimate
from planner.perf.constants import calibrated, constants
from planner.perf.roofline import prepared
from planner.request import Request
from planner.solver.resolve import resolve
from planner.solver.space import configurations

SHAPE = Shape(isl=200, osl=200)


def _by_hand(cat: Catalog, n: int, b: int, a: float) -> float:
    """Output tokens/s of Qwen3.5-27B FP8 on one B200 from the roofline terms alone: a decode step reads the
    weights, each sequence's KV and its recurrent state once and writes the state after each of the n+1
    verified positions, and computes n+1 tokens per sequence; each request adds the fixed per-request step
    cost; then n draft passes. The P = b·A/osl·isl prompt tokens per step (A accepted tokens per step) come as
    one chunk of c = max(isl, P) tokens in a fraction P/c of the steps, mixed into them (vLLM), each chunk
    writing its KV and computing its tokens with attention over half the prompt on average."""
    cfg = Config(cat.model("qwen3.5-27b"), cat.gpu("b200"), "fp8", 1, mtp=n, mtp_acceptance=a)
    p = prepared(cfg)
    accepted = sum(a**i for i in range(n + 1))
    ctx = SHAPE.isl + SHAPE.osl / 2
    tokens = b * (n + 1)
    mem = (p.dense_read + b * ctx * (p.kv_tok + p.mtp_kv_tok) + b * p.state_rw * (2 + n)) / p.bw
    comp = (tokens * (p.flops_tok + p.lm_flops) + p.attn_coef * tokens * ctx) / p.peak
    prompt = b * accepted / SHAPE.osl * SHAPE.isl
    chunk = max(SHAPE.isl, prompt)
    mem_c = mem + chunk * p.kv_tok / p.bw
    comp_c = comp + chunk * (p.flops_tok + p.attn_coef * SHAPE.isl / 2) / p.peak
    decode = max(mem, comp)
    step = decode + prompt / chunk * (max(mem_c, comp_c) - decode) + p.overhead_s + b * p.seq_s \
        + p.draft_time(b, ctx)
    return b * accepted / step


def _crossover(thr: object, a: float) -> int:
    assert callable(thr)
    return next(b for b in range(1, 2048) if thr(1, b, a) < thr(0, b, a))


def test_mtp_crossover_batch_matches_the_roofline_by_hand(catalog: Catalog) -> None:
    model, gpu = catalog.model("qwen3.5-27b"), catalog.gpu("b200")

    def est(n: int, b: int, a: float) -> float:
        return estimate(Config(model, gpu, "fp8", 1, mtp=n, mtp_acceptance=a), SHAPE, b).output_tokens_per_s

    # The roofline alone (no per-request step cost): below the crossover the verify pass rides on the weight
    # read; above it the extra verify compute and state writes cost more than the 0.62 accepted drafts save.
    with calibrated(dataclasses.replace(constants(), seq_step_us=0.0)):
        hand = _crossover(lambda n, b, a: _by_hand(catalog, n, b, a), 0.62)
        model_b = _crossover(est, 0.62)
        assert 64 < hand < 512
        assert abs(model_b - hand) <= 0.15 * hand
        # Better drafting moves the crossover to larger batches.
        assert _crossover(est, 0.9) > model_b
    # A request's fixed cost per step is spread over the tokens the step yields: drafting amortises it, so
    # with it the crossover moves to larger batches too.
    assert _crossover(est, 0.62) > model_b
    assert est(1, 1, 0.62) > 1.3 * est(0, 1, 0.62)  # batch 1: memory-bound, drafting pays


def test_draft_length_shortens_as_the_batch_grows(catalog: Catalog) -> None:
    model, gpu = catalog.model("qwen3.5-27b"), catalog.gpu("b200")

    def best(b: int) -> int:
        return max((0, 1, 3), key=lambda n: estimate(Config(model, gpu, "fp8", 1, mtp=n, mtp_acceptance=0.62),
                                                     SHAPE, b).output_tokens_per_s)

    assert [best(b) for b in (16, 64, 512)] == [3, 1, 0]


def test_spec_decode_writes_a_recurrent_state_per_verified_position(catalog: Catalog) -> None:
    model, gpu = catalog.model("qwen3.5-35b-a3b"), catalog.gpu("h200")
    off = prepared(Config(model, gpu, "bf16", 1))
    on = prepared(Config(model, gpu, "bf16", 1, mtp=3))
    # read + write without MTP; read + 4 writes (one per verified position) with 3 drafts
    assert off.state_traffic == 2 * off.state_rw
    assert math.isclose(on.state_traffic, 5 * on.state_rw)
    # the conv window also holds the n drafted inputs (kernel - 1 + n columns), so the state itself grows
    assert on.state_rw > off.state_rw


def test_search_tries_off_one_and_the_recipe_with_the_tasks_acceptance(catalog: Catalog) -> None:
    model, gpu = catalog.model("qwen3.5-35b-a3b"), catalog.gpu("h200")
    assert mtp_choices(model, "sglang", gpu) == (0, 1, 3)
    assert mtp_choices(model, "vllm", gpu) == (0, 1)
    res = resolve(Request(task="coding", rps=1, models=("qwen3.5-35b-a3b",), gpus=("h200",)), catalog)
    cfgs = [c for _, c in configurations(res, catalog) if isinstance(c, Config)]
    task_acc = catalog.task("coding").mtp_acceptance
    assert task_acc is not None
    assert {c.mtp_acceptance for c in cfgs if c.mtp} == {task_acc.per_token}
    assert {c.mtp_acceptance for c in cfgs if not c.mtp} == {None}
