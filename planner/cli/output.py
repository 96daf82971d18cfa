"""Print a Plan (table, JSON, YAML, Markdown) and write the --out folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from planner.atomic import check_target
from planner.catalog import Catalog
from planner.fmt import md_cell, num, usd
from planner.plan import Api, Plan, SelfHosted


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


def _where(o: SelfHosted | Api) -> str:
    if isinstance(o, SelfHosted) and o.spare_gpus:
        return f"{o.where}, {o.spare_gpus} GPU spare"
    return o.where


def _rows(options: list[SelfHosted | Api]) -> list[list[str]]:
    rows = []
    for o in options:
        if isinstance(o, SelfHosted):
            ep = f" EP{o.ep}" if o.ep > 1 else ""
            shape = f"{o.precision} {o.gpu} TP{o.tp}{ep} ×{o.deployment.replica_range}"
            engine: str = o.engine
            capacity = num(o.capacity_rps, 2)
        else:
            shape, engine, capacity = "—", "—", "—"  # an API's capacity is its (unpublished) rate limit
        rows.append([
            o.model, shape, engine, _where(o), usd(o.capex_usd) if o.capex_usd else "—",
            usd(o.monthly_cost_usd) + (" (stale)" if o.stale_price else ""),
            usd(o.usd_per_million_tokens, 2), num(o.ttft_ms), num(o.tpot_ms), num(o.priced_rps, 2), capacity,
            num(o.quality), usd(o.usd_per_quality_point) if o.usd_per_quality_point is not None else "—",
        ])
    return rows


# "load" is the rate each row is billed for; "capacity" what a self-hosted row sustains at the SLO.
HEADERS = ["model", "shape", "engine", "where", "capex", "$/month", "$/M out", "TTFT p95 ms", "TPOT ms",
           "load req/s", "capacity req/s", "quality", "$/quality pt/mo"]


def why(plan: Plan) -> list[str]:
    """A short explanation of the choice, from the plan's own numbers."""
    w = plan.workload
    lines = []
    if w.has_load:
        lines.append(f"cheapest option meeting the load, TTFT ≤ {w.ttft_ms} ms and TPOT ≤ {w.tpot_ms} ms"
                     + (f", quality ≥ {plan.request.min_quality}" if plan.request.min_quality else "")
                     + (f" within {usd(plan.request.budget)}/month" if plan.request.budget else ""))
    else:
        lines.append("highest task quality within the budget (quality within noise is a tie: cost decides); load "
                     "is what each row is priced at, capacity what the GPUs paid for sustain at the SLO")
    lines.append(f"{plan.candidates_evaluated} candidate configurations evaluated; "
                 f"{len(plan.rejected)} families rejected")
    counts: dict[str, int] = {}
    for rej in plan.rejected:
        counts[rej.constraint] = counts.get(rej.constraint, 0) + 1
    if counts:
        lines.append("rejected by: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    d = plan.deployment
    if d is not None:
        lines.append(f"each replica: {d.gpus_per_replica}× {d.gpu}, batch up to {d.max_num_seqs}, "
                     f"max model length {d.max_model_len}" + (f", MTP {d.mtp_tokens}" if d.mtp_tokens else ""))
    lines.extend(plan.notes)
    return lines


def band_lines(plan: Plan) -> list[str]:
    """Each self-hosted row's p10–p90 error band (cross-validated residuals of its regime)."""
    q = plan.request.confidence
    lines = [f"p10–p90 bands from cross-validated model error; sized at the {q:g} quantile"
             + (" (the central prediction)" if q == 0.5 else "") + ":"]
    for i, o in enumerate(plan.options):
        if not isinstance(o, SelfHosted) or o.bands is None:
            continue
        b = o.bands
        text = (f"  {'★' if i == 0 else i}: TTFT {num(b.ttft_ms[0])}–{num(b.ttft_ms[1])} ms, "
                f"TPOT {num(b.tpot_ms[0], 2)}–{num(b.tpot_ms[1], 2)} ms, "
                f"{num(b.output_tokens_per_s[0])}–{num(b.output_tokens_per_s[1])} output tok/s per replica")
        if o.quality_range is not None:
            text += f", quality {num(o.quality_range[0])}–{num(o.quality_range[1])}"
        if b.outside_measured_range:
            text += f" — widened, outside the measured range: {'; '.join(b.outside_measured_range)}"
        lines.append(text)
    return lines if len(lines) > 1 else []


def stale_lines(plan: Plan) -> list[str]:
    lines = []
    if any(o.stale_price for o in plan.options):
        lines.append("(stale): priced from a catalog entry older than 12 months; check before you buy")
    if plan.stale_prices:
        lines.append(f"{len(plan.stale_prices)} catalog prices are older than 12 months (see plan.json)")
    return lines


def print_plan(plan: Plan, fmt: str) -> None:
    if fmt == "json":
        click.echo(plan_json(plan), nl=False)
        return
    if fmt == "yaml":
        import yaml  # only for this format: a start need not load a YAML library

        click.echo(yaml.safe_dump(plan.model_dump(mode="json"), sort_keys=False), nl=False)
        return
    if fmt == "markdown":
        click.echo(plan_markdown(plan), nl=False)
        return
    # rich costs ~0.1 s to import; only the text table needs it.
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200, highlight=False)
    table = Table(title="Recommended plan and alternatives", show_lines=False)
    for h in ["", *HEADERS]:
        table.add_column(h)
    for i, row in enumerate(_rows(plan.options)):
        table.add_row("★" if i == 0 else str(i), *row)
    console.print(table)
    for line in why(plan):
        console.print(f"• {line}")
    for i, line in enumerate(band_lines(plan)):
        console.print(f"• {line}" if i == 0 else line)
    for line in stale_lines(plan):
        console.print(f"• {line}")


def plan_markdown(plan: Plan) -> str:
    out = ["# qwen-plan recommendation", ""]
    out.append("| " + " | ".join(["", *HEADERS]) + " |")
    out.append("|" + "---|" * (len(HEADERS) + 1))
    for i, row in enumerate(_rows(plan.options)):
        out.append("| " + " | ".join(["**★**" if i == 0 else str(i), *map(md_cell, row)]) + " |")
    out += ["", "## Why", ""]
    out += [f"- {line}" for line in why(plan)]
    out += [f"- {line}" if i == 0 else f"  - {line.strip()}" for i, line in enumerate(band_lines(plan))]
    out += [f"- {line}" for line in stale_lines(plan)]
    if plan.rejected:
        out += ["", "## Rejected", "", "| family | constraint | detail |", "|---|---|---|"]
        out += [f"| {md_cell(r.family)} | {r.constraint} | {md_cell(r.detail)} |" for r in plan.rejected]
    out += ["", f"Queueing model: {plan.queueing_model}", ""]
    return "\n".join(out)


def write_outputs(
    plan: Plan, catalog: Catalog, out: Path, *, force: bool, autoscaler: str, kserve: bool = False
) -> Path:
    """Artifacts (render) plus procurement reports (report), written atomically into `out`."""
    from planner.render import write_artifacts
    from planner.report import report_files

    check_target(out, force)  # fail before the reports' work, not after
    kwargs: dict[str, Any] = {"force": force, "autoscaler": autoscaler, "kserve": kserve,
                              "extra_files": report_files(plan)}
    return write_artifacts(plan, catalog, out, **kwargs)
