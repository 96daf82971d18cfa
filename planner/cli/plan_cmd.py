"""`qwen-plan plan` (also bare `qwen-plan`): size a deployment for a request."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from planner.catalog.schema import ENGINES, PRECISIONS, TASKS, TIERS
from planner.catalog.yaml_io import parse_yaml, read_input
from planner.cli.common import catalog_option, get_catalog
from planner.errors import RequestError
from planner.request import Request

F = TypeVar("F", bound=Callable[..., Any])


def _floats(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}", param=param) from None


def _csv(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    # Ids are lower-case; repeats are dropped (order kept) so `FP8,fp8` means `fp8`.
    items = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    return items or None


# (flag, request field, click type). Help text and ranges come from the Request model alone, so the
# limits live in one place and every violation gets the same one-line error.
_OPTIONS: list[tuple[str, str, Any]] = [
    ("--task", "task", click.Choice(TASKS)),
    ("--budget", "budget", float),
    ("--capex-budget", "capex_budget", float),
    ("--rps", "rps", float),
    ("--peak-rps", "peak_rps", float),
    ("--load-profile", "load_profile", "floats"),
    ("--concurrency", "concurrency", int),
    ("--think-time-s", "think_time_s", float),
    ("--tokens-per-day", "tokens_per_day", float),
    ("--isl", "isl", int),
    ("--osl", "osl", int),
    ("--ttft-ms", "ttft_ms", float),
    ("--tpot-ms", "tpot_ms", float),
    ("--min-quality", "min_quality", float),
    ("--deploy", "deploy", click.Choice(["cloud", "onprem", "api", "any"])),
    ("--gpus", "gpus", None),
    ("--providers", "providers", None),
    ("--precisions", "precisions", None),
    ("--models", "models", None),
    ("--engine", "engine", click.Choice(ENGINES)),
    ("--commit", "commit", click.Choice(["none", "1y", "3y"])),
    ("--years", "years", float),
    ("--power-price", "power_price", float),
    ("--pue", "pue", float),
    ("--utilization", "utilization", float),
    ("--colo-usd-per-kw-month", "colo_usd_per_kw_month", float),
    ("--ops-fraction", "ops_fraction", float),
    ("--cost-of-capital", "cost_of_capital", float),
    ("--tiers", "tiers", None),
    ("--regions", "regions", None),
    ("--market", "market", click.Choice(["global", "cn", "any"])),
    ("--allow-stale", "allow_stale", bool),
    ("--quality-tolerance", "quality_tolerance", float),
    ("--confidence", "confidence", float),
    ("--thinking", "thinking", str),
]
LIST_FIELDS = {"gpus", "providers", "precisions", "models", "tiers", "regions"}


def _bounds(field: str) -> str:
    """The field's limits as --help shows them, read from the Request model (their one home)."""
    marks = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = [f"x{op}{getattr(m, name):g}" for m in Request.model_fields[field].metadata
             for name, op in marks.items() if hasattr(m, name)]
    return f"  [{', '.join(parts)}]" if parts else ""


def request_options(func: F) -> F:
    """Every Request field as a flag, plus --request FILE.yaml and --catalog."""
    for flag, field, typ in reversed(_OPTIONS):
        doc = (Request.model_fields[field].description or "") + _bounds(field)
        if field in LIST_FIELDS:
            doc += " Comma-separated."
        if typ is bool:  # a switch: absent = None, so a --request file's value stands
            func = click.option(flag, field, is_flag=True, flag_value=True, default=None, help=doc)(func)
            continue
        if typ == "floats":
            func = click.option(flag, field, default=None, callback=_floats, help=doc + " Comma-separated.")(func)
            continue
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
    from_file: set[str] = set()
    if request_file is not None:
        loaded = parse_yaml(read_input(request_file, "--request", RequestError), str(request_file),
                            RequestError) or {}
        if not isinstance(loaded, dict):
            raise RequestError(f"{request_file}: expected a mapping of request fields")
        for key, value in loaded.items():
            name = str(key).replace("-", "_")
            if name in data:  # `ttft-ms` and `ttft_ms` both given: which one was meant?
                raise RequestError(f"{request_file}: {name} given twice (as {key!r} and another spelling)")
            data[name] = value
        from_file = set(data)
    given = {k: v for k, v in flags.items() if k in Request.model_fields and v is not None}
    data.update(given)
    from_file -= set(given)
    if "task" not in data:
        raise RequestError(f"--task is required; accepted: {', '.join(TASKS)}")
    try:
        return Request.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"]:  # a rule across fields (one load only)
            msg = err["msg"].removeprefix("Value error, ")
            raise RequestError(f"--rps/--concurrency/--tokens-per-day/--load-profile: {msg}") from None
        field = ".".join(str(p) for p in err["loc"])
        name = field.split(".")[0]
        where = f"{request_file}: {name}" if name in from_file else "--" + name.replace("_", "-")
        accepted = _accepted(name)
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(name, list(Request.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; accepted: {', '.join(Request.model_fields)}"
            raise RequestError(f"{where}: unknown field{hint}") from None
        if accepted:
            raise RequestError(f"{where}: invalid value {err['input']!r}{accepted}") from None
        raise RequestError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None


def _accepted(field: str) -> str:
    choices = {"precisions": PRECISIONS, "task": TASKS, "engine": ENGINES,
               "deploy": ("cloud", "onprem", "api", "any"), "commit": ("none", "1y", "3y"), "tiers": TIERS,
               "market": ("global", "cn", "any")}
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
    request = build_request(request_file, **flags)  # a bad request file fails before the catalog loads
    catalog = get_catalog(catalog_dir)
    # Reports (--out) draw sensitivity and load curves; a plain plan skips that work.
    plan = solve(request, catalog, with_analysis=out is not None)
    if out is not None:
        from planner.cli.output import write_outputs

        write_outputs(plan, catalog, out, force=force, autoscaler=autoscaler, kserve=fmt == "kserve")
    print_plan(plan, "table" if fmt == "kserve" else fmt)
