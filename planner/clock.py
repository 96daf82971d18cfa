"""Today's date, the one input besides the request and catalog that outputs depend on.

`QWEN_PLAN_TODAY=YYYY-MM-DD` pins it, so a report can be reproduced byte for byte later (and golden
tests do not drift as catalog prices age into staleness). Unpinned, it is today in UTC: the same
instant gives the same plan in every time zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import os

from planner.errors import RequestError

ENV = "QWEN_PLAN_TODAY"


def today() -> dt.date:
    return _parse(os.environ.get(ENV), dt.datetime.now(dt.UTC).date())


@functools.lru_cache(maxsize=8)
def _parse(pinned: str | None, system: dt.date) -> dt.date:
    # Cached: every priced candidate asks, thousands of times per plan.
    if not pinned:
        return system
    try:
        return dt.date.fromisoformat(pinned)
    except ValueError:
        raise RequestError(f"${ENV}: expected a date YYYY-MM-DD, got {pinned!r}") from None
