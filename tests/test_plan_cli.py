"""The plan command as a user runs it: bare options, formats, errors, --request files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from click.testing import Result

from planner.catalog import Catalog


def test_bare_budget_and_task_works_as_typed(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--budget", "20000", "--task", "docs")
    assert r.returncode == 0, r.stderr
    assert "Recommended plan" in r.stdout
    assert "qwen3.5" in r.stdout


def test_json_keys_are_stable(invoke: Callable[..., Result]) -> None:
    r = invoke("plan", "--task", "chat", "--rps", "2", "--deploy", "cloud", "--format", "json")
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert {"request", "recommended", "alternatives", "rejected"} <= set(plan)
    assert {"workload", "tco", "commit", "as_of"} <= set(plan)
    rec = plan["recommended"]
    for key in ("model", "deploy", "deployment", "chosen", "costs", "monthly_cost_usd", "usd_per_million_tokens",
                "ttft_ms", "tpot_ms", "capacity_rps", "capacity_tokens_per_day", "priced_rps", "priced_basis",
                "quality", "buy_vs_rent", "api_breakeven"):
        assert key in rec
    for key in ("model", "checkpoint", "precision", "gpu", "tp", "ep", "replicas", "engine", "mtp_tokens"):
        assert key in rec["deployment"]
    assert rec["deploy"] == "cloud" and rec["chosen"]["kind"] == "cloud" and rec["chosen"] in rec["costs"]
    assert rec["capacity_rps"] >= 2 and rec["priced_rps"] == 2 and rec["priced_basis"] == "arrival rate"


def test_bad_task_is_one_line_exit_2(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "poetry", "--budget", "100")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "--task" in lines[0] and "docs" in lines[0]
    assert "Traceback" not in r.stderr


def test_unknown_gpu_names_the_flag_and_choices(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--gpus", "h100-sxm,tpu-v5")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert "--gpus" in r.stderr and "tpu-v5" in r.stderr and "h200" in r.stderr


def test_two_loads_are_rejected(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--rps", "1", "--concurrency", "4")
    assert r.returncode == 2 and "rps" in r.stderr and r.stderr.count("\n") == 1


def test_nothing_feasible_exits_1_with_the_binding_budget(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--rps", "50", "--budget", "100", "--deploy", "cloud")
    assert r.returncode == 1, r.stdout
    assert "budget must be at least $" in r.stderr
    assert "Traceback" not in r.stderr


def test_unreachable_ttft_is_named(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "docs", "--rps", "1", "--ttft-ms", "5", "--deploy", "cloud")
    assert r.returncode == 1
    assert "TTFT below" in r.stderr and "not reachable" in r.stderr


def test_request_file_and_flag_override(invoke: Callable[..., Result], tmp_path: Path) -> None:
    req = tmp_path / "req.yaml"
    req.write_text("task: coding\nrps: 1.5\ndeploy: cloud\ntpot-ms: 50\n")
    r = invoke("plan", "--request", str(req), "--format", "json")
    plan = json.loads(r.output)
    assert plan["request"]["task"] == "coding" and plan["request"]["tpot_ms"] == 50
    r2 = invoke("plan", "--request", str(req), "--tpot-ms", "30", "--format", "json")
    plan2 = json.loads(r2.output)
    assert plan2["request"]["tpot_ms"] == 30
    assert plan2["recommended"]["tpot_ms"] <= 30


def test_request_file_with_unknown_field(run_qwen_plan: Callable[..., CompletedProcess[str]], tmp_path: Path) -> None:
    req = tmp_path / "req.yaml"
    req.write_text("task: chat\nbudjet: 10\n")
    r = run_qwen_plan("plan", "--request", str(req))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "req.yaml: budjet: unknown field; did you mean 'budget'?" in r.stderr


def test_same_request_same_bytes(invoke: Callable[..., Result]) -> None:
    args = ("plan", "--task", "agentic", "--rps", "3", "--format", "json")
    assert invoke(*args).output == invoke(*args).output


def test_markdown_and_yaml_formats(invoke: Callable[..., Result]) -> None:
    md = invoke("plan", "--task", "math", "--concurrency", "16", "--format", "markdown").output
    assert md.startswith("# qwen-plan recommendation") and "## Why" in md
    y = invoke("plan", "--task", "math", "--concurrency", "16", "--format", "yaml").output
    assert "recommended:" in y


def test_out_folder_is_complete_deterministic_and_guarded(
    run_qwen_plan: Callable[..., CompletedProcess[str]], tmp_path: Path
) -> None:
    args = ("--task", "chat", "--rps", "2", "--deploy", "cloud")
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_qwen_plan(*args, "--out", str(a)).returncode == 0
    assert run_qwen_plan(*args, "--out", str(b)).returncode == 0
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    for name in ("plan.json", "README.md", "launch.sh", "chart/values.yaml", "procurement.xlsx",
                 "procurement.csv", "report.html"):
        assert name in files
    assert any(f.startswith("manifests/") for f in files)
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    # An existing folder is never replaced without --force, and nothing is half-written beside it.
    before = (a / "plan.json").read_bytes()
    r = run_qwen_plan("--task", "coding", "--rps", "1", "--out", str(a))
    assert r.returncode == 2 and "--force" in r.stderr
    assert (a / "plan.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
    assert run_qwen_plan("--task", "coding", "--rps", "1", "--out", str(a), "--force").returncode == 0
    assert json.loads((a / "plan.json").read_text())["request"]["task"] == "coding"


def test_api_needs_a_load_or_budget(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--deploy", "api")
    assert r.returncode == 1 and "give a load" in r.stderr
    ok = run_qwen_plan("--task", "chat", "--deploy", "api", "--rps", "1", "--format", "json")
    rec = json.loads(ok.stdout)["recommended"]
    assert rec["deploy"] == "api" and rec["ttft_ms"] > 0 and rec["monthly_cost_usd"] > 0


def test_missing_overlay_names_the_flag(run_qwen_plan: Callable[..., CompletedProcess[str]], tmp_path: Path) -> None:
    r = run_qwen_plan("--task", "chat", "--catalog", str(tmp_path / "nope"))
    assert r.returncode == 2 and "--catalog" in r.stderr and r.stderr.count("\n") == 1


def test_request_beyond_native_context_names_it(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--isl", "300000", "--rps", "0.2", "--deploy", "cloud")
    assert r.returncode == 1 and "native 262,144-token context" in r.stderr


def test_unpriced_gpu_is_the_named_cause(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan("--task", "chat", "--rps", "5", "--deploy", "onprem", "--gpus", "l4")
    assert r.returncode == 1 and "no eligible purchase price for the GPUs that meet the targets (l4)" in r.stderr


def test_naming_defaults_or_every_gpu_changes_nothing(invoke: Callable[..., Result], catalog: Catalog) -> None:
    """The invariants hold on the default `--deploy any` path too (APIs included)."""
    def cost(*extra: str) -> float:
        out = invoke("plan", "--task", "chat", "--rps", "0.1", *extra, "--format", "json").output
        return float(json.loads(out)["recommended"]["monthly_cost_usd"])

    base = cost()
    assert cost("--gpus", ",".join(catalog.gpus)) == base
    assert cost("--ttft-ms", "1500", "--tpot-ms", "40") == base  # the chat defaults, restated
    assert cost("--ttft-ms", "3000") <= base


def test_out_refuses_the_current_folder(run_qwen_plan: Callable[..., CompletedProcess[str]], tmp_path: Path) -> None:
    r = run_qwen_plan("--task", "chat", "--rps", "1", "--out", ".", "--force", cwd=tmp_path)
    assert r.returncode == 2 and "current folder" in r.stderr and "Traceback" not in r.stderr


def test_non_finite_and_huge_loads_are_input_errors(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    for value in ("inf", "1e308", "nan"):
        r = run_qwen_plan("--task", "chat", "--rps", value)
        assert r.returncode == 2 and r.stderr.startswith("error: --rps:") and r.stderr.count("\n") == 1


def test_api_closed_loop_price_ignores_gpu_filters(invoke: Callable[..., Result]) -> None:
    def api(*extra: str) -> dict[str, Any]:
        out = invoke("plan", "--task", "chat", "--concurrency", "20", "--deploy", "api", *extra, "--format", "json")
        return dict(json.loads(out.output)["recommended"])

    a, b = api(), api("--gpus", "l40s")
    assert a["monthly_cost_usd"] == b["monthly_cost_usd"] and a["capacity_rps"] == b["capacity_rps"] > 0


def test_force_never_replaces_a_folder_qwen_plan_did_not_write(
    run_qwen_plan: Callable[..., CompletedProcess[str]], tmp_path: Path
) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "important.txt").write_text("do not delete")
    r = run_qwen_plan("--task", "chat", "--rps", "1", "--out", str(keep), "--force")
    assert r.returncode == 2 and "not qwen-plan output" in r.stderr
    assert (keep / "important.txt").read_text() == "do not delete"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_qwen_plan("--task", "chat", "--rps", "1", "--out", str(empty), "--force").returncode == 0


def test_bare_command_shows_help(run_qwen_plan: Callable[..., CompletedProcess[str]]) -> None:
    r = run_qwen_plan()
    assert r.returncode == 0 and "Usage: qwen-plan" in r.stdout and r.stderr == ""
