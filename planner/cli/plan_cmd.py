"""`qwen-plan plan` (also bare `qwen-plan`): size a deployment for a request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from pydantic import ValidationError

from planner.catalog.schema import ENGINES, PRECISIONS, TASKS
from planner.cli.common import catalog_option, get_catalog
from planner.errors import RequestError
from planner.request import Request

F = TypeVar("F", bound=Callable[..., Any])


def _csv(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    return items or None


# (flag, request field, click type, help). Help text comes from the Request model's field docs.
_OPTIONS: list[tuple[str, str, Any]] = [
    ("--task", "task", click.Choice(TASKS)),
    ("--budget", "budget", click.FloatRange(min=0, min_open=True)),
    ("--rps", "rps", click.FloatRange(min=0, min_open=True)),
    ("--concurrency", "concurrency", click.IntRange(min=1)),
    ("--tokens-per-day", "tokens_per_day", click.FloatRange(min=0, min_open=True)),
    ("--isl", "isl", click.IntRange(min=1)),
    ("--osl", "osl", click.IntRange(min=1)),
    ("--ttft-ms", "ttft_ms", click.FloatRange(min=0, min_open=True)),
    ("--tpot-ms", "tpot_ms", click.FloatRange(min=0, min_open=True)),
    ("--min-quality", "min_quality", click.FloatRange(min=0, max=100)),
    ("--deploy", "deploy", click.Choice(["cloud", "onprem", "api", "any"])),
    ("--gpus", "gpus", None),
    ("--providers", "providers", None),
    ("--precisions", "precisions", None),
    ("--models", "models", None),
    ("--engine", "engine", click.Choice(ENGINES)),
    ("--commit", "commit", click.Choice(["none", "1y", "3y"])),
    ("--years", "years", click.FloatRange(min=0, min_open=True)),
    ("--power-price", "power_price", click.FloatRange(min=0, min_open=True)),
    ("--pue", "pue", click.FloatRange(min=1)),
    ("--utilization", "utilization", click.FloatRange(min=0, max=1, min_open=True)),
]
LIST_FIELDS = {"gpus", "providers", "precisions", "models"}


def request_options(func: F) -> F:
    """Every Request field as a flag, plus --request FILE.yaml and --catalog."""
    for flag, field, typ in reversed(_OPTIONS):
        doc = Request.model_fields[field].description or ""
        if field in LIST_FIELDS:
            doc += " Comma-separated."
        func = click.option(flag, field, type=typ, default=None, callback=_csv if typ is None else None,
                            help=doc)(func)
    func = click.option(
        "--request",
        "request_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="YAML file with the same fields (flags override it).",
    )(func)
    return catalog_option(func)


def build_request(request_file: Path | None, **flags: Any) -> Request:
    """The file's fields, then the flags given on the command line on top; one-line errors."""
    data: dict[str, Any] = {}
    if request_file is not None:
        try:
            loaded = yaml.safe_load(request_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RequestError(f"{request_file}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
        if not isinstance(loaded, dict):
            raise RequestError(f"{request_file}: expected a mapping of request fields")
        data.update({str(k).replace("-", "_"): v for k, v in loaded.items()})
    data.update({k: v for k, v in flags.items() if k in Request.model_fields and v is not None})
    if "task" not in data:
        raise RequestError(f"--task is required; accepted: {', '.join(TASKS)}")
    try:
        return Request.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "request"
        name = field.split(".")[0]
        flag = "--" + name.replace("_", "-")
        accepted = _accepted(name)
        if accepted:
            raise RequestError(f"{flag}: invalid value {err['input']!r}{accepted}") from None
        raise RequestError(f"{flag}: {err['msg']}") from None


def _accepted(field: str) -> str:
    choices = {"precisions": PRECISIONS, "task": TASKS, "engine": ENGINES,
               "deploy": ("cloud", "onprem", "api", "any"), "commit": ("none", "1y", "3y")}
    return f"; accepted: {', '.join(choices[field])}" if field in choices else ""


@click.command("plan")
@request_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml", "markdown", "kserve"]),
              default="table", show_default=True,
              help="Output format on stdout; kserve prints the table and also writes a KServe resource to --out.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write plan.json, manifests, Helm chart, launch.sh and procurement reports here.")
@click.option("--force", is_flag=True, help="Replace an existing --out folder.")
@click.option("--autoscaler", type=click.Choice(["hpa", "keda", "none"]), default="hpa", show_default=True,
              help="Autoscaler manifest written with --out.")
def command(
    catalog_dir: Path | None, request_file: Path | None, fmt: str, out: Path | None, force: bool,
    autoscaler: str, **flags: Any,
) -> None:
    """Choose model, precision, GPU, parallelism, replicas and engine for a workload."""
    from planner.cli.output import print_plan
    from planner.solver import solve

    if fmt == "kserve" and out is None:
        raise RequestError("--format kserve: writes kserve/inferenceservice.yaml, so it needs --out DIR")
    catalog = get_catalog(catalog_dir)
    request = build_request(request_file, **flags)
    plan = solve(request, catalog)
    if out is not None:
        from planner.cli.output import write_outputs

        write_outputs(plan, catalog, out, force=force, autoscaler=autoscaler, kserve=fmt == "kserve")
    print_plan(plan, "table" if fmt == "kserve" else fmt)
