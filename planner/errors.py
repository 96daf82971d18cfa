"""User-facing errors. The CLI turns each into one line and an exit code."""

from __future__ import annotations


class PlannerError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 2


class CatalogError(PlannerError):
    """A catalog file (embedded or overlay) is malformed or inconsistent."""


class RequestError(PlannerError):
    """The user's request names an unknown value or is out of range."""


class NoFeasiblePlan(PlannerError):
    """Nothing in the search space meets the request.

    `near_misses` lists, best first, what bound and the smallest relaxation that works.
    """

    exit_code = 1

    def __init__(self, message: str, near_misses: list[str] | None = None) -> None:
        super().__init__(message)
        self.near_misses = near_misses or []
