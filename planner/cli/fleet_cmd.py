"""`qwen-plan fleet FLEET.yaml`: plan several workloads as one fleet (docs/fleet.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click
import yaml

from planner.catalog import Catalog
from planner.cli.common import catalog_option, get_catalog
from planner.fleet.model import FleetPlan, fleet_json
from planner.fmt import md_cell, num, usd


def _band(band: tuple[float, float] | None) -> str:
    return "" if band is None else f" ({num(band[0])}–{num(band[1])})"


def _tables(plan: FleetPlan) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    dep_h = ["deployment", "serves", "what", "where", "GPUs", "capex", "$/month"]
    deps = [[d.name, ", ".join(d.workloads), d.option.label, d.option.where, str(d.gpus),
             usd(d.capex_usd) if d.capex_usd else "—", usd(d.monthly_cost_usd)] for d in plan.deployments]
    wl_h = ["workload", "task", "peak req/s", "deployment", "TTFT p95 ms (p10–p90)", "TPOT ms (p10–p90)", "quality",
            "share $/mo", "alone $/mo"]
    wls = [[w.name, w.task, num(w.sizing_rps, 2), w.deployment,
            f"{num(w.ttft_ms)}{_band(w.ttft_band_ms)} ≤ {num(w.ttft_target_ms)}",
            f"{num(w.tpot_ms)}{_band(w.tpot_band_ms)} ≤ {num(w.tpot_target_ms)}", num(w.quality),
            usd(w.share_monthly_usd),
            usd(w.alone_monthly_usd) if w.alone_monthly_usd is not None else "—"] for w in plan.workloads]
    return dep_h, deps, wl_h, wls


def _summary(plan: FleetPlan) -> list[str]:
    lines = [f"fleet {usd(plan.monthly_cost_usd)}/month"
             + (f", capex {usd(plan.capex_usd)}" if plan.capex_usd else "")
             + f"; planned alone {usd(plan.alone_monthly_usd)}/month: saving {usd(plan.saving_usd)} "
             f"({plan.saving_pct:.1f} %)"]
    if plan.greedy_monthly_usd is not None:
        lines.append(f"greedy per-workload assignment: {usd(plan.greedy_monthly_usd)}/month")
    lines += [f"{w.name}: {w.why}" for w in plan.workloads]
    lines += [f"{b.constraint}: {b.detail}" for b in plan.binding]
    lines.append(f"{plan.columns} candidate deployments in the integer program (HiGHS, optimal)")
    lines += plan.notes
    return lines


def _markdown(plan: FleetPlan) -> str:
    dep_h, deps, wl_h, wls = _tables(plan)
    out = ["# qwen-plan fleet", ""]
    for head, rows in ((dep_h, deps), (wl_h, wls)):
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
        out.append("")
    out += ["## Why", ""] + [f"- {line}" for line in _summary(plan)] + ["", f"Formulation: {plan.formulation}", ""]
    return "\n".join(out)


def print_fleet(plan: FleetPlan, fmt: str) -> None:
    if fmt == "json":
        click.echo(fleet_json(plan), nl=False)
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(plan.model_dump(mode="json"), sort_keys=False), nl=False)
    elif fmt == "markdown":
        click.echo(_markdown(plan), nl=False)
    else:
        from rich.console import Console  # only the table needs rich: json/yaml start faster without it
        from rich.table import Table

        console = Console(width=200, highlight=False)
        dep_h, deps, wl_h, wls = _tables(plan)
        for title, head, rows in (("Fleet deployments", dep_h, deps), ("Workloads", wl_h, wls)):
            table = Table(title=title)
            for h in head:
                table.add_column(h)
            for r in rows:
                table.add_row(*r)
            console.print(table)
        for line in _summary(plan):
            console.print(f"• {line}")


@click.command("fleet")
@click.argument("fleet_file", type=click.Path(dir_okay=False, path_type=Path))
@catalog_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "yaml", "markdown"]), default="table",
              show_default=True, help="Output format on stdout.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one folder per deployment, the routing (Gateway API HTTPRoute), the fleet plan.json "
                   "and the procurement reports here.")
@click.option("--force", is_flag=True, help="Replace an existing --out folder written by qwen-plan.")
@click.option("--autoscaler", type=click.Choice(["hpa", "keda", "none"]), default="hpa", show_default=True,
              help="Autoscaler manifest of each deployment written with --out.")
@click.option("--namespace", default="qwen-plan-fleet", show_default=True,
              help="Namespace of every deployment and route written with --out.")
@click.option("--gateway", default="qwen-plan-gateway", show_default=True,
              help="Gateway the routes attach to (parentRef), written with --out.")
def command(fleet_file: Path, catalog_dir: Path | None, fmt: str, out: Path | None, force: bool, autoscaler: str,
            namespace: str, gateway: str) -> None:
    """Plan several workloads as one fleet: shared deployments, quotas, owned GPUs, one integer program."""
    from planner.fleet import load_fleet, plan_fleet

    if out is not None:
        from planner.atomic import check_target

        check_target(out, force)  # before the planning work, not after
    catalog: Catalog = get_catalog(catalog_dir)
    spec = load_fleet(fleet_file, catalog)
    result = plan_fleet(spec, catalog)
    if out is not None:
        from planner.fleet.artifacts import write_fleet

        write_fleet(result, catalog, out, force=force, namespace=namespace, gateway=gateway,
                    autoscaler=cast(Literal["hpa", "keda", "none"], autoscaler))
    print_fleet(result.plan, fmt)
