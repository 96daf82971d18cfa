"""Cached values for procurement.xlsx: every formula cell also carries the number it computes.

openpyxl writes formulas with an empty cached value, so viewers that do not recalculate (previewers,
`openpyxl` with `data_only=True`) show blank totals. The workbook's formulas use a small subset
(+ − × ÷, comparisons, MIN, IF, cell and single-column range references), so they are evaluated here
and the results written into the saved sheets beside the formulas, which stay live.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<str>\"[^\"]*\")|(?P<func>[A-Z]+)\(|"
    r"(?P<ref>(?:'[^']+'|[A-Za-z_][A-Za-z0-9_]*)?!?\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)|(?P<op><>|>=|<=|[-+*/(),<>=]))"
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b,
}


class _Eval:
    """Recursive-descent evaluation of one workbook's formulas, memoised per cell."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.memo: dict[tuple[str, str], Any] = {}

    def cell(self, sheet: str, addr: str) -> Any:
        key = (sheet, addr.replace("$", ""))
        if key not in self.memo:
            c = self.wb[sheet][key[1]]
            self.memo[key] = _Formula(self, sheet, c.value[1:]).value() if _is_formula(c) else c.value
        return self.memo[key]


def _is_formula(cell: Any) -> bool:
    # The cell's type, not its text: catalog text starting with `=` is stored as a string (xlsx.text_cell).
    return cell.data_type == "f" and isinstance(cell.value, str)


class _Formula:
    def __init__(self, ev: _Eval, sheet: str, text: str) -> None:
        self.ev, self.sheet, self.toks, self.i = ev, sheet, [], 0
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.lastgroup is None:
                raise ValueError(f"formula outside the evaluated subset: {text!r}")
            self.toks.append((m.lastgroup, m.group(m.lastgroup)))
            pos = m.end()

    def value(self) -> Any:
        v = self._compare()
        if self.i != len(self.toks):
            raise ValueError("trailing tokens in a formula")
        return v

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _take(self) -> tuple[str, str]:
        self.i += 1
        return self.toks[self.i - 1]

    def _compare(self) -> Any:
        left = self._add()
        t = self._peek()
        if t is not None and t[0] == "op" and t[1] in _COMPARE:
            self._take()
            return _COMPARE[t[1]](left, self._add())
        return left

    def _add(self) -> Any:
        v = self._mul()
        while (t := self._peek()) is not None and t[0] == "op" and t[1] in "+-":
            self._take()
            r = self._mul()
            v = v + r if t[1] == "+" else v - r
        return v

    def _mul(self) -> Any:
        v = self._unary()
        while (t := self._peek()) is not None and t[0] == "op" and t[1] in "*/":
            self._take()
            r = self._unary()
            # A division by zero sits in an IF branch that is not taken (this evaluator is eager).
            v = v * r if t[1] == "*" else (v / r if r else math.inf)
        return v

    def _unary(self) -> Any:
        if self._peek() == ("op", "-"):
            self._take()
            return -self._unary()
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1]
        if (kind, text) == ("op", "("):
            v = self._compare()
            self._take()  # ")"
            return v
        if kind == "ref":
            return self._ref(text)
        if kind == "func":
            args = [self._compare()]
            while self._take() == ("op", ","):
                args.append(self._compare())
            return _call(text, args)
        raise ValueError(f"unexpected {text!r} in a formula")

    def _ref(self, text: str) -> Any:
        sheet = self.sheet
        if "!" in text:
            sheet, text = text.rsplit("!", 1)
            sheet = sheet.strip("'")
        if ":" not in text:
            return self.ev.cell(sheet, text)
        a, b = (x.replace("$", "") for x in text.split(":"))
        ma, mb = re.fullmatch(r"([A-Z]+)(\d+)", a), re.fullmatch(r"([A-Z]+)(\d+)", b)
        assert ma is not None and mb is not None and ma[1] == mb[1], "only single-column ranges are written"
        return [self.ev.cell(sheet, f"{ma[1]}{r}") for r in range(int(ma[2]), int(mb[2]) + 1)]


def _call(name: str, args: list[Any]) -> Any:
    if name == "MIN":
        flat = [x for a in args for x in (a if isinstance(a, list) else [a])]
        return min(x for x in flat if isinstance(x, int | float))
    if name == "IF":
        return args[1] if args[0] else args[2]
    raise ValueError(f"function {name} is outside the evaluated subset")


def cached_values(wb: Workbook) -> dict[str, dict[str, Any]]:
    """Sheet title -> cell address -> the value its formula computes, for every formula cell."""
    ev = _Eval(wb)
    out: dict[str, dict[str, Any]] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if _is_formula(c):
                    out.setdefault(ws.title, {})[c.coordinate] = ev.cell(ws.title, c.coordinate)
    return out


def with_cached(sheet_xml: bytes, values: dict[str, Any]) -> bytes:
    """The sheet XML with each formula's `<v />` filled in (strings typed `t="str"`, as Excel writes them)."""
    def fill(m: re.Match[bytes]) -> bytes:
        addr = m[1].decode()
        if addr not in values:
            return m[0]
        v = values[addr]
        if isinstance(v, bool):
            typ, text = b' t="b"', b"1" if v else b"0"
        elif isinstance(v, int | float):
            if not math.isfinite(v):
                return m[0]
            typ, text = b"", repr(float(v)).encode()
        else:
            typ, text = b' t="str"', escape(str(v)).encode()
        return b'<c r="' + m[1] + b'"' + typ + m[2] + b"<f>" + m[3] + b"</f><v>" + text + b"</v></c>"

    return re.sub(rb'<c r="([A-Z]+\d+)"((?: s="\d+")?>)<f>(.*?)</f><v\s*/></c>', fill, sheet_xml)
