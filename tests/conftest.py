"""Shared fixtures: the embedded catalog, and a CLI runner that lets tracebacks surface."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from planner.catalog import Catalog, load_catalog
from planner.cli import cli

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-29"  # staleness is judged against this date, so outputs do not drift as prices age


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QWEN_PLAN_TODAY", TODAY)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """Run the CLI in-process; unexpected exceptions propagate (catch_exceptions=False)."""

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def qwen_plan_exe() -> str:
    """The installed console script: the one beside this interpreter (the test venv's)."""
    return shutil.which("qwen-plan", path=str(Path(sys.executable).parent)) or "qwen-plan"


@pytest.fixture
def run_qwen_plan(qwen_plan_exe: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """The installed console script, in a subprocess: what a user runs, error handling included."""
    exe = qwen_plan_exe

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [exe, *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120, check=False
        )

    return run
