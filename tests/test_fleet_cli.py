"""`qwen-plan fleet` through the installed CLI: hand-checked instances whose answer follows from `plan`.

Each expectation is derived, not typed in: the alone costs come from running `qwen-plan plan` for
each workload, the owned-server cost from the catalog's on-prem figures, the binding quota from a
second run without it. Models and GPUs are narrowed where the point does not depend on them, to
keep each run short.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_json import Run

from planner.catalog import Catalog
from planner.cost import onprem_cost


def fleet(run: Run, tmp_path: Path, doc: dict[str, Any], *extra: str, name: str = "fleet.yaml") -> dict[str, Any]:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    r = run("fleet", str(path), "--format", "json", *extra)
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def alone_cost(run: Run, *args: str) -> float:
    r = run("plan", *args, "--format", "json")
    assert r.returncode == 0, r.stderr
    return float(json.loads(r.stdout)["recommended"]["monthly_cost_usd"])


def test_two_small_workloads_share_one_deployment(run_qwen_plan: Run, tmp_path: Path) -> None:
    narrow = {"deploy": "cloud", "models": ["qwen3.5-35b-a3b"], "gpus": ["l40s", "rtx-pro-6000", "h100-sxm"]}
    doc = {"fleet": narrow,
           "workloads": [{"name": "chat", "task": "chat", "rps": 0.2}, {"name": "code", "task": "coding", "rps": 0.2}]}
    p = fleet(run_qwen_plan, tmp_path, doc)
    flags = ("--deploy", "cloud", "--models", "qwen3.5-35b-a3b", "--gpus", "l40s,rtx-pro-6000,h100-sxm")
    alone = [alone_cost(run_qwen_plan, "--task", "chat", "--rps", "0.2", *flags),
             alone_cost(run_qwen_plan, "--task", "coding", "--rps", "0.2", *flags)]
    assert [w["alone_monthly_usd"] for w in p["workloads"]] == alone  # the saving is computed against `plan`
    assert p["alone_monthly_usd"] == pytest.approx(sum(alone))
    (dep,) = p["deployments"]
    assert dep["workloads"] == ["chat", "code"]
    # One deployment serving both costs less than the two alone, and no less than the dearer one alone
    # (it must meet that workload's targets too).
    assert max(alone) <= p["monthly_cost_usd"] < sum(alone)
    assert p["saving_usd"] == pytest.approx(sum(alone) - p["monthly_cost_usd"], abs=0.01)
    for w in p["workloads"]:
        assert w["shared_with"] and w["ttft_ms"] <= w["ttft_target_ms"] and w["tpot_ms"] <= w["tpot_target_ms"]
        assert "shares one deployment" in w["why"]
        # Each member's p10-p90 is the deployment's band as ratios of its own prediction (one replica, one
        # model error), applied to what that member sees under the mix.
        for metric in ("ttft", "tpot"):
            lo, hi = dep["option"]["bands"][f"{metric}_ms"]
            central = dep["option"][f"{metric}_ms"]
            assert w[f"{metric}_band_ms"] == pytest.approx([w[f"{metric}_ms"] * lo / central,
                                                            w[f"{metric}_ms"] * hi / central], rel=1e-3)
    assert len({w["ttft_ms"] for w in p["workloads"]}) == 2  # the members see different TTFTs: scaled, not copied


def test_different_residency_never_shares(run_qwen_plan: Run, tmp_path: Path, catalog: Catalog) -> None:
    """No offer is in both the US and the EU, so no deployment can serve both workloads."""
    doc = {"fleet": {"deploy": "cloud", "models": ["qwen3.5-27b"]},
           "workloads": [{"name": "us-chat", "task": "chat", "rps": 0.2, "regions": ["us"]},
                         {"name": "eu-chat", "task": "chat", "rps": 0.2, "regions": ["eu"]}]}
    p = fleet(run_qwen_plan, tmp_path, doc)
    assert sorted(len(d["workloads"]) for d in p["deployments"]) == [1, 1]
    geo = {d["workloads"][0]: catalog.cloud[d["option"]["chosen"]["offer_id"]].geo for d in p["deployments"]}
    assert geo == {"us-chat": "us", "eu-chat": "eu"}
    # Nothing to share: the fleet is each workload's own plan.
    assert p["monthly_cost_usd"] == pytest.approx(sum(w["alone_monthly_usd"] for w in p["workloads"]))
    assert p["saving_usd"] == pytest.approx(0.0, abs=0.01)


def test_a_quota_forces_a_gpu_mix(run_qwen_plan: Run, tmp_path: Path) -> None:
    # Different models: the two can never share, so a quota on their common GPU must split them.
    workloads = [{"name": "a", "task": "chat", "rps": 0.3, "models": ["qwen3.5-27b"]},
                 {"name": "b", "task": "coding", "rps": 0.3, "models": ["qwen3.5-35b-a3b"]}]
    # An L40S costs about a third of an H100 SXM per GPU, so both prefer it without a quota.
    narrow = {"deploy": "cloud", "gpus": ["l40s", "h100-sxm"]}
    free = fleet(run_qwen_plan, tmp_path, {"fleet": narrow, "workloads": workloads}, name="free.yaml")
    gpus = {d["option"]["deployment"]["gpu"] for d in free["deployments"]}
    assert len(gpus) == 1 and len(free["deployments"]) == 2  # both on one GPU type without a quota
    (gpu,) = gpus
    quota = {"gpu": gpu, "max_gpus": min(d["gpus"] for d in free["deployments"])}
    p = fleet(run_qwen_plan, tmp_path, {"fleet": {**narrow, "quotas": [quota]}, "workloads": workloads})
    used = {d["option"]["deployment"]["gpu"] for d in p["deployments"]}
    assert gpu in used and len(used) == 2  # the quota leaves room for one deployment on it: a mix
    assert sum(d["gpus"] for d in p["deployments"] if d["option"]["deployment"]["gpu"] == gpu) <= quota["max_gpus"]
    assert p["monthly_cost_usd"] > free["monthly_cost_usd"]
    (binding,) = [b for b in p["binding"] if b["constraint"] == "fleet.quotas[0]"]
    assert binding["monthly_saving_usd"] == pytest.approx(p["monthly_cost_usd"] - free["monthly_cost_usd"], abs=0.01)
    assert p["greedy_monthly_usd"] is None or p["monthly_cost_usd"] <= p["greedy_monthly_usd"]


def test_owned_inventory_is_used_first(run_qwen_plan: Run, tmp_path: Path, catalog: Catalog) -> None:
    workloads = [{"name": "chat", "task": "chat", "rps": 3}, {"name": "docs", "task": "docs", "rps": 6}]
    narrow = {"models": ["qwen3.5-35b-a3b"], "gpus": ["h100-sxm", "b200", "rtx-pro-6000"]}
    rented = fleet(run_qwen_plan, tmp_path, {"fleet": narrow, "workloads": workloads}, name="rented.yaml")
    doc = {"fleet": {**narrow, "inventory": [{"gpu": "h100-sxm", "servers": 1}]}, "workloads": workloads}
    p = fleet(run_qwen_plan, tmp_path, doc)
    assert {d["kind"] for d in p["deployments"]} == {"owned"}
    server = onprem_cost(catalog, "h100-sxm", 8)
    assert server is not None and server.servers == 1
    # Sunk purchase: the fleet pays one powered server's running cost, nothing for its hardware.
    assert p["monthly_cost_usd"] == pytest.approx(server.opex_monthly, abs=0.01)
    assert p["capex_usd"] == 0
    assert p["monthly_cost_usd"] < rented["monthly_cost_usd"]
    assert sum(d["gpus"] for d in p["deployments"]) <= 8
    assert sum(d["monthly_cost_usd"] for d in p["deployments"]) == pytest.approx(p["monthly_cost_usd"], abs=0.02)


def test_infeasible_budget_names_the_smallest_that_works(run_qwen_plan: Run, tmp_path: Path) -> None:
    workloads = [{"name": "a", "task": "chat", "rps": 0.3, "models": ["qwen3.5-27b"]},
                 {"name": "b", "task": "coding", "rps": 0.3, "models": ["qwen3.5-35b-a3b"]}]
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"fleet": {"deploy": "cloud", "budget": 100}, "workloads": workloads}))
    r = run_qwen_plan("fleet", str(path))
    assert r.returncode == 1, r.stderr
    hint = next(line for line in r.stderr.splitlines() if "fleet.budget must be at least" in line)
    need = float(hint.split("$")[1].split("/")[0].replace(",", ""))
    ok = fleet(run_qwen_plan, tmp_path, {"fleet": {"deploy": "cloud", "budget": need}, "workloads": workloads},
               name="ok.yaml")
    assert ok["monthly_cost_usd"] <= need
    path.write_text(yaml.safe_dump({"fleet": {"deploy": "cloud", "budget": need - 1}, "workloads": workloads}))
    assert run_qwen_plan("fleet", str(path)).returncode == 1  # a dollar less is not enough


PROFILE = [0.1] * 6 + [0.3, 0.6, 1.0, 1.2] + [1.2] * 6 + [0.8, 0.6, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1]


def test_a_load_profile_is_planned_alone_as_plan_plans_it(run_qwen_plan: Run, tmp_path: Path) -> None:
    doc = {"fleet": {"models": ["qwen3.5-27b"], "deploy": "cloud"},
           "workloads": [{"name": "chat", "task": "chat", "load_profile": PROFILE}]}
    p = fleet(run_qwen_plan, tmp_path, doc)
    (w,) = p["workloads"]
    assert w["load_profile"] == PROFILE and w["sizing_rps"] == max(PROFILE)
    assert w["average_rps"] == pytest.approx(sum(PROFILE) / 24, abs=1e-6)
    alone = alone_cost(run_qwen_plan, "--task", "chat", "--models", "qwen3.5-27b", "--deploy", "cloud",
                       "--load-profile", ",".join(map(str, PROFILE)))
    assert w["alone_monthly_usd"] == alone and p["monthly_cost_usd"] == pytest.approx(alone)
    path = tmp_path / "fleet.yaml"
    text = run_qwen_plan("fleet", str(path))
    assert text.returncode == 0, text.stderr
    assert "Fleet deployments" in text.stdout and "chat:" in text.stdout and "planned alone" in text.stdout
    md = run_qwen_plan("fleet", str(path), "--format", "markdown")
    assert md.stdout.startswith("# qwen-plan fleet") and "## Why" in md.stdout
