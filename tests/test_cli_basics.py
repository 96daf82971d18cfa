"""Every command answers --help (text checked in) and --version works (the wheel: test_catalog_snapshot.py)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from planner import __version__
from planner.cli import SUBCOMMANDS, cli

GOLDEN = Path(__file__).parent / "golden" / "help"


@pytest.mark.parametrize("command", ["", *sorted(SUBCOMMANDS)])
def test_help_text_is_checked_in(command: str) -> None:
    args = [command, "--help"] if command else ["--help"]
    # A fixed terminal width so the wrapped text is the same everywhere.
    r = CliRunner().invoke(cli, args, terminal_width=100, catch_exceptions=False)
    assert r.exit_code == 0
    path = GOLDEN / f"{command or 'qwen-plan'}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(r.output)
    assert r.output == path.read_text()


def test_version(invoke: Callable[..., Result]) -> None:
    r = invoke("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_unknown_command_is_one_line(run_qwen_plan: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    r = run_qwen_plan("frobnicate")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "frobnicate" in r.stderr


def test_bad_choice_names_flag_and_values(run_qwen_plan: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--deploy", "moon")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "--deploy" in r.stderr and "cloud" in r.stderr and "onprem" in r.stderr


def test_bad_precision_list_names_accepted_values(
    run_qwen_plan: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    r = run_qwen_plan("--task", "chat", "--precisions", "fp8,fp3")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "--precisions" in r.stderr and "nvfp4" in r.stderr


def test_a_reader_that_stops_early_ends_it_quietly_not_as_infeasible(qwen_plan_exe: str) -> None:
    """`qwen-plan | head`: SIGPIPE, as for `cat`, with nothing on stderr; exit 1 would say "nothing fits".
    The reader is gone before the plan is printed (closed at start), so the first write meets it."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        r = subprocess.run([qwen_plan_exe, "--budget", "20000", "--task", "docs"], stdout=write_end,
                           stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert r.returncode == -signal.SIGPIPE
    assert r.stderr == b""
