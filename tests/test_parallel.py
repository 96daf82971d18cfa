"""planner.parallel: every answer is the caller's own `fn(item)`, the tail computed by a forked child,
and the caller's own work wherever forking is off, unsafe or fails. Run in fresh single-threaded
interpreters (a pytest-xdist worker holds threads, where map_tail rightly refuses to fork)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from planner import parallel

SCRIPT = textwrap.dedent("""
    import json, os, sys
    from planner import parallel
    if sys.argv[1] != "off":
        parallel.enable()
    parent = os.getpid()

    def fn(x):
        if sys.argv[1] == "child-fails" and os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return (x * x, os.getpid() == parent)

    n = int(sys.argv[2])
    with parallel.map_tail(fn, list(range(n)), share=0.6) as tail:
        got = [tail.get(i) for i in range(n) if i % 7]  # in order, some items never asked for
    print(json.dumps([tail.start, got]))
""")


def _run(mode: str, n: int) -> tuple[int, list[tuple[int, bool]]]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(n)], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stderr == ""
    start, got = json.loads(out.stdout)
    return start, [tuple(r) for r in got]


@pytest.mark.skipif(sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2,
                    reason="forks on Linux with two or more usable CPUs only")
def test_the_tail_comes_from_a_child_and_every_answer_is_fn() -> None:
    n = 4 * parallel.MIN_ITEMS
    start, got = _run("on", n)
    asked = [i for i in range(n) if i % 7]
    assert start == n - int(n * 0.6)
    assert [v for v, _ in got] == [i * i for i in asked]
    assert [here for _, here in got] == [i < start for i in asked]


@pytest.mark.parametrize(("mode", "n"), [
    ("off", 4 * parallel.MIN_ITEMS),  # not enabled (a library caller)
    ("on", parallel.MIN_ITEMS),  # a tail too short to pay for a fork
    ("child-fails", 4 * parallel.MIN_ITEMS),  # the child delivers nothing: the caller computes it all
])
def test_the_callers_own_work_wherever_forking_is_off_small_or_failed(mode: str, n: int) -> None:
    _, got = _run(mode, n)
    assert got == [(i * i, True) for i in range(n) if i % 7]
