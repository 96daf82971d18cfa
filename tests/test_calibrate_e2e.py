"""The calibration loop end to end, no GPU: a real benchmark client measures a stand-in server whose
latencies follow a known "true" set of constants (not the shipped ones); `qwen-plan calibrate` on the
client's own output files must then predict runs it did not see within 10 % of that truth.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from calibrate.clients import NEEDS_CLIENTS, Run, run_all
from calibrate.sim_server import ENGINE, GPU, MODEL, PRECISION, TP, Truth

pytestmark = NEEDS_CLIENTS

# Eight runs to fit (prompt lengths 128..3072, concurrency 1..12), two more it never sees.
TRAIN = [Run(isl, 32, c, max(3 * c, 6)) for isl in (128, 1024, 3072) for c in (1, 8)] + [
    Run(512, 48, 4, 12), Run(2048, 32, 12, 36)]
HELD_OUT = [Run(512, 32, 2, 8), Run(2048, 48, 6, 18)]

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return run_all([*TRAIN, *HELD_OUT], tmp_path_factory.mktemp("bench"), parallel=3)


def _estimate(run_qwen_plan: RunCli, run: Run, *extra: str) -> dict[str, float]:
    r = run_qwen_plan("estimate", "--model", MODEL, "--gpu", GPU, "--precision", PRECISION, "--tp", str(TP),
                      "--engine", ENGINE, "--isl", str(run.isl), "--osl", str(run.osl), "--batch",
                      str(run.concurrency), "--format", "json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_calibration_recovers_the_truth_on_unseen_runs(results: dict[str, Path], tmp_path: Path,
                                                       run_qwen_plan: RunCli) -> None:
    profile = tmp_path / "profile.yaml"
    train = [str(results[r.name]) for r in TRAIN]
    r = run_qwen_plan("calibrate", *train, "--gpu", GPU, "--precision", PRECISION, "--tp", str(TP),
                      "--engine", ENGINE, "--out", str(profile), "--report", str(tmp_path / "report"))
    assert r.returncode == 0, r.stderr
    assert "leave-one-out" in r.stdout
    assert (tmp_path / "report" / "report.html").is_file() and (tmp_path / "report" / "tpot.png").is_file()
    truth = Truth()
    for run in HELD_OUT:
        ttft_s, tpot_s = truth.latency(run.isl, run.osl, run.concurrency)
        shipped = _estimate(run_qwen_plan, run)
        calibrated = _estimate(run_qwen_plan, run, "--calibration", str(profile))
        # The shipped model is far off this GPU (else the test could not fail) ...
        assert abs(shipped["tpot_ms"] / (tpot_s * 1e3) - 1) > 0.12
        # ... and the calibrated one is within 10 % of the simulated truth.
        assert calibrated["tpot_ms"] == pytest.approx(tpot_s * 1e3, rel=0.10), run
        assert calibrated["ttft_ms"] == pytest.approx(ttft_s * 1e3, rel=0.10), run
        assert any("calibrated with profile" in w for w in calibrated["warnings"])


def test_client_output_parses_to_the_runs_it_made(results: dict[str, Path]) -> None:
    """The real AIPerf files carry the lengths and concurrency each run asked for."""
    from planner.calibrate.formats import read_results

    for run in [*TRAIN, *HELD_OUT]:
        (m,) = read_results(results[run.name])
        assert m.tool == "aiperf" and m.tool_version
        assert (m.isl, m.osl, m.concurrency) == (run.isl, run.osl, run.concurrency)
        assert m.model == MODEL and m.date
        assert m.ttft_ms and m.tpot_ms
