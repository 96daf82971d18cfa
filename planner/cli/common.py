"""Shared CLI pieces: the catalog option and output formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planner.catalog import ENV_OVERLAY, Catalog, load_catalog

F = TypeVar("F", bound=Callable[..., Any])


def catalog_option(func: F) -> F:
    """`--catalog DIR`: overlay on the embedded catalog (also $QWEN_PLAN_CATALOG)."""
    return click.option(
        "--catalog",
        "catalog_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=ENV_OVERLAY,
        default=None,
        help=f"Overlay folder of YAML added on top of the embedded catalog (or ${ENV_OVERLAY}).",
    )(func)


def get_catalog(catalog_dir: Path | None) -> Catalog:
    return load_catalog(catalog_dir)
