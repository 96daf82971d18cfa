"""procurement.xlsx: opens in openpyxl, and its live formulas reproduce the JSON totals.

No spreadsheet application is installed, so a small evaluator below computes the formula subset
the writer emits (+ − × ÷, parentheses, comparisons, MIN, IF, cell and cross-sheet refs, ranges).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from test_report_procurement import CLOUD_REQUEST, OLD_API, TODAY, make_plan

from planner.catalog import Catalog
from planner.cost.lines import ApiLine, OnpremLine
from planner.report import procurement_table, xlsx_bytes
from planner.report.procurement import Procurement

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"[^"]*")
    | (?P<ref>(?:(?:'[^']+'|[A-Za-z_][A-Za-z0-9_]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
    | (?P<func>[A-Z]+)\(
    | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<op><=|>=|<>|[-+*/(),<>=])
    )""",
    re.VERBOSE,
)


class Evaluator:
    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, str], Any] = {}

    def cell(self, sheet: str, addr: str) -> Any:
        key = (sheet, addr.replace("$", ""))
        if key not in self.cache:
            v = self.wb[sheet][key[1]].value
            self.cache[key] = self.formula(sheet, v[1:]) if isinstance(v, str) and v.startswith("=") else v
        return self.cache[key]

    def formula(self, sheet: str, text: str) -> Any:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            assert m is not None and m.end() > pos, f"cannot parse {text[pos:]!r} in {text!r}"
            kind = m.lastgroup
            assert kind is not None
            tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.toks, self.i, self.sheet = tokens, 0, sheet
        value = self._compare()
        assert self.i == len(tokens), f"trailing tokens in {text!r}"
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _take(self) -> tuple[str, str]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def _compare(self) -> Any:
        left = self._add()
        ops: dict[str, Callable[[Any, Any], bool]] = {
            ">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
            "<=": lambda a, b: a <= b, "=": lambda a, b: a == b, "<>": lambda a, b: a != b}
        t = self._peek()
        if t and t[0] == "op" and t[1] in ops:
            self._take()
            return ops[t[1]](left, self._add())
        return left

    def _add(self) -> Any:
        v = self._mul()
        while (t := self._peek()) and t[1] in ("+", "-") and t[0] == "op":
            self._take()
            r = self._mul()
            v = v + r if t[1] == "+" else v - r
        return v

    def _mul(self) -> Any:
        v = self._unary()
        while (t := self._peek()) and t[1] in ("*", "/") and t[0] == "op":
            self._take()
            r = self._unary()
            v = v * r if t[1] == "*" else v / r
        return v

    def _unary(self) -> Any:
        t = self._peek()
        if t == ("op", "-"):
            self._take()
            return -self._unary()
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1]
        if kind == "op" and text == "(":
            v = self._compare()
            assert self._take() == ("op", ")")
            return v
        if kind == "ref":
            return self._ref(text)
        if kind == "func":
            args: list[Any] = []
            while True:
                args.append(self._compare())
                sep = self._take()
                if sep == ("op", ")"):
                    break
                assert sep == ("op", ",")
            return self._call(text, args)
        raise AssertionError(f"unexpected token {text!r}")

    def _ref(self, text: str) -> Any:
        sheet = self.sheet
        if "!" in text:
            sheet, text = text.rsplit("!", 1)
            sheet = sheet.strip("'")
        if ":" not in text:
            saved = (self.toks, self.i, self.sheet)
            v = self.cell(sheet, text)
            self.toks, self.i, self.sheet = saved
            return v
        a, b = (x.replace("$", "") for x in text.split(":"))
        (c1, r1), (c2, r2) = (re.match(r"([A-Z]+)(\d+)", x).groups() for x in (a, b))  # type: ignore[union-attr]
        assert c1 == c2, "only single-column ranges are emitted"
        out = []
        for r in range(int(r1), int(r2) + 1):
            saved = (self.toks, self.i, self.sheet)
            out.append(self.cell(sheet, f"{c1}{r}"))
            self.toks, self.i, self.sheet = saved
        return out

    @staticmethod
    def _call(name: str, args: list[Any]) -> Any:
        if name == "MIN":
            flat = [x for a in args for x in (a if isinstance(a, list) else [a])]
            return min(x for x in flat if isinstance(x, (int, float)))
        if name == "IF":
            return args[1] if args[0] else args[2]
        raise AssertionError(f"function {name} is not in the emitted subset")


def _summary_rows(ws: Any) -> list[int]:
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Way of paying")
    rows = []
    r = head + 1
    while ws.cell(r, 1).value in ("cloud", "onprem", "api"):
        rows.append(r)
        r += 1
    return rows


# chat: 2,000 text tokens in, half of them prefix-cached (billed at the API's cached $0.1 vs $0.4 per M);
# video: 300 text + 6,272 frame tokens in, nothing cached, priced by an API for the 27B model it runs.
# Each scenario plans the API's own model, so the recommended option has an API break-even.
SCENARIOS = {
    "chat-half-cached": (CLOUD_REQUEST.model_copy(update={"models": ("qwen3.5-35b-a3b",)}), OLD_API),
    "video-uncached": (CLOUD_REQUEST.model_copy(update={"task": "video", "models": ("qwen3.5-27b",)}),
                       OLD_API.model_copy(update={"model": "qwen3.5-27b"})),
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def proc(request: pytest.FixtureRequest, catalog: Catalog) -> Procurement:
    req, api = SCENARIOS[request.param]
    return procurement_table(make_plan(catalog, req, api))


@pytest.fixture(scope="module")
def wb(proc: Procurement) -> Any:
    return openpyxl.load_workbook(io.BytesIO(xlsx_bytes(proc)))


SOLVER = "Solver's choice monthly USD"


@pytest.fixture
def fresh_wb(proc: Procurement) -> Any:
    """A workbook of its own, for tests that edit cells."""
    return openpyxl.load_workbook(io.BytesIO(xlsx_bytes(proc)))


def _summary_cols(ws: Any) -> tuple[int, dict[str, str]]:
    """The summary's header row and a column letter for each header text."""
    head = next(r for r in range(1, 20) if ws.cell(r, 1).value == "#")
    cols = {}
    for c in range(1, ws.max_column + 1):
        if ws.cell(head, c).value is not None:
            cols[str(ws.cell(head, c).value)] = get_column_letter(c)
    return head, cols


def test_sheets(wb: Any, proc: Procurement) -> None:
    options = [f"Option {o.index}" for o in proc.options]
    assert wb.sheetnames == ["Summary", "Assumptions", *options, "Sources"]


def test_option_formulas_reproduce_the_json(wb: Any, proc: Procurement) -> None:
    ev = Evaluator(wb)
    for o in proc.options:
        ws = wb[f"Option {o.index}"]
        rows = _summary_rows(ws)
        assert len(rows) == len(o.rows)
        for r, cr in zip(rows, o.rows, strict=True):
            assert str(ws[f"H{r}"].value).startswith("="), "totals must stay formulas"
            assert ev.cell(ws.title, f"H{r}") == pytest.approx(cr.line.monthly_usd, rel=1e-9)
            assert ev.cell(ws.title, f"G{r}") == pytest.approx(cr.line.capex_usd, rel=1e-9)
            assert ev.cell(ws.title, f"F{r}") == cr.line.gpus
            assert ev.cell(ws.title, f"I{r}") == pytest.approx(cr.usd_per_m_output, rel=1e-9)
            assert (ws[f"L{r}"].value == "STALE") == cr.line.stale


def test_summary_formulas_reproduce_the_json(wb: Any, proc: Procurement) -> None:
    ev = Evaluator(wb)
    ws = wb["Summary"]
    head, col = _summary_cols(ws)
    bvr = col["Buy beats rent after (months, vs on-demand cloud)"]
    be = col["API break-even (M tokens/month)"]
    checked = 0
    for k, o in enumerate(proc.options):
        r = head + 1 + k
        assert ws.cell(r, 1).value == o.index
        if o.buy_vs_rent is not None and o.buy_vs_rent.months is not None:
            assert ev.cell("Summary", f"{bvr}{r}") == pytest.approx(o.buy_vs_rent.months, rel=1e-9)
        elif o.buy_vs_rent is not None:
            assert ev.cell("Summary", f"{bvr}{r}") == "never"
        else:
            assert ws[f"{bvr}{r}"].value in (None, "")
        # every break-even cell agrees with the JSON (in millions), blank exactly where the JSON has none
        if o.api_breakeven is None:
            assert ws[f"{be}{r}"].value in (None, "")
        else:
            assert ev.cell("Summary", f"{be}{r}") == pytest.approx(o.api_breakeven.tokens_month / 1e6, rel=1e-9)
            checked += 1
        # each cloud basis in its own column: on-demand never mixed with committed prices
        for basis in ("on-demand", "1y", "3y"):
            prices = [x.line.monthly_usd for x in o.rows if x.line.kind == "cloud" and x.line.basis == basis]
            cell = f"{col[f'Cheapest cloud {basis} monthly USD']}{r}"
            if prices:
                assert ev.cell("Summary", cell) == pytest.approx(min(prices), rel=1e-9)
            else:
                assert ws[cell].value in (None, "")
        # the solver's choice is the chosen row's live total, not a pasted number
        solver = col[SOLVER] + str(r)
        assert str(ws[solver].value).startswith("=")
        chosen = next(x.line.monthly_usd for x in o.rows if x.chosen)
        assert ev.cell("Summary", solver) == pytest.approx(chosen, rel=1e-9)
    # every self-hosted option of a model with an API has a break-even; here the first one does
    assert checked >= 1 and proc.options[0].api_breakeven is not None
    first = head + 1
    bought = proc.options[0].buy_vs_rent
    assert ws[f"{bvr}{first}"].value is not None and bought is not None and bought.months is not None
    stale_cells = [ws[f"{col['Stale prices']}{r}"].value for r in range(first, first + len(proc.options))]
    # exactly the options costed against the (stale) API price say so
    assert stale_cells == ["STALE (api)" if any(x.line.kind == "api" for x in o.rows) else None
                           for o in proc.options]
    assert stale_cells[0] == "STALE (api)"


def test_break_even_counts_the_cached_input_price(proc: Procurement) -> None:
    o = proc.options[0]
    assert o.option.monthly_cost_usd == pytest.approx(11 * 730)  # one lambda GPU
    if o.workload.cached_fraction == 0:
        # video, blended: (6572 × 0.4 + 500 × 2.4) / 7072 per M
        assert o.workload.input_per_request == 300 + 6272
        assert o.api_breakeven is not None
        assert o.api_breakeven.tokens_month == pytest.approx(8030 / ((6572 * 0.4 + 500 * 2.4) / 7072 / 1e6))
    else:
        # chat, 2000 in, half at 0.1: (1000 × 0.4 + 1000 × 0.1 + 1000 × 2.4) / 3000 per M
        assert o.workload.cached_fraction == 0.5
        assert o.api_breakeven is not None
        assert o.api_breakeven.tokens_month == pytest.approx(8030 / (2900 / 3000 / 1e6))


def _find(ws: Any, label: str, after: int = 1) -> int:
    return next(r for r in range(after, ws.max_row + 1) if ws.cell(r, 1).value == label)


def test_a_buyer_can_change_a_price_and_totals_move(fresh_wb: Any, proc: Procurement) -> None:
    wb = fresh_wb
    ws = wb["Option 1"]
    price_row = _find(ws, "Instance price")
    first = _summary_rows(ws)[0]
    assert ws[f"B{price_row}"].value == 11.0  # lambda's 1-GPU instance, the solver's choice
    ws[f"B{price_row}"] = 5.5  # half the quoted price
    ev = Evaluator(wb)
    assert ev.cell("Option 1", f"H{first}") == pytest.approx(proc.options[0].rows[0].line.monthly_usd / 2)
    # ... and the summary follows: the solver's choice (that row) and the on-demand column move, 1y does not
    summary = wb["Summary"]
    head, col = _summary_cols(summary)
    on_demand = proc.options[0].rows[0].line.monthly_usd
    assert ev.cell("Summary", col[SOLVER] + str(head + 1)) == pytest.approx(on_demand / 2)
    assert ev.cell("Summary", f"{col['Cheapest cloud on-demand monthly USD']}{head + 1}") == pytest.approx(
        on_demand / 2)
    one_year = ev.cell("Summary", f"{col['Cheapest cloud 1y monthly USD']}{head + 1}")
    assert one_year == pytest.approx(56 * 730)  # the aws 8-GPU box at 1y, untouched
    assert ev.cell("Summary", f"{col['API break-even (M tokens/month)']}{head + 1}") == pytest.approx(
        proc.options[0].api_breakeven.tokens_month / 2e6)  # type: ignore[union-attr]
    # Doubling the power price adds exactly one more energy bill to the on-prem total
    ws_a = wb["Assumptions"]
    power_row = _find(ws_a, "Power price")
    ws_a[f"B{power_row}"] = 2 * proc.tco.power_usd_per_kwh
    ev = Evaluator(wb)
    onprem_i = next(i for i, x in enumerate(proc.options[0].rows) if x.line.kind == "onprem")
    line = proc.options[0].rows[onprem_i].line
    assert isinstance(line, OnpremLine) and line.power_monthly > 0
    got = ev.cell("Option 1", f"H{_summary_rows(ws)[onprem_i]}")
    assert got == pytest.approx(line.monthly_usd + line.power_monthly)


def test_bytes_are_deterministic(proc: Procurement) -> None:
    data = xlsx_bytes(proc)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = z.read("docProps/core.xml").decode()
    assert core.count(f"{TODAY.isoformat()}T00:00:00Z") == 2
    assert xlsx_bytes(proc) == data


def test_a_buyer_can_change_the_cached_share(fresh_wb: Any, proc: Procurement) -> None:
    """The cached share is one input on the sheet: API totals and the break-even both follow it."""
    wb = fresh_wb
    ws = wb["Option 1"]
    cached_row = next(r for r in range(1, ws.max_row + 1)
                      if str(ws.cell(r, 1).value).startswith("Cached share of input (prefix-cache"))
    ws[f"B{cached_row}"] = 1.0
    ev = Evaluator(wb)
    o = proc.options[0]
    w = o.workload
    api_i = next(i for i, x in enumerate(o.rows) if x.line.kind == "api")
    line = o.rows[api_i].line
    assert isinstance(line, ApiLine)
    # all input at $0.1 per M
    want = w.input_tokens_month / 1e6 * 0.1 + w.output_tokens_month / 1e6 * 2.4
    if w.cached_fraction:  # chat: 2,628 M input × 0.1 + 1,314 M output × 2.4
        assert w.input_tokens_month == pytest.approx(2628e6)
        assert want == pytest.approx(2628 * 0.1 + 1314 * 2.4)
    assert ev.cell("Option 1", f"H{_summary_rows(ws)[api_i]}") == pytest.approx(want)
    head, col = _summary_cols(wb["Summary"])
    i, out = w.input_per_request, w.osl
    got = ev.cell("Summary", f"{col['API break-even (M tokens/month)']}{head + 1}")
    assert got == pytest.approx(8030 / ((i * 0.1 + out * 2.4) / (i + out) / 1e6) / 1e6)
