"""Task quality: the task's weighted benchmark mean for a model, less the precision penalty and the cost of
its thinking mode; and what that mode adds to the output (the one home of thinking-mode arithmetic)."""

from __future__ import annotations

from dataclasses import dataclass

from planner.catalog import Catalog
from planner.catalog.schema import ModelSpec, TaskSpec
from planner.request import parse_thinking

# Quality points within which two options tie. Benchmark run-to-run noise: FP8 checkpoints, which
# change nothing measurable, land within ±0.6 pp of BF16 ("often noise-level gains"), and the planner
# reference recommends a ±0.5 band for such no-effect changes and treating rankings that flip inside
# the band as ties (shared/reference/quality.md §1.2 and §5, read 2026-12-01). Override: --quality-tolerance.
QUALITY_NOISE_POINTS = 0.5
@dataclass(frozen=True)
class Thinking:
    """What a thinking mode does to one request of a task."""

    mode: str
    tokens: int
    """Thinking tokens added to the answer per request (mean)."""
    room: int
    """Output tokens above the answer a request may reach: max_model_len keeps room for them."""
    delta: float
    """Quality points against the (thinking-mode) benchmark scores, <= 0."""
    delta_range: tuple[float, float]


def thinking_for(task: TaskSpec, requested: str | None) -> Thinking:
    """The task's default mode unless one is requested. A budget of N caps the trace at N tokens: the mean
    thinking is min(typical, N) and, below the typical trace, quality moves linearly from the thinking-mode
    score towards the no-thinking one (qwen-plan assumption: a forced budget closes the trace early but
    keeps a chain of thought, which measured better than none on Qwen3.6-27B)."""
    spec = task.thinking
    mode = parse_thinking(requested) if requested is not None else (spec.default if spec else "on")
    if spec is None:
        return Thinking(mode, 0, 0, 0.0, (0.0, 0.0))
    if mode == "off":
        return Thinking(mode, 0, 0, spec.no_thinking_delta, spec.no_thinking_range)
    if mode == "on":
        answer = task.shape.osl - spec.thinking_tokens
        return Thinking(mode, spec.thinking_tokens, max(spec.max_output_tokens - answer, spec.thinking_tokens),
                        0.0, (0.0, 0.0))
    budget = int(mode.split()[1])
    short = 1.0 - min(1.0, budget / spec.thinking_tokens) if spec.thinking_tokens else 0.0
    lo, hi = spec.no_thinking_range
    return Thinking(mode, min(spec.thinking_tokens, budget), budget, spec.no_thinking_delta * short,
                    (lo * short, hi * short))


def output_tokens(task: TaskSpec, think: Thinking) -> tuple[int, int]:
    """(output tokens per request, longest output to leave room for) of the task's shape in this mode: its
    osl holds the default thinking tokens, which the mode replaces by its own."""
    answer = task.shape.osl - (task.thinking.thinking_tokens if task.thinking else 0)
    return answer + think.tokens, answer + think.room


def task_score(model: ModelSpec, task: TaskSpec) -> float | None:
    """Weighted mean over the task's benchmarks the model publishes; None if it publishes none.

    Missing benchmarks are dropped and the weights renormalised, so a model is not punished for
    an unpublished score (the catalog records which ones are missing).
    """
    scores = {b.benchmark: b.score for b in model.benchmarks if b.thinking}
    used = [(w.weight, scores[w.benchmark]) for w in task.quality if w.benchmark in scores]
    total = sum(w for w, _ in used)
    if not used or total <= 0:
        return None
    return sum(w * s for w, s in used) / total


def penalty(catalog: Catalog, model: ModelSpec, precision: str | None, task_id: str,
            kv_dtype: str = "bf16") -> tuple[float, float, float]:
    """(points, low, high) a checkpoint loses against BF16 on this task: per task class where the evidence
    differs (dense models again apart), plus an FP8 KV-cache term."""
    spec = catalog.penalties.get(precision) if precision else None
    if spec is None:
        return 0.0, 0.0, 0.0
    arch = model.architecture
    dense = arch is not None and not arch.num_experts
    band = (spec.dense_by_task.get(task_id) if dense else None) or spec.by_task.get(task_id)  # type: ignore[call-overload]
    if band is not None:
        pts, lo, hi = band.points, band.low, band.high
    else:
        pts = spec.points
        lo, hi = spec.band or (pts, pts)
    if kv_dtype == "fp8":
        kv = spec.kv_fp8_by_task.get(task_id) or spec.kv_fp8  # type: ignore[call-overload]
        if kv is not None:
            pts, lo, hi = pts + kv.points, lo + kv.low, hi + kv.high
    return pts, lo, hi


def quality(catalog: Catalog, model_id: str, precision: str | None, task_id: str,
            thinking: str | None = None, kv_dtype: str = "bf16") -> float | None:
    task = catalog.task(task_id)
    model = catalog.model(model_id)
    base = task_score(model, task)
    if base is None:
        return None
    return base - penalty(catalog, model, precision, task_id, kv_dtype)[0] + thinking_for(task, thinking).delta


def quality_range(catalog: Catalog, model_id: str, precision: str | None, task_id: str,
                  thinking: str | None = None, kv_dtype: str = "bf16") -> tuple[float, float] | None:
    """(low, high) of the task quality: the quantisation and thinking-mode terms at the ends of their evidence."""
    task = catalog.task(task_id)
    model = catalog.model(model_id)
    base = task_score(model, task)
    if base is None:
        return None
    _, lo, hi = penalty(catalog, model, precision, task_id, kv_dtype)
    t_lo, t_hi = thinking_for(task, thinking).delta_range
    return base - hi + min(t_lo, t_hi), base - lo + max(t_lo, t_hi)
