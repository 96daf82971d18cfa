"""`qwen-plan cost`: the plan's options under every way of paying, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from planner.cli.common import get_catalog
from planner.cli.plan_cmd import build_request, request_options
from planner.fmt import tokens, usd
from planner.report.procurement import Procurement


def _against(label: str, stale: bool) -> str:
    """A break-even is only as good as the price it is measured against: flag a stale one."""
    return f"vs {label}" + (", a STALE price" if stale else "")


def print_procurement(proc: Procurement, console: Console) -> None:
    for o in proc.options:
        title = f"Option {o.index}{' (recommended)' if o.recommended else ''}: {o.label}"
        table = Table(title=title, title_justify="left")
        for h in ("way of paying", "provider", "instance / item", "basis", "units", "GPUs", "capex",
                  "$/month", "$/M out", "price as of"):
            table.add_column(h, justify="right" if h in ("units", "GPUs", "capex", "$/month", "$/M out")
                             else "left")
        for r in o.rows:
            ln = r.line
            table.add_row(
                ("★ " if r.chosen else "") + ln.kind, ln.provider, ln.instance or "", ln.basis,
                str(ln.instances), str(ln.gpus), usd(ln.capex_usd) if ln.capex_usd else "—",
                usd(ln.monthly_usd), usd(r.usd_per_m_output, 2),
                ln.as_of.isoformat() + (" STALE" if ln.stale else ""),
            )
        console.print(table)
        notes = []
        bvr, be = o.buy_vs_rent, o.api_breakeven
        if bvr is not None:
            notes.append("buying beats renting " + (
                f"after {bvr.months:.1f} months" if bvr.months is not None else "never within the depreciation life")
                + f" ({_against(bvr.against, bvr.against_stale)})")
        if be is not None:
            notes.append(f"self-hosting beats the API above {tokens(be.tokens_month)} "
                         f"tokens/month ({_against(be.against, be.against_stale)})")
        w = o.workload
        notes.append(f"priced at {w.rps:,.3g} req/s ({w.basis}): {tokens(w.input_tokens_month)} input + "
                     f"{tokens(w.output_tokens_month)} output tokens/month")
        for n in notes:
            console.print(f"  • {n}")
    if proc.sensitivity:
        table = Table(title="Sensitivity: the recommendation when load changes", title_justify="left")
        for h in ("load", "recommendation", "$/month"):
            table.add_column(h)
        for p in proc.sensitivity:
            table.add_row(f"{p.multiplier:g}×", p.summary, usd(p.monthly_usd))
        console.print(table)
    if proc.stale:
        console.print(f"⚠ {len(proc.stale)} price(s) older than 12 months on {proc.as_of}:")
        for s in proc.stale:
            console.print(f"  - {s}")


@click.command("cost")
@request_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Output format on stdout.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write procurement.xlsx, procurement.csv, procurement.json and report.html here.")
@click.option("--force", is_flag=True, help="Replace an existing --out folder.")
@click.option("--sensitivity/--no-sensitivity", default=True, show_default=True,
              help="Re-plan at 0.5×, 2× and 5× the load (needs --rps, --concurrency or --tokens-per-day).")
def command(
    catalog_dir: Path | None, request_file: Path | None, fmt: str, out: Path | None, force: bool,
    sensitivity: bool, **flags: Any,
) -> None:
    """Cloud on-demand and committed, on-prem TCO and API cost of the plan and its alternatives."""
    from planner.atomic import check_target, write_folder
    from planner.report import csv_text, procurement_table, report_files
    from planner.solver import solve

    if out is not None:
        check_target(out, force)
    catalog = get_catalog(catalog_dir)
    request = build_request(request_file, **flags)
    plan = solve(request, catalog, with_analysis=True)
    if not sensitivity:
        plan = plan.model_copy(update={"sensitivity": []})
    proc = procurement_table(plan)
    if out is not None:
        write_folder(out, report_files(plan), force=force)
    if fmt == "json":
        click.echo(proc.to_json())
    elif fmt == "csv":
        click.echo(csv_text(proc), nl=False)
    else:
        print_procurement(proc, Console(width=160, highlight=False))
        if out is not None:
            click.echo(f"reports written to {out}")
