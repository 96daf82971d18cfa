"""Cost formulas on a tiny hand-built catalog; every expected number is worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from planner.catalog import Catalog
from planner.catalog.schema import ApiOffer, CloudOffer, GpuSpec, PurchaseOffer, TcoAssumptions
from planner.cost import (
    api_cost,
    api_usd_per_token,
    breakeven_tokens_per_month,
    buy_vs_rent_month,
    cheapest_api,
    cloud_cost,
    onprem_cost,
    replica_cloud_costs,
    usd_per_million_output,
)
from planner.errors import NoFeasiblePlan, RequestError
from planner.request import Request
from planner.terms import HOURS_PER_MONTH

SRC: dict[str, Any] = {"source": "hand-built test fixture", "as_of": dt.date(2026, 1, 1)}
TODAY = dt.date(2026, 6, 1)


def gpu(gid: str = "g1", tdp_w: float = 700, per_node: int = 8) -> GpuSpec:
    return GpuSpec(
        id=gid, name=gid, vendor="nvidia", family="hopper", memory_gb=80, memory_gib_usable=79,
        bandwidth_tb_s=3.35, tflops={"bf16": 989}, native_precisions=["bf16", "fp8"],
        interconnect="nvlink", interconnect_gb_s=900, gpus_per_node=per_node, nvlink_domain=per_node,
        tdp_w=tdp_w, year=2023, k8s_resource="nvidia.com/gpu", node_label_key="gpu",
        node_label_value=gid, **SRC,
    )


def cloud(oid: str, provider: str, gpus: int, od: float | None, y1: float | None = None,
          y3: float | None = None, as_of: dt.date = dt.date(2026, 1, 1)) -> CloudOffer:
    unknown = {k: "not sold" for k, v in (("usd_per_hour", od), ("usd_per_hour_1y", y1),
                                          ("usd_per_hour_3y", y3)) if v is None}
    return CloudOffer(id=oid, provider=provider, instance_type=f"{oid}-type", gpu="g1", gpus=gpus,
                      region="r1", usd_per_hour=od, usd_per_hour_1y=y1, usd_per_hour_3y=y3,
                      unknown=unknown, source=f"{oid} price page", as_of=as_of)


TCO = TcoAssumptions(power_usd_per_kwh=0.10, pue=1.25, depreciation_years=5, utilization=0.8,
                     server_power_factor=1.5, server_overhead_factor=1.6, network_fraction=0.2,
                     colo_usd_per_kw_month=150, ops_usd_per_gpu_month=50, **SRC)

API = ApiOffer(
    id="flash-host", model="m1", provider="host", max_context=131072, usd_per_m_cached_input=0.1,
    tiers=[{"max_input_tokens": 32768, "usd_per_m_input": 0.4, "usd_per_m_output": 2.4},
           {"max_input_tokens": 131072, "usd_per_m_input": 1.2, "usd_per_m_output": 4.8}],
    **SRC,
)


def make_catalog(purchase: list[PurchaseOffer] | None = None, clouds: list[CloudOffer] | None = None,
                 api: list[ApiOffer] | None = None) -> Catalog:
    return Catalog(
        models={}, gpus={"g1": gpu()}, tasks={}, penalties={}, tco=TCO, origin={},
        cloud={o.id: o for o in (clouds or [])},
        purchase={o.id: o for o in (purchase or [])},
        api={o.id: o for o in (api or [])},
    )


GPU_ONLY = PurchaseOffer(id="g1-card", gpu="g1", unit="gpu", gpus_per_unit=1, usd=25_000,
                         includes_server=False, **SRC)
SERVER = PurchaseOffer(id="g1-server", gpu="g1", unit="server", gpus_per_unit=8, usd=300_000,
                       includes_server=True, **SRC)


# ---------------------------------------------------------------- cloud


def test_partial_instance_costs_the_whole_instance() -> None:
    line = cloud_cost(cloud("a", "aws", 8, 80.0), 3, "none", today=TODAY)
    assert line is not None
    assert (line.instances, line.gpus) == (1, 8)
    assert line.monthly_usd == pytest.approx(80 * 730)  # 58,400
    nine = cloud_cost(cloud("a", "aws", 8, 80.0), 9, "none", today=TODAY)
    assert nine is not None and nine.instances == 2 and nine.monthly_usd == pytest.approx(116_800)
    assert line.capex_usd == 0 and line.kind == "cloud" and line.basis == "on-demand"
    assert HOURS_PER_MONTH == 730.0


def test_commit_prices_and_unknown_commit() -> None:
    offer = cloud("a", "aws", 8, 80.0, y1=56.0)
    one = cloud_cost(offer, 8, "1y", today=TODAY)
    assert one is not None and one.monthly_usd == pytest.approx(40_880) and one.basis == "1y"
    assert cloud_cost(offer, 8, "3y", today=TODAY) is None


def test_bad_gpu_count_is_a_request_error() -> None:
    with pytest.raises(RequestError, match="gpus_needed"):
        cloud_cost(cloud("a", "aws", 8, 80.0), 0, "none")


def test_cheapest_cloud_depends_on_rounding_packing_and_providers() -> None:
    cat = make_catalog(clouds=[cloud("big", "aws", 8, 80.0), cloud("one", "lambda", 1, 11.0)])
    small = replica_cloud_costs(cat, "g1", 1, 3, "none", None, today=TODAY)
    assert [c.offer_id for c in small] == ["one", "big"]
    assert small[0].monthly_usd == pytest.approx(3 * 11 * 730)  # 24,090 < 58,400
    full = replica_cloud_costs(cat, "g1", 1, 8, "none", None, today=TODAY)
    assert full[0].offer_id == "big"  # 58,400 < 64,240
    # A TP2 replica cannot straddle two 1-GPU instances: only the 8-GPU one hosts it.
    assert [c.offer_id for c in replica_cloud_costs(cat, "g1", 2, 1, "none", None, today=TODAY)] == ["big"]
    only_aws = replica_cloud_costs(cat, "g1", 1, 3, "none", ["aws"], today=TODAY)
    assert [c.offer_id for c in only_aws] == ["big"]
    assert replica_cloud_costs(cat, "g1", 1, 3, "none", ["gcp"]) == []


def test_stale_prices_are_flagged() -> None:
    old = cloud("a", "aws", 8, 80.0, as_of=dt.date(2025, 1, 1))
    line = cloud_cost(old, 8, "none", today=dt.date(2026, 3, 1))
    assert line is not None and line.stale
    fresh = cloud_cost(old, 8, "none", today=dt.date(2025, 6, 1))
    assert fresh is not None and not fresh.stale


# ---------------------------------------------------------------- on-prem


def test_onprem_gpu_quote_rounds_to_whole_servers() -> None:
    line = onprem_cost(make_catalog([GPU_ONLY]), "g1", 3, today=TODAY)
    assert line is not None
    assert (line.gpus, line.instances) == (8, 1)
    # 8 × 25,000 × 1.6 server overhead = 320,000 hardware; network is 20% of capex -> 400,000
    assert line.capex_usd == pytest.approx(400_000)
    assert line.depreciation_monthly == pytest.approx(400_000 / 60)
    # 8 GPUs × 0.7 kW × 1.5 = 8.4 kW; × 0.8 util × 1.25 PUE × $0.10 × 730 h
    assert line.power_monthly == pytest.approx(613.2)
    assert line.colo_monthly == pytest.approx(8.4 * 150)
    assert line.ops_monthly == pytest.approx(400)
    assert line.monthly_usd == pytest.approx(400_000 / 60 + 613.2 + 1260 + 400)
    assert line.opex_monthly == pytest.approx(613.2 + 1260 + 400)
    assert line.basis == "5y depreciation"


def test_onprem_overrides_and_cheapest_offer() -> None:
    line = onprem_cost(make_catalog([GPU_ONLY]), "g1", 8, years=3, power_price=0.2, pue=1.5,
                       utilization=0.5, today=TODAY)
    assert line is not None
    assert line.depreciation_monthly == pytest.approx(400_000 / 36)
    assert line.power_monthly == pytest.approx(8.4 * 0.5 * 1.5 * 0.2 * 730)  # 919.8
    assert line.basis == "3y depreciation"
    # A whole server at 300,000 (host included) beats 8 cards × 25,000 × 1.6 = 320,000.
    best = onprem_cost(make_catalog([GPU_ONLY, SERVER]), "g1", 9, today=TODAY)
    assert best is not None and best.offer_id == "g1-server"
    assert (best.gpus, best.instances) == (16, 2)
    assert best.capex_usd == pytest.approx(2 * 300_000 / 0.8)


def test_onprem_without_a_price_and_bad_overrides() -> None:
    assert onprem_cost(make_catalog([]), "g1", 8) is None
    with pytest.raises(RequestError, match="pue"):
        onprem_cost(make_catalog([GPU_ONLY]), "g1", 8, pue=0.9)
    with pytest.raises(RequestError, match="utilization"):
        onprem_cost(make_catalog([GPU_ONLY]), "g1", 8, utilization=1.5)


# ---------------------------------------------------------------- API


def test_api_context_tiers() -> None:
    short = api_cost(API, 100e6, 20e6, isl=2000, today=TODAY)
    assert short.monthly_usd == pytest.approx(100 * 0.4 + 20 * 2.4)  # 88
    long = api_cost(API, 100e6, 20e6, isl=50_000, today=TODAY)
    assert long.monthly_usd == pytest.approx(100 * 1.2 + 20 * 4.8)  # 216
    edge = api_cost(API, 100e6, 20e6, isl=32768)
    assert edge.monthly_usd == pytest.approx(88)
    with pytest.raises(RequestError, match="isl"):
        api_cost(API, 100e6, 20e6, isl=200_000)
    assert short.kind == "api" and short.gpus == 0 and short.capex_usd == 0


def test_api_cached_input() -> None:
    line = api_cost(API, 100e6, 20e6, isl=2000, cached_fraction=0.5)
    assert line.monthly_usd == pytest.approx(100 * (0.5 * 0.4 + 0.5 * 0.1) + 48)  # 73


def test_cheapest_api_skips_hosts_that_cannot_take_the_request() -> None:
    small = API.model_copy(update={"id": "small-host", "provider": "small", "max_context": 8192,
                                   "tiers": [API.tiers[0].model_copy(update={"usd_per_m_input": 0.1})]})
    cat = make_catalog(api=[API, small])
    cheap = cheapest_api(cat, "m1", 100e6, 20e6, isl=2000, today=TODAY)
    assert cheap is not None and cheap.provider == "small"
    long = cheapest_api(cat, "m1", 100e6, 20e6, isl=50_000, today=TODAY)
    assert long is not None and long.provider == "host"
    assert cheapest_api(cat, "m1", 1, 1, isl=2000, providers=["nobody"]) is None


# ---------------------------------------------------------------- break-even


def test_breakeven_tokens_per_month() -> None:
    # per request (2000 in, 500 out): 2000 × 0.4e-6 + 500 × 2.4e-6 = $0.002 -> $8e-7 per token
    assert breakeven_tokens_per_month(8800, API, 2000, 500) == pytest.approx(8800 / 8e-7)


def test_buy_vs_rent_month() -> None:
    assert buy_vs_rent_month(400_000, 2_000, 42_000) == pytest.approx(10.0)
    assert buy_vs_rent_month(400_000, 2_000, 2_000) is None


def test_usd_per_million_output() -> None:
    assert usd_per_million_output(58_400, 146e6) == pytest.approx(400)
    assert usd_per_million_output(100, 0) is None


# ---------------------------------------------------------------- sensitivity


def test_sensitivity_records_infeasible_loads(catalog: Catalog) -> None:
    from planner.solver import solve
    from planner.solver.analysis import sensitivity

    plan = solve(Request(task="chat", rps=2.0), catalog)
    seen: list[float | None] = []

    def replan(request: Request) -> Any:
        seen.append(request.rps)
        if request.rps is not None and request.rps > 6:
            raise NoFeasiblePlan("load too high")
        return solve(request, catalog)

    points = sensitivity(plan, replan)
    assert seen == [1.0, 4.0, 10.0]
    assert [p.multiplier for p in points] == [0.5, 1.0, 2.0, 5.0]
    assert points[1].monthly_usd == plan.recommended.monthly_cost_usd
    assert [p.feasible for p in points] == [True, True, True, False] and points[3].monthly_usd is None
    # More load never costs less.
    assert points[0].monthly_usd is not None and points[2].monthly_usd is not None
    assert points[0].monthly_usd <= points[1].monthly_usd <= points[2].monthly_usd


def test_scale_load() -> None:
    from planner.solver.analysis import scale_load

    assert scale_load(Request(task="chat", rps=2.0), 0.5).rps == 1.0
    assert scale_load(Request(task="chat", concurrency=3), 0.5).concurrency == 2
    assert scale_load(Request(task="chat", tokens_per_day=1e9), 5).tokens_per_day == 5e9
    with pytest.raises(RequestError, match="load"):
        scale_load(Request(task="chat"), 2)


def test_breakeven_honours_the_cached_input_price() -> None:
    # 1000 in (half cached: 0.5×0.4 + 0.5×0.1 = 0.25 $/M) + 100 out at 2.4 $/M = 4.9e-4 $ per request
    assert api_usd_per_token(API, 1000, 100, cached_fraction=0.5) == pytest.approx(4.9e-4 / 1100)
    assert breakeven_tokens_per_month(4.9, API, 1000, 100, 0.5) == pytest.approx(4.9 / (4.9e-4 / 1100))
    assert api_usd_per_token(API, 1000, 100) == pytest.approx((1000 * 0.4 + 100 * 2.4) / 1e6 / 1100)
