"""Issue 11, spreadsheets that show numbers: procurement.xlsx written by the installed CLI keeps live
formulas and also carries their computed values, so a viewer that does not recalculate (openpyxl with
data_only=True, file previewers) shows the totals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import openpyxl
import pytest

Run = Callable[..., CompletedProcess[str]]


def test_totals_are_cached_beside_live_formulas(run_qwen_plan: Run, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    r = run_qwen_plan("--task", "chat", "--rps", "2", "--deploy", "any", "--out", str(out))
    assert r.returncode == 0, r.stderr
    path = out / "procurement.xlsx"
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    proc = json.loads((out / "procurement.json").read_text())
    summary_f, summary_v = formulas["Summary"], values["Summary"]
    head = next(r for r in range(1, 20) if summary_f.cell(r, 1).value == "#")
    col = next(c for c in range(1, 20) if summary_f.cell(head, c).value == "Solver's choice monthly USD")
    for k, o in enumerate(proc["options"]):
        f, v = summary_f.cell(head + 1 + k, col).value, summary_v.cell(head + 1 + k, col).value
        assert isinstance(f, str) and f.startswith("=")  # still a live formula
        assert v == pytest.approx(o["option"]["monthly_cost_usd"], abs=0.01)  # and its value is there
    # Every formula cell of every sheet carries a value (an IF may give text such as "never").
    empty = [(ws.title, c.coordinate) for ws in formulas.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=") and values[ws.title][c.coordinate].value is None]
    assert not empty
