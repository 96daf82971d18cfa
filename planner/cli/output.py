"""Print a Plan (table, JSON, YAML, Markdown) and write the --out folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Console
from rich.table import Table

from planner import cost
from planner.atomic import check_target
from planner.catalog import Catalog
from planner.cost import SensitivityPoint
from planner.plan import Option, Plan


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


def _where(o: Option) -> str:
    if o.deploy == "api":
        return f"API ({o.provider})"
    if o.deploy == "onprem":
        return f"on-prem, {o.instances} server(s), ${o.capex_usd:,.0f} capex"
    return f"{o.provider} {o.instance} ×{o.instances}"


def _fmt_ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.1f}"


def _rows(options: list[Option]) -> list[list[str]]:
    rows = []
    for o in options:
        shape = "—" if o.deploy == "api" else f"{o.precision} {o.gpu} TP{o.tp}" + (
            f" EP{o.ep}" if o.ep > 1 else "") + f" ×{o.replicas}"
        rows.append([
            o.model, shape, o.engine or "—", _where(o),
            f"${o.monthly_cost_usd:,.0f}" + (" (stale)" if o.stale_price else ""),
            f"${o.usd_per_million_tokens:,.2f}", _fmt_ms(o.ttft_ms), _fmt_ms(o.tpot_ms),
            f"{o.capacity_rps:,.2f}", f"{o.quality:.1f}",
        ])
    return rows


HEADERS = ["model", "shape", "engine", "where", "$/month", "$/M out", "TTFT p95 ms", "TPOT ms", "req/s",
           "quality"]


def why(plan: Plan) -> list[str]:
    """A short explanation of the choice, from the plan's own numbers."""
    r = plan.recommended
    res = plan.resolved
    lines = []
    if plan.request.has_load:
        lines.append(f"cheapest option meeting the load, TTFT ≤ {res['ttft_ms']} ms and TPOT ≤ {res['tpot_ms']} ms"
                     + (f", quality ≥ {plan.request.min_quality}" if plan.request.min_quality else "")
                     + (f" within ${plan.request.budget:,.0f}/month" if plan.request.budget else ""))
    else:
        lines.append("highest task quality within the budget; capacity is what one replica sustains at the SLO")
    lines.append(f"{plan.candidates_evaluated} candidate configurations evaluated; "
                 f"{len(plan.rejected)} families rejected")
    counts: dict[str, int] = {}
    for rej in plan.rejected:
        counts[rej.constraint] = counts.get(rej.constraint, 0) + 1
    if counts:
        lines.append("rejected by: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if r.deploy != "api" and plan.deployment is not None:
        d = plan.deployment
        lines.append(f"each replica: {d.gpus_per_replica}× {d.gpu}, batch up to {d.max_num_seqs}, "
                     f"max model length {d.max_model_len}" + (f", MTP {d.mtp_tokens}" if d.mtp_tokens else ""))
    lines.extend(plan.notes)
    return lines


def stale_lines(plan: Plan) -> list[str]:
    lines = []
    if any(o.stale_price for o in [plan.recommended, *plan.alternatives]):
        lines.append("(stale): priced from a catalog entry older than 12 months; check before you buy")
    if plan.stale_prices:
        lines.append(f"{len(plan.stale_prices)} catalog prices are older than 12 months (see plan.json)")
    return lines


def print_plan(plan: Plan, fmt: str) -> None:
    if fmt == "json":
        click.echo(plan_json(plan), nl=False)
        return
    if fmt == "yaml":
        click.echo(yaml.safe_dump(plan.model_dump(mode="json"), sort_keys=False), nl=False)
        return
    if fmt == "markdown":
        click.echo(plan_markdown(plan), nl=False)
        return
    console = Console(width=160, highlight=False)
    table = Table(title="Recommended plan and alternatives", show_lines=False)
    for h in ["", *HEADERS]:
        table.add_column(h)
    for i, row in enumerate(_rows([plan.recommended, *plan.alternatives])):
        table.add_row("★" if i == 0 else str(i), *row)
    console.print(table)
    for line in why(plan):
        console.print(f"• {line}")
    for line in stale_lines(plan):
        console.print(f"• {line}")


def plan_markdown(plan: Plan) -> str:
    out = ["# qwen-plan recommendation", ""]
    out.append("| " + " | ".join(["", *HEADERS]) + " |")
    out.append("|" + "---|" * (len(HEADERS) + 1))
    for i, row in enumerate(_rows([plan.recommended, *plan.alternatives])):
        out.append("| " + " | ".join(["**★**" if i == 0 else str(i), *row]) + " |")
    out += ["", "## Why", ""]
    out += [f"- {line}" for line in why(plan)]
    out += [f"- {line}" for line in stale_lines(plan)]
    if plan.rejected:
        out += ["", "## Rejected", "", "| family | constraint | detail |", "|---|---|---|"]
        out += [f"| {r.family} | {r.constraint} | {r.detail} |" for r in plan.rejected]
    out += ["", f"Queueing model: {plan.queueing_model}", ""]
    return "\n".join(out)


def write_outputs(
    plan: Plan, catalog: Catalog, out: Path, *, force: bool, autoscaler: str, kserve: bool = False
) -> Path:
    """Artifacts (render) plus procurement reports (report), written atomically into `out`."""
    from planner.render import write_artifacts
    from planner.report import report_files

    check_target(out, force)  # fail before the reports' work, not after
    extra = report_files(plan, catalog, sensitivity=sensitivity_points(plan, catalog))
    kwargs: dict[str, Any] = {"force": force, "autoscaler": autoscaler, "kserve": kserve, "extra_files": extra}
    return write_artifacts(plan, catalog, out, **kwargs)


def sensitivity_points(plan: Plan, catalog: Catalog) -> list[SensitivityPoint]:
    """The recommendation re-planned at 0.5×, 2× and 5× the load (empty without a load)."""
    from planner.report.procurement import option_label  # matplotlib behind it: only when reports are made
    from planner.solver import solve

    request = plan.request
    if not request.has_load:
        return []

    def summary(o: Option) -> str:
        where = o.deploy if o.deploy != "cloud" else f"{o.provider} {o.instance} ×{o.instances}"
        return f"{option_label(o)}, {where}"

    def replan(m: float) -> tuple[str, float]:
        p = solve(cost.scale_load(request, m), catalog)
        return summary(p.recommended), p.recommended.monthly_cost_usd

    base = cost.SensitivityPoint(1.0, summary(plan.recommended), plan.recommended.monthly_cost_usd, True)
    return sorted([base, *cost.sensitivity(replan)], key=lambda p: p.multiplier)
