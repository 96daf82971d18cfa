"""`qwen-plan fleet --out`: a folder per deployment rendered as `plan --out` renders it, Gateway API
routes validated against the HTTPRoute v1 schema, the fleet plan and reports, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cli_json import Run
from openpyxl import load_workbook

from planner.atomic import MANIFEST
from planner.report.xlsx_values import cached_values

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "httproute_v1.json").read_text(encoding="utf-8"))
FLEET = {"fleet": {"deploy": "cloud", "models": ["qwen3.5-27b"], "gpus": ["l40s"]},
         "workloads": [{"name": "us-chat", "task": "chat", "rps": 0.2, "regions": ["us"]},
                       {"name": "eu-chat", "task": "chat", "rps": 0.2, "regions": ["eu"]}]}


def test_out_writes_deployments_routes_plan_and_reports(run_qwen_plan: Run, tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(yaml.safe_dump(FLEET), encoding="utf-8")
    out = tmp_path / "out"
    r = run_qwen_plan("fleet", str(spec), "--out", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan == json.loads(r.stdout)
    names = {d["name"] for d in plan["deployments"]}
    assert {p.name for p in (out / "deployments").iterdir()} == names
    for name in names:
        d = out / "deployments" / name
        for rel in ("manifests/20-deployment.yaml", "chart/values.yaml", "benchmark", "procurement.xlsx",
                    "procurement.csv", "report.html", "plan.json", "launch.sh"):
            assert (d / rel).exists(), rel
        assert (d / "launch.sh").stat().st_mode & 0o111
        service = next(doc for doc in yaml.safe_load_all((d / "manifests/30-service.yaml").read_text())
                       if doc["kind"] == "Service")
        assert service["metadata"] == {**service["metadata"], "name": name, "namespace": "qwen-plan-fleet"}
    routes = list(yaml.safe_load_all((out / "routing" / "httproutes.yaml").read_text(encoding="utf-8")))
    assert {rt["metadata"]["name"] for rt in routes} == {"us-chat", "eu-chat"}
    by_workload = {w["name"]: w["deployment"] for w in plan["workloads"]}
    for rt in routes:
        jsonschema.validate(rt, SCHEMA)
        (rule,) = rt["spec"]["rules"]
        assert rule["matches"][0]["path"]["value"] == f"/{rt['metadata']['name']}/"
        assert rule["backendRefs"][0]["name"] == by_workload[rt["metadata"]["name"]]
    totals = (out / "procurement" / "fleet.csv").read_text(encoding="utf-8").splitlines()
    assert totals[-1].startswith("TOTAL") and totals[-1].endswith(f"{plan['monthly_cost_usd']:.2f}")
    assert (out / MANIFEST).exists()
    check_fleet_workbook(out / "procurement" / "fleet.xlsx", plan)
    check_workload_bands(plan, load_workbook(out / "procurement" / "fleet.xlsx")["Workloads"])


def check_workload_bands(plan: dict[str, Any], sheet: Any) -> None:
    """Each self-hosted workload's p10-p90 is its deployment's band as ratios of the deployment's own
    prediction, applied to the workload's (the same ratios: one replica, one model error)."""
    deps = {d["name"]: d["option"] for d in plan["deployments"]}
    for i, w in enumerate(plan["workloads"]):
        option = deps[w["deployment"]]
        assert option["deploy"] != "api" and option["bands"] is not None
        for metric, digits in (("ttft", 1), ("tpot", 2)):
            lo, hi = option["bands"][f"{metric}_ms"]
            mine = w[f"{metric}_ms"]
            assert w[f"{metric}_band_ms"] == pytest.approx(
                [mine * lo / option[f"{metric}_ms"], mine * hi / option[f"{metric}_ms"]], abs=1.5 * 10 ** -digits)
            assert w[f"{metric}_band_ms"][0] < w[f"{metric}_band_ms"][1]
        assert sheet.cell(2 + i, 9).value == "{:g}–{:g}".format(*w["ttft_band_ms"])
        assert sheet.cell(2 + i, 10).value == "{:g}–{:g}".format(*w["tpot_band_ms"])


def check_fleet_workbook(path: Path, plan: dict[str, Any]) -> None:
    """fleet.xlsx: cached values are the plan's numbers, and the totals are live formulas over the inputs."""
    shown = load_workbook(path, data_only=True)
    fleet, wl = shown["Fleet"], shown["Workloads"]
    total = 5 + len(plan["deployments"])
    assert fleet[f"H{total}"].value == pytest.approx(plan["monthly_cost_usd"], abs=0.01)
    assert fleet[f"G{total}"].value == pytest.approx(plan["capex_usd"], abs=0.01)
    assert fleet[f"F{total}"].value == sum(d["gpus"] for d in plan["deployments"])
    assert fleet[f"H{total + 2}"].value == pytest.approx(plan["alone_monthly_usd"], abs=0.01)
    assert fleet[f"H{total + 3}"].value == pytest.approx(plan["saving_usd"], abs=0.01)
    for i, w in enumerate(plan["workloads"]):
        assert wl[f"E{2 + i}"].value == pytest.approx(w["share_monthly_usd"], abs=0.01)
    live = load_workbook(path)
    assert str(live["Fleet"][f"H{total}"].value).startswith("=")
    live["Fleet"]["H5"] = live["Fleet"]["H5"].value + 100.0  # a buyer's new quote for the first deployment
    moved = cached_values(live)
    assert moved["Fleet"][f"H{total}"] == pytest.approx(plan["monthly_cost_usd"] + 100.0, abs=0.01)
    assert moved["Fleet"][f"H{total + 3}"] == pytest.approx(plan["saving_usd"] - 100.0, abs=0.01)
    first = plan["deployments"][0]["name"]
    shares = sum(moved["Workloads"][f"E{2 + i}"] for i, w in enumerate(plan["workloads"]) if w["deployment"] == first)
    assert shares == pytest.approx(plan["deployments"][0]["monthly_cost_usd"] + 100.0, abs=0.01)


def test_a_broken_route_fails_the_schema() -> None:
    """The schema is strict enough to catch a malformed route (so the validation above can fail)."""
    bad = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "x"},
           "spec": {"rules": [{"matches": [{"path": {"type": "Prefix", "value": "/x/"}}]}]}}
    try:
        jsonschema.validate(bad, SCHEMA)
    except jsonschema.ValidationError as exc:
        assert "Prefix" in str(exc.message)
    else:
        raise AssertionError("an invalid path match type passed the HTTPRoute schema")


def test_out_refuses_a_folder_it_does_not_own_and_force_replaces_its_own(run_qwen_plan: Run,
                                                                          tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(yaml.safe_dump(FLEET), encoding="utf-8")
    foreign = tmp_path / "project"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    r = run_qwen_plan("fleet", str(spec), "--out", str(foreign), "--force")
    assert r.returncode == 2 and "not qwen-plan output" in r.stderr, r.stderr
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"
    out = tmp_path / "out"
    assert run_qwen_plan("fleet", str(spec), "--out", str(out)).returncode == 0
    again = run_qwen_plan("fleet", str(spec), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    first = (out / "plan.json").read_bytes()
    assert run_qwen_plan("fleet", str(spec), "--out", str(out), "--force").returncode == 0
    assert (out / "plan.json").read_bytes() == first  # deterministic
