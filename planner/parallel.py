"""A pure function over many items on two cores: the CLI's cold-start budget (the search's ladders).

The second half of the items runs in a forked child while the parent runs the first; the child sends
its results back pickled, so the caller gets the very list `[fn(x) for x in items]` would give, in the
same order. Forking is safe only in a process that holds no other threads (a forked child gets copies
of their locks, held or not), so it is opt-in, by the CLI, and falls back to one core wherever it is
not sure: another thread alive, no `fork` (not Linux), a single usable CPU, few items, or a child
that did not deliver.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items the fork and the transfer cost more than half the work saves.
MIN_ITEMS = 256
_enabled = False


def enable(on: bool = True) -> None:
    """Let `map_halves` fork (the CLI, a single-threaded process, turns it on)."""
    global _enabled
    _enabled = on


def _can_fork() -> bool:
    return (_enabled and sys.platform == "linux" and threading.active_count() == 1
            and len(os.sched_getaffinity(0)) >= 2)


def map_halves(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[fn(x) for x in items]`, the second half in a child process when that is safe. `fn` must be
    pure (what the child changes is lost) and its results picklable."""
    if len(items) < MIN_ITEMS or not _can_fork():
        return [fn(x) for x in items]
    half = len(items) // 2
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_end)
            data = pickle.dumps([fn(x) for x in items[half:]], protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    mine = [fn(x) for x in items[:half]]
    with os.fdopen(read_end, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    theirs: list[R] | None = None
    if status == 0:
        try:
            theirs = pickle.loads(data)  # our own child's output, over a private pipe
        except (pickle.UnpicklingError, EOFError):
            theirs = None
    if theirs is None or len(theirs) != len(items) - half:
        theirs = [fn(x) for x in items[half:]]
    return mine + theirs
