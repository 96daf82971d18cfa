"""Issue 11, the choice a buyer would sign, through the installed CLI: quality within noise is a tie
(cost decides), the GPUs paid for are used, and every row shows load and capacity apart."""

from __future__ import annotations

import pytest
from cli_json import Run, options, plan

from planner.solver.quality import QUALITY_NOISE_POINTS


@pytest.mark.parametrize("deploy", ["cloud", "onprem"])
def test_quality_within_noise_is_a_tie_and_cost_decides(run_qwen_plan: Run, deploy: str) -> None:
    """0.3 quality points used to justify a plan costing 6–12× more per token."""
    p = plan(run_qwen_plan, "--budget", "20000", "--task", "docs", "--deploy", deploy)
    rec, opts = p["recommended"], options(p)
    best = max(o["quality"] for o in opts)
    assert rec["quality"] >= best - QUALITY_NOISE_POINTS
    tied = [o for o in opts if o["quality"] >= best - QUALITY_NOISE_POINTS]
    assert rec["usd_per_million_tokens"] == min(o["usd_per_million_tokens"] for o in tied)
    strict = plan(run_qwen_plan, "--budget", "20000", "--task", "docs", "--deploy", deploy,
                  "--quality-tolerance", "0")
    assert strict["recommended"]["quality"] == max(o["quality"] for o in options(strict))


def test_alternatives_show_dollars_per_quality_point(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--concurrency", "40", "--deploy", "cloud")
    opts = options(p)
    cheapest = min(opts, key=lambda o: (o["monthly_cost_usd"], -o["quality"]))
    priced = [o for o in opts if o["usd_per_quality_point"] is not None]
    assert priced, "some alternative is dearer and better than the cheapest"
    for o in priced:
        expected = (o["monthly_cost_usd"] - cheapest["monthly_cost_usd"]) / (o["quality"] - cheapest["quality"])
        assert o["usd_per_quality_point"] == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("args", [
    ["--budget", "20000", "--task", "docs", "--deploy", "onprem"],
    ["--task", "chat", "--rps", "1", "--deploy", "onprem"],
    ["--task", "chat", "--rps", "1", "--deploy", "cloud"],
])
def test_the_gpus_paid_for_are_used(run_qwen_plan: Run, args: list[str]) -> None:
    """An 8-GPU server used to run one 1-GPU replica."""
    p = plan(run_qwen_plan, *args)
    for o in options(p):
        if o["deploy"] == "api":
            continue
        d = o["deployment"]
        used = d["gpus_per_replica"] * d["replicas"]
        ln = o["chosen"]
        paid = ln["gpus"] if ln["kind"] == "onprem" else ln["instances"] * ln["gpus_per_instance"]
        assert o["gpus_paid"] == paid == used + o["spare_gpus"]
        assert 0 <= o["spare_gpus"] < d["gpus_per_replica"]  # spare only where no whole replica fits


def test_filled_servers_meet_the_targets(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--rps", "1", "--deploy", "onprem")
    for o in options(p):
        assert o["ttft_ms"] <= 1500 and o["tpot_ms"] <= 40 and o["capacity_rps"] >= 1


def test_rows_show_load_and_capacity_apart(run_qwen_plan: Run) -> None:
    """req/s used to mix the load (API rows) with the capacity (self-hosted rows)."""
    p = plan(run_qwen_plan, "--task", "chat", "--rps", "3")
    assert {o["priced_rps"] for o in options(p)} == {3.0}  # every row sized and billed for the same load
    assert all(o["capacity_rps"] >= 3.0 for o in options(p) if o["deploy"] != "api")
    r = run_qwen_plan("--task", "chat", "--rps", "3")
    assert r.returncode == 0 and "load req/s" in r.stdout and "capacity req/s" in r.stdout


def test_think_time_lowers_the_closed_loop_rate(run_qwen_plan: Run) -> None:
    """--concurrency users who think between requests send fewer of them: never a dearer plan."""
    base = ["--task", "chat", "--concurrency", "2000", "--deploy", "cloud"]
    costs, rates = [], []
    for think in ("0", "5", "30"):
        p = plan(run_qwen_plan, *base, "--think-time-s", think)
        rec = p["recommended"]
        # Each user: one request per think time plus the request's own latency (Little's law), which
        # lies between the decode time alone and the p95 TTFT plus decode.
        decode_s, worst_s = 1000 * rec["tpot_ms"] / 1000, (rec["ttft_ms"] + 1000 * rec["tpot_ms"]) / 1000
        low, high = 2000 / (float(think) + worst_s), 2000 / (float(think) + decode_s)
        assert low * 0.999 <= rec["priced_rps"] <= high * 1.001  # the plan rounds latencies
        costs.append(rec["monthly_cost_usd"])
        rates.append(rec["priced_rps"])
    assert costs == sorted(costs, reverse=True) and rates == sorted(rates, reverse=True)
    assert plan(run_qwen_plan, *base)["recommended"]["monthly_cost_usd"] == costs[0]


def test_think_time_needs_concurrency(run_qwen_plan: Run) -> None:
    r = run_qwen_plan("--task", "chat", "--rps", "1", "--think-time-s", "3")
    assert r.returncode == 2 and "--think-time-s" in r.stderr and "--concurrency" in r.stderr


def test_peak_sizes_replicas_and_the_average_bills_tokens(run_qwen_plan: Run) -> None:
    base = ["--task", "chat", "--deploy", "cloud"]
    peak = plan(run_qwen_plan, *base, "--rps", "2", "--peak-rps", "20")
    flat = plan(run_qwen_plan, *base, "--rps", "20")
    # The hardware is the peak's (the same as a flat 20 req/s); the tokens are the average's.
    assert peak["recommended"]["monthly_cost_usd"] == flat["recommended"]["monthly_cost_usd"]
    assert peak["recommended"]["deployment"] == flat["recommended"]["deployment"]
    assert all(o["capacity_rps"] >= 20 and o["priced_rps"] == 2 for o in options(peak))
    assert peak["workload"]["peak_rps"] == 20 and peak["workload"]["arrival_rps"] == 2
    assert any("sized for the peak of 20 req/s" in n for n in peak["notes"])


@pytest.mark.parametrize("args", [["--rps", "2", "--peak-rps", "1"], ["--concurrency", "8", "--peak-rps", "3"]])
def test_peak_needs_an_open_loop_average_below_it(run_qwen_plan: Run, args: list[str]) -> None:
    r = run_qwen_plan("--task", "chat", *args)
    assert r.returncode == 2 and r.stderr.startswith("error: --peak-rps") and len(r.stderr.splitlines()) == 1
