"""All procurement outputs at once, as bytes: what `plan --out DIR` and `cost --out DIR` write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from planner.catalog import Catalog
from planner.cost import SensitivityPoint
from planner.plan import Plan
from planner.report.csv_out import csv_text
from planner.report.html import html_text
from planner.report.procurement import procurement_table
from planner.report.xlsx import xlsx_bytes


def report_files(
    plan: Plan,
    catalog: Catalog,
    *,
    today: dt.date | None = None,
    sensitivity: Sequence[SensitivityPoint] = (),
) -> dict[str, bytes]:
    """{"procurement.xlsx", "procurement.csv", "procurement.json", "report.html"} -> file bytes."""
    proc = procurement_table(plan, catalog, today=today, sensitivity=sensitivity)
    return {
        "procurement.csv": csv_text(proc).encode("utf-8"),
        "procurement.json": (proc.to_json() + "\n").encode("utf-8"),
        "procurement.xlsx": xlsx_bytes(proc),
        "report.html": html_text(plan, proc).encode("utf-8"),
    }
