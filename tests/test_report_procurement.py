"""The procurement table of a hand-built plan: rows, packing, break-evens and stale flags."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from test_cost import API, GPU_ONLY, SERVER, cloud, make_catalog

from planner.catalog import Catalog
from planner.plan import Deployment, Option, Plan
from planner.report import csv_text, procurement_table
from planner.report.procurement import Procurement
from planner.request import Request

TODAY = dt.date(2026, 6, 1)
OLD_API = API.model_copy(update={"as_of": dt.date(2025, 1, 1)})  # > 12 months before TODAY


def report_catalog() -> Catalog:
    return make_catalog(
        purchase=[GPU_ONLY, SERVER],
        clouds=[cloud("big", "aws", 8, 80.0, y1=56.0), cloud("one", "lambda", 1, 11.0)],
        api=[OLD_API],
    )


def _option(**kw: Any) -> Option:
    base: dict[str, Any] = dict(
        model="m1", precision="fp8", gpu="g1", tp=4, ep=1, replicas=3, total_gpus=12, engine="vllm",
        mtp_tokens=0, deploy="cloud", provider="aws", instance="big-type", instances=2,
        monthly_cost_usd=116_800.0, usd_per_million_tokens=44.44, ttft_ms=400.0, tpot_ms=30.0,
        capacity_rps=2.4, capacity_tokens_per_day=5e8, batch_per_replica=32, quality=70.0,
        price_as_of="2026-01-01",
    )
    return Option(**{**base, **kw})


def make_plan(request: Request | None = None, prefix_hit: float | None = None) -> Plan:
    req = request or Request(task="chat", rps=2.0)
    rec = _option()
    onprem = _option(deploy="onprem", provider=None, instance=None, monthly_cost_usd=17_046.4,
                     tpot_ms=30.0, ttft_ms=400.0)
    small = _option(tp=8, replicas=2, total_gpus=16, monthly_cost_usd=116_800.0, tpot_ms=22.0, quality=71.0)
    api = _option(precision=None, gpu=None, tp=0, ep=0, replicas=0, total_gpus=0, engine=None, deploy="api",
                  provider="host", instance=None, instances=0, monthly_cost_usd=10_512.0, ttft_ms=None,
                  tpot_ms=None, capacity_rps=2.0, batch_per_replica=0, quality=68.0, stale_price=True,
                  price_as_of="2025-01-01")
    dep = Deployment(model="m1", checkpoint="org/m1-FP8", precision="fp8", kv_dtype="bf16", engine="vllm",
                     gpu="g1", tp=4, ep=1, gpus_per_replica=4, nodes_per_replica=1, replicas=3,
                     max_model_len=8192, max_num_seqs=32, max_num_batched_tokens=8192, mtp_tokens=0,
                     gpu_memory_utilization=0.9, language_model_only=True)
    return Plan(
        version="test", request=req,
        resolved={"task": "chat", "isl": 2000, "osl": 500, "arrival_rps": req.rps, "ttft_ms": 2000.0,
                  "tpot_ms": 50.0, "concurrency": req.concurrency, "prefix_hit": prefix_hit},
        recommended=rec, deployment=dep, alternatives=[onprem, small, api], rejected=[],
        queueing_model="M/D/c", candidates_evaluated=10,
    )


@pytest.fixture(scope="module")
def proc() -> Procurement:
    return procurement_table(make_plan(), report_catalog(), today=TODAY)


def test_workload_from_the_arrival_rate(proc: Procurement) -> None:
    w = proc.options[0].workload
    assert w.requests_month == pytest.approx(2 * 730 * 3600)  # 5,256,000
    assert w.input_tokens_month == pytest.approx(5_256_000 * 2000)
    assert w.output_tokens_month == pytest.approx(5_256_000 * 500)


def test_rows_of_the_recommended_option(proc: Procurement) -> None:
    rows = proc.options[0].rows
    got = [(r.line.kind, r.line.provider, r.line.basis, round(r.line.monthly_usd, 2)) for r in rows]
    assert got == [
        # TP4 replicas: 2 per 8-GPU instance -> 2 instances; lambda's 1-GPU instance cannot hold a TP4 replica
        ("cloud", "aws", "on-demand", 2 * 80 * 730),
        ("cloud", "aws", "1y", 2 * 56 * 730),
        # 16 GPUs as 2 servers at 300,000 (host included) / 0.8 network = 750,000 capex over 60 months
        ("onprem", "on-prem", "5y depreciation", round(12_500 + 1226.4 + 2520 + 800, 2)),
        # 10,512 M input × $0.4 + 2,628 M output × $2.4
        ("api", "host", "api", 10_512.0),
    ]
    assert [r.chosen for r in rows] == [True, False, False, False]
    assert rows[0].usd_per_m_output == pytest.approx(116_800 / 2628)


def test_break_evens(proc: Procurement) -> None:
    o = proc.options[0]
    assert o.buy_vs_rent_months == pytest.approx(750_000 / (116_800 - 4546.4))
    assert o.buy_vs_rent_against == "aws big-type (on-demand)"
    # blended API price for 2000 in / 500 out: $0.002 per request = $8e-7 per token
    assert o.api_breakeven_tokens_month == pytest.approx(116_800 / 8e-7)
    api_option = proc.options[3]
    assert api_option.api_breakeven_tokens_month is None
    assert [r.line.kind for r in api_option.rows] == ["api"]


def test_overrides_come_from_the_request() -> None:
    plan = make_plan(Request(task="chat", rps=2.0, years=3, power_price=0.2))
    p = procurement_table(plan, report_catalog(), today=TODAY)
    on = p.options[0].onprem
    assert on is not None
    assert on.line.detail["depreciation_monthly"] == pytest.approx(750_000 / 36)
    assert on.line.detail["power_monthly"] == pytest.approx(2 * 1226.4)
    assert on.line.basis == "3y depreciation"


def test_stale_prices_are_listed_and_in_the_csv(proc: Procurement) -> None:
    assert len(proc.stale) == 1 and proc.stale[0].startswith("flash-host (api, host)")
    text = csv_text(proc)
    api_lines = [ln for ln in text.splitlines() if ",api,host," in ln]
    assert api_lines and all("STALE" in ln for ln in api_lines)
    assert all("STALE" not in ln for ln in text.splitlines() if ",cloud," in ln)


def test_json_is_deterministic_and_complete(proc: Procurement) -> None:
    again = procurement_table(make_plan(), report_catalog(), today=TODAY)
    assert proc.to_json() == again.to_json()
    data = json.loads(proc.to_json())
    assert [o["index"] for o in data["options"]] == [1, 2, 3, 4]
    assert {s["offer_id"] for s in data["sources"]} == {"big", "g1-server", "flash-host"}


def test_load_curve_and_its_break_even(proc: Procurement) -> None:
    c = proc.curves
    assert c is not None and c.option.index == 1
    assert [s.kind for s in c.series] == ["cloud", "onprem", "api"]
    assert c.series[2].multipliers[0] == pytest.approx(0.01)
    assert c.series[2].multipliers[-1] == pytest.approx(10.0)
    assert c.series[2].monthly_usd[0] == pytest.approx(10_512 * 0.01)
    # At low load one TP4 replica still needs a whole server: 6,250 + 613.2 + 1,260 + 400 = 8,523.2
    assert c.series[1].monthly_usd[0] == pytest.approx(8523.2)
    # Each server (2 replicas, 0.8x the load) costs 8,523.2 while the API bills 8,409.6 for the same
    # volume, so the API stays cheaper at every load shown: no break-even to mark
    assert c.crossings == ()


def test_break_even_with_a_dearer_api() -> None:
    dear = OLD_API.model_copy(update={"tiers": [t.model_copy(update={
        "usd_per_m_input": 2 * t.usd_per_m_input, "usd_per_m_output": 2 * t.usd_per_m_output})
        for t in OLD_API.tiers]})
    cat = make_catalog(purchase=[GPU_ONLY, SERVER], clouds=[cloud("big", "aws", 8, 80.0)], api=[dear])
    c = procurement_table(make_plan(), cat, today=TODAY).curves
    assert c is not None
    # API = 21,024 × m; one server (up to 2 replicas, m <= 0.8) costs 8,523.2 -> m = 0.4054
    (on,) = [x for x in c.crossings if x.label == "on-prem beats API"]
    assert on.multiplier == pytest.approx(8523.2 / 21_024)
    assert on.monthly_usd == pytest.approx(8523.2)


def test_concurrency_load_prices_the_api_at_the_solvers_rate() -> None:
    """Closed loop: self-hosted options by Little's law at their own latency, the API at its capacity_rps."""
    plan = make_plan(Request(task="chat", concurrency=64))
    p = procurement_table(plan, report_catalog(), today=TODAY)
    hosted, api = p.options[0].workload, p.options[3].workload
    # 64 in flight / (0.4 s TTFT + 500 × 30 ms TPOT) = 64 / 15.4 s
    assert hosted.rps == pytest.approx(64 / 15.4)
    assert hosted.basis == "concurrency (Little's law)"
    # the solver priced the API at 2.0 req/s (its capacity_rps), not 64 / (2 s + 500 × 50 ms) = 2.37
    assert api.rps == pytest.approx(2.0)
    assert api.basis == "concurrency at the assumed API latency"
    line = p.options[3].rows[0].line
    # 2 req/s × 2,628,000 s = 5,256,000 requests: 10,512 M input × $0.4 + 2,628 M output × $2.4
    assert line.monthly_usd == pytest.approx(10_512.0)
    assert line.monthly_usd == pytest.approx(plan.alternatives[2].monthly_cost_usd)


def test_the_cost_table_flags_stale_prices_in_rows_and_break_evens(proc: Procurement) -> None:
    from rich.console import Console

    from planner.cli.cost_cmd import print_procurement

    console = Console(width=200, record=True, highlight=False, color_system=None)
    print_procurement(proc, console)
    text = console.export_text()
    # 4 options each show the stale host API row
    assert sum(1 for ln in text.splitlines() if "host" in ln and "2025-01-01 STALE" in ln) == 4
    assert "tokens/month (vs host API, a STALE price)" in text
    assert "(vs aws big-type (on-demand))" in text  # a fresh price is not flagged
