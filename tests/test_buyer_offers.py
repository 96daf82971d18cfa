"""Issue 11, eligible offers and API latency, through the installed CLI: enterprise tiers by default,
purchases only where the GPU is sold new in the user's market, no stale prices unless asked, every
exclusion in `rejected` with its reason, and hosted APIs checked against TTFT/TPOT like any option."""

from __future__ import annotations

from cli_json import Run, options, plan

from planner.catalog import load_catalog


def offer_tier(offer_id: str) -> str:
    cat = load_catalog()
    o = cat.cloud.get(offer_id) or cat.api.get(offer_id)
    assert o is not None
    return o.tier


def test_default_picks_are_enterprise_tiers(run_qwen_plan: Run) -> None:
    """Community/marketplace clouds and marketplace APIs used to be the default picks."""
    p = plan(run_qwen_plan, "--budget", "20000", "--task", "docs")
    for o in options(p):
        for ln in o["costs"]:
            if ln["kind"] != "onprem":
                assert offer_tier(ln["offer_id"]) == "secure", ln["offer_id"]
    tiers = {r["offer"]: r for r in p["rejected"] if r["constraint"] == "tier"}
    assert "runpod-h100-sxm-community" in tiers and "openrouter-qwen3.5-flash" in tiers
    assert "--tiers marketplace" in tiers["openrouter-qwen3.5-flash"]["detail"]


def test_tiers_widen_the_choice(run_qwen_plan: Run) -> None:
    narrow = plan(run_qwen_plan, "--task", "chat", "--rps", "1", "--deploy", "cloud")
    wide = plan(run_qwen_plan, "--task", "chat", "--rps", "1", "--deploy", "cloud", "--tiers", "secure,community")
    assert wide["recommended"]["monthly_cost_usd"] <= narrow["recommended"]["monthly_cost_usd"]
    assert not any(r["constraint"] == "tier" for r in wide["rejected"] if r["deploy"] == "cloud")


def test_regions_narrow_by_region_or_geography(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--rps", "1", "--deploy", "cloud", "--regions", "eu")
    cat = load_catalog()
    for o in options(p):
        assert cat.cloud[o["chosen"]["offer_id"]].geo == "eu"
    assert any(r["constraint"] == "region" and "unspecified" in r["detail"] for r in p["rejected"])


def test_export_restricted_and_end_of_life_parts_are_not_bought(run_qwen_plan: Run) -> None:
    """The H20 (China-market) and the A100-40GB (not sold new, priced 2022) used to win on-prem."""
    for args in (["--task", "docs", "--budget", "20000"], ["--task", "docs", "--rps", "0.5", "--isl", "100000"]):
        p = plan(run_qwen_plan, *args, "--deploy", "onprem")
        assert all(o["deployment"]["gpu"] not in ("h20", "a100-40gb") for o in options(p))
        market = {r["offer"]: r["detail"] for r in p["rejected"] if r["constraint"] == "market"}
        assert "China" in market["h20-gpu"] and "not sold new" in market["a100-40gb-gpu"]


def test_stale_prices_are_rejected_with_their_date(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "docs", "--budget", "20000", "--deploy", "onprem", "--market", "any")
    stale = {r["offer"]: r["detail"] for r in p["rejected"] if r["constraint"] == "stale"}
    assert "2023-11-01" in stale["h20-gpu"] and "2022-07-01" in stale["a100-40gb-gpu"]
    assert all(not o["chosen"]["stale"] for o in options(p))
    opted = plan(run_qwen_plan, "--task", "docs", "--budget", "20000", "--deploy", "onprem", "--market", "any",
                 "--allow-stale")
    assert not any(r["constraint"] == "stale" for r in opted["rejected"])


def test_china_market_admits_the_h20_purchase(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "docs", "--budget", "20000", "--deploy", "onprem", "--market", "cn",
             "--allow-stale")
    market = {r["offer"] for r in p["rejected"] if r["constraint"] == "market"}
    assert "h20-gpu" not in market and "h100-sxm-hgx-server" in market


def test_unreachable_latency_exits_1_naming_the_constraint(run_qwen_plan: Run) -> None:
    """`--task chat --ttft-ms 10 --tpot-ms 2 --rps 1` used to exit 0 with an unchecked hosted API."""
    r = run_qwen_plan("--task", "chat", "--ttft-ms", "10", "--tpot-ms", "2", "--rps", "1")
    assert r.returncode == 1 and r.stdout == ""
    assert "TTFT below" in r.stderr and "target 10 ms" in r.stderr


def test_api_latency_is_published_and_checked(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--rps", "1", "--deploy", "api")
    cat = load_catalog()
    for o in options(p):
        lat = cat.api[o["chosen"]["offer_id"]].latency
        assert lat is not None and o["ttft_ms"] == round(lat.ttft_s * 1000, 1) <= 1500
        assert o["tpot_ms"] == round(1000 / lat.output_tokens_per_s, 2) <= 40
    slow = {r["offer"]: r for r in p["rejected"] if r["deploy"] == "api" and r["constraint"] == "ttft"}
    assert "5,680 ms" in slow["modelstudio-intl-qwen3.5-27b"]["detail"]
    unmeasured = [r for r in p["rejected"] if r["constraint"] == "latency"]
    assert not unmeasured  # the only unmeasured hosts are marketplace ones, rejected by tier first
    wide = plan(run_qwen_plan, "--task", "chat", "--rps", "1", "--deploy", "api", "--tiers", "secure,marketplace")
    assert {r["offer"] for r in wide["rejected"] if r["constraint"] == "latency"} >= {"openrouter-qwen3.5-flash"}


def test_api_only_target_too_tight_names_the_api_latency(run_qwen_plan: Run) -> None:
    r = run_qwen_plan("--task", "chat", "--rps", "1", "--deploy", "api", "--ttft-ms", "300")
    assert r.returncode == 1 and "TTFT below 600 ms" in r.stderr
