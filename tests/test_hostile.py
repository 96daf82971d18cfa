"""Hostile and careless input, through the installed CLI: one line, the right exit code, no traceback.

Each test names the failure of the hostile-input campaign it guards (issue 15): values that became
code in reports, unbounded or blocking inputs, silently wrong reads, output that depended on the
time zone or the terminal's encoding.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html.parser
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_atomic import one_line_error
from test_render_fixtures import dense_plan

from planner.catalog import Catalog
from planner.catalog.schema import GpuSpec, text_problem
from planner.catalog.yaml_io import MAX_DEPTH, parse_yaml
from planner.cli.output import md_cell
from planner.errors import CatalogError
from planner.plan import Plan
from planner.render import render_files
from planner.report import csv_text, procurement_table, xlsx_bytes
from planner.report.csv_out import csv_cell
from planner.report.html import html_text

Run = Callable[..., CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[1]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = {
    "id": "=1+1",
    "provider": '=HYPERLINK("http://evil.example","x")',
    "instance_type": "@SUM(A1)<script>alert(1)</script>",
    "source": "+cmd|' /C calc'!A0",
}
FAST = settings(max_examples=8, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(dense_plan().model_dump_json(), encoding="utf-8")
    return path


def nothing_but(folder: Path, *names: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# ---------------------------------------------------------------- a value becomes code (failures 3-5)


def _hostile_offer(tmp_path: Path) -> Path:
    """An overlay whose cheapest H100 offer carries formula and markup text in every string field."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    offer = {**HOSTILE, "gpu": "h100-sxm", "gpus": 8, "region": "-2+3", "usd_per_hour": 0.5,
             "usd_per_hour_1y": None, "usd_per_hour_3y": None, "as_of": dt.date(2026, 11, 1),
             "unknown": {"usd_per_hour_1y": "none", "usd_per_hour_3y": "none"}}
    (overlay / "evil.yaml").write_text(yaml.safe_dump({"cloud": [offer]}), encoding="utf-8")
    return overlay


def _live_formulas(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_reports_never_turn_catalog_text_into_formulas_or_markup(run_qwen_plan: Run, tmp_path: Path) -> None:
    """Failure 4: overlay strings starting with = @ + - became live formulas in procurement.xlsx/.csv."""
    out = tmp_path / "reports"
    proc = run_qwen_plan("cost", "--task", "chat", "--rps", "1", "--deploy", "cloud", "--gpus", "h100-sxm",
                         "--catalog", str(_hostile_offer(tmp_path)), "--out", str(out), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    cells = [c for row in csv.reader(io.StringIO((out / "procurement.csv").read_text())) for c in row]
    assert "'" + HOSTILE["provider"] in cells and "'" + HOSTILE["source"] in cells
    assert [c for c in cells if c.startswith(FORMULA_START) and not c.lstrip("-").replace(".", "").isdigit()] == []
    formulas = _live_formulas(out / "procurement.xlsx")
    assert formulas, "the workbook's own formulas are still there"
    assert not [f for f in formulas if any(t in f for t in ("HYPERLINK", "SUM(A1)", "cmd|", "=1+1"))]
    wb = openpyxl.load_workbook(out / "procurement.xlsx")
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "s"}
    assert HOSTILE["provider"] in texts and HOSTILE["source"] in texts
    assert "script" not in _tags((out / "report.html").read_text())
    assert HOSTILE["instance_type"] in _text((out / "report.html").read_text())


class _Parser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _tags(page: str) -> list[str]:
    p = _Parser()
    p.feed(page)
    return p.tags


def _text(page: str) -> str:
    p = _Parser()
    p.feed(page)
    return "".join(p.text)


def _with_strings(plan: Plan, provider: str, source: str, offer_id: str) -> Plan:
    line = plan.recommended.chosen.model_copy(update={"provider": provider, "source": source, "offer_id": offer_id})
    rec = plan.recommended.model_copy(update={"chosen": line, "costs": [line]})
    return plan.model_copy(update={"recommended": rec})


one_line_text = st.text(st.characters(codec="utf-8"), max_size=30).filter(lambda s: text_problem(s) is None)


@FAST
@given(provider=one_line_text, source=one_line_text)
def test_any_catalog_text_is_inert_in_csv_and_xlsx(provider: str, source: str) -> None:
    plan = _with_strings(dense_plan(), provider, source, "x" + source)
    proc = procurement_table(plan)
    rows = list(csv.reader(io.StringIO(csv_text(proc))))
    assert all(len(r) == len(rows[0]) for r in rows)  # structure: no cell split or merged
    for c in (c for r in rows for c in r):
        assert not c.startswith(FORMULA_START) or c.lstrip("-").replace(".", "", 1).isdigit(), c
    assert rows[1][rows[0].index("provider")] == csv_cell(provider)
    cells = _cells(xlsx_bytes(proc))
    # The workbook's formulas are its own: the same with hostile text as with plain text.
    assert [c.value for c in cells if c.data_type == "f"] == _baseline_formulas()
    assert provider in {c.value for c in cells if c.data_type == "s"} | ({""} if not provider else set())


@functools.cache
def _baseline_formulas() -> list[Any]:
    cells = _cells(xlsx_bytes(procurement_table(_with_strings(dense_plan(), "p", "s", "xs"))))
    return [c.value for c in cells if c.data_type == "f"]


def _cells(data: bytes) -> list[Any]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


@settings(max_examples=3, derandomize=True, deadline=None)
@given(provider=one_line_text)
def test_any_catalog_text_is_text_in_html(provider: str) -> None:
    plan = _with_strings(dense_plan(), "<b>" + provider, "<script>" + provider, "id")
    page = html_text(plan, procurement_table(plan))
    assert "b" not in _tags(page) and "script" not in _tags(page)
    assert "<b>" + provider in _text(page)


@FAST
@given(name=st.text(min_size=1, max_size=20))
def test_catalog_strings_that_reach_comments_are_one_line(name: str, catalog: Catalog) -> None:
    """Failure 3: a newline in a GPU name escaped launch.sh's header comment and became a command."""
    data = catalog.gpu("h100-sxm").model_dump()
    if text_problem(name) is None:
        assert GpuSpec.model_validate({**data, "name": name}).name == name
    else:
        with pytest.raises(ValueError, match="one line"):
            GpuSpec.model_validate({**data, "name": name})


def test_catalog_validate_refuses_a_newline_in_a_gpu_name(run_qwen_plan: Run, tmp_path: Path,
                                                         catalog: Catalog) -> None:
    """Failure 3 through the CLI: `catalog validate` said ok, and launch.sh ran the second line."""
    gpu = {**catalog.gpu("h100-sxm").model_dump(mode="json"), "id": "evil", "aliases": [],
           "name": "H100\ntouch /tmp/pwned"}
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "gpu.yaml").write_text(yaml.safe_dump({"gpus": [gpu]}), encoding="utf-8")
    proc = run_qwen_plan("catalog", "validate", str(overlay))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "evil).name: must be one line of text" in errors[0], proc.stderr


@settings(max_examples=4, derandomize=True, deadline=None)
@given(name=one_line_text.filter(lambda s: s.strip() != ""))
def test_one_line_gpu_names_keep_launch_sh_a_script_that_only_comments_them(name: str, catalog: Catalog) -> None:
    import dataclasses

    gpu = catalog.gpu("h100-sxm").model_copy(update={"name": name})
    cat = dataclasses.replace(catalog, gpus={**catalog.gpus, "h100-sxm": gpu})
    script = render_files(dense_plan(), cat)["launch.sh"].decode()
    lines = script.splitlines()
    assert lines[1].startswith("# ") and name in lines[1]
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0
    assert [ln.split()[0] for ln in lines if ln and not ln.startswith("#")] == \
        [ln.split()[0] for ln in render_files(dense_plan(), catalog)["launch.sh"].decode().splitlines()
         if ln and not ln.startswith("#")]


def test_readme_table_survives_a_pipe_in_a_gpu_name(catalog: Catalog) -> None:
    import dataclasses

    gpu = catalog.gpu("h100-sxm").model_copy(update={"name": "H100 | injected | cells"})
    cat = dataclasses.replace(catalog, gpus={**catalog.gpus, "h100-sxm": gpu})
    readme = render_files(dense_plan(), cat)["README.md"].decode()
    row = next(ln for ln in readme.splitlines() if ln.startswith("| GPU |"))
    header = next(ln for ln in readme.splitlines() if ln.startswith("|"))
    assert row.replace("\\|", "").count("|") == header.count("|")


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda d: d["recommended"].update(quality="NaN"), "quality"),
    (lambda d: d["recommended"]["deployment"].update(replicas=10**30), "replicas"),
    (lambda d: d["recommended"]["deployment"].update(max_model_len=10**40), "max_model_len"),
    (lambda d: d["recommended"]["deployment"].update(replicas=True), "replicas"),
], ids=["nan", "huge-replicas", "huge-max-model-len", "bool-replicas"])
def test_render_refuses_a_hand_edited_plan(run_qwen_plan: Run, tmp_path: Path, edit: Any, needle: str) -> None:
    """Failure 5: NaN was written into plan.json; 10**30 replicas and `true` reached the manifests."""
    data = json.loads(dense_plan().model_dump_json())
    edit(data)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(data).replace('"NaN"', "NaN"), encoding="utf-8")
    proc = run_qwen_plan("render", "--plan", str(plan), "--out", str(tmp_path / "out"))
    one_line_error(proc, 2, "--plan:", needle)
    nothing_but(tmp_path, "plan.json")


# ---------------------------------------------------------------- bounded inputs (failures 6, 7)


def _special_inputs(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    return {"fifo": fifo, "dev-zero": Path("/dev/zero")}


@pytest.mark.parametrize(("flag", "kind"), [(f, "fifo") for f in ("--request", "--plan", "--cases", "--catalog")]
                         + [("--request", "dev-zero"), ("--catalog", "dev-zero")])
def test_inputs_must_be_regular_files(run_qwen_plan: Run, tmp_path: Path, flag: str, kind: str) -> None:
    """Failures 6-7: a FIFO hung forever and /dev/zero ate memory; now one line, at once."""
    path = _special_inputs(tmp_path)[kind]
    if flag == "--catalog":  # inside an overlay folder, as any *.yaml
        overlay = tmp_path / "overlay"
        overlay.mkdir()
        (overlay / "x.yaml").symlink_to(path)
        args = ["plan", "--task", "chat", "--catalog", str(overlay)]
    elif flag == "--request":
        args = ["plan", "--request", str(path)]
    elif flag == "--plan":
        args = ["render", "--plan", str(path), "--out", str(tmp_path / "out")]
    else:
        args = ["estimate", "--cases", str(path)]
    proc = run_qwen_plan(*args)
    one_line_error(proc, 2, "not a regular file")
    assert not (tmp_path / "out").exists()


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_yaml_limits_in_process() -> None:
    with pytest.raises(CatalogError, match="too large"):
        parse_yaml(ALIAS_BOMB, "bomb.yaml")
    with pytest.raises(CatalogError, match=f"deeper than {MAX_DEPTH}"):
        parse_yaml("x: " + "[" * 900 + "]" * 900, "deep.yaml")
    with pytest.raises(CatalogError, match=f"deeper than {MAX_DEPTH}"):
        parse_yaml("&a [*a]", "loop.yaml")
    with pytest.raises(CatalogError, match="duplicate key 'task'"):
        parse_yaml("task: chat\ntask: docs\n", "dup.yaml")


@pytest.mark.parametrize(("text", "needle"), [
    ("task: chat\n" + ALIAS_BOMB.replace("a:", "x_a:", 1), "too large"),
    ("task: chat\nrps: " + "[" * 900 + "]" * 900 + "\n", "deeper than"),
    ("task: chat\ntask: docs\n", "duplicate key 'task'"),
    ("task: chat\nttft-ms: 100\nttft_ms: 200\n", "ttft_ms given twice"),
    ("task: chat\nrps: true\n", "rps"),
    ("task: chat\nbudget: true\n", "budget"),
], ids=["alias-bomb", "deep", "duplicate", "two-spellings", "bool-rps", "bool-budget"])
def test_request_files_are_read_strictly(run_qwen_plan: Run, tmp_path: Path, text: str, needle: str) -> None:
    """Failures 6-8: an alias bomb hung, 900 levels crashed, duplicates and booleans were read silently."""
    req = tmp_path / "req.yaml"
    req.write_text(text, encoding="utf-8")
    one_line_error(run_qwen_plan("plan", "--request", str(req)), 2, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("models: &a [*a]\n", "deeper than"),
    (ALIAS_BOMB.replace("a:", "models: []\nx_a:", 1), "too large"),
], ids=["recursive-alias", "alias-bomb"])
def test_overlay_yaml_is_bounded(run_qwen_plan: Run, tmp_path: Path, text: str, needle: str) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "x.yaml").write_text(text, encoding="utf-8")
    one_line_error(run_qwen_plan("catalog", "list", "--catalog", str(overlay)), 2, needle)


def test_overlay_booleans_are_not_numbers(catalog: Catalog) -> None:
    data = catalog.gpu("h100-sxm").model_dump()
    for field in ("memory_gb", "tdp_w", "gpus_per_node"):
        with pytest.raises(ValueError, match="not true/false"):
            GpuSpec.model_validate({**data, field: True})
    with pytest.raises(ValueError, match="out of range"):
        GpuSpec.model_validate({**data, "memory_gb": 1e300})


@pytest.mark.parametrize("args", [
    ["plan", "--task", "chat", "--catalog", ""],
    ["render", "--plan", "PLAN", "--out", "OUT", "--name", ""],
    ["render", "--plan", "PLAN", "--out", "OUT", "--namespace", ""],
    ["plan", "--task", "do\x0bcs\u2028"],
    ["estimate", "--model", "qwen3.5-27b", "--gpu", "h100", "--precision", "fp8", "--tp", "1", "--isl", "1",
     "--osl", "1", "--batch", "1" + "0" * 400],
    ["estimate", "--model", "qwen3.5-27b", "--gpu", "h100", "--precision", "fp8", "--tp", "1", "--isl", "1",
     "--osl", "1", "--mtp", "10000000000"],
], ids=["empty-catalog", "empty-name", "empty-namespace", "control-characters", "batch-10e400", "mtp-1e10"])
def test_flags_are_checked(run_qwen_plan: Run, tmp_path: Path, plan_file: Path, args: list[str]) -> None:
    """Failures 6-8: `--catalog ""` read every YAML below the current folder; `--name ''` fell back to the
    default; a control character gave a two-line error; huge --batch/--mtp crashed or hung."""
    args = [str(plan_file) if a == "PLAN" else str(tmp_path / "out") if a == "OUT" else a for a in args]
    (tmp_path / "decoy.yaml").write_text("not: [a catalog")  # what `--catalog ""` would have read
    one_line_error(run_qwen_plan(*args, cwd=tmp_path), 2)
    nothing_but(tmp_path, "decoy.yaml", "plan.json")


def test_cases_lines_fail_alone_and_keep_their_numbers(run_qwen_plan: Run, tmp_path: Path) -> None:
    """Failures 6-8: 10**400 or deep nesting killed the stream; FF and U+2028 split lines; 0.5 pixels
    dropped the image; a huge mtp hung."""
    good = {"model": "qwen3.5-27b", "gpu": "h100", "precision": "fp8", "tp": 1, "isl": 1000, "osl": 100,
            "batch": 4}
    lines = [
        json.dumps(good),
        json.dumps(good).replace('"tp": 1', '"tp": 1' + "0" * 400),
        "[" * 100_000 + "]" * 100_000,
        json.dumps({**good, "isl": 1000}).replace(", ", ",\f"),  # a form feed inside the line
        json.dumps({**good, "gpu": "h100\u2028"}, ensure_ascii=False),
        json.dumps({**good, "mtp": 10**30}),
        json.dumps({**good, "images": 1, "image_pixels": 0.5}),
        json.dumps({**good, "tp": True}),
        json.dumps(good),
    ]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_qwen_plan("estimate", "--cases", str(cases))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    assert "error" not in out[0] and out[0] == out[-1]
    errors = {o["error"]["line"]: o["error"]["message"] for o in out if "error" in o}
    assert sorted(errors) == [2, 3, 4, 6, 7, 8]
    assert out[4] == out[0]  # U+2028 is inside line 5 (and trimmed like any space around a GPU id)
    assert "tp: must be an integer" in errors[2] and "401-digit" in errors[2]
    assert "invalid JSON" in errors[3] and "invalid JSON" in errors[4]
    assert "mtp" in errors[6] and "image_pixels" in errors[7] and "tp" in errors[8]


# ---------------------------------------------------------------- environment (failures 6, 9)


def test_an_ascii_terminal_gets_the_table(run_qwen_plan: Run, tmp_path: Path) -> None:
    """Failure 6: PYTHONIOENCODING=ascii crashed on the table's ★ (--out is written before the table prints)."""
    proc = run_qwen_plan("plan", "--task", "chat", "--rps", "1", "--deploy", "cloud", cwd=tmp_path,
                         env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "★" not in proc.stdout and "Recommended plan" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_today_is_the_same_in_every_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure 9: "today" followed the local zone, so one instant gave different plans across zones."""
    monkeypatch.delenv("QWEN_PLAN_TODAY")
    code = "from planner.clock import today; print(today().isoformat())"
    days = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "TZ": tz}).stdout.strip()
            for tz in ("Pacific/Kiritimati", "Etc/GMT+12")}  # UTC+14 and UTC-12: never the same local date
    assert days == {dt.datetime.now(dt.UTC).date().isoformat()}


def test_cell_escaping_functions() -> None:
    assert csv_cell("-12.50") == "-12.50" and csv_cell("-1+2") == "'-1+2" and csv_cell("\tx") == "'\tx"
    row = "| " + " | ".join(map(md_cell, ["a|b", "c\\|d"])) + " |"  # plan --format markdown
    assert [c.strip() for c in re.split(r"(?<!\\)\|", row.replace("\\\\", ""))[1:-1]] == ["a\\|b", "c\\|d"]
