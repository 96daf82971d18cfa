"""Issue 11, money semantics, through the installed CLI: --budget is monthly cash, buying hardware is
opt-in, on-prem carries facility, staff/support and cost of capital, capex and opex are shown apart,
and cloud-only flags keep the plan in the cloud (or contradict an explicit wish to buy)."""

from __future__ import annotations

import pytest
from cli_json import Run, options, plan


def test_a_monthly_budget_does_not_buy_a_server(run_qwen_plan: Run) -> None:
    """`--budget 20000 --task docs` used to recommend a $635,802 8×B200 purchase."""
    p = plan(run_qwen_plan, "--budget", "20000", "--task", "docs")
    assert all(o["deploy"] in ("cloud", "api") and o["capex_usd"] == 0 for o in options(p))
    assert not any(r["deploy"] == "onprem" for r in p["rejected"])  # not considered at all, so not rejected
    assert any("monthly cash" in n and "--capex-budget" in n for n in p["notes"])
    assert p["recommended"]["monthly_cost_usd"] <= 20000


def test_onprem_monthly_figure_has_facility_staff_and_capital(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--budget", "20000", "--task", "docs", "--deploy", "onprem")
    rec = p["recommended"]
    ln = rec["chosen"]
    assert ln["kind"] == "onprem" and ln["colo_monthly"] > 0 and ln["ops_monthly"] > 0
    # Capex and monthly opex are apart: the opex is the running cost without depreciation or capital.
    assert rec["capex_usd"] == pytest.approx(ln["capex_usd"], abs=0.01) and rec["capex_usd"] > 0
    assert rec["monthly_opex_usd"] == pytest.approx(ln["opex_monthly"], abs=0.01)
    assert ln["monthly_usd"] == pytest.approx(ln["depreciation_monthly"] + ln["capital_monthly"] + ln["opex_monthly"])
    # The catalog publishes no cost-of-capital rate: counted as 0, and the plan says so.
    assert ln["capital_monthly"] == 0 and "cost_of_capital" in p["tco"]["unpublished"]
    assert any("cost of capital: no published rate" in n for n in p["notes"])
    # The shown default is the sourced one (tco.yaml), not 0.
    assert p["tco"]["colo_usd_per_kw_month"] == 150 and p["tco"]["ops_fraction"] == 0.12


def test_tco_overrides_move_the_line(run_qwen_plan: Run) -> None:
    base = ["--task", "chat", "--rps", "2", "--deploy", "onprem", "--gpus", "h100-sxm"]
    p = plan(run_qwen_plan, *base, "--colo-usd-per-kw-month", "0", "--ops-fraction", "0", "--cost-of-capital", "0.1")
    ln = p["recommended"]["chosen"]
    assert ln["colo_monthly"] == 0 and ln["ops_monthly"] == 0
    assert ln["capital_monthly"] == pytest.approx(ln["capex_usd"] / 2 * 0.1 / 12)
    assert "cost_of_capital" not in p["tco"]["unpublished"]
    default = plan(run_qwen_plan, *base)["recommended"]["chosen"]
    assert default["monthly_usd"] > ln["monthly_usd"] - ln["capital_monthly"]


def test_capex_budget_allows_buying_and_caps_it(run_qwen_plan: Run) -> None:
    # With the default deploy set, a capex budget is what lets purchases compete at all.
    p = plan(run_qwen_plan, "--task", "docs", "--budget", "20000", "--capex-budget", "300000")
    capex = [r for r in p["rejected"] if r["constraint"] == "capex"]
    assert capex and all(r["deploy"] == "onprem" and "over the capex budget" in r["detail"] for r in capex)
    assert all(o["capex_usd"] <= 300000 for o in options(p))
    bought = plan(run_qwen_plan, "--task", "docs", "--budget", "20000", "--capex-budget", "300000",
                  "--deploy", "onprem")
    assert all(o["deploy"] == "onprem" and 0 < o["capex_usd"] <= 300000 for o in options(bought))


def test_capex_paid_up_front_leaves_running_costs_to_the_monthly_budget(run_qwen_plan: Run) -> None:
    # A B200 server's depreciation alone is over $10k a month; with its capex budgeted, only the
    # running costs count against a $6,000 monthly budget.
    p = plan(run_qwen_plan, "--task", "docs", "--budget", "6000", "--capex-budget", "700000", "--gpus", "b200",
             "--deploy", "onprem")
    ln = p["recommended"]["chosen"]
    assert ln["kind"] == "onprem" and ln["monthly_usd"] > 6000 >= ln["opex_monthly"] + ln["capital_monthly"]


@pytest.mark.parametrize("providers,commit", [("azure", "3y"), ("aws,gcp,azure", "1y")])
def test_cloud_only_flags_keep_the_plan_in_the_cloud(run_qwen_plan: Run, providers: str, commit: str) -> None:
    """`--providers azure --commit 3y` used to recommend buying an H20 server."""
    p = plan(run_qwen_plan, "--task", "docs", "--rps", "2", "--providers", providers, "--commit", commit)
    allowed = set(providers.split(","))
    for o in options(p):
        assert o["deploy"] == "cloud" and o["chosen"]["provider"] in allowed and o["chosen"]["commit"] == commit


@pytest.mark.parametrize("args,first,second", [
    (["--deploy", "onprem", "--commit", "1y"], "--commit 1y", "--deploy onprem"),
    (["--deploy", "any", "--providers", "aws"], "--providers aws", "--deploy any"),
    (["--capex-budget", "100000", "--providers", "aws"], "--providers aws", "--capex-budget"),
    (["--capex-budget", "100000", "--deploy", "cloud"], "--capex-budget", "--deploy cloud"),
    (["--deploy", "api", "--commit", "3y"], "--commit 3y", "--deploy api"),
])
def test_contradictions_are_bad_input(run_qwen_plan: Run, args: list[str], first: str, second: str) -> None:
    r = run_qwen_plan("--task", "docs", "--rps", "1", *args)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and first in lines[0] and second in lines[0] and "Traceback" not in r.stderr


def test_api_hosts_in_providers_keep_buying_allowed(run_qwen_plan: Run) -> None:
    # openrouter hosts APIs only: not a cloud-only flag, so --deploy any stays valid.
    r = run_qwen_plan("--task", "chat", "--rps", "1", "--deploy", "any", "--providers", "openrouter",
                      "--tiers", "marketplace", "--format", "json")
    assert r.returncode in (0, 1) and "contradicts" not in r.stderr
