"""Issue 12, error bands in the reports: report.html, procurement.xlsx and procurement.csv written by the
installed CLI show each self-hosted option's p10–p90 TTFT, TPOT and throughput band, its regime and why it
was widened, all equal to the Plan JSON's `bands`; a hosted API row says no band is available."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import TODAY

from planner.plan import Plan, SelfHosted
from planner.report import procurement_table, report_files
from planner.report.bands import API_NO_BAND, NO_BAND
from planner.report.charts import pareto_figure
from planner.report.xlsx import BAND_HEADER

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Self-hosted options in several regimes, one outside the measured range (an Ada GPU), and an API.
ARGS = ("--task", "chat", "--rps", "2", "--deploy", "any", "--format", "json")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, qwen_plan_exe: str) -> tuple[dict[str, Any], Path]:
    """The Plan JSON on stdout and the --out folder of one real run of the installed CLI."""
    out = tmp_path_factory.mktemp("bands") / "plan"
    r = subprocess.run([qwen_plan_exe, *ARGS, "--out", str(out)], capture_output=True, text=True, timeout=300,
                       check=False, env={**os.environ, "QWEN_PLAN_TODAY": TODAY})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), out


@pytest.fixture(scope="module")
def options(written: tuple[dict[str, Any], Path]) -> list[dict[str, Any]]:
    plan, _ = written
    opts = [plan["recommended"], *plan["alternatives"]]
    hosted = [o for o in opts if o["deploy"] != "api"]
    # What makes this run a test of every case: bands everywhere self-hosted, one of them widened, an API row.
    assert hosted and all(o["bands"] is not None for o in hosted)
    assert any(o["bands"]["outside_measured_range"] for o in hosted), "no widened band in this plan any more"
    assert any(o["deploy"] == "api" for o in opts)
    return opts


def _close(shown: str, value: float, digits: int) -> bool:
    return abs(float(shown.replace(",", "")) - value) <= 0.5 * 10 ** -digits + 1e-9


# ---------------------------------------------------------------- XLSX


def _summary(path: Path, data_only: bool) -> tuple[Any, int, dict[str, int]]:
    ws = openpyxl.load_workbook(path, data_only=data_only)["Summary"]
    head = next(r for r in range(1, 20) if ws.cell(r, 1).value == "#")
    cols = {str(ws.cell(head, c).value): c for c in range(1, ws.max_column + 1) if ws.cell(head, c).value}
    return ws, head, cols


def test_xlsx_summary_has_numeric_band_columns_equal_to_the_plan(written: tuple[dict[str, Any], Path],
                                                                   options: list[dict[str, Any]]) -> None:
    _, out = written
    ws, head, cols = _summary(out / "procurement.xlsx", data_only=False)
    assert set(BAND_HEADER) <= set(cols)
    for k, o in enumerate(options):
        row = head + 1 + k
        assert str(ws.cell(row, 1).value) == str(k + 1)

        def cell(name: str, row: int = row) -> Any:
            return ws.cell(row, cols[name])

        if o["deploy"] == "api":
            assert all(cell(h).value is None for h in BAND_HEADER[:-1])  # no number invented
            assert cell("Error band note").value == API_NO_BAND
            continue
        b = o["bands"]
        expected = {"p95 TTFT ms": o["ttft_ms"], "TTFT p10 ms": b["ttft_ms"][0], "TTFT p90 ms": b["ttft_ms"][1],
                    "p95 TPOT ms": o["tpot_ms"], "TPOT p10 ms": b["tpot_ms"][0], "TPOT p90 ms": b["tpot_ms"][1],
                    "Output tok/s per replica p10": b["output_tokens_per_s"][0],
                    "Output tok/s per replica p90": b["output_tokens_per_s"][1]}
        for name, value in expected.items():
            c = cell(name)
            assert c.data_type == "n" and c.value == value, (k, name, c.value)
        assert cell("Error band regime").value == b["regime"]
        note = cell("Error band note").value
        if b["outside_measured_range"]:
            assert isinstance(note, str) and "widened" in note
            assert all(reason in note for reason in b["outside_measured_range"])
        else:
            assert note is None


def test_xlsx_formulas_keep_their_cached_values(written: tuple[dict[str, Any], Path]) -> None:
    _, out = written
    formulas, head, cols = _summary(out / "procurement.xlsx", data_only=False)
    values, _, _ = _summary(out / "procurement.xlsx", data_only=True)
    solver = cols["Solver's choice monthly USD"]
    f, v = formulas.cell(head + 1, solver).value, values.cell(head + 1, solver).value
    assert isinstance(f, str) and f.startswith("=") and isinstance(v, float)
    # the band cells are values, the same in both views
    ttft = cols["TTFT p10 ms"]
    assert formulas.cell(head + 1, ttft).value == values.cell(head + 1, ttft).value is not None


# ---------------------------------------------------------------- CSV


def test_csv_rows_carry_the_option_band(written: tuple[dict[str, Any], Path], options: list[dict[str, Any]]) -> None:
    _, out = written
    rows = list(csv.DictReader(io.StringIO((out / "procurement.csv").read_text(encoding="utf-8"))))
    seen = set()
    for r in rows:
        o = options[int(r["option"]) - 1]
        seen.add(int(r["option"]))
        if o["deploy"] == "api":
            assert all(r[k] == "" for k in ("p95_ttft_ms", "ttft_p10_ms", "tpot_p90_ms", "band_regime"))
            assert r["band_note"] == API_NO_BAND
            continue
        b = o["bands"]
        got = [float(r[k]) for k in ("p95_ttft_ms", "ttft_p10_ms", "ttft_p90_ms", "p95_tpot_ms", "tpot_p10_ms",
                                     "tpot_p90_ms", "output_tokens_per_s_per_replica_p10",
                                     "output_tokens_per_s_per_replica_p90")]
        assert got == [o["ttft_ms"], *b["ttft_ms"], o["tpot_ms"], *b["tpot_ms"], *b["output_tokens_per_s"]]
        assert r["band_regime"] == b["regime"]
        assert all(reason in r["band_note"] for reason in b["outside_measured_range"])
        assert (r["band_note"] == "") == (not b["outside_measured_range"])
    assert seen == set(range(1, len(options) + 1))


# ---------------------------------------------------------------- HTML


class _Tables(HTMLParser):
    """Every <table> as rows of cell texts, and every <dl> as (dt, dd) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.dls: list[list[tuple[str, str]]] = []
        self._cell: list[str] | None = None
        self._dt = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag == "dl":
            self.dls.append([])
        if tag in ("td", "th", "dt", "dd"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
        elif tag == "dt" and self._cell is not None:
            self._dt = "".join(self._cell)
        elif tag == "dd" and self._cell is not None:
            self.dls[-1].append((self._dt, "".join(self._cell)))
        if tag in ("td", "th", "dt", "dd"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parsed(out: Path) -> _Tables:
    p = _Tables()
    p.feed((out / "report.html").read_text(encoding="utf-8"))
    return p


def _point_and_band(text: str) -> tuple[str, str, str]:
    m = re.fullmatch(r"([\d,.]+)(?: ms)? \(p10–p90 ([\d,.]+)–([\d,.]+)\)", text)
    assert m is not None, text
    return m[1], m[2], m[3]


def test_html_comparison_table_shows_each_band(written: tuple[dict[str, Any], Path],
                                               options: list[dict[str, Any]]) -> None:
    _, out = written
    table = next(t for t in _parsed(out).tables if "p95 TTFT ms" in t[0])
    head = table[0]
    rows = {int(r[0]): dict(zip(head, r, strict=True)) for r in table[1:]}
    assert sorted(rows) == list(range(1, len(options) + 1))
    for k, o in enumerate(options, start=1):
        r = rows[k]
        band_cell = r["Error band"]
        if o["deploy"] == "api":
            assert band_cell == API_NO_BAND
            assert r["Output tok/s per replica, p10–p90"] == "—"
            continue
        b = o["bands"]
        for col, point, (lo, hi), digits in (("p95 TTFT ms", o["ttft_ms"], b["ttft_ms"], 1),
                                             ("p95 TPOT ms", o["tpot_ms"], b["tpot_ms"], 2)):
            shown = _point_and_band(r[col])
            assert [_close(s, v, digits) for s, v in zip(shown, (point, lo, hi), strict=True)] == [True] * 3, shown
        tps = r["Output tok/s per replica, p10–p90"].split("–")
        assert len(tps) == 2 and all(_close(s, v, 1) for s, v in zip(tps, b["output_tokens_per_s"], strict=True))
        assert b["regime"] in band_cell
        if b["outside_measured_range"]:
            assert "widened" in band_cell and all(x in band_cell for x in b["outside_measured_range"])
        else:
            assert "widened" not in band_cell


def test_html_plan_section_shows_the_recommendation_band(written: tuple[dict[str, Any], Path],
                                                         options: list[dict[str, Any]]) -> None:
    _, out = written
    pairs = dict(_parsed(out).dls[0])
    rec = options[0]
    assert rec["deploy"] != "api"
    b = rec["bands"]
    for key, point, band, digits in (("p95 TTFT", rec["ttft_ms"], b["ttft_ms"], 1),
                                     ("p95 TPOT", rec["tpot_ms"], b["tpot_ms"], 2)):
        assert pairs[key].endswith(")") and " ms (p10–p90 " in pairs[key]
        shown = _point_and_band(pairs[key])
        assert all(_close(s, v, digits) for s, v in zip(shown, (point, *band), strict=True)), shown
    assert b["regime"] in pairs["Error band"]
    tps = re.fullmatch(r"p10–p90 ([\d,.]+)–([\d,.]+) tok/s", pairs["Output tokens/s per replica"])
    assert tps is not None and _close(tps[1], b["output_tokens_per_s"][0], 1)
    assert _close(tps[2], b["output_tokens_per_s"][1], 1)


def test_pareto_chart_draws_each_tpot_band(written: tuple[dict[str, Any], Path]) -> None:
    plan = Plan.model_validate(written[0])
    ax = pareto_figure(procurement_table(plan)).axes[0]
    segments = {(round(float(s[0][1]), 2), round(float(s[1][1]), 2))
                for c in ax.collections for s in getattr(c, "get_segments", list)()}
    for o in plan.options:
        if isinstance(o, SelfHosted) and o.bands is not None and o.bands.tpot_ms[0] <= o.tpot_ms <= o.bands.tpot_ms[1]:
            assert tuple(o.bands.tpot_ms) in segments, o.label


# ---------------------------------------------------------------- determinism, and the cases a run may lack


def test_the_reports_are_the_plans_own_bytes(written: tuple[dict[str, Any], Path]) -> None:
    """The same Plan in-process gives byte-identical files: nothing in the bands drifts between runs."""
    plan_json, out = written
    files = report_files(Plan.model_validate(plan_json))
    for name in ("procurement.csv", "procurement.json", "procurement.xlsx", "report.html"):
        assert files[name] == (out / name).read_bytes(), name
    proc = json.loads(files["procurement.json"])
    in_plan = [o.get("bands") for o in (plan_json["recommended"], *plan_json["alternatives"])]
    assert [o["option"].get("bands") for o in proc["options"]] == in_plan


def test_a_widened_or_missing_band_is_said_in_every_report(written: tuple[dict[str, Any], Path]) -> None:
    plan = Plan.model_validate(written[0])
    rec, second = plan.options[0], plan.options[1]
    assert isinstance(rec, SelfHosted) and isinstance(second, SelfHosted) and rec.bands is not None
    reason = "planted reason: 9,999 tok/s per GPU > 1 measured"
    widened = rec.model_copy(update={"bands": rec.bands.model_copy(update={"outside_measured_range": [reason]})})
    bare = second.model_copy(update={"bands": None})
    planted = plan.model_copy(update={"recommended": widened, "alternatives": [bare, *plan.alternatives[1:]]})
    files = report_files(planted)
    page = files["report.html"].decode()
    html_reason = reason.replace(">", "&gt;")
    assert page.count(f"outside the measured range: {html_reason}") == 2  # the plan section and the table
    assert page.count(NO_BAND) == 1
    rows = list(csv.DictReader(io.StringIO(files["procurement.csv"].decode())))
    assert {r["band_note"] for r in rows if r["option"] == "1"} == {
        f"band widened, outside the measured range: {reason}"}
    second_rows = [r for r in rows if r["option"] == "2"]
    assert {(r["band_note"], r["ttft_p10_ms"], float(r["p95_ttft_ms"])) for r in second_rows} == {
        (NO_BAND, "", second.ttft_ms)}
    ws = openpyxl.load_workbook(io.BytesIO(files["procurement.xlsx"]))["Summary"]
    head = next(r for r in range(1, 20) if ws.cell(r, 1).value == "#")
    cols = {ws.cell(head, c).value: c for c in range(1, ws.max_column + 1)}
    assert reason in ws.cell(head + 1, cols["Error band note"]).value
    assert ws.cell(head + 2, cols["Error band note"]).value == NO_BAND
    assert ws.cell(head + 2, cols["TTFT p10 ms"]).value is None
    assert ws.cell(head + 2, cols["p95 TTFT ms"]).value == second.ttft_ms
