"""`qwen-plan cost` end to end on the embedded catalog: the table agrees with the solver's choice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import openpyxl
import pytest
from click.testing import Result

REQ = ("--task", "chat", "--rps", "2", "--gpus", "h100-sxm")


def test_every_option_prices_the_solvers_choice(invoke: Callable[..., Result]) -> None:
    r = invoke("cost", *REQ, "--format", "json", "--no-sensitivity")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["options"] and data["sensitivity"] == []
    for o in data["options"]:
        chosen = [row for row in o["rows"] if row["chosen"]]
        assert len(chosen) == 1, o["label"]
        # the solver rounds to cents; the procurement line is the unrounded cost
        assert chosen[0]["monthly_usd"] == pytest.approx(o["option"]["monthly_cost_usd"], abs=0.01)
        # A self-hosted option can be rented; a hosted API is billed per token only.
        assert {row["kind"] for row in o["rows"]} >= ({"api"} if o["option"]["deploy"] == "api" else {"cloud"})
        for row in o["rows"]:
            assert row["source"] and row["as_of"]


def test_overrides_reach_the_onprem_rows(invoke: Callable[..., Result]) -> None:
    r = invoke("cost", *REQ, "--format", "json", "--no-sensitivity", "--years", "3", "--power-price", "0.2")
    data = json.loads(r.output)
    onprem = [row for o in data["options"] for row in o["rows"] if row["kind"] == "onprem"]
    assert onprem, "h100-sxm has a purchase price in the catalog"
    for row in onprem:
        assert row["basis"] == "3y depreciation"
        assert row["power_usd_per_kwh"] == 0.2
        assert row["depreciation_monthly"] == pytest.approx(row["capex_usd"] / 36)


def test_table_sensitivity_and_reports(invoke: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "reports"
    r = invoke("cost", *REQ, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "Option 1 (recommended)" in r.output and "★ cloud" in r.output
    assert "Sensitivity" in r.output and "5×" in r.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".qwen-plan-manifest.json", "procurement.csv", "procurement.json", "procurement.xlsx", "report.html"]
    data = json.loads((out / "procurement.json").read_text())
    points = data["sensitivity"]
    assert [p["multiplier"] for p in points] == [0.5, 1.0, 2.0, 5.0]
    costs = [p["monthly_usd"] for p in points if p["feasible"]]
    assert costs == sorted(costs), "more load never costs less"
    wb = openpyxl.load_workbook(out / "procurement.xlsx")
    assert wb.sheetnames[0] == "Summary" and "Option 1" in wb.sheetnames
    assert 'id="load-chart"' in (out / "report.html").read_text()


def test_bad_override_is_one_line_exit_2(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("cost", *REQ, "--pue", "0.5")
    assert r.returncode == 2
    assert "--pue" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
