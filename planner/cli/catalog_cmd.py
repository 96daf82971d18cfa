"""`qwen-plan catalog list|show|validate`: browse and check the catalog (embedded + overlay)."""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
import yaml
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from planner.catalog import Catalog
from planner.catalog.lookup import matching_ids, spellings
from planner.catalog.overlay import validate_catalog
from planner.catalog.yaml_io import display_path
from planner.cli.common import catalog_option, get_catalog
from planner.cost.staleness import is_stale, stale_entries
from planner.errors import CatalogError
from planner.fmt import num, quantity

Format = Literal["table", "json", "yaml"]
E = TypeVar("E", bound=BaseModel)
KINDS = ("models", "gpus", "offers", "tasks")
# `show` looks an id up in these sections, in this order.
SHOW_SECTIONS = ("models", "gpus", "cloud", "purchase", "api", "tasks", "precision_penalties", "tco")


def _format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "yaml"]),
        default="table",
        show_default=True,
        help="Output format: a rich table, or the raw entries as JSON or YAML.",
    )(func)


def _dump(entry: BaseModel) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def _sorted(entries: Iterable[E], key: str = "id") -> list[E]:
    return sorted(entries, key=lambda e: str(getattr(e, key)))


def _emit_data(data: Any, fmt: Format) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=True, allow_unicode=True).rstrip())


def _emit_tables(tables: list[Table]) -> None:
    # Render to a string at a fixed width so output does not depend on the terminal (and pipes
    # or tests see whole rows).
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=False, color_system=None)
    for t in tables:
        console.print(t)
    click.echo(buf.getvalue().rstrip())


def _as_of(entry: Any) -> str:
    return f"{entry.as_of} ⚠ stale" if is_stale(entry.as_of) else str(entry.as_of)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    t = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        # The first column names the row (an id): kept whole, so it can be searched and copied.
        t.add_column(c, overflow="fold", no_wrap=i == 0, min_width=max((len(r[0]) for r in rows), default=0)
                     if i == 0 else None)
    for r in rows:
        t.add_row(*r)
    return t


# ---------------------------------------------------------------- list


def _models_table(cat: Catalog) -> Table:
    rows = []
    for m in _sorted(cat.models.values()):
        a, p = m.architecture, m.params
        rows.append([
            m.id,
            "yes" if m.open_weights else f"no (hosts {m.hosted_twin_of})",
            quantity(p.total / 1e9) + "B" if p else "—",
            quantity(p.active / 1e9) + "B" if p and p.active else "—",
            f"{a.num_layers} ({a.n_full_layers} full)" if a else "—",
            quantity(a.native_context) if a else "—",
            ", ".join(c.precision for c in m.checkpoints) or "—",
            str(len(m.benchmarks)),
            ", ".join(sorted(o.provider for o in cat.api_offers_for(m.id))) or "—",
        ])
    return _table(
        "Models",
        ["id", "open weights", "params", "active", "layers", "context", "checkpoints", "benchmarks", "API"],
        rows,
    )


def _gpus_table(cat: Catalog) -> Table:
    rows = []
    for g in sorted(cat.gpus.values(), key=lambda g: (g.vendor, g.year, g.id)):
        per_gpu = [o.usd_per_hour / o.gpus for o in cat.offers_for(g.id) if o.usd_per_hour]
        rows.append([
            g.id, g.family, quantity(g.memory_gb), quantity(g.memory_gib_usable, 1), quantity(g.bandwidth_tb_s, 3),
            quantity(g.tflops.bf16), quantity(g.tflops.fp8), quantity(g.tflops.fp4), ", ".join(g.native_precisions),
            f"{g.interconnect} {quantity(g.interconnect_gb_s)}", quantity(g.tdp_w),
            num(min(per_gpu), 2) if per_gpu else "—",
        ])
    return _table(
        "GPUs (dense TFLOPS; cheapest on-demand $/GPU-h in the catalog)",
        ["id", "family", "mem GB", "usable GiB", "TB/s", "BF16", "FP8", "FP4", "native", "link GB/s",
         "TDP W", "$/GPU-h"],
        rows,
    )


def _per_gpu(total: float | None, gpus: int) -> str:
    return num(total / gpus, 3) if total else "—"


def _offer_tables(cat: Catalog) -> list[Table]:
    cloud = [
        [o.id, o.provider, o.instance_type, o.gpu, str(o.gpus), o.region, num(o.usd_per_hour, 3),
         _per_gpu(o.usd_per_hour, o.gpus), _per_gpu(o.usd_per_hour_1y, o.gpus),
         _per_gpu(o.usd_per_hour_3y, o.gpus), _as_of(o)]
        for o in sorted(cat.cloud.values(), key=lambda o: (o.gpu, o.provider, o.id))
    ]
    purchase = [
        [p.id, p.gpu, p.unit, str(p.gpus_per_unit), num(p.usd, 0), num(p.usd / p.gpus_per_unit, 0),
         "yes" if p.includes_server else "no", _as_of(p)]
        for p in sorted(cat.purchase.values(), key=lambda p: (p.gpu, p.id))
    ]
    api = [
        [a.id, a.model, a.provider,
         "; ".join(f"≤{quantity(t.max_input_tokens)}: {t.usd_per_m_input}/{t.usd_per_m_output}"
                   if t.max_input_tokens else f"{t.usd_per_m_input}/{t.usd_per_m_output}" for t in a.tiers),
         num(a.usd_per_m_cached_input, 3), quantity(a.max_context), _as_of(a)]
        for a in sorted(cat.api.values(), key=lambda a: (a.model, a.id))
    ]
    tco = cat.tco
    tco_rows = [[k, str(v)] for k, v in tco.model_dump(mode="json", exclude={"unknown"}).items()]
    return [
        _table("Cloud instances ($/h per instance; $/GPU-h on-demand, 1-year, 3-year)",
               ["id", "provider", "instance", "gpu", "gpus", "region", "$/h", "$/GPU-h", "1y", "3y", "as of"],
               cloud),
        _table("Purchase (USD)", ["id", "gpu", "unit", "gpus", "price", "per GPU", "server incl.", "as of"],
               purchase),
        _table("API ($ per 1M tokens, input/output)",
               ["id", "model", "provider", "tiers in/out", "cached in", "context", "as of"], api),
        _table("On-prem TCO assumptions", ["field", "value"], tco_rows),
    ]


def _tasks_table(cat: Catalog) -> Table:
    rows = []
    for t in sorted(cat.tasks.values(), key=lambda t: t.id):
        s = t.shape
        media = []
        if s.images_per_request:
            media.append(f"{quantity(s.images_per_request)} img × {quantity(s.image_pixels)} px")
        if s.video_frames_per_request:
            media.append(f"{quantity(s.video_frames_per_request)} frames × {quantity(s.video_frame_pixels)} px")
        rows.append([
            t.id, ", ".join(f"{w.benchmark} {w.weight:g}" for w in t.quality), quantity(s.isl), quantity(s.osl),
            "; ".join(media) or "—", f"{s.prefix_hit:.0%}", quantity(t.targets.ttft_ms), quantity(t.targets.tpot_ms),
        ])
    return _table(
        "Tasks (quality = weighted card benchmarks; p95 targets)",
        ["id", "quality benchmarks (weight)", "isl", "osl", "media", "prefix hit", "TTFT ms", "TPOT ms"],
        rows,
    )


def _list_data(cat: Catalog, kind: str) -> dict[str, Any]:
    models = [_dump(m) for m in _sorted(cat.models.values())]
    gpus = [_dump(g) for g in _sorted(cat.gpus.values())]
    offers = {
        "cloud": [_dump(o) for o in _sorted(cat.cloud.values())],
        "purchase": [_dump(o) for o in _sorted(cat.purchase.values())],
        "api": [_dump(o) for o in _sorted(cat.api.values())],
        "tco": _dump(cat.tco),
    }
    tasks = {
        "tasks": [_dump(t) for t in _sorted(cat.tasks.values())],
        "precision_penalties": [_dump(p) for p in _sorted(cat.penalties.values(), key="precision")],
    }
    everything: dict[str, Any] = {"models": models, "gpus": gpus, **offers, **tasks}
    pick: dict[str, dict[str, Any]] = {"models": {"models": models}, "gpus": {"gpus": gpus},
                                       "offers": offers, "tasks": tasks}
    return pick.get(kind, everything)


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@_format_option
@catalog_option
def list_cmd(kind: str | None, fmt: Format, catalog_dir: Path | None) -> None:
    """List catalog entries: models, gpus, offers (cloud, purchase, API, TCO) or tasks (default: all)."""
    cat = get_catalog(catalog_dir)
    if fmt != "table":
        _emit_data(_list_data(cat, kind or "all"), fmt)
        return
    tables: list[Table] = []
    if kind in (None, "models"):
        tables.append(_models_table(cat))
    if kind in (None, "gpus"):
        tables.append(_gpus_table(cat))
    if kind in (None, "offers"):
        tables.extend(_offer_tables(cat))
    if kind in (None, "tasks"):
        tables.append(_tasks_table(cat))
    _emit_tables(tables)


# ---------------------------------------------------------------- show


def _section_table(cat: Catalog, section: str) -> dict[str, BaseModel]:
    tables: dict[str, dict[str, Any]] = {
        "models": cat.models, "gpus": cat.gpus, "cloud": cat.cloud, "purchase": cat.purchase,
        "api": cat.api, "tasks": cat.tasks, "precision_penalties": cat.penalties, "tco": {"tco": cat.tco},
    }
    return tables[section]


def _find(cat: Catalog, entry_id: str, kind: str | None) -> tuple[str, str, BaseModel]:
    """(section, id, entry) for an id, name, alias or checkpoint repo, as `Catalog.gpu()` etc. accept.

    An exact id anywhere beats a name match elsewhere (`int4` is a penalty, whatever else says so).
    """
    sections = [kind] if kind else list(SHOW_SECTIONS)
    hits = [(s, k) for s in sections for k in matching_ids(_section_table(cat, s), entry_id)]
    exact = [(s, k) for s, k in hits if k == entry_id]
    hits = exact or hits
    if not hits:
        raise CatalogError(_unknown_id_message(cat, entry_id, sections))
    if len(hits) > 1:
        several = ", ".join(f"{s}:{k}" for s, k in hits)
        hint = "" if kind else " or --kind"
        raise CatalogError(f"{entry_id!r} matches several entries ({several}); give the id{hint}")
    section, key = hits[0]
    return section, key, _section_table(cat, section)[key]


def _unknown_id_message(cat: Catalog, entry_id: str, sections: list[str]) -> str:
    # ~150 ids (mostly cloud offers) make a useless one-line list; suggest the nearest few.
    names: dict[str, str] = {}
    for s in sections:
        for name, key in spellings(_section_table(cat, s)).items():
            names.setdefault(name, key)
    wanted = entry_id.strip().lower().replace("_", "-").replace(" ", "-")
    close = difflib.get_close_matches(wanted, list(names), n=12, cutoff=0.6)
    ids = list(dict.fromkeys(names[n] for n in close))[:5]
    where = f" in {sections[0]}" if len(sections) == 1 else ""
    hint = f"did you mean {', '.join(ids)}?" if ids else "no close match"
    return f"unknown id {entry_id!r}{where}; {hint} (`qwen-plan catalog list` shows every id)"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value) or "—"
    return str(value)


_LAST = ("source", "as_of", "unknown")


def _ordered(keys: Iterable[str]) -> list[str]:
    """Facts first, their provenance last: easier to read than model field order."""
    keys = list(keys)
    return [k for k in keys if k not in _LAST] + [k for k in _LAST if k in keys]


def _flatten(
    data: dict[str, Any], prefix: str, rows: list[list[str]], subtables: dict[str, list[Any]]
) -> None:
    for key in _ordered(data):
        value, name = data[key], f"{prefix}{key}"
        if isinstance(value, dict) and value and all(not isinstance(v, dict) for v in value.values()) \
                and key == "unknown":
            rows.extend([[f"{name}.{k}", _scalar(v)] for k, v in value.items()])
        elif isinstance(value, dict):
            _flatten(value, f"{name}.", rows, subtables)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            subtables[name] = value
        else:
            rows.append([name, _scalar(value)])


def _show_tables(
    section: str, entry_id: str, data: dict[str, Any], related: dict[str, list[Any]]
) -> list[Table]:
    rows: list[list[str]] = []
    subtables: dict[str, list[Any]] = {}
    _flatten(data, "", rows, subtables)
    tables = [_table(f"{section}: {entry_id}", ["field", "value"], rows)]
    for name, items in [*subtables.items(), *related.items()]:
        cols = _ordered(dict.fromkeys(k for item in items for k in item if k != "unknown"))
        body = [[_scalar(item.get(c)) if not isinstance(item.get(c), dict) else json.dumps(item.get(c))
                 for c in cols] for item in items]
        tables.append(_table(name, cols, body))
    return tables


def _related(cat: Catalog, section: str, entry_id: str) -> dict[str, list[Any]]:
    if section == "gpus":
        return {
            "cloud offers": [_dump(o) for o in _sorted(cat.offers_for(entry_id))],
            "purchase offers": [_dump(o) for o in _sorted(cat.purchases_for(entry_id))],
        }
    if section == "models":
        return {"API offers": [_dump(o) for o in _sorted(cat.api_offers_for(entry_id))]}
    return {}


@click.command("show")
@click.argument("entry_id", metavar="ID")
@click.option(
    "--kind", type=click.Choice(SHOW_SECTIONS), default=None, help="Section to search (ids may repeat)."
)
@_format_option
@catalog_option
def show_cmd(entry_id: str, kind: str | None, fmt: Format, catalog_dir: Path | None) -> None:
    """Show one entry (model, GPU, offer, task, precision penalty, or `tco`) with its sources.

    ID may also be a name, an alias or a checkpoint repo, in any case: `H100`, `MI300X`,
    `Qwen/Qwen3.5-27B-FP8`.
    """
    cat = get_catalog(catalog_dir)
    section, entry_id, entry = _find(cat, entry_id, kind)
    data = _dump(entry)
    if fmt != "table":
        _emit_data(data, fmt)
        return
    related = {k: v for k, v in _related(cat, section, entry_id).items() if v}
    tables = _show_tables(section, entry_id, data, related)
    origin = cat.origin.get((section, entry_id))
    _emit_tables(tables)
    if origin is not None:
        click.echo(f"defined in {display_path(origin)}")


# ---------------------------------------------------------------- validate


@click.command("validate")
@click.argument("directory", metavar="[DIR]", required=False, type=click.Path(path_type=Path))
@click.option(
    "--standalone",
    is_flag=True,
    help="Validate DIR as a complete catalog on its own instead of as an overlay on the embedded one.",
)
def validate_cmd(directory: Path | None, standalone: bool) -> None:
    """Check the catalog: schema, units, references, duplicate ids; flag prices older than 12 months.

    With DIR, the folder is checked as an overlay on the embedded catalog (as `--catalog DIR`
    would load it). Without it, the embedded catalog (plus $QWEN_PLAN_CATALOG) is checked.
    Errors and warnings go to stderr, one line each, naming the file and the field.
    Exit 0 when there are no errors (warnings allowed), 2 otherwise.
    """
    if standalone and directory is None:
        raise click.UsageError("--standalone needs DIR")
    if directory is not None and not directory.is_dir():
        problem = "is a file; DIR must be a folder of catalog YAML files" if directory.exists() else "not found"
        raise CatalogError(f"catalog validate: {directory}: {problem}")
    cat, report = validate_catalog(None, embedded=directory) if standalone else validate_catalog(directory)
    stale = len(stale_entries(cat)) if cat is not None else 0
    # Staleness is a pricing policy (planner.cost), not a catalog rule: a warning, never an error.
    for w in [*(stale_entries(cat) if cat is not None else []), *report.warnings]:
        click.echo(f"warning: {w}", err=True)
    for e in report.errors:
        click.echo(f"error: {e}", err=True)
    summary = f"{len(report.errors)} error(s), {len(report.warnings) + stale} warning(s)"
    if not report.ok:
        click.echo(f"catalog invalid: {summary}", err=True)
        raise click.exceptions.Exit(2)
    click.echo(f"catalog ok: {summary}")


@click.group("catalog")
def command() -> None:
    """Browse and validate the catalog of models, GPUs, offers and tasks."""


command.add_command(list_cmd)
command.add_command(show_cmd)
command.add_command(validate_cmd)
