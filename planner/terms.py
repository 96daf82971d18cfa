"""Units and terms every layer shares: hours in a billing month, and what a commitment is priced on.

One home each, so a second copy (a literal 730, an "on-demand" spelled out in a report) is a
contract-test failure rather than a drift waiting to happen.
"""

from __future__ import annotations

from typing import Literal

# 365 days × 24 h ÷ 12: the convention cloud price lists use for "per month".
HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
SECONDS_PER_DAY = 86400.0
HOURS_PER_DAY = 24
DAYS_PER_MONTH = HOURS_PER_MONTH / HOURS_PER_DAY

Commit = Literal["none", "1y", "3y"]
COMMITS: tuple[Commit, ...] = ("none", "1y", "3y")
_BASIS: dict[Commit, str] = {"none": "on-demand", "1y": "1y", "3y": "3y"}


def commit_basis(commit: Commit) -> str:
    """The short price-basis name a cost line carries: `on-demand`, `1y`, `3y`."""
    return _BASIS[commit]


def commit_phrase(commit: Commit) -> str:
    """The basis as prose: `on-demand`, `1y commitment`."""
    return "on-demand" if commit == "none" else f"{commit} commitment"
