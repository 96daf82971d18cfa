"""Number formats shared by the terminal tables and the HTML report."""

from __future__ import annotations


def tokens(t: float) -> str:
    """A token count in k/M/B/T with three significant digits."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if t >= scale:
            return f"{t / scale:,.3g}{unit}"
    return f"{t:,.0f}"
