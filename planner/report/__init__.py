"""Procurement reports: the cost table of a plan as XLSX (live formulas), CSV, JSON and HTML."""

from planner.report.csv_out import csv_text, write_csv
from planner.report.files import report_files
from planner.report.html import html_text, write_html
from planner.report.procurement import (
    CostRow,
    OptionCosts,
    PricedLoad,
    Procurement,
    procurement_table,
    way_of_paying,
)
from planner.report.xlsx import write_xlsx, xlsx_bytes

__all__ = [
    "CostRow",
    "OptionCosts",
    "PricedLoad",
    "Procurement",
    "csv_text",
    "html_text",
    "procurement_table",
    "report_files",
    "way_of_paying",
    "write_csv",
    "write_html",
    "write_xlsx",
    "xlsx_bytes",
]
