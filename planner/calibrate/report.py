"""`calibrate --report DIR`: measured against predicted, before and after the fit, one chart per metric.

Figures are drawn on an Agg canvas (no pyplot state) and saved without date chunks, so equal inputs
give equal bytes. The folder is written atomically like every other qwen-plan output.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any, cast

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from planner.atomic import write_folder
from planner.calibrate.fit import ErrorStats
from planner.calibrate.run import Calibration

UNITS = {"ttft": "TTFT ms", "tpot": "TPOT ms", "throughput": "output tokens/s per replica"}
COLORS = {"before": "#999999", "after": "#1f77b4"}
_RC: dict[str, Any] = {"svg.hashsalt": "qwen-plan", "font.family": "DejaVu Sans", "font.size": 9,
                       "path.simplify": False}


def metric_png(cal: Calibration, metric: str) -> bytes:
    rows = [r for r in cal.rows if r[1] == metric]
    with rc_context(cast(Any, _RC)):
        fig = Figure(figsize=(5, 4.6))
        ax = fig.add_subplot()
        meas = [r[2] for r in rows]
        for key, pred in (("before", [r[3] for r in rows]), ("after", [r[4] for r in rows])):
            ax.scatter(meas, pred, s=28, color=COLORS[key], label=f"predicted {key} calibration",
                       zorder=3 if key == "after" else 2)
        lo = min(min(meas), *(min(r[3], r[4]) for r in rows)) * 0.8
        hi = max(max(meas), *(max(r[3], r[4]) for r in rows)) * 1.25
        ax.plot([lo, hi], [lo, hi], color="#000000", linewidth=0.8, label="predicted = measured", zorder=1)
        ax.fill_between([lo, hi], [lo * 0.9, hi * 0.9], [lo * 1.1, hi * 1.1], color="#1f77b4", alpha=0.08,
                        label="±10 %")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"measured {UNITS[metric]}")
        ax.set_ylabel(f"predicted {UNITS[metric]}")
        ax.set_title(f"{metric}: {len(rows)} runs")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(True, which="both", alpha=0.2)
        fig.tight_layout()
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        return buf.getvalue()


def _cell(t: dict[str, ErrorStats], metric: str) -> str:
    e = t.get(metric)
    return f"{e.median_pct:.1f} % / {e.p90_pct:.1f} %" if e else "—"


def report_html(cal: Calibration, metrics: list[str]) -> str:
    res = cal.result
    rows = "".join(
        f"<tr><td>{m}</td><td>{_cell(cal.before, m)}</td><td>{_cell(cal.after, m)}</td>"
        f"<td>{_cell(cal.leave_one_out, m)}</td></tr>" for m in metrics)
    fitted = "".join(f"<li>{html.escape(k)}: {v:.4g} (data worth {res.information[k]:.1f} points)</li>"
                     for k, v in sorted(res.values.items()))
    held = "".join(f"<li>{html.escape(k)}: not identified, kept at the shipped value</li>" for k in res.unidentified)
    runs = "".join(
        f"<tr><td>{html.escape(p.source)}</td><td>{html.escape(p.label)}</td><td>{m}</td><td>{meas:.4g}</td>"
        f"<td>{b:.4g}</td><td>{a:.4g}</td></tr>" for p, m, meas, b, a in cal.rows)
    charts = "".join(f'<figure><img src="{m}.png" alt="{m}: measured against predicted"></figure>' for m in metrics)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qwen-plan calibration</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}figure{{display:inline-block;margin:0 1em 1em 0}}
</style></head><body>
<h1>Calibration: measured against predicted</h1>
<p>{len(cal.points)} benchmark runs. Grey: the shipped model; blue: after calibration. Points on the diagonal
are predicted exactly; the band is ±10 %.</p>
{charts}
<h2>Error (median / p90 absolute percentage error)</h2>
<table><tr><th>metric</th><th>before</th><th>after</th><th>leave-one-out</th></tr>{rows}</table>
<h2>Constants</h2><ul>{fitted}{held}</ul>
<h2>Runs</h2>
<table><tr><th>source</th><th>configuration</th><th>metric</th><th>measured</th><th>before</th><th>after</th></tr>
{runs}</table>
</body></html>
"""


def report_files(cal: Calibration) -> dict[str, bytes]:
    metrics = [m for m in ("ttft", "tpot", "throughput") if any(r[1] == m for r in cal.rows)]
    files = {f"{m}.png": metric_png(cal, m) for m in metrics}
    files["report.html"] = report_html(cal, metrics).encode()
    return files


def write_report(cal: Calibration, out: Path) -> Path:
    return write_folder(out, report_files(cal), force=False)
