"""Build one frozen Catalog from the embedded YAML plus an optional user overlay.

Every YAML file is a mapping whose keys are sections (`models`, `gpus`, `cloud`, `purchase`,
`api`, `tco`, `tasks`, `precision_penalties`); list sections hold entries with an `id` (or
`precision`), and an overlay entry with an existing id replaces the embedded one.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from planner.catalog import snapshot
from planner.catalog.integrity import ValidationReport, check_references, coverage_warnings
from planner.catalog.lookup import Catalog
from planner.catalog.schema import (
    ApiOffer,
    CloudOffer,
    GpuSpec,
    ModelSpec,
    PrecisionPenalty,
    PurchaseOffer,
    TaskSpec,
    TcoAssumptions,
)
from planner.catalog.snapshot import catalog_files
from planner.catalog.yaml_io import data_dir, read_yaml
from planner.errors import CatalogError

SECTIONS: dict[str, type[BaseModel]] = {
    "models": ModelSpec,
    "gpus": GpuSpec,
    "cloud": CloudOffer,
    "purchase": PurchaseOffer,
    "api": ApiOffer,
    "tasks": TaskSpec,
    "precision_penalties": PrecisionPenalty,
}
ENV_OVERLAY = "QWEN_PLAN_CATALOG"
CALIBRATION_KIND = "qwen-plan-calibration"
"""`kind:` of a calibration profile (planner/calibrate/profile.py): an overlay folder may hold one."""

M = TypeVar("M", bound=BaseModel)


def _entry_key(section: str, entry: BaseModel) -> str:
    return str(getattr(entry, "precision" if section == "precision_penalties" else "id"))


def _format_loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Builder:
    entries: dict[str, dict[str, BaseModel]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    origin: dict[tuple[str, str], Path] = field(default_factory=dict)
    tco: TcoAssumptions | None = None
    errors: list[str] | None = None
    """When a list, problems are collected there (validate: report them all) instead of raised."""
    overlay_seen: set[tuple[str, str]] = field(default_factory=set)
    calibrations: list[Path] = field(default_factory=list)

    def _fail(self, exc: CatalogError) -> None:
        if self.errors is None:
            raise exc
        self.errors.append(str(exc))

    def add_file(self, path: Path, overlay: bool) -> None:
        try:
            raw = read_yaml(path)
        except CatalogError as exc:
            self._fail(exc)
            return
        if overlay and raw.get("kind") == CALIBRATION_KIND:
            self.calibrations.append(path)  # read by the CLI like --calibration, not a catalog section
            return
        for section, value in raw.items():
            try:
                self._add_section(path, section, value, overlay)
            except CatalogError as exc:
                self._fail(exc)

    def _add_section(self, path: Path, section: str, value: Any, overlay: bool) -> None:
        if section == "tco":
            self.tco = self._tco(path, value, overlay)
            return
        if section not in SECTIONS:
            raise CatalogError(
                f"{path}: unknown section {section!r}; accepted: {', '.join([*SECTIONS, 'tco'])}"
            )
        if not isinstance(value, list):
            raise CatalogError(f"{path}: {section} must be a list of entries")
        seen_here: set[str] = set()
        for i, item in enumerate(value):
            try:
                entry = _validate(SECTIONS[section], item, path, f"{section}[{i}]")
            except CatalogError as exc:
                self._fail(exc)
                continue
            key = _entry_key(section, entry)
            key_field = "precision" if section == "precision_penalties" else "id"
            clash = (section, key) in self.overlay_seen if overlay else key in self.entries[section]
            if key in seen_here or clash:
                first = self.origin.get((section, key), path)
                where = f"{path}: {section}[{i}].{key_field}"
                self._fail(CatalogError(f"{where}: duplicate id {key!r} (also in {first})"))
                continue
            seen_here.add(key)
            if overlay:
                self.overlay_seen.add((section, key))
            self.entries[section][key] = entry
            self.origin[(section, key)] = path

    def _tco(self, path: Path, value: Any, overlay: bool) -> TcoAssumptions:
        # An overlay may change a few TCO numbers; it must still say where they come from.
        if overlay and self.tco is not None and isinstance(value, dict):
            missing = [k for k in ("source", "as_of") if k not in value]
            if missing:
                raise CatalogError(f"{path}: tco.{missing[0]}: required when an overlay changes tco")
            # The defaults' reasons for their nulls carry over for the fields the overlay leaves alone.
            kept = {k: why for k, why in self.tco.unknown.items() if k not in value}
            value = {**self.tco.model_dump(exclude={"unknown"}), **value,
                     "unknown": {**kept, **(value.get("unknown") or {})}}
        return _validate(TcoAssumptions, value, path, "tco")

    def add_dir(self, root: Path, overlay: bool) -> None:
        if not root.is_dir():
            flag = f"--catalog (or ${ENV_OVERLAY}): " if overlay else ""
            what = "is a file; the catalog must be a folder of YAML files" if root.exists() else \
                "catalog folder not found"
            self._fail(CatalogError(f"{flag}{root}: {what}"))
            return
        for path in catalog_files(root):
            self.add_file(path, overlay)


def _validate(model: type[M], item: Any, path: Path, where: str) -> M:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        # A misspelt field also shows up as a missing one; the typo is the error worth reporting.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = _format_loc(err["loc"])
        ident = item.get("id") if isinstance(item, dict) else None
        label = f"{where} ({ident})" if ident else where
        field_part = f".{loc}" if loc else ""
        extra = err["type"] == "extra_forbidden"
        show_value = "input" in err and not isinstance(err["input"], dict) and not extra
        value = f" (got {err['input']!r})" if show_value else ""
        hint = _did_you_mean(model, err["loc"]) if extra else ""
        msg = err["msg"].removeprefix("Value error, ")  # our own validators' messages read better bare
        raise CatalogError(f"{path}: {label}{field_part}: {msg}{value}{hint}") from None


def _did_you_mean(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """`; did you mean 'memory_gb'?` for a misspelt field, walking nested models along `loc`."""
    target: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(target, type) and issubclass(target, BaseModel)):
            continue
        info = target.model_fields.get(part)
        if info is None:
            return ""
        ann = info.annotation
        inner = [a for a in (*get_args(ann), ann) if isinstance(a, type) and issubclass(a, BaseModel)]
        for arg in get_args(ann):  # list[Model] / dict[str, Model]
            inner.extend(a for a in get_args(arg) if isinstance(a, type) and issubclass(a, BaseModel))
        target = inner[0] if inner else None
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(target.model_fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; accepted: {', '.join(target.model_fields)}"


def _builder(overlay: Path | str | None, embedded: Path | None, errors: list[str] | None) -> _Builder:
    b = _Builder(errors=errors)
    root = embedded or data_dir("catalogs")
    snap = snapshot.load(root)
    if snap is None:
        b.add_dir(root, overlay=False)
    else:  # built from exactly these files (planner/catalog/snapshot.py)
        b.entries = {section: dict(snap.entries.get(section, {})) for section in SECTIONS}
        b.origin = dict(snap.origin)
        b.tco = snap.tco  # type: ignore[assignment]
    overlay = overlay or os.environ.get(ENV_OVERLAY) or None
    if overlay:
        b.add_dir(Path(overlay), overlay=True)
    return b


def embedded_snapshot(root: Path) -> bytes:
    """The snapshot of the catalog folder `root` (the wheel's build hook writes it beside the folder)."""
    b = _Builder()
    b.add_dir(root, overlay=False)
    problems = check_references(_assemble(b))  # the checks of a load: a snapshot is only of a valid catalog
    if problems:
        raise CatalogError(problems[0])
    return snapshot.dump(snapshot.Snapshot(b.entries, b.origin, b.tco), root)


def _assemble(b: _Builder) -> Catalog:
    if b.tco is None:
        raise CatalogError("catalog has no `tco` section (on-prem assumptions)")
    e = b.entries
    return Catalog(
        models=dict(e["models"]),  # type: ignore[arg-type]
        gpus=dict(e["gpus"]),  # type: ignore[arg-type]
        cloud=dict(e["cloud"]),  # type: ignore[arg-type]
        purchase=dict(e["purchase"]),  # type: ignore[arg-type]
        api=dict(e["api"]),  # type: ignore[arg-type]
        tasks=dict(e["tasks"]),  # type: ignore[arg-type]
        penalties=dict(e["precision_penalties"]),  # type: ignore[arg-type]
        tco=b.tco,
        origin=b.origin,
        calibrations=tuple(b.calibrations),
    )


def load_catalog(overlay: Path | str | None = None, *, embedded: Path | None = None) -> Catalog:
    """Embedded catalog, then overlay (argument, else $QWEN_PLAN_CATALOG) on top."""
    cat = _assemble(_builder(overlay, embedded, errors=None))
    problems = check_references(cat)
    if problems:
        raise CatalogError(problems[0])
    return cat


def load_catalog_collecting(
    overlay: Path | str | None = None, *, embedded: Path | None = None
) -> tuple[Catalog | None, list[str]]:
    """Like `load_catalog`, but every problem is returned (one line each) instead of the first raised.

    The catalog is built from the entries that did validate, so reference checks still run;
    it is None only when no `tco` section survived.
    """
    errors: list[str] = []
    b = _builder(overlay, embedded, errors)
    try:
        cat = _assemble(b)
    except CatalogError as exc:
        return None, [*errors, str(exc)]
    return cat, [*errors, *check_references(cat)]


def validate_catalog(overlay: Path | str | None = None, *, embedded: Path | None = None) -> tuple[
        Catalog | None, ValidationReport]:
    """Every problem at once (errors) plus coverage gaps (warnings); the catalog when one loaded."""
    cat, errors = load_catalog_collecting(overlay, embedded=embedded)
    warnings = coverage_warnings(cat) if cat is not None else []
    return cat, ValidationReport(errors=errors, warnings=warnings)
