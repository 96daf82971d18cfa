"""`qwen-plan calibrate` and `--calibration`, through the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

FIX = Path(__file__).resolve().parent / "calibrate" / "fixtures"
FILES = [FIX / "aiperf_profile_export_aiperf.json", FIX / "vllm_bench_serve.json", FIX / "sglang_bench_serving.jsonl"]
SETUP = ["--gpu", "h100-sxm", "--precision", "fp8", "--tp", "1", "--engine", "vllm"]
CSV = ("model,gpu,precision,tp,engine,isl,osl,concurrency,ttft_ms,tpot_ms,output_tokens_per_s\n"
       "qwen3.5-27b,h100-sxm,fp8,1,vllm,256,32,1,90,17.5,\n"
       "qwen3.5-27b,h100-sxm,fp8,1,vllm,2048,32,1,330,18.0,\n"
       "qwen3.5-27b,h100-sxm,fp8,1,vllm,1024,64,16,260,26.0,\n"
       "qwen3.5-27b,h100-sxm,fp8,1,vllm,512,64,8,150,22.0,\n")
EST = ["estimate", "--model", "qwen3.5-27b", "--precision", "fp8", "--tp", "1", "--isl", "1024", "--osl", "256",
       "--batch", "8", "--format", "json"]

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def _one_line_error(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert needle in r.stderr, r.stderr


@pytest.fixture
def profile(tmp_path: Path, run_qwen_plan: RunCli) -> Path:
    runs = tmp_path / "runs.csv"
    runs.write_text(CSV)
    out = tmp_path / "h100.yaml"
    r = run_qwen_plan("calibrate", str(runs), "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


def test_calibrate_real_tool_files(tmp_path: Path, run_qwen_plan: RunCli) -> None:
    out = tmp_path / "p.yaml"
    # SGLang's file names no model when the server is not SGLang: --model fills it in (the others agree).
    r = run_qwen_plan("calibrate", *map(str, FILES), *SETUP, "--model", "qwen3.5-27b", "--out", str(out),
                      "--report", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stderr
    assert "before" in r.stdout and "after" in r.stdout and "leave-one-out" in r.stdout
    assert "not identified hopper.allreduce_us" in r.stdout  # TP=1 runs say nothing about all-reduces
    doc = yaml.safe_load(out.read_text())
    assert doc["kind"] == "qwen-plan-calibration" and set(doc["families"]) == {"hopper"}
    assert "allreduce_us" in doc["families"]["hopper"]["not_identified"]
    tools = {s["tool"] for s in doc["sources"]}
    assert tools == {"aiperf 0.13.0", "vllm bench serve", "sglang bench_serving"}
    assert all(len(s["sha256"]) == 64 and s["dates"] for s in doc["sources"])
    assert any(d.startswith("file modified") for s in doc["sources"] for d in s["dates"])  # SGLang states none
    assert set(doc["error_pct"]) == {"before", "after", "leave_one_out"}
    assert (tmp_path / "rep" / "report.html").is_file() and (tmp_path / "rep" / "ttft.png").is_file()


def test_profile_changes_its_family_only_and_says_so(profile: Path, run_qwen_plan: RunCli) -> None:
    for gpu, changes in (("h100-sxm", True), ("b200", False)):
        plain = json.loads(run_qwen_plan(*EST, "--gpu", gpu).stdout)
        r = run_qwen_plan(*EST, "--gpu", gpu, "--calibration", str(profile))
        assert r.returncode == 0, r.stderr
        cal = json.loads(r.stdout)
        assert (cal["tpot_ms"] != plain["tpot_ms"]) is changes
        note = next(w for w in cal["warnings"] if "calibrated with profile" in w)
        assert str(profile) in note and ("does not cover blackwell" in note) is (not changes)


def test_environment_and_catalog_folder_work_like_the_flag(profile: Path, tmp_path: Path,
                                                          run_qwen_plan: RunCli) -> None:
    flag = json.loads(run_qwen_plan(*EST, "--gpu", "h100-sxm", "--calibration", str(profile)).stdout)
    env = json.loads(run_qwen_plan(*EST, "--gpu", "h100-sxm", env={"QWEN_PLAN_CALIBRATION": str(profile)}).stdout)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    shutil.copy(profile, overlay / "calibration.yaml")
    folder = json.loads(run_qwen_plan(*EST, "--gpu", "h100-sxm", "--catalog", str(overlay)).stdout)
    assert flag["tpot_ms"] == env["tpot_ms"] == folder["tpot_ms"]
    valid = run_qwen_plan("catalog", "validate", str(overlay))
    assert valid.returncode == 0, valid.stderr  # the profile is not mistaken for a catalog file


def test_plan_made_with_a_profile_says_so_everywhere(profile: Path, tmp_path: Path, run_qwen_plan: RunCli) -> None:
    args = ["--task", "chat", "--rps", "2", "--gpus", "h100-sxm", "--deploy", "cloud"]
    r = run_qwen_plan("plan", *args, "--calibration", str(profile), "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert any("calibrated with profile" in n for n in plan["notes"])
    table = run_qwen_plan("plan", *args, "--calibration", str(profile))
    assert "calibrated with profile" in table.stdout
    (tmp_path / "plan.json").write_text(r.stdout)
    rendered = run_qwen_plan("render", "--plan", str(tmp_path / "plan.json"), "--out", str(tmp_path / "deploy"),
                             "--calibration", str(profile))
    assert rendered.returncode == 0, rendered.stderr
    assert "calibrated with profile" in (tmp_path / "deploy" / "plan.json").read_text()
    cost = run_qwen_plan("cost", *args, "--calibration", str(profile), "--format", "json", "--no-sensitivity")
    assert cost.returncode == 0, cost.stderr


def test_calibrate_from_the_benchmarked_plan(tmp_path: Path, run_qwen_plan: RunCli) -> None:
    """What the result file does not say (GPU, TP, precision, replicas) comes from plan.json."""
    r = run_qwen_plan("plan", "--task", "chat", "--rps", "2", "--gpus", "h100-sxm", "--deploy", "cloud",
                      "--models", "qwen3.5-27b", "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = tmp_path / "plan.json"
    plan.write_text(r.stdout)
    out = tmp_path / "p.yaml"
    got = run_qwen_plan("calibrate", str(FILES[0]), "--plan", str(plan), "--out", str(out))
    assert got.returncode == 0, got.stderr
    doc = yaml.safe_load(out.read_text())
    assert doc["families"]["hopper"]["gpus"] == [json.loads(r.stdout)["recommended"]["deployment"]["gpu"]]


@pytest.mark.parametrize(("content", "args", "needle"), [
    ('{"date": "20261201-000000", "backend": "openai", "comp', SETUP, "invalid JSON"),
    ('{"name": "x", "version": 1}', SETUP, "not a benchmark result"),
    (None, ["--precision", "fp8", "--tp", "1", "--engine", "vllm"], "gpu: not in the file; give --gpu"),
    (CSV.replace("qwen3.5-27b", "llama-9000"), [], "unknown model 'llama-9000'"),
])
def test_bad_inputs_one_line_exit_2(tmp_path: Path, run_qwen_plan: RunCli, content: str | None, args: list[str],
                                    needle: str) -> None:
    path = tmp_path / "r.json"
    if content is None:
        shutil.copy(FILES[0], path)
    else:
        path.write_text(content)
    out = tmp_path / "p.yaml"
    _one_line_error(run_qwen_plan("calibrate", str(path), *args, "--out", str(out)), needle)
    assert not out.exists()


def test_out_is_never_clobbered(profile: Path, tmp_path: Path, run_qwen_plan: RunCli) -> None:
    runs = tmp_path / "runs.csv"
    _one_line_error(run_qwen_plan("calibrate", str(runs), "--out", str(profile)), "already exists")
    precious = tmp_path / "notes.yaml"
    precious.write_text("my: notes\n")
    _one_line_error(run_qwen_plan("calibrate", str(runs), "--out", str(precious), "--force"),
                    "not a calibration profile")
    assert precious.read_text() == "my: notes\n"
    assert run_qwen_plan("calibrate", str(runs), "--out", str(profile), "--force").returncode == 0


def test_bad_profiles_are_refused(tmp_path: Path, profile: Path, run_qwen_plan: RunCli) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(profile.read_text().replace("kind: qwen-plan-calibration", "kind: something-else"))
    _one_line_error(run_qwen_plan(*EST, "--gpu", "h100-sxm", "--calibration", str(bad)), "not a calibration profile")
    doc = yaml.safe_load(profile.read_text())
    doc["families"]["hopper"]["bandwidth"] = 7.0
    bad.write_text(yaml.safe_dump(doc))
    _one_line_error(run_qwen_plan(*EST, "--gpu", "h100-sxm", "--calibration", str(bad)), "outside")
    doc["families"] = {"tpu": doc["families"]["hopper"] | {"bandwidth": 0.5}}
    bad.write_text(yaml.safe_dump(doc))
    _one_line_error(run_qwen_plan(*EST, "--gpu", "h100-sxm", "--calibration", str(bad)), "families.tpu")
