"""User-facing errors. The CLI turns each into one line and an exit code."""

from __future__ import annotations

import errno
import signal


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


class EnvironmentFailure(PlannerError):
    """The machine, not the request, failed: no space, no permission, a read-only file system."""

    exit_code = 1


class Interrupted(PlannerError):
    """SIGTERM, SIGHUP or SIGINT arrived while writing; the temporary folder was removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}; nothing was written")
        self.exit_code = 128 + signum


# errno -> (what to do, is it the environment's fault rather than the input's)
_OS_ADVICE: dict[int, tuple[str, bool]] = {
    errno.ENOSPC: ("no space left on the device; free some space or choose another folder", True),
    errno.EDQUOT: ("disk quota exceeded; free some space or choose another folder", True),
    errno.EACCES: ("permission denied; choose a folder you can write to", True),
    errno.EPERM: ("operation not permitted (an immutable or protected folder?); choose another folder", True),
    errno.EROFS: ("read-only file system; choose another folder", True),
    errno.EIO: ("input/output error from the device", True),
    errno.ENAMETOOLONG: ("name too long; choose a shorter path", False),
    errno.ENOTDIR: ("a parent of it is a file, not a folder", False),
    errno.ELOOP: ("too many levels of symbolic links", False),
    errno.ENOENT: ("no such file or folder", False),
    errno.EEXIST: ("already exists", False),
    errno.EISDIR: ("is a folder", False),
}


def os_failure(exc: OSError, what: str, verb: str = "write") -> PlannerError:
    """One line for an OSError, naming the flag and the path: exit 1 (environment) or 2 (input)."""
    advice, environment = _OS_ADVICE.get(exc.errno or 0, (exc.strerror or str(exc), True))
    path = exc.filename if exc.filename is not None else "?"
    cls = EnvironmentFailure if environment else RequestError
    return cls(f"{what}: cannot {verb} {path}: {advice}")


def one_line(message: str) -> str:
    """`message` with control characters and line separators escaped, so it prints as one line."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in message)
