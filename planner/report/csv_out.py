"""procurement.csv: one row per option × way of paying, flat, for pasting into anything."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from planner.report.bands import option_bands
from planner.report.procurement import Procurement

COLUMNS = (
    "option", "option_label", "recommended", "kind", "provider", "instance", "basis", "instances", "gpus",
    "capex_usd", "monthly_usd", "usd_per_m_output", "solver_choice", "price_as_of", "stale", "offer_id",
    "source",
    # The option's predicted latency and throughput with the p10–p90 band of its model error (blank for a
    # hosted API: its latency is the provider's, with no spread in the plan; band_note says so).
    "p95_ttft_ms", "ttft_p10_ms", "ttft_p90_ms", "p95_tpot_ms", "tpot_p10_ms", "tpot_p90_ms",
    "output_tokens_per_s_per_replica_p10", "output_tokens_per_s_per_replica_p90", "band_regime", "band_note",
)


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: `'` before a leading = + - @ tab or CR (OWASP CSV injection).

    Numbers stay numbers (`-12.50` is not a formula); catalog text such as `=HYPERLINK(...)` or
    `@SUM(...)` in a provider or source becomes inert.
    """
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(proc: Procurement) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(csv_cell(c) for c in COLUMNS)
    for o in proc.options:
        b = option_bands(o.option)
        predicted = [_num(v) for p in (b.ttft_ms, b.tpot_ms) for v in (p.value, *(p.band or (None, None)))]
        predicted += [_num(v) for v in b.output_tokens_per_s.band or (None, None)]
        predicted += [b.regime or "", b.note]
        for r in o.rows:
            ln = r.line
            w.writerow(csv_cell(v) for v in (
                o.index, o.label, "yes" if o.recommended else "no", ln.kind, ln.provider, ln.instance or "",
                ln.basis, ln.instances, ln.gpus, _num(ln.capex_usd), _num(ln.monthly_usd),
                _num(r.usd_per_m_output), "yes" if r.chosen else "no", ln.as_of.isoformat(),
                "STALE" if ln.stale else "", ln.offer_id, ln.source, *predicted,
            ))
    return buf.getvalue()


def write_csv(proc: Procurement, path: Path | str) -> None:
    Path(path).write_text(csv_text(proc), encoding="utf-8")
