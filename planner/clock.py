"""Today's date, the one input besides the request and catalog that outputs depend on.

`QWEN_PLAN_TODAY=YYYY-MM-DD` pins it, so a report can be reproduced byte for byte later (and golden
tests do not drift as catalog prices age into staleness).
"""

from __future__ import annotations

import datetime as dt
import os

from planner.errors import RequestError

ENV = "QWEN_PLAN_TODAY"


def today() -> dt.date:
    pinned = os.environ.get(ENV)
    if not pinned:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(pinned)
    except ValueError:
        raise RequestError(f"${ENV}: expected a date YYYY-MM-DD, got {pinned!r}") from None
