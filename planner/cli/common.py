"""Shared CLI pieces: the catalog option and output formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planner.catalog import ENV_OVERLAY, Catalog, load_catalog

F = TypeVar("F", bound=Callable[..., Any])


def not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """`--x ''` is a mistake, not a request for the default (nor, for a path, for the current folder)."""
    if value is not None and not str(value).strip():
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


def _catalog_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    return None if not_empty(ctx, param, value) is None else Path(value or "")


def catalog_option(func: F) -> F:
    """`--catalog DIR`: overlay on the embedded catalog (also $QWEN_PLAN_CATALOG)."""
    return click.option(
        "--catalog",
        "catalog_dir",
        type=click.Path(file_okay=False),
        callback=_catalog_path,
        envvar=ENV_OVERLAY,
        default=None,
        help=f"Overlay folder of YAML added on top of the embedded catalog (or ${ENV_OVERLAY}).",
    )(func)


def get_catalog(catalog_dir: Path | None) -> Catalog:
    return load_catalog(catalog_dir)
