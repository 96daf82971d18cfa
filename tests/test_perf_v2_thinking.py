"""Thinking mode: per-task default, output tokens per mode, quality per mode, room in max_model_len."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from planner.catalog import Catalog
from planner.request import Request, parse_thinking
from planner.solver import solve
from planner.solver.quality import penalty, quality, quality_range, task_score, thinking_for
from planner.solver.resolve import resolve


@pytest.mark.parametrize(("text", "canonical"), [("on", "on"), (" OFF ", "off"), ("budget 4096", "budget 4096"),
                                                 ("budget=512", "budget 512"), ("budget:7", "budget 7"),
                                                 ("300", "budget 300")])
def test_thinking_spellings(text: str, canonical: str) -> None:
    assert parse_thinking(text) == canonical


@pytest.mark.parametrize("bad", ["maybe", "budget 0", "budget -5", "budget", "budget 2000000"])
def test_bad_thinking_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="on, off or 'budget N'"):
        parse_thinking(bad)


def test_chat_thinking_on_keeps_card_quality_and_room_for_the_card_budget(catalog: Catalog) -> None:
    task = catalog.task("chat")
    assert task.thinking is not None and task.thinking.default == "on"
    t = thinking_for(task, None)
    # half of the 1,000 output tokens are thinking (OpenRouter Flash traffic: reasoning 100M / completion 98.2M)
    assert t.tokens == 505 and t.delta == 0.0
    res = resolve(Request(task="chat", rps=1), catalog)
    assert res.osl == 1000 and res.workload.thinking == "on" and res.workload.thinking_tokens == 505
    # Room for the card's 32,768-token recommended output length.
    assert res.workload.max_output_tokens == 32768


def test_thinking_off_keeps_the_answer_and_scores_the_no_thinking_delta(catalog: Catalog) -> None:
    base = task_score(catalog.model("qwen3.5-27b"), catalog.task("chat"))
    assert base is not None
    off = quality(catalog, "qwen3.5-27b", "bf16", "chat", "off")
    assert off == pytest.approx(base - 6.0)  # 0.5 x -2.5 + 0.1 x -29 + 0.4 x -4.5
    res = resolve(Request(task="chat", rps=1, thinking="off"), catalog)
    assert res.osl == 1000 - 505 and res.workload.thinking_tokens == 0


def test_budget_caps_thinking_and_interpolates_quality(catalog: Catalog) -> None:
    task = catalog.task("chat")
    t = thinking_for(task, "budget 101")
    # a fifth of the typical 505-token trace: four fifths of the no-thinking loss
    assert t.tokens == 101 and t.room == 101 and t.delta == pytest.approx(-6.0 * 0.8)
    assert resolve(Request(task="chat", rps=1, thinking="budget 101"), catalog).osl == 495 + 101
    big = thinking_for(task, "budget 8000")
    assert big.tokens == 505 and big.room == 8000 and big.delta == 0.0


def test_math_keeps_its_long_trace_and_the_card_budget(catalog: Catalog) -> None:
    math_res = resolve(Request(task="math", rps=1), catalog)
    assert math_res.osl == 12000 and math_res.workload.max_output_tokens == 81920
    assert resolve(Request(task="math", rps=1, thinking="off"), catalog).osl == 1000


def test_explicit_osl_is_the_whole_output(catalog: Catalog) -> None:
    res = resolve(Request(task="chat", rps=1, osl=700), catalog)
    assert res.osl == 700 and res.workload.thinking_tokens == 0


def test_plan_max_model_len_holds_the_thinking_budget(catalog: Catalog) -> None:
    plan = solve(Request(task="chat", rps=2, deploy="cloud", thinking="budget 20000"), catalog)
    d = plan.deployment
    assert d is not None
    answer = plan.workload.osl - plan.workload.thinking_tokens
    assert d.max_model_len >= plan.workload.input_tokens + answer + 20000


def test_bad_thinking_and_confidence_are_one_line_exit_2(
    run_qwen_plan: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    for flag, value in (("--thinking", "sometimes"), ("--confidence", "0.3")):
        res = run_qwen_plan("--task", "chat", flag, value)
        assert res.returncode == 2, res.stderr
        assert res.stderr.strip().count("\n") == 0 and flag in res.stderr and "Traceback" not in res.stderr


def test_quantisation_penalty_per_task_class_dense_and_kv_fp8(catalog: Catalog) -> None:
    dense, moe = catalog.model("qwen3.5-27b"), catalog.model("qwen3.5-35b-a3b")
    # int4: 1.0 on knowledge-style tasks, 2.0 on long generation for MoE, 3.0 for the dense 27B
    assert penalty(catalog, moe, "int4", "docs") == (1.0, 0.5, 1.5)
    assert penalty(catalog, moe, "int4", "coding") == (2.0, 1.0, 9.0)
    assert penalty(catalog, dense, "int4", "coding") == (3.0, 1.0, 9.0)
    # FP8 KV on a Qwen checkpoint (no calibrated scales) adds 1.0 on reasoning tasks; NVIDIA's NVFP4 adds none
    # (FP8 weights 0 within 0..0.5) + (FP8 KV 1.0 within 0..3)
    assert penalty(catalog, moe, "fp8", "math", "fp8") == (1.0, 0.0, 3.5)
    assert penalty(catalog, moe, "nvfp4", "chat", "fp8") == (0.3, 0.0, 1.1)
    base = task_score(dense, catalog.task("coding"))
    assert base is not None
    assert quality(catalog, "qwen3.5-27b", "int4", "coding") == pytest.approx(base - 3.0)
    lo, hi = quality_range(catalog, "qwen3.5-27b", "int4", "coding", "off") or (0.0, 0.0)
    # int4 1..9 points and thinking off -1..-16 points (catalog ranges)
    assert (lo, hi) == pytest.approx((base - 9.0 - 16.0, base - 1.0 - 1.0))
