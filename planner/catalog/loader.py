"""Load the embedded catalog plus an optional user overlay into one frozen `Catalog`.

Every YAML file is a mapping whose keys are sections (`models`, `gpus`, `cloud`, `purchase`,
`api`, `tco`, `tasks`, `precision_penalties`); list sections hold entries with an `id` (or
`precision`), and an overlay entry with an existing id replaces the embedded one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from planner import clock
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
STALE_AFTER_DAYS = 365
# libyaml when present: the catalog is parsed on every CLI start.
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """Safe loader that rejects a key given twice in one mapping (PyYAML keeps the last, silently).

    Only mapping construction is Python code; parsing stays in libyaml, so the check is cheap
    enough for the embedded catalog too.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: the base constructor reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}, first on line {first + 1}", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_YAML_LOADER = _UniqueKeyLoader

M = TypeVar("M", bound=BaseModel)


def data_dir(kind: str) -> Path:
    """Folder of packaged data (`catalogs` or `templates`), wheel or source tree."""
    packaged = Path(str(resources.files("planner"))) / "_data" / kind
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / kind


def _entry_key(section: str, entry: BaseModel) -> str:
    return str(getattr(entry, "precision" if section == "precision_penalties" else "id"))


def _format_loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
            "catalog files must be UTF-8 YAML"
        ) from None
    except yaml.reader.ReaderError as exc:  # control characters: no problem_mark, multi-line str
        raise CatalogError(f"{path}: invalid YAML (position {exc.position}: {exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise CatalogError(f"{path}:{where} invalid YAML ({problem})") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: top level must be a mapping of sections {sorted([*SECTIONS, 'tco'])}")
    return raw


@dataclass
class _Builder:
    entries: dict[str, dict[str, BaseModel]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    origin: dict[tuple[str, str], Path] = field(default_factory=dict)
    tco: TcoAssumptions | None = None
    errors: list[str] | None = None
    """When a list, problems are collected there (validate: report them all) instead of raised."""
    overlay_seen: set[tuple[str, str]] = field(default_factory=set)

    def _fail(self, exc: CatalogError) -> None:
        if self.errors is None:
            raise exc
        self.errors.append(str(exc))

    def add_file(self, path: Path, overlay: bool) -> None:
        try:
            raw = _read_yaml(path)
        except CatalogError as exc:
            self._fail(exc)
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
            value = {**self.tco.model_dump(exclude={"unknown"}), **value}
        return _validate(TcoAssumptions, value, path, "tco")

    def add_dir(self, root: Path, overlay: bool) -> None:
        if not root.is_dir():
            flag = f"--catalog (or ${ENV_OVERLAY}): " if overlay else ""
            what = "is a file; the catalog must be a folder of YAML files" if root.exists() else \
                "catalog folder not found"
            self._fail(CatalogError(f"{flag}{root}: {what}"))
            return
        files = sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")])
        for path in files:
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


@dataclass(frozen=True)
class Catalog:
    """The frozen catalog. Callers ask it questions instead of walking raw data."""

    models: dict[str, ModelSpec]
    gpus: dict[str, GpuSpec]
    cloud: dict[str, CloudOffer]
    purchase: dict[str, PurchaseOffer]
    api: dict[str, ApiOffer]
    tasks: dict[str, TaskSpec]
    penalties: dict[str, PrecisionPenalty]
    tco: TcoAssumptions
    origin: dict[tuple[str, str], Path]

    def model(self, model_id: str) -> ModelSpec:
        return _lookup(self.models, model_id, "model")

    def gpu(self, gpu_id: str) -> GpuSpec:
        return _lookup(self.gpus, gpu_id, "gpu")

    def task(self, task_id: str) -> TaskSpec:
        return _lookup(self.tasks, task_id, "task")

    def offers_for(self, gpu_id: str) -> list[CloudOffer]:
        return [o for o in self.cloud.values() if o.gpu == gpu_id]

    def purchases_for(self, gpu_id: str) -> list[PurchaseOffer]:
        return [o for o in self.purchase.values() if o.gpu == gpu_id]

    def api_offers_for(self, model_id: str) -> list[ApiOffer]:
        return [o for o in self.api.values() if o.model == model_id]

    def checkpoints_of(self, model_id: str) -> dict[str, Any]:
        return {c.precision: c for c in self.model(model_id).checkpoints}

    def penalty(self, precision: str) -> float:
        p = self.penalties.get(precision)
        return p.points if p else 0.0


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def _names(entry: BaseModel) -> set[str]:
    """Every spelling an entry answers to: id, name, aliases, and (models) its checkpoint repos."""
    names = {getattr(entry, "id", ""), getattr(entry, "name", ""), *getattr(entry, "aliases", ())}
    for ckpt in getattr(entry, "checkpoints", ()):
        names |= {ckpt.repo, ckpt.repo.split("/")[-1]}
    return {_norm(n) for n in names if n}


def matching_ids(table: dict[str, M], key: str) -> list[str]:
    """Ids `key` names: the exact id, else every entry whose id, name, alias or repo matches
    case-insensitively (e.g. `H100`, `Qwen/Qwen3.5-27B-FP8`). Sorted; empty when none."""
    if key in table:
        return [key]
    wanted = _norm(key)
    return sorted(k for k, entry in table.items() if wanted == _norm(k) or wanted in _names(entry))


def spellings(table: dict[str, M]) -> dict[str, str]:
    """Every normalised spelling -> its id, for "did you mean" suggestions."""
    out: dict[str, str] = {}
    for k in sorted(table):
        for name in sorted(_names(table[k]) | {_norm(k)}):
            out.setdefault(name, k)
    return out


def _lookup(table: dict[str, M], key: str, what: str) -> M:
    """Exact id first; then a case-insensitive match on names and aliases (e.g. `H100`, `Qwen/Qwen3.5-27B`)."""
    hits = matching_ids(table, key)
    if len(hits) == 1:
        return table[hits[0]]
    choices = hits or sorted(table)
    raise CatalogError(f"unknown {what} {key!r}; accepted: {', '.join(choices)}") from None


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


def display_path(path: Path | None) -> str:
    """Embedded files as `catalogs/...` (the same wherever the package is installed); overlays as given."""
    if path is None:
        return "?"
    try:
        return "catalogs/" + path.resolve().relative_to(data_dir("catalogs").resolve()).as_posix()
    except ValueError:
        return str(path)


def stale_entries(cat: Catalog, today: dt.date | None = None) -> list[str]:
    """Prices older than 12 months: still used, but flagged wherever they appear."""
    today = today or clock.today()
    out: list[str] = []
    priced: list[tuple[str, Any]] = [
        *(("cloud", o) for o in cat.cloud.values()),
        *(("purchase", o) for o in cat.purchase.values()),
        *(("api", o) for o in cat.api.values()),
    ]
    for section, o in priced:
        age = (today - o.as_of).days
        if age > STALE_AFTER_DAYS:
            out.append(f"{display_path(cat.origin.get((section, o.id)))}: {section} ({o.id}): price as_of {o.as_of} "
                       f"is {age // 30} months old")
    return out


def is_stale(as_of: dt.date, today: dt.date | None = None) -> bool:
    return ((today or clock.today()) - as_of).days > STALE_AFTER_DAYS


def _builder(overlay: Path | str | None, embedded: Path | None, errors: list[str] | None) -> _Builder:
    b = _Builder(errors=errors)
    b.add_dir(embedded or data_dir("catalogs"), overlay=False)
    overlay = overlay or os.environ.get(ENV_OVERLAY) or None
    if overlay:
        b.add_dir(Path(overlay), overlay=True)
    return b


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
