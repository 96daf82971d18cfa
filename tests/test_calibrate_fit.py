"""The calibration fit: pulled toward the shipped constants, leaves what the data cannot identify, and a
profile for one GPU family changes that family's predictions only."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from calibrate.sim_server import TRUE_HOPPER, TRUE_REQUEST_OVERHEAD_MS, true_constants

from planner.calibrate.fit import Point, family_params, fit, prior_weights
from planner.calibrate.profile import Profile, apply, build, dump, load
from planner.calibrate.run import calibrate
from planner.catalog import Catalog
from planner.perf import Config, Shape, estimate
from planner.perf.constants import calibrated, shipped

SHAPES = [(256, 128), (2048, 128), (512, 512), (8192, 64), (1024, 256)]
BATCHES = [1, 4, 16, 48]


def points(catalog: Catalog, n: int, gpu: str = "h100-sxm", tp: int = 1) -> list[Point]:
    """n runs of qwen3.5-27b measured on a GPU that behaves like the stand-in server's truth."""
    cfg = Config(model=catalog.models["qwen3.5-27b"], gpu=catalog.gpus[gpu], precision="fp8", tp=tp)
    out = []
    for i in range(n):
        isl, osl = SHAPES[i % len(SHAPES)]
        batch = BATCHES[(i // len(SHAPES) + i) % len(BATCHES)]
        with calibrated(true_constants()):
            e = estimate(cfg, Shape(isl=isl, osl=osl), batch)
        out.append(Point(f"p{i}", cfg, Shape(isl=isl, osl=osl), batch, e.ttft_ms, e.tpot_ms, None,
                         cfg.gpu.family, f"run{i}"))
    return out


def _fit(pts: list[Point]) -> dict[str, float]:
    base = shipped()
    params = family_params(["hopper"], ["vllm"])
    return fit(pts, base, params, prior_points=prior_weights(base, params)).values


def _share(fitted: float, name: str) -> float:
    """How far (in log) the fit moved from the shipped value toward the truth: 0 none, 1 all the way."""
    start = getattr(shipped().families["hopper"], name)
    return math.log(fitted / start) / math.log(TRUE_HOPPER[name] / start)


def test_two_points_move_little_twenty_move_a_lot(catalog: Catalog) -> None:
    few, many = _fit(points(catalog, 2)), _fit(points(catalog, 20))
    assert 0.0 < _share(few["hopper.bandwidth"], "bandwidth") < 0.6
    assert _share(many["hopper.bandwidth"], "bandwidth") > 0.8
    assert _share(many["hopper.compute"], "compute") > 0.8


def test_unidentifiable_constants_are_reported_and_left(catalog: Catalog) -> None:
    """TP=1 runs never all-reduce: the data say nothing about allreduce_us, which keeps its shipped value."""
    cal = calibrate(points(catalog, 10), shipped())
    assert "hopper.allreduce_us" in cal.result.unidentified
    assert cal.result.information["hopper.allreduce_us"] == 0.0
    assert cal.result.constants.families["hopper"].allreduce_us == shipped().families["hopper"].allreduce_us
    assert "hopper.bandwidth" not in cal.result.unidentified
    # On the points it saw, the fit is better than the shipped model; leave-one-out scores every point.
    assert cal.after["tpot"].median_pct < cal.before["tpot"].median_pct / 3
    assert cal.leave_one_out["tpot"].n == 10


def test_tp_runs_identify_the_allreduce(catalog: Catalog) -> None:
    pts = points(catalog, 10, tp=2)
    base = shipped()
    params = family_params(["hopper"], ["vllm"])
    res = fit(pts, base, params, prior_points=prior_weights(base, params))
    assert res.information["hopper.allreduce_us"] > 0.0


def test_profile_for_one_family_changes_no_other(catalog: Catalog, tmp_path: Path) -> None:
    cal = calibrate(points(catalog, 12), shipped(), leave_one_out=False)
    src = tmp_path / "run.json"
    src.write_text("{}")
    prof = build(cal, [], [src], "2026-12-01", shipped(), {str(src): "2026-12-01"})
    path = tmp_path / "p.yaml"
    path.write_text(dump(prof))
    loaded = load(path)
    assert isinstance(loaded, Profile) and set(loaded.families) == {"hopper"}
    consts = apply(loaded, shipped(), path, {g.family for g in catalog.gpus.values()})
    shape = Shape(isl=1024, osl=256)
    for gpu, changes in (("h100-sxm", True), ("h200", True), ("b200", False), ("mi300x", False), ("l40s", False)):
        cfg = Config(model=catalog.models["qwen3.5-27b"], gpu=catalog.gpus[gpu], precision="fp8", tp=1)
        before = estimate(cfg, shape, 8)
        with calibrated(consts):
            after = estimate(cfg, shape, 8)
        assert (after.tpot_ms != before.tpot_ms) is changes, gpu
        assert (after.ttft_ms != before.ttft_ms) is changes, gpu


def test_request_overhead_is_the_familys_own(catalog: Catalog) -> None:
    """A fitted request overhead lives in the family's constants, not the engine's global one."""
    pts = [p for p in points(catalog, 20) if p.shape.isl <= 512]
    cal = calibrate(pts, shipped(), leave_one_out=False)
    hopper = cal.result.constants.families["hopper"]
    assert cal.result.constants.request_overhead_ms == shipped().request_overhead_ms
    assert "hopper.request_overhead_ms.vllm" in cal.result.values  # short prompts: TTFT is mostly overhead
    assert hopper.request_overhead_ms is not None
    shipped_gap = abs(shipped().request_overhead_ms["vllm"] - TRUE_REQUEST_OVERHEAD_MS)
    assert abs(hopper.request_overhead_ms["vllm"] - TRUE_REQUEST_OVERHEAD_MS) < shipped_gap / 2


def test_bench_fit_is_a_thin_caller_of_the_package() -> None:
    """bench/fit_efficiency.py fits with planner.calibrate, and the shipped efficiency.yaml is (within 2 %,
    the drift while the model is being changed between refits) what that fit makes of bench/data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import fit_efficiency
    from calib_rows import load_cases

    assert fit_efficiency.calib.fit is fit
    cases, _ = load_cases()
    best = fit_efficiency.fit(cases, shipped())
    for fam, eff in shipped().families.items():
        got = best.families[fam]
        for name in ("bandwidth", "compute", "step_overhead_ms", "allreduce_us"):
            assert getattr(got, name) == pytest.approx(getattr(eff, name), rel=0.02), (fam, name)
    assert best.moe_compute == pytest.approx(shipped().moe_compute, rel=0.02)
    assert best.request_overhead_ms == pytest.approx(shipped().request_overhead_ms, rel=0.02)
