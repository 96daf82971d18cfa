"""procurement.xlsx: one sheet per option with live formulas, a summary, assumptions and sources.

Inputs (prices, counts, assumptions) are plain cells; every subtotal and total is a formula over
them, so a buyer can change a quoted price and watch the totals move. Formulas use only + − × ÷,
MIN and IF, which every spreadsheet evaluates the same way.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from planner.cost.lines import ApiLine, CloudLine, OnpremLine
from planner.report.bands import option_bands
from planner.report.procurement import OptionCosts, Procurement, way_of_paying
from planner.report.xlsx_values import cached_values, with_cached
from planner.terms import COMMITS, commit_basis

USD = '#,##0.00'
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
STALE_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(color="1F4E79")  # blue = an input a buyer may overwrite
ASSUMPTIONS = "Assumptions"

# (attribute of TcoInputs, label, unit)
_ASSUMPTION_ROWS: tuple[tuple[str, str, str], ...] = (
    ("hours_per_month", "Hours per month", "h"),
    ("power_usd_per_kwh", "Power price", "USD/kWh"),
    ("pue", "PUE", "ratio"),
    ("utilization", "Average utilisation", "fraction"),
    ("years", "Depreciation period", "years"),
    ("server_power_factor", "Server draw ÷ GPU TDP", "ratio"),
    ("server_overhead_factor", "Server price ÷ GPU price (GPU-only quotes)", "ratio"),
    ("network_fraction", "Cluster network share of capex", "fraction"),
    ("colo_usd_per_kw_month", "Colocation / facility", "USD/kW-month"),
    ("ops_usd_per_gpu_month", "Operations staff (per GPU)", "USD/GPU-month"),
    ("ops_fraction", "Staff, support, storage, licences (share of depreciation + energy + facility)", "fraction"),
    ("cost_of_capital", "Cost of capital (on the average book value, capex ÷ 2)", "per year"),
)


def _sheet_ref(sheet: str, cell: str) -> str:
    return f"'{sheet}'!{cell}" if re.search(r"[^A-Za-z0-9_]", sheet) else f"{sheet}!{cell}"


def _abs(col: str, row: int) -> str:
    return f"${col}${row}"


def text_cell(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write `value` as shown: a string is stored as text, never as a formula.

    Catalog text (a provider, an offer id, a source) that starts with `=`, `+`, `-` or `@` would
    otherwise become a live formula; the formulas this workbook means to have go through ws.cell.
    """
    c = ws.cell(row, col, value)
    if isinstance(value, str):
        c.data_type = "s"
    return c


@dataclass
class _Sheet:
    """Appends label/value rows to a worksheet and remembers where each value landed."""

    ws: Worksheet
    row: int = 1
    cells: dict[str, str] = field(default_factory=dict)

    def put(self, label: str, value: Any, key: str | None = None, unit: str = "", *,
            is_input: bool = False, fmt: str | None = None) -> str:
        text_cell(self.ws, self.row, 1, label)
        c = self.ws.cell(self.row, 2, value)
        if is_input:
            c.font = INPUT_FONT
        if fmt:
            c.number_format = fmt
        if unit:
            text_cell(self.ws, self.row, 3, unit)
        addr = f"B{self.row}"
        if key:
            self.cells[key] = addr
        self.row += 1
        return addr

    def heading(self, text: str, font: Font = BOLD) -> None:
        text_cell(self.ws, self.row, 1, text).font = font
        self.row += 1

    def skip(self, n: int = 1) -> None:
        self.row += n


def _assumptions(wb: Workbook, proc: Procurement) -> dict[str, str]:
    ws = wb.create_sheet(ASSUMPTIONS)
    s = _Sheet(ws)
    s.heading("On-prem and time assumptions (change a blue value: every option sheet follows)", TITLE)
    s.heading(f"From: {proc.tco.source} (as of {proc.tco.as_of}); request overrides applied")
    refs: dict[str, str] = {}
    for key, label, unit in _ASSUMPTION_ROWS:
        value = float(getattr(proc.tco, key))
        addr = s.put(label, value, key, unit, is_input=True)
        refs[key] = _sheet_ref(ASSUMPTIONS, _abs("B", int(addr[1:])))
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 14
    return refs


def _cloud_block(s: _Sheet, ln: CloudLine, a: dict[str, str]) -> dict[str, str]:
    price = s.put("Instance price", ln.usd_per_instance_hour, unit="USD/hour", is_input=True, fmt=USD)
    inst = s.put("Instances", ln.instances, is_input=True)
    per = s.put("GPUs per instance", ln.gpus_per_instance, is_input=True)
    hours = s.put("Hours per month", f"={a['hours_per_month']}", unit="h")
    if not ln.scheduled:
        monthly = s.put("Monthly", f"={price}*{inst}*{hours}", unit="USD/month", fmt=USD)
        return {"monthly": monthly, "capex": "0", "gpus": f"{inst}*{per}", "units": inst}
    # An hourly load profile: the base runs every hour at the commit price, the rest bursts on demand.
    base = s.put("Always-on instances", ln.always_on_instances, is_input=True)
    burst_h = s.put("Burst instance-hours per month", ln.burst_instance_hours, unit="h", is_input=True)
    burst_p = s.put("Burst (on-demand) price", ln.burst_usd_per_instance_hour or 0.0, unit="USD/hour",
                    is_input=True, fmt=USD)
    monthly = s.put("Monthly", f"={price}*{base}*{hours}+{burst_p}*{burst_h}", unit="USD/month", fmt=USD)
    return {"monthly": monthly, "capex": "0", "gpus": f"{inst}*{per}", "units": inst}


def _onprem_block(s: _Sheet, ln: OnpremLine, a: dict[str, str]) -> dict[str, str]:
    price = s.put(f"Purchase price ({ln.offer_id})", ln.unit_usd, unit="USD per unit", is_input=True,
                  fmt=USD)
    units = s.put("Units", ln.units, is_input=True)
    per = s.put("GPUs per unit", ln.gpus_per_unit, is_input=True)
    gpus = s.put("GPUs", f"={units}*{per}")
    servers = s.put("Servers", ln.servers, is_input=True)
    overhead = s.put(
        "Server overhead factor",
        1 if ln.includes_server else f"={a['server_overhead_factor']}",
        unit="1 = quote includes the server",
    )
    hardware = s.put("Hardware", f"={price}*{units}*{overhead}", unit="USD", fmt=USD)
    net = s.put("Network share of capex", f"={a['network_fraction']}")
    capex = s.put("Capex (up front)", f"={hardware}/(1-{net})", unit="USD", fmt=USD)
    years = s.put("Depreciation period", f"={a['years']}", unit="years")
    dep = s.put("Depreciation", f"={capex}/({years}*12)", unit="USD/month", fmt=USD)
    rate = s.put("Cost of capital", f"={a['cost_of_capital']}", unit="per year")
    capital = s.put("Capital charge", f"={capex}/2*{rate}/12", unit="USD/month", fmt=USD)
    tdp = s.put("GPU TDP", ln.gpu_tdp_kw, unit="kW", is_input=True)
    spf = s.put("Server draw ÷ GPU TDP", f"={a['server_power_factor']}")
    itkw = s.put("IT load (provisioned)", f"={gpus}*{tdp}*{spf}", unit="kW")
    util = s.put("Utilisation", f"={a['utilization']}")
    pue = s.put("PUE", f"={a['pue']}")
    kwh = s.put("Power price", f"={a['power_usd_per_kwh']}", unit="USD/kWh")
    hours = s.put("Hours per month", f"={a['hours_per_month']}", unit="h")
    energy = s.put("Energy", f"={itkw}*{util}*{pue}*{kwh}*{hours}", unit="USD/month", fmt=USD)
    colo_rate = s.put("Colocation rate", f"={a['colo_usd_per_kw_month']}", unit="USD/kW-month")
    colo = s.put("Colocation", f"={itkw}*{colo_rate}", unit="USD/month", fmt=USD)
    ops_rate = s.put("Operations staff rate", f"={a['ops_usd_per_gpu_month']}", unit="USD/GPU-month")
    frac = s.put("Staff and support share", f"={a['ops_fraction']}", unit="fraction")
    ops = s.put("Operations (staff, support, storage, licences)", f"={gpus}*{ops_rate}+{frac}*({dep}+{energy}+{colo})",
                unit="USD/month", fmt=USD)
    opex = s.put("Opex (energy + facility + operations)", f"={energy}+{colo}+{ops}", unit="USD/month",
                 fmt=USD)
    monthly = s.put("Monthly (depreciation + capital + opex)", f"={dep}+{capital}+{opex}", unit="USD/month",
                    fmt=USD)
    return {"monthly": monthly, "capex": capex, "gpus": gpus, "units": servers, "opex": opex, "years": years}


def _api_block(s: _Sheet, ln: ApiLine, load: dict[str, str]) -> dict[str, str]:
    bound = ln.tier_max_input_tokens
    s.put("Price tier", f"requests up to {bound} input tokens" if bound else "open-ended tier")
    pin = s.put("Input price", ln.usd_per_m_input, unit="USD per M tokens", is_input=True)
    pcache = s.put("Cached input price", ln.usd_per_m_cached_input, unit="USD per M tokens", is_input=True)
    # One cached share per sheet (a workload input), so the API totals and the break-even agree.
    cf = s.put("Cached share of input", f"={load['cached']}", unit="fraction")
    pout = s.put("Output price", ln.usd_per_m_output, unit="USD per M tokens", is_input=True)
    tin = s.put("Input tokens per month", f"={load['input_m']}", unit="M tokens")
    tout = s.put("Output tokens per month", f"={load['output_m']}", unit="M tokens")
    monthly = s.put("Monthly", f"={tin}*((1-{cf})*{pin}+{cf}*{pcache})+{tout}*{pout}", unit="USD/month",
                    fmt=USD)
    return {"monthly": monthly, "capex": "0", "gpus": "0", "units": "0", "pin": pin, "pout": pout,
            "pcache": pcache, "cached": cf}


_SUMMARY_HEAD = ("Way of paying", "Provider", "Instance / item", "Basis", "Instances / servers", "GPUs",
                 "Capex USD", "Monthly USD", "USD per M output tokens", "Solver's choice", "Price as of",
                 "Stale (>12 months)", "Source")
SUMMARY_HEADER = _SUMMARY_HEAD[0]


def sheet_name(o: OptionCosts) -> str:
    return f"Option {o.index}"


def _option_sheet(wb: Workbook, o: OptionCosts, a: dict[str, str], as_of: str) -> dict[str, Any]:
    name = sheet_name(o)
    ws = wb.create_sheet(name)
    s = _Sheet(ws)
    s.heading(f"{name}{' (recommended)' if o.recommended else ''}: {o.label}", TITLE)
    s.heading(f"Prices checked for staleness on {as_of}; blue cells are inputs, black cells are formulas.")
    s.skip()
    s.heading(f"Workload ({o.workload.basis})")
    w = o.workload
    rps = s.put("Requests per second", w.rps, unit="req/s", is_input=True)
    isl = s.put("Input tokens per request (text + images)", w.input_per_request, is_input=True)
    osl = s.put("Output tokens per request", w.osl, is_input=True)
    cached = s.put("Cached share of input (prefix-cache hits, billed at the API's cached price)",
                   w.cached_fraction, unit="fraction", is_input=True)
    req_m = s.put("Requests per month", f"={rps}*3600*{a['hours_per_month']}")
    load = {
        "input_m": _abs("B", int(s.put("Input tokens per month", f"={req_m}*{isl}/1000000", unit="M")[1:])),
        "output_m": _abs("B", int(s.put("Output tokens per month", f"={req_m}*{osl}/1000000", unit="M")[1:])),
        "isl": isl,
        "osl": osl,
        "cached": _abs("B", int(cached[1:])),
    }
    s.skip()
    head_row = s.row
    for col, text in enumerate(_SUMMARY_HEAD, start=1):
        ws.cell(head_row, col, text).font = BOLD
    first = head_row + 1
    s.row = first + len(o.rows) + 2
    blocks: list[dict[str, str]] = []
    for r in o.rows:
        ln = r.line
        s.heading(ln.label + ("  — STALE PRICE" if ln.stale else ""))
        if isinstance(ln, CloudLine):
            blocks.append(_cloud_block(s, ln, a))
        elif isinstance(ln, OnpremLine):
            blocks.append(_onprem_block(s, ln, a))
        else:
            blocks.append(_api_block(s, ln, load))
        s.skip()
    out_m = load["output_m"]
    rows_at: list[int] = []
    for i, (r, b) in enumerate(zip(o.rows, blocks, strict=True)):
        row = first + i
        rows_at.append(row)
        ln = r.line
        values: tuple[Any, ...] = (
            ln.kind, ln.provider, ln.instance or "", ln.basis, f"={b['units']}", f"={b['gpus']}",
            f"={b['capex']}", f"={b['monthly']}",
            f"=H{row}/{out_m}" if w.output_tokens_month > 0 else "",
            "yes" if r.chosen else "", ln.as_of.isoformat(), "STALE" if ln.stale else "", ln.source,
        )
        for col, v in enumerate(values, start=1):
            c = ws.cell(row, col, v) if 5 <= col <= 9 else text_cell(ws, row, col, v)
            if col in (7, 8, 9):
                c.number_format = USD
            if ln.stale:
                c.fill = STALE_FILL
    widths = (44, 16, 22, 16, 12, 8, 16, 16, 14, 10, 12, 10, 60)
    for letter, width in zip("ABCDEFGHIJKLM", widths, strict=True):
        ws.column_dimensions[letter].width = width
    return {"name": name, "rows": rows_at, "blocks": blocks, "load": load}


def _range(sheet: str, col: str, rows: list[int]) -> str:
    return _sheet_ref(sheet, f"{col}{min(rows)}:{col}{max(rows)}")


def _min_of(sheet: str, col: str, rows: list[int]) -> str:
    """MIN over these rows: one range when they are adjacent, else the cells listed one by one."""
    if max(rows) - min(rows) + 1 == len(rows):
        return f"MIN({_range(sheet, col, rows)})"
    return "MIN(" + ",".join(_sheet_ref(sheet, f"{col}{r}") for r in sorted(rows)) + ")"


# Cloud bases in the order the commitments are priced; one summary column each, never mixed.
CLOUD_BASES = tuple(commit_basis(c) for c in COMMITS)


# The option's predictions beside their p10–p90 error band: plain values from the Plan (no formula: no
# input of the workbook moves them). Blank for a hosted API, whose note says why.
BAND_HEADER = ("p95 TTFT ms", "TTFT p10 ms", "TTFT p90 ms", "p95 TPOT ms", "TPOT p10 ms", "TPOT p90 ms",
               "Output tok/s per replica p10", "Output tok/s per replica p90", "Error band regime",
               "Error band note")
_BAND_FORMATS = ('#,##0.0',) * 3 + ('#,##0.00',) * 3 + ('#,##0.0',) * 2


def summary_header(basis: str) -> tuple[str, ...]:
    """Summary column titles; `basis` is the cloud basis buy-vs-rent compares against."""
    return ("#", "Option", "Solver's way of paying", "Solver's choice monthly USD",
            *(f"Cheapest cloud {b} monthly USD" for b in CLOUD_BASES),
            "On-prem capex USD", "On-prem monthly USD", "Cheapest API monthly USD",
            f"Buy beats rent after (months, vs {basis} cloud)", "API break-even (M tokens/month)",
            "Stale prices", *BAND_HEADER)


def _band_values(o: OptionCosts) -> list[Any]:
    b = option_bands(o.option)
    values: list[Any] = [v for p in (b.ttft_ms, b.tpot_ms) for v in (p.value, *(p.band or (None, None)))]
    values += list(b.output_tokens_per_s.band or (None, None))
    return [*values, b.regime, b.note or None]


def _summary(ws: Worksheet, proc: Procurement, sheets: list[dict[str, Any]]) -> None:
    s = _Sheet(ws)
    s.heading("Procurement summary", TITLE)
    basis = commit_basis(proc.commit)
    s.heading(f"Prices checked on {proc.as_of}; cloud basis for buy-vs-rent: {basis}; on-prem "
              f"{proc.tco.years:g}-year depreciation (see {ASSUMPTIONS}). Every cost figure below is a "
              "formula over the option sheets; latency and throughput are the plan's predictions with the "
              "p10–p90 band of their cross-validated model error.")
    s.skip()
    head = summary_header(basis)
    hr = s.row
    for col, text in enumerate(head, start=1):
        ws.cell(hr, col, text).font = BOLD
    for k, (o, sh) in enumerate(zip(proc.options, sheets, strict=True)):
        row = hr + 1 + k
        name = sh["name"]
        at = list(zip(sh["rows"], o.rows, strict=True))
        idx = {kind: [r for r, cr in at if cr.line.kind == kind] for kind in ("cloud", "onprem", "api")}
        chosen = next((r for r, cr in at if cr.chosen), None)
        opt = o.option
        way = way_of_paying(opt)
        # The chosen row's live total, so an edited price moves the summary too; the solver's own
        # figure only when no row matches its way of paying.
        values: list[Any] = [o.index, o.label + (" (recommended)" if o.recommended else ""), way,
                             f"={_sheet_ref(name, f'H{chosen}')}" if chosen else opt.monthly_cost_usd]
        for b in CLOUD_BASES:
            rows_b = [r for r, cr in at if cr.line.kind == "cloud" and cr.line.basis == b]
            values.append(f"={_min_of(name, 'H', rows_b)}" if rows_b else "")
        rent_rows = [r for r, cr in at if cr.line.kind == "cloud" and cr.line.basis == basis]
        on = idx["onprem"][0] if idx["onprem"] else None
        values.append(f"={_sheet_ref(name, f'G{on}')}" if on else "")
        values.append(f"={_sheet_ref(name, f'H{on}')}" if on else "")
        values.append(f"={_min_of(name, 'H', idx['api'])}" if idx["api"] else "")
        if on and rent_rows and o.onprem is not None and o.buy_vs_rent is not None:
            block = sh["blocks"][o.rows.index(o.onprem)]
            opex, years = _sheet_ref(name, block["opex"]), _sheet_ref(name, block["years"])
            rent = _min_of(name, "H", rent_rows)
            months = f'{_sheet_ref(name, f"G{on}")}/({rent}-{opex})'
            # Paying back only after the hardware is written off is no payback: "never", as in the JSON.
            values.append(f'=IF({rent}-{opex}>0,IF({months}>{years}*12,"never",{months}),"never")')
        else:
            values.append("")
        if o.api_breakeven is not None and idx["api"]:
            api_block = sh["blocks"][sh["rows"].index(idx["api"][0])]
            selfhost = _sheet_ref(name, f"H{chosen}") if chosen else repr(opt.monthly_cost_usd)
            i_, o_, cf = (_sheet_ref(name, sh["load"][k2]) for k2 in ("isl", "osl", "cached"))
            pin, pcache, pout = (_sheet_ref(name, api_block[k2]) for k2 in ("pin", "pcache", "pout"))
            # The blended price the break-even is measured at: cached input at its own price.
            per_token = f"({i_}*((1-{cf})*{pin}+{cf}*{pcache})+{o_}*{pout})/({i_}+{o_})"
            values.append(f"={selfhost}/({per_token})")
        else:
            values.append("")
        stale_kinds = sorted({cr.line.kind for cr in o.rows if cr.line.stale})
        values.append(f"STALE ({', '.join(stale_kinds)})" if stale_kinds else "")
        stale_col = len(values)
        for col, v in enumerate(values, start=1):
            c = text_cell(ws, row, col, v) if col in (2, 3) else ws.cell(row, col, v)
            if 4 <= col <= 10:
                c.number_format = USD
            if col in (11, 12):
                c.number_format = '#,##0.0' if col == 11 else '#,##0'
            if stale_kinds and col == stale_col:
                c.fill = STALE_FILL
        for col, v in enumerate(_band_values(o), start=stale_col + 1):
            if v is None:
                continue
            c = text_cell(ws, row, col, v)
            if col - stale_col <= len(_BAND_FORMATS):
                c.number_format = _BAND_FORMATS[col - stale_col - 1]
    s.row = hr + 2 + len(proc.options)
    stale = proc.stale
    s.heading("Stale prices (older than 12 months):" if stale else "No stale prices (all within 12 months).")
    for line in stale:
        text_cell(ws, s.row, 1, line).fill = STALE_FILL
        s.row += 1
    if proc.sensitivity:
        s.skip()
        s.heading("Sensitivity: the recommendation when load changes")
        for p in proc.sensitivity:
            ws.cell(s.row, 1, f"{p.multiplier:g}× load")
            text_cell(ws, s.row, 2, p.summary)
            c = ws.cell(s.row, 4, p.monthly_usd if p.monthly_usd is not None else "infeasible")
            c.number_format = USD
            s.row += 1
    for letter, width in zip("ABCDEFGHIJKLMNOPQRSTUVW",
                             (4, 70, 36, 16, 16, 16, 16, 16, 16, 16, 14, 18, 16, *(12,) * 8, 18, 60), strict=True):
        ws.column_dimensions[letter].width = width


def _sources(wb: Workbook, proc: Procurement) -> None:
    ws = wb.create_sheet("Sources")
    head = ("Offer id", "Kind", "Provider", "Price as of", "Stale (>12 months)", "Source")
    for col, text in enumerate(head, start=1):
        ws.cell(1, col, text).font = BOLD
    for i, src in enumerate(proc.sources(), start=2):
        vals = (src["offer_id"], src["kind"], src["provider"], src["as_of"], "STALE" if src["stale"] else "",
                src["source"])
        for col, v in enumerate(vals, start=1):
            c = text_cell(ws, i, col, v)
            if src["stale"]:
                c.fill = STALE_FILL
    last = len(proc.sources()) + 3
    ws.cell(last, 1, "TCO assumptions")
    ws.cell(last, 4, proc.tco.as_of.isoformat())
    text_cell(ws, last, 6, proc.tco.source)
    for letter, width in zip("ABCDEF", (28, 8, 14, 12, 10, 90), strict=True):
        ws.column_dimensions[letter].width = width


def _deterministic(data: bytes, stamp: str, cached: dict[str, dict[str, Any]] | None = None) -> bytes:
    """Fix the zip entry times and the document's created/modified dates so equal inputs give equal bytes;
    `cached` (sheet XML path -> address -> value) fills in each formula's computed value."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            elif cached and info.filename in cached:
                body = with_cached(body, cached[info.filename])
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


def xlsx_bytes(proc: Procurement) -> bytes:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    a = _assumptions(wb, proc)
    sheets = [_option_sheet(wb, o, a, proc.as_of.isoformat()) for o in proc.options]
    _summary(summary, proc, sheets)
    _sources(wb, proc)
    return save_workbook(wb, proc.as_of)


def save_workbook(wb: Workbook, as_of: dt.date) -> bytes:
    """The workbook's bytes: live formulas with their computed values, the same bytes for the same content."""
    wb.properties.creator = "qwen-plan"
    values = cached_values(wb)
    # openpyxl writes the sheets in order as sheet1.xml, sheet2.xml, ...
    cached = {f"xl/worksheets/sheet{i}.xml": values.get(ws.title, {}) for i, ws in enumerate(wb.worksheets, start=1)}
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic(buf.getvalue(), f"{as_of.isoformat()}T00:00:00Z", cached)


def write_xlsx(proc: Procurement, path: Path | str) -> None:
    Path(path).write_bytes(xlsx_bytes(proc))


__all__ = ["BAND_HEADER", "CLOUD_BASES", "SUMMARY_HEADER", "sheet_name", "summary_header", "write_xlsx", "xlsx_bytes"]
