"""report.html: one self-contained page (inline CSS, charts as data URIs, no external resources)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jinja2

from planner import __version__
from planner.catalog import data_dir
from planner.fmt import DASH, num, tokens, usd
from planner.plan import Plan, SelfHosted
from planner.report.bands import OptionBands, option_bands
from planner.report.charts import cost_vs_load_png, pareto_png
from planner.report.procurement import Option, OptionCosts, Procurement, way_of_paying
from planner.terms import commit_phrase

TEMPLATE = "report.html.j2"


def _stale(text: str, stale: bool) -> str:
    """A break-even is only as good as the price it is measured against: say so where it is quoted."""
    return f"{text} (STALE price)" if stale else text


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _band_text(b: OptionBands) -> str:
    """The error band's provenance, and why it is missing or widened."""
    if b.regime is None:
        return b.note
    text = f"p10–p90 of the cross-validated model error, {b.regime} regime"
    return f"{text}; {b.note}" if b.note else text


def _band_pairs(o: Option) -> list[tuple[str, str]]:
    b = option_bands(o)
    if not isinstance(o, SelfHosted):
        return [("p95 TTFT / TPOT", "the provider's (not modelled)"), ("Error band", b.note)]
    tps = b.output_tokens_per_s
    return [("p95 TTFT", b.ttft_ms.text("ms")), ("p95 TPOT", b.tpot_ms.text("ms")),
            ("Output tokens/s per replica", f"p10–p90 {tps.range_text()} tok/s" if tps.band else DASH),
            ("Error band", _band_text(b))]


def _option_pairs(o: Option) -> list[tuple[str, str]]:
    pairs = [("Model", o.model), ("Deploy", way_of_paying(o))]
    if isinstance(o, SelfHosted):
        pairs += [("Precision", str(o.precision)), ("GPU", f"{o.total_gpus}× {o.gpu}"),
                  ("Parallelism", f"TP{o.tp}, EP{o.ep}, {o.replicas} replicas"), ("Engine", str(o.engine)),
                  ("MTP speculative tokens", str(o.mtp_tokens)),
                  ("Batch per replica", str(o.batch_per_replica))]
    pairs += [("Monthly cost", usd(o.monthly_cost_usd, 2)),
              ("Cost per M output tokens", usd(o.usd_per_million_tokens, 2))]
    pairs += _band_pairs(o)
    pairs += [("Capacity", f"{num(o.capacity_rps, 3)} req/s, {tokens(o.capacity_tokens_per_day)} tokens/day"),
              ("Priced at", f"{num(o.priced_rps, 3)} req/s ({o.priced_basis})"),
              ("Quality", num(o.quality, 2)),
              ("Price as of", f"{o.price_as_of}{' (STALE)' if o.stale_price else ''}")]
    return pairs


def _rows(o: OptionCosts, refs: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"kind": r.line.kind, "provider": r.line.provider, "instance": r.line.instance or "",
         "basis": r.line.basis, "instances": r.line.instances, "gpus": r.line.gpus,
         "capex": usd(r.line.capex_usd, 2) if r.line.capex_usd else DASH, "monthly": usd(r.line.monthly_usd, 2),
         "per_m": usd(r.usd_per_m_output, 2), "chosen": r.chosen, "as_of": r.line.as_of.isoformat(),
         "stale": r.line.stale, "source_ref": refs[r.line.offer_id]}
        for r in o.rows
    ]


def _option_summary(o: OptionCosts, refs: dict[str, int]) -> dict[str, Any]:
    opt = o.option
    bvr = DASH
    if (b := o.buy_vs_rent) is not None:
        bvr = _stale(f"{b.months:.1f} months vs {b.against}" if b.months is not None
                     else f"never within the depreciation life, vs {b.against}", b.against_stale)
    be = DASH
    if (a := o.api_breakeven) is not None:
        be = _stale(f"{tokens(a.tokens_month)} tokens/month vs {a.against}", a.against_stale)
    stale_rows = [r.line for r in o.rows if r.line.stale]
    stale_text = "; ".join(sorted({f"{ln.label} as of {ln.as_of}" for ln in stale_rows}))
    on = o.onprem
    onprem_detail = None
    if on is not None and on.line.kind == "onprem":
        ln = on.line
        onprem_detail = (f"capex {usd(ln.capex_usd, 2)} up front ({ln.offer_id}, network "
                         f"{usd(ln.network_usd, 2)}), then {usd(ln.depreciation_monthly, 2)}/month depreciation "
                         f"+ {usd(ln.power_monthly, 2)} energy + {usd(ln.colo_monthly, 2)} colocation "
                         f"+ {usd(ln.ops_monthly, 2)} operations ({num(ln.it_kw)} kW IT load).")
    w = o.workload
    band = option_bands(opt)
    return {
        "index": o.index, "label": o.label, "recommended": o.recommended, "way": way_of_paying(opt),
        "monthly": usd(opt.monthly_cost_usd, 2), "per_m": usd(opt.usd_per_million_tokens, 2),
        "ttft": band.ttft_ms.text(""), "tpot": band.tpot_ms.text(""),  # `—` for an API: latency not modelled
        "tps_band": band.output_tokens_per_s.range_text(), "band": _band_text(band),
        "widened": bool(band.widened), "quality": num(opt.quality, 2),
        "stale": bool(stale_rows), "stale_text": f"STALE: {stale_text}" if stale_rows else DASH,
        "buy_vs_rent": bvr, "breakeven": be,
        "rows": _rows(o, refs), "onprem_detail": onprem_detail,
        "workload": (f"{num(w.rps, 3)} req/s ({w.basis}), {num(w.input_per_request, 0)} in / {w.osl} out tokens "
                     "per request = "
                     f"{tokens(w.input_tokens_month)} input + {tokens(w.output_tokens_month)} output "
                     "tokens/month"),
    }


def _band_caption(plan: Plan) -> str:
    q = plan.request.confidence
    return ("TTFT and TPOT are the predicted p95 at the sized load" + (f", sized at the {q:g} quantile of the "
            "model's measured error" if q != 0.5 else "") + "; in brackets, and for throughput, the p10–p90 band "
            "of what a replica like this measured where the model predicted these numbers (the cross-validated "
            "error of the option's concurrency regime, widened outside the measured range, with the reason "
            "given). A hosted API's latency is its provider's published median: no band is available for it.")


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
        load_caption = (f"Option {curves.option + 1}'s hardware priced at 0.01× to 10× the request's load "
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
    workload = [(k, DASH if v is None else str(v)) for k, v in sorted(plan.workload.model_dump(mode="json").items())]
    t = proc.tco
    assumptions = [
        ("Depreciation", f"{t.years:g} years"), ("Power", f"${t.power_usd_per_kwh:g}/kWh, PUE {t.pue:g}"),
        ("Utilisation", f"{t.utilization:.0%}"), ("Server draw ÷ GPU TDP", f"{t.server_power_factor:g}"),
        ("Server price ÷ GPU price", f"{t.server_overhead_factor:g} (GPU-only quotes)"),
        ("Network share of capex", f"{t.network_fraction:.0%}"),
        ("Colocation", f"${t.colo_usd_per_kw_month:g}/kW-month on provisioned IT kW"),
        ("Operations", f"${t.ops_usd_per_gpu_month:g}/GPU-month"), ("Hours per month", f"{t.hours_per_month:g}"),
        ("TCO source", f"{t.source} (as of {t.as_of})"),
    ]
    ctx = {
        "title": f"Deployment plan and procurement: {plan.request.task} on {proc.options[0].label}",
        "version": __version__, "as_of": proc.as_of.isoformat(),
        "commit": commit_phrase(proc.commit),
        "stale": proc.stale, "recommended": _option_pairs(plan.recommended), "deployment": deployment,
        "workload": workload, "pareto_png": _data_uri(pareto_png(proc)),
        "load_png": _data_uri(load_png) if load_png else None, "load_caption": load_caption,
        "load_missing": "no self-hosted option with a load to scale",
        "options": [_option_summary(o, refs) for o in proc.options],
        "band_caption": _band_caption(plan),
        "sensitivity": [{"load": f"{p.multiplier:g}×", "summary": p.summary, "monthly": usd(p.monthly_usd, 2)}
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
