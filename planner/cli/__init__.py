"""Thin CLI: parse, call the library, print. One module per subcommand, loaded lazily."""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import io
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from planner import __version__, parallel
from planner.errors import EnvironmentFailure, PlannerError, os_failure
from planner.errors import one_line as _line

# pydantic looks for plugins (observability hooks) in every installed distribution's entry points
# before its first validation: 0.06-0.1 s of each start, for hooks a CLI never uses. A user who sets
# the variable keeps theirs (pydantic reads it at that first validation, after this import).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# subcommand name -> module under planner.cli exposing `command`
SUBCOMMANDS = {
    "plan": "plan_cmd",
    "catalog": "catalog_cmd",
    "estimate": "estimate_cmd",
    "cost": "cost_cmd",
    "render": "render_cmd",
    "calibrate": "calibrate_cmd",
    "fleet": "fleet_cmd",
}


class DefaultGroup(click.Group):
    """`qwen-plan --budget 1 --task docs` means `qwen-plan plan --budget 1 --task docs`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, m in SUBCOMMANDS.items() if importlib.util.find_spec(f"planner.cli.{m}"))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from each command's docstring, read from its source: importing every
        subcommand (fleet loads scipy, calibrate matplotlib) made `qwen-plan --help` take seconds."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, click.Command(n, help=_docstring(SUBCOMMANDS[n])).get_short_help_str(limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = SUBCOMMANDS.get(cmd_name)
        if module is None or importlib.util.find_spec(f"planner.cli.{module}") is None:
            return None
        cmd: click.Command = importlib.import_module(f"planner.cli.{module}").command
        return cmd

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ("--help", "-h", "--version"):
            args = ["plan", *args]
        return super().parse_args(ctx, args)


def _docstring(module: str) -> str:
    """The docstring of `command` in planner.cli.<module>, without importing it."""
    spec = importlib.util.find_spec(f"planner.cli.{module}")
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "command":
            return ast.get_docstring(node) or ""
    return ""


@click.group(name="qwen-plan", cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qwen-plan")
def cli() -> None:
    """Plan, size, cost and deploy the Qwen3.5 Medium models.

    Bare options run `plan`: `qwen-plan --budget 20000 --task docs`.
    """


def _safe_streams() -> None:
    """A terminal that cannot show ★ (PYTHONIOENCODING=ascii, LANG=C) gets `?`, not a crash after --out."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def main(argv: list[str] | None = None) -> Any:
    """Entry point: every user-facing failure is one line on stderr and exit 2 (1: nothing feasible)."""
    args = sys.argv[1:] if argv is None else argv
    if argv is None:  # the console script, not a caller in another program
        if hasattr(signal, "SIGPIPE"):
            # A reader that stops early (`qwen-plan | head`) ends the process as it ends `cat`: by SIGPIPE,
            # silently. Otherwise click turns EPIPE into exit 1, which here means "nothing meets the request".
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        parallel.enable()  # the console script: one thread, so the search may fork (planner.parallel)
        # A run lives about a second and makes few reference cycles: collecting the youngest generation
        # every 700 allocations (the default) spends a few percent of it finding none.
        gc.set_threshold(100_000, 20, 100)
    _safe_streams()
    try:
        # Bare `qwen-plan` is a request for help, not an error.
        rv = cli.main(args=args or ["--help"], prog_name="qwen-plan", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"error: {_line(exc.format_message())}", err=True)
        sys.exit(2)
    except PlannerError as exc:
        _fail(exc)
    except OSError as exc:  # an I/O failure no command anticipated: still one line naming the path
        _fail(os_failure(exc, "qwen-plan", "use"))
    except RecursionError:
        _fail(PlannerError("input nested too deeply"))
    except MemoryError:
        _fail(EnvironmentFailure("out of memory"))
    if isinstance(rv, int) and rv:
        sys.exit(rv)
    return rv


def _fail(exc: PlannerError) -> None:
    click.echo(f"error: {_line(str(exc))}", err=True)
    for hint in getattr(exc, "near_misses", []):
        click.echo(f"  - {_line(hint)}", err=True)
    sys.exit(exc.exit_code)
