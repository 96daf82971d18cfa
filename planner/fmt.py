"""Number formats for every human-readable output (terminal tables, Markdown, HTML, READMEs)."""

from __future__ import annotations

DASH = "—"


def usd(v: float | None, digits: int = 0) -> str:
    """`$12,345` (or `—` when unknown)."""
    return DASH if v is None else f"${v:,.{digits}f}"


def num(v: float | None, digits: int = 1) -> str:
    """`12,345.6` (or `—` when unknown)."""
    return DASH if v is None else f"{v:,.{digits}f}"


def quantity(v: float | None, digits: int = 2) -> str:
    """A catalog quantity: thousands separators, at most `digits` decimals, no trailing zeros."""
    if v is None:
        return DASH
    return f"{v:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:,.0f}"


def tokens(t: float) -> str:
    """A token count in k/M/B/T with three significant digits."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if t >= scale:
            return f"{t / scale:,.3g}{unit}"
    return f"{t:,.0f}"


def md_cell(text: object) -> str:
    """Text for one Markdown table cell: a `|` from the catalog must not open a new column."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|")
