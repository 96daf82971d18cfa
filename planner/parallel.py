"""A pure function over many items, its tail in a forked child: the CLI's cold-start budget (the
search's ladders, on a machine with two or more CPUs).

The caller walks the items in order and asks for `fn(item)` one at a time: items before `start` are
computed when asked, by the caller, while a forked child computes the rest and sends them back pickled
(read when the first of them is asked for). Every answer is the value `fn(item)` gives in the caller,
so results do not depend on whether the child ran. Forking is safe only in a process that holds no
other threads (a forked child gets copies of their locks, held or not), so it is opt-in, by the CLI,
and the child is skipped wherever that is not sure: another thread alive, no `fork` (not Linux), a
single usable CPU, few items; a child that does not deliver is replaced by the caller's own work.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items in the tail the fork and the transfer cost more than the child saves.
MIN_ITEMS = 128
_enabled = False


def enable(on: bool = True) -> None:
    """Let `map_tail` fork (the CLI, a single-threaded process, turns it on)."""
    global _enabled
    _enabled = on


def _can_fork() -> bool:
    return (_enabled and sys.platform == "linux" and threading.active_count() == 1
            and len(os.sched_getaffinity(0)) >= 2)


class Tail(Generic[T, R]):
    """`get(i)` is `fn(items[i])`; for i >= start, from the child when one ran. Use it as a context
    manager: leaving it reaps the child whether or not its results were read."""

    def __init__(self, fn: Callable[[T], R], items: Sequence[T], start: int) -> None:
        self.fn, self.items, self.start = fn, items, start
        self._pid: int | None = None
        self._pipe: int | None = None
        self._theirs: list[R] | None = None
        if len(items) - start >= MIN_ITEMS and _can_fork():
            self._fork()

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without running the parent's exit handlers
            code = 1
            try:
                os.close(read_end)
                data = pickle.dumps([self.fn(x) for x in self.items[self.start:]], protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def _collect(self) -> list[R] | None:
        """The child's results (None when it failed), reaping it; once."""
        if self._pid is None or self._pipe is None:
            return None
        with os.fdopen(self._pipe, "rb") as inp:
            data = inp.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = self._pipe = None
        if status != 0:
            return None
        try:
            theirs: list[R] = pickle.loads(data)  # our own child's output, over a private pipe
        except (pickle.UnpicklingError, EOFError):
            return None
        return theirs if len(theirs) == len(self.items) - self.start else None

    def get(self, i: int) -> R:
        if i < self.start:
            return self.fn(self.items[i])
        if self._pid is not None:
            self._theirs = self._collect()
        if self._theirs is None:
            return self.fn(self.items[i])
        return self._theirs[i - self.start]

    def __enter__(self) -> Tail[T, R]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._collect()


def map_tail(fn: Callable[[T], R], items: Sequence[T], share: float) -> Tail[T, R]:
    """`fn` over `items`, the last `share` of them computed ahead by a forked child where that is safe."""
    return Tail(fn, items, len(items) - int(len(items) * share))
