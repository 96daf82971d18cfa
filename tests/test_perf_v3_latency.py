"""Perf model v2 accuracy terms: what a request alone sees, the prefill queue under concurrency, Little's law,
and the per-request cost of a TP group. Hand-built specs from tests/test_perf.py, numbers worked out below."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_perf import EFF, H200, M35, consts, prep

from planner.perf import Config, Shape
from planner.perf.api import estimate_prepared
from planner.perf.roofline import Prepared

SHAPE = Shape(isl=8192, osl=1024)


def test_a_request_alone_decodes_at_the_bare_step_and_does_not_wait() -> None:
    e = estimate_prepared(prep(Config(M35, H200, "bf16", 1)), SHAPE, 1)
    b = e.breakdown
    # its own prompt was prefilled before its first token: TPOT is the decode step alone
    assert e.tpot_ms == pytest.approx(b["step_ms"] - b["prefill_share_ms"])
    assert e.tpot_ms == pytest.approx(b["decode_memory_ms"] + b["step_overhead_ms"])
    # nothing in flight, no other prompt ahead
    assert b["ttft_wait_ms"] == 0.0
    # Little's law at concurrency 1: 1024 tokens per TTFT + 1023 TPOT (request overhead is 0 here)
    assert e.output_tokens_per_s == pytest.approx(1024 / ((e.ttft_ms + 1023 * e.tpot_ms) / 1e3))


def test_prefill_queue_wait_is_md1_under_concurrency() -> None:
    p = prep(Config(M35, H200, "bf16", 1))
    e = estimate_prepared(p, SHAPE, 16)
    b = e.breakdown
    step, share, prompt = b["step_ms"], b["prefill_share_ms"], b["ttft_prefill_ms"]
    rho = share / step
    # half a step in flight (15 of 16 arrivals find others running) + M/D/1 wait rho·S / (2(1 - rho))
    expected = 15 / 16 * 0.5 * step + rho * prompt / (2 * (1 - rho))
    assert b["ttft_wait_ms"] == pytest.approx(expected)
    assert 0.0 < rho < 1.0
    # more concurrent long prompts: a busier prefill queue, a longer wait
    more = estimate_prepared(p, SHAPE, 64).breakdown
    assert more["ttft_wait_ms"] > 2 * b["ttft_wait_ms"]
    # the wait never exceeds the other requests' prompts queued ahead of it
    assert more["ttft_wait_ms"] <= 63 * (more["ttft_prefill_ms"] + more["step_ms"])


def test_a_tp_group_adds_a_per_request_cost_of_its_engine() -> None:
    c = replace(consts(), request_overhead_ms={"vllm": 20.0, "sglang": 30.0},
                multi_gpu_request_ms={"vllm": 1.0, "sglang": 60.0})
    short = Shape(isl=100, osl=100)
    for engine, tp1, tp2 in (("vllm", 20.0, 21.0), ("sglang", 30.0, 90.0)):
        one = estimate_prepared(Prepared(Config(M35, H200, "bf16", 1, engine=engine), EFF, c), short, 1)
        two = estimate_prepared(Prepared(Config(M35, H200, "bf16", 2, engine=engine), EFF, c), short, 1)
        assert one.breakdown["ttft_request_overhead_ms"] == pytest.approx(tp1)
        assert two.breakdown["ttft_request_overhead_ms"] == pytest.approx(tp2)


def test_request_overhead_does_not_limit_engine_throughput() -> None:
    # The API-server cost is paid before admission: it lengthens TTFT, not the engine's slot time.
    slow = replace(consts(), request_overhead_ms={"vllm": 500.0, "sglang": 500.0})
    cfg = Config(M35, H200, "bf16", 1)
    a = estimate_prepared(Prepared(cfg, EFF, consts()), SHAPE, 8)
    b = estimate_prepared(Prepared(cfg, EFF, slow), SHAPE, 8)
    assert b.ttft_ms == pytest.approx(a.ttft_ms + 500.0)
    assert b.output_tokens_per_s == pytest.approx(a.output_tokens_per_s)


def test_each_decoding_request_adds_a_fixed_cost_to_every_step() -> None:
    # 10 µs per request: at batch 50 every step is 0.5 ms longer and so is TPOT (no MTP); alone, 10 µs.
    c = replace(consts(), seq_step_us=10.0)
    for engine in ("sglang", "vllm"):
        cfg = Config(M35, H200, "bf16", 1, engine=engine)
        bare = estimate_prepared(Prepared(cfg, EFF, consts()), SHAPE, 50)
        costly = estimate_prepared(Prepared(cfg, EFF, c), SHAPE, 50)
        assert costly.effective_batch == bare.effective_batch == 50
        assert costly.breakdown["step_sequences_ms"] == pytest.approx(0.5)
        assert bare.breakdown["step_sequences_ms"] == 0.0
        # vLLM also pays it for the 49 decodes sharing the own prompt's chunk step (TTFT), SGLang not
        extra_ttft = costly.breakdown["ttft_prefill_ms"] - bare.breakdown["ttft_prefill_ms"]
        assert extra_ttft == pytest.approx(0.49 if engine == "vllm" else 0.0, abs=1e-9)
        # the prefill share is unchanged under SGLang (prefill batches apart); TPOT grows by the 0.5 ms
        if engine == "sglang":
            assert costly.tpot_ms - bare.tpot_ms == pytest.approx(0.5)
        alone = estimate_prepared(Prepared(cfg, EFF, c), SHAPE, 1)
        assert alone.breakdown["step_sequences_ms"] == pytest.approx(0.01)
    # with MTP 2 a request still costs 10 µs a step, now spread over 1 + a + a² = 1.75 tokens
    cfg = Config(M35, H200, "bf16", 1, engine="sglang", mtp=2, mtp_acceptance=0.5)
    bare = estimate_prepared(Prepared(cfg, EFF, consts()), SHAPE, 40)
    costly = estimate_prepared(Prepared(cfg, EFF, c), SHAPE, 40)
    assert costly.breakdown["step_sequences_ms"] == pytest.approx(0.4)
    assert costly.tpot_ms - bare.tpot_ms == pytest.approx(0.4 / 1.75)


def test_a_scheduler_polling_every_k_steps_makes_arrivals_wait_k_half_steps() -> None:
    # SGLang --scheduler-recv-interval 30: an arrival waits 15 steps on average to be seen, not half a step;
    # the step itself is unchanged.
    cfg = Config(M35, H200, "bf16", 1, engine="sglang")
    slow = Config(M35, H200, "bf16", 1, engine="sglang", engine_args=(("recv_interval", 30),))
    one = estimate_prepared(Prepared(cfg, EFF, consts()), SHAPE, 16)
    thirty = estimate_prepared(Prepared(slow, EFF, consts()), SHAPE, 16)
    step = one.breakdown["step_ms"]
    assert thirty.breakdown["step_ms"] == pytest.approx(step)
    assert thirty.breakdown["ttft_wait_ms"] - one.breakdown["ttft_wait_ms"] == pytest.approx(15 / 16 * 0.5 * 29 * step)
    # alone, nothing is in flight: the poll comes with the first step
    alone = estimate_prepared(Prepared(slow, EFF, consts()), SHAPE, 1)
    assert alone.breakdown["ttft_wait_ms"] == 0.0
