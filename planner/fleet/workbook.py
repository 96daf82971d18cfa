"""procurement/fleet.xlsx: the whole fleet in one workbook, live formulas that also carry their values.

Each deployment's own procurement.xlsx prices it every way it can be paid for; this workbook adds
them up. Per deployment its GPUs, capex and monthly cost are inputs (blue, as the chosen way of
paying in its own workbook); every total, each workload's share of its deployment (by peak load)
and the saving against planning each workload alone are formulas over them, so a buyer who changes
a quoted figure sees the fleet's total and saving move. The formulas are the subset
`planner.report.xlsx_values` evaluates, so each also carries the number it computes.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from planner.fleet.model import FleetPlan
from planner.report.xlsx import save_workbook, text_cell

USD = "#,##0.00"
BOLD = Font(bold=True)
INPUT = Font(color="1F4E79")  # blue: an input a buyer may overwrite
FLEET, WORKLOADS = "Fleet", "Workloads"
FIRST = 5  # first deployment row on the Fleet sheet


def _plus(col: str, rows: Sequence[int], sheet: str = "") -> str:
    """`a+b+c` over cells (the evaluated subset has no SUM); 0 for none."""
    return "+".join(f"{sheet}{col}{r}" for r in rows) or "0"


def _inputs(ws: Worksheet, row: int, values: Sequence[tuple[int, float | int]]) -> None:
    for col, v in values:
        c = ws.cell(row, col, v)
        c.font = INPUT
        if isinstance(v, float):
            c.number_format = USD


def _fleet_sheet(ws: Worksheet, plan: FleetPlan) -> tuple[dict[str, int], int]:
    ws.title = FLEET
    ws.cell(1, 1, f"qwen-plan fleet: {len(plan.workloads)} workloads on {len(plan.deployments)} deployments").font = \
        Font(bold=True, size=14)
    ws.cell(2, 1, "As of")
    ws.cell(2, 2, plan.as_of.isoformat())
    text_cell(ws, 3, 1, "Blue cells are inputs (each deployment's chosen way of paying, as its own "
                        "deployments/NAME/procurement.xlsx prices it); totals and the saving are formulas.")
    for col, h in enumerate(("deployment", "serves", "kind", "what", "where", "GPUs", "capex $", "$/month"), 1):
        ws.cell(FIRST - 1, col, h).font = BOLD
    rows: dict[str, int] = {}
    for i, d in enumerate(plan.deployments):
        r = FIRST + i
        rows[d.name] = r
        for col, v in enumerate((d.name, ", ".join(d.workloads), d.kind, d.option.label, d.option.where), 1):
            text_cell(ws, r, col, v)
        _inputs(ws, r, ((6, d.gpus), (7, float(d.capex_usd)), (8, float(d.monthly_cost_usd))))
    total = FIRST + len(plan.deployments)
    ws.cell(total, 1, "Total").font = BOLD
    span = list(rows.values())
    for letter in "FGH":
        c = ws[f"{letter}{total}"]
        c.value = f"={_plus(letter, span)}"
        c.font = BOLD
        if letter != "F":
            c.number_format = USD
    labels = (("Per year ($)", f"=H{total}*12"),
              ("Planned alone ($/month)", None),
              ("Saving against planning alone ($/month)", f"=H{total + 2}-H{total}"),
              ("Saving (%)", f"=IF(H{total + 2}>0,H{total + 3}/H{total + 2}*100,0)"))
    for k, (label, formula) in enumerate(labels, 1):
        ws.cell(total + k, 1, label)
        if formula is not None:
            ws.cell(total + k, 8, formula).number_format = USD
    for letter, width in zip("ABCDEFGH", (40, 30, 8, 40, 30, 7, 14, 14), strict=True):
        ws.column_dimensions[letter].width = width
    return rows, total


def _workloads_sheet(ws: Worksheet, plan: FleetPlan, dep_rows: dict[str, int]) -> int:
    for col, h in enumerate(("workload", "task", "deployment", "peak req/s", "share $/month", "alone $/month",
                             "TTFT p95 ms", "TPOT ms", "TTFT p10–p90 ms", "TPOT p10–p90 ms"), 1):
        ws.cell(1, col, h).font = BOLD
    rows = {w.name: 2 + i for i, w in enumerate(plan.workloads)}
    members: dict[str, list[int]] = {}
    for w in plan.workloads:
        members.setdefault(w.deployment, []).append(rows[w.name])
    for w in plan.workloads:
        r = rows[w.name]
        for col, v in enumerate((w.name, w.task, w.deployment), 1):
            text_cell(ws, r, col, v)
        _inputs(ws, r, ((4, w.sizing_rps),))
        ws.cell(r, 4).number_format = "0.000"
        # Its deployment's monthly cost split by the members' peak load, as FleetPlan's share.
        share = f"={FLEET}!$H${dep_rows[w.deployment]}*D{r}/({_plus('D', members[w.deployment])})"
        ws.cell(r, 5, share).number_format = USD
        if w.alone_monthly_usd is not None:
            _inputs(ws, r, ((6, float(w.alone_monthly_usd)),))
        else:
            ws.cell(r, 6, "no plan alone")
        ws.cell(r, 7, w.ttft_ms)
        ws.cell(r, 8, w.tpot_ms)
        for col, band in ((9, w.ttft_band_ms), (10, w.tpot_band_ms)):
            text_cell(ws, r, col, "—" if band is None else f"{band[0]:g}–{band[1]:g}")
    total = 2 + len(plan.workloads)
    ws.cell(total, 1, "Total").font = BOLD
    ws.cell(total, 5, f"={_plus('E', list(rows.values()))}").number_format = USD
    alone = [rows[w.name] for w in plan.workloads if w.alone_monthly_usd is not None]
    ws.cell(total, 6, f"={_plus('F', alone)}").number_format = USD
    for letter, width in zip("ABCDEFGHIJ", (24, 10, 40, 11, 14, 14, 12, 10, 16, 16), strict=True):
        ws.column_dimensions[letter].width = width
    return total


def fleet_xlsx(plan: FleetPlan) -> bytes:
    """The fleet-total workbook, byte-identical for the same plan."""
    wb = Workbook()
    fleet = wb.active
    assert fleet is not None
    dep_rows, total = _fleet_sheet(fleet, plan)
    wl_total = _workloads_sheet(wb.create_sheet(WORKLOADS), plan, dep_rows)
    fleet.cell(total + 2, 8, f"={WORKLOADS}!F{wl_total}").number_format = USD
    return save_workbook(wb, plan.as_of)
