"""The report's charts as PNG bytes, byte-identical per input.

Figures are drawn straight on an Agg canvas: no pyplot, so no global backend or figure state.
"""

from __future__ import annotations

import io
from typing import Any, cast

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from planner.cost.curves import LoadCurves
from planner.fmt import tokens
from planner.plan import Api, SelfHosted
from planner.report.procurement import OptionCosts, Procurement

# Fixed colours so the screenshot test (and readers) can recognise each series.
COLORS = {"cloud": "#1f77b4", "onprem": "#2ca02c", "api": "#ff7f0e", "recommended": "#d62728",
          "solver": "#000000"}
_RC: dict[str, Any] = {"svg.hashsalt": "qwen-plan", "font.family": "DejaVu Sans", "font.size": 9,
                       "path.simplify": False}


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    # No "Software" or date chunks: equal inputs must give equal bytes.
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


STALE_NOTE = "STALE = price over 12 months old"


def plotted_price_stale(o: OptionCosts) -> bool:
    """Whether the price a chart plots for this option (the solver's way of paying) is stale."""
    return o.option.stale_price


def point_label(o: OptionCosts) -> str:
    return f"{o.index} STALE" if plotted_price_stale(o) else str(o.index)


def pareto_png(proc: Procurement) -> bytes:
    with rc_context(cast(Any, _RC)):
        return _png(pareto_figure(proc))


def pareto_figure(proc: Procurement) -> Figure:
    """Monthly cost (x) against p95 TPOT (y) with its p10–p90 band, colour = quality; the cost/latency
    front drawn as a step.

    Options whose plotted price is stale say so next to their number, with the legend explaining it.
    """
    with rc_context(cast(Any, _RC)):
        fig = Figure(figsize=(8, 4.6))
        ax = fig.add_subplot()
        hosted = [(o, o.option) for o in proc.options if isinstance(o.option, SelfHosted)]
        apis = [o for o in proc.options if isinstance(o.option, Api)]
        qualities = [o.option.quality for o in proc.options] or [0.0]
        qmin, qmax = min(qualities), max(qualities)
        if qmax - qmin < 1e-9:
            qmin, qmax = qmin - 1, qmax + 1
        top = max((max(h.tpot_ms, h.bands.tpot_ms[1] if h.bands else 0.0) for _, h in hosted), default=50.0)
        if hosted:
            xs = [max(h.monthly_cost_usd, 1e-2) for _, h in hosted]
            ys = [h.tpot_ms for _, h in hosted]
            sc = ax.scatter(xs, ys, c=[h.quality for _, h in hosted], cmap="viridis", vmin=qmin,
                            vmax=qmax, s=70, edgecolors="#333333", zorder=3)
            fig.colorbar(sc, ax=ax, label="task quality score")
            banded = [(x, h.tpot_ms, h.bands.tpot_ms) for x, (_, h) in zip(xs, hosted, strict=True) if h.bands]
            if banded:
                # The p10–p90 band of each prediction (clipped at the point: sized above the median, the
                # point may sit near an end of the band).
                below = [max(b[1] - b[2][0], 0.0) for b in banded]
                above = [max(b[2][1] - b[1], 0.0) for b in banded]
                ax.errorbar([b[0] for b in banded], [b[1] for b in banded], yerr=[below, above],
                            fmt="none", ecolor="#555555", elinewidth=1, capsize=3, zorder=2.5,
                            label="p10–p90 TPOT band")
            front: list[tuple[float, float]] = []
            for x, y in sorted(zip(xs, ys, strict=True)):
                if not front or y < front[-1][1]:
                    front.append((x, y))
            ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="#7f7f7f",
                     linestyle="--", linewidth=1, label="cost/latency front", zorder=2)
        api_y = top * 1.15
        for o in apis:
            ax.scatter([max(o.option.monthly_cost_usd, 1e-2)], [api_y], marker="s", color=COLORS["api"],
                       s=60, zorder=3)
        if apis:
            ax.scatter([], [], marker="s", color=COLORS["api"], label="hosted API (latency not modelled)")
        for o in proc.options:
            y = o.option.tpot_ms if isinstance(o.option, SelfHosted) else api_y
            ax.annotate(point_label(o), (max(o.option.monthly_cost_usd, 1e-2), y), textcoords="offset points",
                        xytext=(6, 4), fontsize=8, color="#b8860b" if plotted_price_stale(o) else "black")
        if any(plotted_price_stale(o) for o in proc.options):
            ax.plot([], [], linestyle="none", label=STALE_NOTE)
        rec = proc.options[0].option
        ax.scatter([max(rec.monthly_cost_usd, 1e-2)], [rec.tpot_ms if isinstance(rec, SelfHosted) else api_y],
                   marker="*", s=320, color=COLORS["recommended"], edgecolors="black", zorder=4,
                   label="recommended (option 1)")
        ax.set_xscale("log")
        ax.set_xlabel("monthly cost, USD (log scale)")
        ax.set_ylabel("p95 time per output token, ms")
        ax.set_title("Options: cost vs latency vs quality (numbers = option #)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
        fig.tight_layout()
        return fig


def cost_vs_load_png(curves: LoadCurves, proc: Procurement) -> bytes:
    """Monthly cost against token volume for one option's hardware, API line and break-evens marked."""
    with rc_context(cast(Any, _RC)):
        fig = Figure(figsize=(8, 4.6))
        ax = fig.add_subplot()
        base = curves.tokens_month_at_1x
        xs = [m * base for m in curves.multipliers]
        for s in curves.series:
            if s.kind == "api":
                ax.plot(xs, s.monthly_usd, color=COLORS["api"], linewidth=2, label=s.label)
            else:
                ax.step(xs, s.monthly_usd, where="post", color=COLORS[s.kind], linewidth=2, label=s.label)
        for c in curves.crossings:
            ax.scatter([c.multiplier * base], [c.monthly_usd], marker="o", s=80, facecolors="white",
                       edgecolors=COLORS["recommended"], linewidths=2, zorder=4)
            ax.annotate(f"{c.label}\n{tokens(c.multiplier * base)} tok/mo", (c.multiplier * base,
                        c.monthly_usd), textcoords="offset points", xytext=(8, -22), fontsize=7)
        if curves.crossings:
            ax.scatter([], [], marker="o", facecolors="white", edgecolors=COLORS["recommended"],
                       label="break-even")
        # The solver's re-plans (1× included) of the recommendation at each load.
        solved = [(p.multiplier * base, p.monthly_usd) for p in proc.sensitivity
                  if p.monthly_usd is not None and p.monthly_usd > 0]
        if proc.sensitivity and solved:
            ax.scatter([p[0] for p in solved], [p[1] for p in solved], marker="D", color=COLORS["solver"],
                       zorder=5, label="solver's re-plan (sensitivity)")
        ax.axvline(base, color="#7f7f7f", linestyle=":", linewidth=1, label="the request's load")
        ax.set_xscale("log")
        values = [v for s in curves.series for v in s.monthly_usd if v > 0]
        if values:
            ax.set_yscale("log")
            ax.set_ylim(min(values) / 1.5, max(values) * 1.5)
        ax.set_xlabel("tokens per month, input + output (log scale)")
        ax.set_ylabel("monthly cost, USD")
        ax.set_title(f"Cost vs load: option {curves.option + 1} hardware against the API")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        return _png(fig)


