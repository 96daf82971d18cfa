"""All procurement outputs at once, as bytes: what `plan --out DIR` and `cost --out DIR` write."""

from __future__ import annotations

from planner.plan import Plan
from planner.report.csv_out import csv_text
from planner.report.html import html_text
from planner.report.procurement import procurement_table
from planner.report.xlsx import xlsx_bytes


def report_files(plan: Plan) -> dict[str, bytes]:
    """{"procurement.xlsx", "procurement.csv", "procurement.json", "report.html"} -> file bytes.

    Charts and the sensitivity table need a plan solved `with_analysis=True`; without it they are left out.
    """
    proc = procurement_table(plan)
    return {
        "procurement.csv": csv_text(proc).encode("utf-8"),
        "procurement.json": (proc.to_json() + "\n").encode("utf-8"),
        "procurement.xlsx": xlsx_bytes(proc),
        "report.html": html_text(plan, proc).encode("utf-8"),
    }
