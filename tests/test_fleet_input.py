"""Bad fleet files through the installed CLI: one line naming the workload (or fleet entry) and field, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_json import Run

from planner.cli import main

GOOD = {"name": "chat", "task": "chat", "rps": 1}

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown workload field", {"workloads": [{**GOOD, "rsp": 2}]},
     "workloads[chat].rsp: unknown field; did you mean 'rps'?"),
    ("duplicate names", {"workloads": [GOOD, {**GOOD, "task": "coding"}]},
     "workloads[chat].name: duplicate workload name 'chat'"),
    ("quota on an unknown GPU", {"fleet": {"quotas": [{"gpu": "h900", "max_gpus": 4}]}, "workloads": [GOOD]},
     "fleet.quotas[0].gpu:"),
    ("negative quota", {"fleet": {"quotas": [{"gpu": "h100-sxm", "max_gpus": -1}]}, "workloads": [GOOD]},
     "fleet.quotas[0].max_gpus: must be a whole number >= 0, got -1"),
    ("inventory on an unknown GPU", {"fleet": {"inventory": [{"gpu": "tpu-v5", "servers": 2}]},
                                     "workloads": [GOOD]}, "fleet.inventory[0].gpu:"),
    ("negative servers", {"fleet": {"inventory": [{"gpu": "h100-sxm", "servers": -2}]}, "workloads": [GOOD]},
     "fleet.inventory[0].servers: must be a whole number >= 0, got -2"),
    ("negative rate", {"workloads": [{**GOOD, "rps": -1}]}, "workloads[chat].rps:"),
    ("unknown task", {"workloads": [{**GOOD, "task": "poetry"}]}, "workloads[chat].task:"),
    ("hourly profile of 23 hours", {"workloads": [{"name": "chat", "task": "chat", "load_profile": [1] * 23}]},
     "workloads[chat].load_profile: expected 24 hourly request rates"),
    ("profile and peak", {"workloads": [{"name": "chat", "task": "chat", "load_profile": [1] * 24, "peak_rps": 3}]},
     "workloads[chat].peak_rps: the load profile's busiest hour is the peak"),
    ("no load", {"workloads": [{"name": "chat", "task": "chat"}]},
     "workloads[chat].rps: a fleet workload needs a load"),
    ("unknown fleet field", {"fleet": {"budgett": 5}, "workloads": [GOOD]}, "fleet.budgett: unknown field"),
    ("quota for an unknown provider", {"fleet": {"quotas": [{"gpu": "h100-sxm", "provider": "nope", "max_gpus": 1}]},
                                       "workloads": [GOOD]}, "fleet.quotas[0].provider: unknown 'nope'"),
    ("bad workload name", {"workloads": [{**GOOD, "name": "Chat_1"}]}, "workloads[Chat_1].name"),
    ("unknown model", {"workloads": [{**GOOD, "models": ["qwen9"]}]}, "workloads[chat]: --models:"),
    ("negative fleet budget", {"fleet": {"budget": -5}, "workloads": [GOOD]}, "fleet.budget:"),
    ("quality objective without a budget", {"fleet": {"objective": "quality"}, "workloads": [GOOD]},
     "fleet.objective: quality is maximised within a budget; give fleet.budget"),
    ("inventory listed twice", {"fleet": {"inventory": [{"gpu": "h100-sxm", "servers": 1},
                                                       {"gpu": "h100", "servers": 1}]}, "workloads": [GOOD]},
     "fleet.inventory[1].gpu: h100-sxm is listed twice"),
]


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI entry point in-process (the same error handling as the console script, without a
    Python start per case); a few cases below also run the installed script."""
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize(("doc", "expected"), [(d, e) for _, d, e in CASES], ids=[c for c, _, _ in CASES])
def test_bad_fleet_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, doc: dict[str, Any],
                        expected: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out, err = _main(["fleet", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert expected in lines[0], lines[0]
    assert out == "" and not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize("case", [0, 1, 4], ids=[CASES[i][0] for i in (0, 1, 4)])
def test_bad_fleet_file_installed(run_qwen_plan: Run, tmp_path: Path, case: int) -> None:
    _, doc, expected = CASES[case]
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    r = run_qwen_plan("fleet", str(path))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and expected in r.stderr, r.stderr


def test_missing_and_malformed_files(run_qwen_plan: Run, tmp_path: Path) -> None:
    r = run_qwen_plan("fleet", str(tmp_path / "absent.yaml"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("workloads: [\n", encoding="utf-8")
    r = run_qwen_plan("fleet", str(bad))
    assert r.returncode == 2 and "invalid YAML" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
