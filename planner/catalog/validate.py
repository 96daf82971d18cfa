"""`catalog validate`: every problem at once (errors) plus things worth knowing (warnings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from planner.catalog.loader import Catalog, load_catalog_collecting, stale_entries


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


def validate_catalog(
    overlay: Path | str | None = None, *, embedded: Path | None = None, today: dt.date | None = None
) -> ValidationReport:
    cat, errors = load_catalog_collecting(overlay, embedded=embedded)
    warnings: list[str] = []
    if cat is not None:
        warnings = [*stale_entries(cat, today), *coverage_warnings(cat)]
    return ValidationReport(errors=errors, warnings=warnings)
