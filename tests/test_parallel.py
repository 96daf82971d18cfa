"""planner.parallel: the same list as the sequential map, the second half computed in a forked child,
and the sequential map wherever forking is off, unsafe or fails. Run in fresh single-threaded
interpreters (a pytest-xdist worker holds threads, where map_halves rightly refuses to fork)."""

from __future__ import annotations

import json
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
    print(json.dumps(parallel.map_halves(fn, list(range(n)))))
""")


def _run(mode: str, n: int) -> list[tuple[int, bool]]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(n)], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stderr == ""
    return [tuple(r) for r in json.loads(out.stdout)]


@pytest.mark.skipif(sys.platform != "linux", reason="forks on Linux only")
def test_second_half_runs_in_a_child_and_the_list_is_the_sequential_one() -> None:
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one usable CPU: map_halves stays sequential")
    n = 2 * parallel.MIN_ITEMS + 1
    got = _run("on", n)
    assert [v for v, _ in got] == [x * x for x in range(n)]
    assert [here for _, here in got] == [True] * (n // 2) + [False] * (n - n // 2)


@pytest.mark.parametrize(("mode", "n"), [
    ("off", 2 * parallel.MIN_ITEMS),  # not enabled (a library caller)
    ("on", parallel.MIN_ITEMS - 1),  # too few items to pay for a fork
    ("child-fails", 2 * parallel.MIN_ITEMS),  # the child delivers nothing: the parent computes it all
])
def test_sequential_wherever_forking_is_off_small_or_failed(mode: str, n: int) -> None:
    assert _run(mode, n) == [(x * x, True) for x in range(n)]
