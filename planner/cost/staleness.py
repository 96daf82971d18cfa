"""When a price is too old to trust without checking: a pricing policy, not a catalog fact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from planner import clock
from planner.catalog import Catalog
from planner.catalog.yaml_io import display_path

STALE_AFTER_DAYS = 365


def is_stale(as_of: dt.date, today: dt.date | None = None) -> bool:
    return ((today or clock.today()) - as_of).days > STALE_AFTER_DAYS


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
