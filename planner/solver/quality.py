"""Task quality: the task's weighted benchmark mean for a model, less the precision penalty."""

from __future__ import annotations

from planner.catalog import Catalog
from planner.catalog.schema import ModelSpec, TaskSpec

# Quality points within which two options tie. Benchmark run-to-run noise: FP8 checkpoints, which
# change nothing measurable, land within ±0.6 pp of BF16 ("often noise-level gains"), and the planner
# reference recommends a ±0.5 band for such no-effect changes and treating rankings that flip inside
# the band as ties (shared/reference/quality.md §1.2 and §5, read 2026-12-01). Override: --quality-tolerance.
QUALITY_NOISE_POINTS = 0.5


def task_score(model: ModelSpec, task: TaskSpec) -> float | None:
    """Weighted mean over the task's benchmarks the model publishes; None if it publishes none.

    Missing benchmarks are dropped and the weights renormalised, so a model is not punished for
    an unpublished score (the catalog records which ones are missing).
    """
    scores = {b.benchmark: b.score for b in model.benchmarks}
    used = [(w.weight, scores[w.benchmark]) for w in task.quality if w.benchmark in scores]
    total = sum(w for w, _ in used)
    if not used or total <= 0:
        return None
    return sum(w * s for w, s in used) / total


def quality(catalog: Catalog, model_id: str, precision: str | None, task_id: str) -> float | None:
    base = task_score(catalog.model(model_id), catalog.task(task_id))
    if base is None:
        return None
    return base - (catalog.penalty(precision) if precision else 0.0)
