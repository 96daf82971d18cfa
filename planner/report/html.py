"""report.html: one self-contained page (inline CSS, charts as data URIs, no external resources)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jinja2

from planner import __version__
from planner.catalog import data_dir
from planner.fmt import tokens
from planner.plan import Option, Plan
from planner.report.charts import cost_vs_load_png, pareto_png
from planner.report.procurement import OptionCosts, Procurement

TEMPLATE = "report.html.j2"


def _usd(v: float | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def _n(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _way(o: Option) -> str:
    return " ".join(x for x in (o.deploy, o.provider, o.instance) if x)


def _option_pairs(o: Option) -> list[tuple[str, str]]:
    pairs = [("Model", o.model), ("Deploy", _way(o))]
    if o.gpu is not None:
        pairs += [("Precision", str(o.precision)), ("GPU", f"{o.total_gpus}× {o.gpu}"),
                  ("Parallelism", f"TP{o.tp}, EP{o.ep}, {o.replicas} replicas"), ("Engine", str(o.engine)),
                  ("MTP speculative tokens", str(o.mtp_tokens)),
                  ("Batch per replica", str(o.batch_per_replica))]
    pairs += [("Monthly cost", _usd(o.monthly_cost_usd)),
              ("Cost per M output tokens", _usd(o.usd_per_million_tokens)),
              ("p95 TTFT", f"{_n(o.ttft_ms)} ms"), ("p95 TPOT", f"{_n(o.tpot_ms, 2)} ms"),
              ("Capacity", f"{_n(o.capacity_rps, 3)} req/s, {tokens(o.capacity_tokens_per_day)} tokens/day"),
              ("Quality", _n(o.quality, 2)),
              ("Price as of", f"{o.price_as_of or '—'}{' (STALE)' if o.stale_price else ''}")]
    return pairs


def _rows(o: OptionCosts, refs: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"kind": r.line.kind, "provider": r.line.provider, "instance": r.line.instance or "",
         "basis": r.line.basis, "instances": r.line.instances, "gpus": r.line.gpus,
         "capex": _usd(r.line.capex_usd) if r.line.capex_usd else "—", "monthly": _usd(r.line.monthly_usd),
         "per_m": _usd(r.usd_per_m_output), "chosen": r.chosen, "as_of": r.line.as_of.isoformat(),
         "stale": r.line.stale, "source_ref": refs[r.line.offer_id]}
        for r in o.rows
    ]


def _option_summary(o: OptionCosts, refs: dict[str, int]) -> dict[str, Any]:
    opt = o.option
    bvr = "—"
    if o.buy_vs_rent_against is not None:
        bvr = (f"{o.buy_vs_rent_months:.1f} months vs {o.buy_vs_rent_against}" if o.buy_vs_rent_months
               is not None else f"never within the depreciation life, vs {o.buy_vs_rent_against}")
    be = "—"
    if o.api_breakeven_tokens_month is not None:
        be = f"{tokens(o.api_breakeven_tokens_month)} tokens/month vs {o.api_breakeven_against}"
    stale_rows = [r.line for r in o.rows if r.line.stale]
    stale_labels = {ln.label for ln in stale_rows}
    # A break-even against a stale price is only as good as that price: say so where it is quoted.
    if o.buy_vs_rent_against in stale_labels:
        bvr += " (STALE price)"
    if o.api_breakeven_against in stale_labels:
        be += " (STALE price)"
    stale_text = "; ".join(sorted({f"{ln.label} as of {ln.as_of}" for ln in stale_rows}))
    on = o.onprem
    onprem_detail = None
    if on is not None:
        d = on.line.detail
        onprem_detail = (f"capex {_usd(on.line.capex_usd)} up front ({on.line.offer_id}, network "
                         f"{_usd(d['network_usd'])}), then {_usd(d['depreciation_monthly'])}/month "
                         "depreciation "
                         f"+ {_usd(d['power_monthly'])} energy + {_usd(d['colo_monthly'])} colocation "
                         f"+ {_usd(d['ops_monthly'])} operations ({_n(d['it_kw'])} kW IT load).")
    w = o.workload
    return {
        "index": o.index, "label": o.label, "recommended": o.recommended, "way": _way(opt),
        "monthly": _usd(opt.monthly_cost_usd), "per_m": _usd(opt.usd_per_million_tokens),
        "ttft": _n(opt.ttft_ms), "tpot": _n(opt.tpot_ms, 2), "quality": _n(opt.quality, 2),
        "stale": bool(stale_rows), "stale_text": f"STALE: {stale_text}" if stale_rows else "—",
        "buy_vs_rent": bvr, "breakeven": be,
        "rows": _rows(o, refs), "onprem_detail": onprem_detail,
        "workload": (f"{_n(w.rps, 3)} req/s ({w.basis}), {w.input_per_request} in / {w.osl} out tokens "
                     "per request = "
                     f"{tokens(w.input_tokens_month)} input + {tokens(w.output_tokens_month)} output "
                     "tokens/month"),
    }


def html_text(plan: Plan, proc: Procurement) -> str:
    sources = proc.sources()
    refs = {s["offer_id"]: i for i, s in enumerate(sources, start=1)}
    curves = proc.curves
    load_png = cost_vs_load_png(curves, proc) if curves is not None else None
    load_caption = ""
    if curves is not None:
        marks = "; ".join(f"{c.label} at {tokens(c.multiplier * curves.tokens_month_at_1x)} tokens/month "
                          f"({c.multiplier:.2g}× the request)" for c in curves.crossings)
        marks = marks or "none between 0.01× and 10×"
        load_caption = (f"Option {curves.option.index}'s hardware priced at 0.01× to 10× the request's load "
                        f"(replicas added as load grows), against the API billed per token. Break-even: "
                        f"{marks}." + (" Black diamonds: the solver's own re-plan at each load."
                                       if proc.sensitivity else ""))
    d = plan.deployment
    deployment = None
    if d is not None:
        deployment = [("Checkpoint", d.checkpoint), ("Engine", d.engine),
                      ("TP / EP / PP / DP", f"{d.tp} / {d.ep} / {d.pp} / {d.dp}"),
                      ("GPUs per replica", f"{d.gpus_per_replica} on {d.nodes_per_replica} node(s)"),
                      ("Replicas", str(d.replicas)), ("KV cache dtype", d.kv_dtype),
                      ("max_model_len", str(d.max_model_len)), ("max_num_seqs", str(d.max_num_seqs))]
    workload = [(k, "—" if v is None else str(v)) for k, v in sorted(plan.resolved.items())]
    t = proc.tco
    assumptions = [
        ("Depreciation", f"{t.years:g} years"), ("Power", f"${t.power_usd_per_kwh:g}/kWh, PUE {t.pue:g}"),
        ("Utilisation", f"{t.utilization:.0%}"), ("Server draw ÷ GPU TDP", f"{t.server_power_factor:g}"),
        ("Server price ÷ GPU price", f"{t.server_overhead_factor:g} (GPU-only quotes)"),
        ("Network share of capex", f"{t.network_fraction:.0%}"),
        ("Colocation", f"${t.colo_usd_per_kw_month:g}/kW-month on provisioned IT kW"),
        ("Operations", f"${t.ops_usd_per_gpu_month:g}/GPU-month"), ("Hours per month", "730"),
        ("TCO source", f"{t.source} (as of {t.as_of})"),
    ]
    ctx = {
        "title": f"Deployment plan and procurement: {plan.request.task} on {proc.options[0].label}",
        "version": __version__, "as_of": proc.as_of.isoformat(),
        "commit": "on-demand" if proc.commit == "none" else f"{proc.commit} commitment",
        "stale": proc.stale, "recommended": _option_pairs(plan.recommended), "deployment": deployment,
        "workload": workload, "pareto_png": _data_uri(pareto_png(proc)),
        "load_png": _data_uri(load_png) if load_png else None, "load_caption": load_caption,
        "load_missing": "no self-hosted option with a load to scale",
        "options": [_option_summary(o, refs) for o in proc.options],
        "sensitivity": [{"load": f"{p.multiplier:g}×", "summary": p.summary, "monthly": _usd(p.monthly_usd)}
                        for p in proc.sensitivity],
        "assumptions": assumptions,
        "sources": [{**s, "ref": refs[s["offer_id"]]} for s in sources],
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates") / "report")),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE).render(**ctx)


def write_html(plan: Plan, proc: Procurement, path: Path | str) -> None:
    Path(path).write_text(html_text(plan, proc), encoding="utf-8")
