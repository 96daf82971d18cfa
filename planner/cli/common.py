"""Shared CLI pieces: the catalog option and output formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planner.catalog import ENV_OVERLAY, Catalog, load_catalog
from planner.perf.constants import calibrated

F = TypeVar("F", bound=Callable[..., Any])


def not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """`--x ''` is a mistake, not a request for the default (nor, for a path, for the current folder)."""
    if value is not None and not str(value).strip():
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


def _catalog_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    return None if not_empty(ctx, param, value) is None else Path(value or "")


CALIBRATION_META = "qwen_plan.calibration"
ENV_CALIBRATION = "QWEN_PLAN_CALIBRATION"


def _calibration_path(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    ctx.meta[CALIBRATION_META] = None if not_empty(ctx, param, value) is None else Path(value or "")


def calibration_option(func: F) -> F:
    """`--calibration PROFILE.yaml` (also $QWEN_PLAN_CALIBRATION): read by get_catalog, not by the command."""
    return click.option(
        "--calibration",
        type=click.Path(dir_okay=False),
        callback=_calibration_path,
        envvar=ENV_CALIBRATION,
        default=None,
        expose_value=False,
        help=f"Calibration profile from `qwen-plan calibrate` (or ${ENV_CALIBRATION}; a profile in the --catalog "
             "folder works too).",
    )(func)


def catalog_option(func: F) -> F:
    """`--catalog DIR`: overlay on the embedded catalog (also $QWEN_PLAN_CATALOG), and `--calibration`."""
    return overlay_option(calibration_option(func))


def overlay_option(func: F) -> F:
    """`--catalog DIR` alone (`calibrate` fits against the shipped constants, never a profile)."""
    return click.option(
        "--catalog",
        "catalog_dir",
        type=click.Path(file_okay=False),
        callback=_catalog_path,
        envvar=ENV_OVERLAY,
        default=None,
        help=f"Overlay folder of YAML added on top of the embedded catalog (or ${ENV_OVERLAY}).",
    )(func)


def get_catalog(catalog_dir: Path | None, *, calibration: bool = True) -> Catalog:
    """The catalog; with `calibration`, the profile given (or found in the overlay) is in force for the rest
    of the command."""
    cat = load_catalog(catalog_dir)
    if calibration:
        ctx = click.get_current_context(silent=True)
        given = ctx.meta.get(CALIBRATION_META) if ctx is not None else None
        if given is not None or cat.calibrations:
            from planner.calibrate.profile import activate

            consts = activate(given, cat)
            if ctx is not None:
                ctx.with_resource(calibrated(consts))
    return cat
