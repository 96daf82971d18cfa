"""The plan as JSON from the installed CLI, for the tests that read it (importable helpers only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

Run = Callable[..., CompletedProcess[str]]


def plan(run: Run, *args: str) -> dict[str, Any]:
    r = run(*args, "--format", "json")
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def options(p: dict[str, Any]) -> list[dict[str, Any]]:
    return [p["recommended"], *p["alternatives"]]
