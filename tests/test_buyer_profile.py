"""Issue 11, peak and average load: a 24-hour `load_profile` sizes for the busiest hour, bills the cloud
for the hours the replicas run (base committed, burst on demand), pays on-prem for the peak, and
renders the autoscaler's min/max and a KEDA cron schedule from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_json import Run, options, plan
from test_cost import cloud

from planner.cost import scheduled_cloud_cost
from planner.solver.schedule import billed_by_hour
from planner.terms import DAYS_PER_MONTH, HOURS_PER_MONTH

# A working day (UTC): quiet at night, a morning ramp, a plateau and an evening tail.
DAY = (20, 10, 10, 10, 10, 10, 20, 40, 80, 120, 140, 150, 150, 140, 140, 130, 120, 100, 80, 60, 50, 40, 30, 20)
PINNED = ("--models", "qwen3.5-35b-a3b", "--precisions", "fp8", "--gpus", "h100-sxm", "--engine", "vllm")


def _profile(*values: float) -> str:
    return ",".join(f"{v:g}" for v in values)


def test_commit_the_base_and_burst_on_demand_hand_computed() -> None:
    # One instance all day, three for 12 hours; 1y at $2/h, on demand $3/h.
    # Instance 1 runs 24 h: committed. Instances 2 and 3 run 12 h: 12 x $3 = $36 < 24 x $2 = $48, so on demand.
    offer = cloud("o", "p", 1, od=3.0, y1=2.0)
    line = scheduled_cloud_cost(offer, [1] * 12 + [3] * 12, "1y", 3)
    assert line is not None
    assert (line.instances, line.always_on_instances) == (3, 1)
    assert line.burst_instance_hours == pytest.approx(24 * DAYS_PER_MONTH)
    assert line.monthly_usd == pytest.approx(2.0 * HOURS_PER_MONTH + 3.0 * 24 * DAYS_PER_MONTH)
    # Needed 20 h a day, the second instance pays off committed (20 x $3 = $60 > $48).
    longer = scheduled_cloud_cost(offer, [1] * 4 + [2] * 20, "1y", 2)
    assert longer is not None and longer.always_on_instances == 2 and longer.burst_instance_hours == 0


def test_on_demand_bills_only_the_hours_used() -> None:
    line = scheduled_cloud_cost(cloud("o", "p", 1, od=3.0), [1] * 12 + [3] * 12, "none", 3)
    assert line is not None
    assert line.monthly_usd == pytest.approx(3.0 * (12 * 1 + 12 * 3) * DAYS_PER_MONTH)


def test_a_scale_up_starts_an_hour_early_and_a_scale_down_waits_an_hour() -> None:
    assert billed_by_hour([1, 1, 1, 3, 3, 1, 1, 1]) == (1, 1, 3, 3, 3, 3, 1, 1)
    assert billed_by_hour([2] + [1] * 22 + [2]) == (2, 2) + (1,) * 20 + (2, 2)  # the day wraps


def test_profile_sizes_for_the_busiest_hour_and_bills_the_hours_used(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--load-profile", _profile(*DAY), *PINNED)
    rec = p["recommended"]
    hourly = rec["deployment"]["replicas_by_hour"]
    assert len(hourly) == 24 and max(hourly) == rec["deployment"]["replicas"] and min(hourly) < max(hourly)
    assert p["workload"]["peak_rps"] == 150 and p["workload"]["arrival_rps"] == pytest.approx(sum(DAY) / 24)
    # Sized for 150 req/s all day costs more: the profile pays for hours, not the peak. (The two plans
    # may pick different TP: billed by the hour, smaller replicas follow the curve more closely.)
    flat = plan(run_qwen_plan, "--task", "chat", "--rps", "150", *PINNED)["recommended"]
    assert rec["monthly_cost_usd"] < 0.9 * flat["monthly_cost_usd"]
    # The profile's own deployment kept at its peak all day would cost its peak instances every hour.
    line = rec["chosen"]
    peak_all_day = line["usd_per_instance_hour"] * line["instances"] * HOURS_PER_MONTH
    assert rec["monthly_cost_usd"] < peak_all_day
    # Tokens are billed at the average: the load column is the mean of the profile.
    assert rec["priced_rps"] == pytest.approx(sum(DAY) / 24)


def test_committed_base_with_on_demand_burst_through_the_cli(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--load-profile", _profile(*DAY), "--commit", "1y", *PINNED)
    ln = p["recommended"]["chosen"]
    assert ln["commit"] == "1y" and 1 <= ln["always_on_instances"] < ln["instances"]
    assert ln["burst_instance_hours"] > 0 and ln["burst_usd_per_instance_hour"] > ln["usd_per_instance_hour"]
    assert ln["monthly_usd"] == pytest.approx(
        ln["usd_per_instance_hour"] * ln["always_on_instances"] * ln["hours_per_month"]
        + ln["burst_usd_per_instance_hour"] * ln["burst_instance_hours"], rel=1e-9)


def test_onprem_pays_for_the_peak(run_qwen_plan: Run) -> None:
    p = plan(run_qwen_plan, "--task", "chat", "--load-profile", _profile(*DAY), "--deploy", "onprem", *PINNED)
    rec = p["recommended"]
    assert rec["deploy"] == "onprem" and rec["deployment"]["replicas_by_hour"] is None
    assert rec["chosen"]["gpus"] >= rec["deployment"]["replicas"] * rec["deployment"]["tp"]


def test_more_load_in_any_hour_never_lowers_cost(run_qwen_plan: Run) -> None:
    costs = []
    for scale in (0.5, 1.0, 2.0):
        p = plan(run_qwen_plan, "--task", "chat", "--load-profile", _profile(*(v * scale for v in DAY)), *PINNED)
        costs.append(p["recommended"]["monthly_cost_usd"])
    assert costs == sorted(costs)


def test_profile_renders_the_autoscaler_range_and_cron_schedule(run_qwen_plan: Run, tmp_path: Path) -> None:
    r = run_qwen_plan("--task", "chat", "--load-profile", _profile(*DAY), *PINNED, "--format", "json")
    assert r.returncode == 0, r.stderr
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(r.stdout, encoding="utf-8")
    hourly = json.loads(r.stdout)["recommended"]["deployment"]["replicas_by_hour"]
    out = tmp_path / "deploy"
    done = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(out), "--autoscaler", "keda",
                         "--prometheus", "http://prometheus.monitoring:9090")
    assert done.returncode == 0, done.stderr
    so = yaml.safe_load((out / "manifests" / "50-scaledobject.yaml").read_text())["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (min(hourly), max(hourly))
    # Every hour's replicas are the max over the triggers active then (KEDA's rule), floored at the minimum.
    level = [min(hourly)] * 24
    for t in so["triggers"]:
        if t["type"] != "cron":
            continue
        m = t["metadata"]
        assert m["timezone"] == "Etc/UTC"
        start, end = int(m["start"].split()[1]), int(m["end"].split()[1])
        for h in range(start, end if end > start else end + 24):
            level[h % 24] = max(level[h % 24], int(m["desiredReplicas"]))
    assert level == hourly
    hpa = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(tmp_path / "hpa"))
    assert hpa.returncode == 0, hpa.stderr
    spec = yaml.safe_load((tmp_path / "hpa" / "manifests" / "50-horizontalpodautoscaler.yaml").read_text())["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (min(hourly), max(hourly))


@pytest.mark.parametrize(("args", "names"), [
    (("--load-profile", "1,2,3"), ("--load-profile", "24")),
    (("--load-profile", _profile(*DAY), "--rps", "5"), ("rps", "load_profile")),
    (("--load-profile", _profile(*DAY), "--peak-rps", "200"), ("--peak-rps", "--load-profile")),
    (("--load-profile", "a,b"), ("--load-profile", "numbers")),
    (("--load-profile", _profile(*([0.0] * 24))), ("--load-profile", "above 0")),
])
def test_bad_profiles_are_one_line_errors(run_qwen_plan: Run, args: tuple[str, ...], names: tuple[str, ...]) -> None:
    r = run_qwen_plan("--task", "chat", *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert "\n" not in line and all(n in line for n in names), line


def test_a_profile_in_the_request_file(run_qwen_plan: Run, tmp_path: Path) -> None:
    req = tmp_path / "request.yaml"
    req.write_text(yaml.safe_dump({"task": "chat", "load_profile": list(DAY)}), encoding="utf-8")
    p = plan(run_qwen_plan, "--request", str(req), *PINNED)
    assert all(o["priced_rps"] == pytest.approx(sum(DAY) / 24) for o in options(p))


def test_a_plan_written_before_profiles_existed_still_renders(run_qwen_plan: Run, tmp_path: Path) -> None:
    # plan.json files from earlier releases have no always_on_instances: every instance ran all month.
    r = run_qwen_plan("--task", "chat", "--rps", "5", *PINNED, "--format", "json")
    assert r.returncode == 0, r.stderr
    old = json.loads(r.stdout)
    for o in [old["recommended"], *old["alternatives"]]:
        for ln in [o["chosen"], *o.get("costs", [])]:
            ln.pop("always_on_instances", None)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(old), encoding="utf-8")
    done = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(tmp_path / "deploy"))
    assert done.returncode == 0, done.stderr
