"""Referential integrity and coverage of a loaded catalog, and `catalog validate`'s report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from planner.catalog.lookup import Catalog


def check_references(cat: Catalog) -> list[str]:
    """Dangling ids, as `file: field: message` lines."""
    problems: list[str] = []

    def where(section: str, key: str) -> Path:
        return cat.origin.get((section, key), Path("?"))

    for o in cat.cloud.values():
        if o.gpu not in cat.gpus:
            problems.append(f"{where('cloud', o.id)}: cloud ({o.id}).gpu: unknown gpu {o.gpu!r}")
    for p in cat.purchase.values():
        if p.gpu not in cat.gpus:
            problems.append(f"{where('purchase', p.id)}: purchase ({p.id}).gpu: unknown gpu {p.gpu!r}")
    for a in cat.api.values():
        if a.model not in cat.models:
            problems.append(f"{where('api', a.id)}: api ({a.id}).model: unknown model {a.model!r}")
    for m in cat.models.values():
        at = f"{where('models', m.id)}: models ({m.id})"
        if m.hosted_twin_of and m.hosted_twin_of not in cat.models:
            problems.append(f"{at}.hosted_twin_of: unknown model {m.hosted_twin_of!r}")
        if m.hf_config and not (where("models", m.id).parent / m.hf_config).is_file():
            problems.append(f"{at}.hf_config: file {m.hf_config!r} not found next to the YAML")
        precisions = {c.precision for c in m.checkpoints}
        for md in m.published_minimums:
            if md.gpu not in cat.gpus:
                problems.append(f"{at}.published_minimums.gpu: unknown gpu {md.gpu!r}")
            if md.precision not in precisions:
                problems.append(f"{at}.published_minimums.precision: model has no {md.precision} checkpoint")
        for b in m.benchmarks:
            if b.stand_in_for and b.stand_in_for not in cat.models:
                problems.append(f"{at}.benchmarks.stand_in_for: unknown model {b.stand_in_for!r}")
    known_benchmarks = {b.benchmark for m in cat.models.values() for b in m.benchmarks}
    for t in cat.tasks.values():
        for w in t.quality:
            if w.benchmark not in known_benchmarks:
                problems.append(
                    f"{where('tasks', t.id)}: tasks ({t.id}).quality.benchmark: "
                    f"no model publishes {w.benchmark!r}"
                )
    return problems


@dataclass(frozen=True)
class ValidationReport:
    errors: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def coverage_warnings(cat: Catalog) -> list[str]:
    """Gaps that do not break loading but weaken a plan (a task score missing a benchmark...)."""
    out: list[str] = []
    for t in sorted(cat.tasks.values(), key=lambda t: t.id):
        for m in sorted(cat.models.values(), key=lambda m: m.id):
            published = {b.benchmark for b in m.benchmarks}
            missing = [w.benchmark for w in t.quality if w.benchmark not in published]
            if missing:
                out.append(
                    f"{cat.origin.get(('tasks', t.id), '?')}: tasks ({t.id}).quality: model {m.id} "
                    f"publishes no {', '.join(missing)}; its {t.id} score uses the remaining benchmarks"
                )
    used = sorted({c.precision for m in cat.models.values() for c in m.checkpoints})
    for p in used:
        if p not in cat.penalties:
            out.append(f"precision_penalties: no entry for {p!r}; its quality penalty counts as 0")
    return out
