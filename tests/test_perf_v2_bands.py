"""Error bands and --confidence: cross-validated residual quantiles per regime, widened outside the measured range."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest
from click.testing import Result

from planner.catalog import Catalog
from planner.errors import RequestError
from planner.perf import DEFAULT_CONFIDENCE, Config, Shape, bands, conservative, estimate, max_batch
from planner.perf.bands import Regime, band_data, concurrency_class, coverage_gaps
from planner.request import Request
from planner.solver import solve


def test_regime_interpolates_in_log_space_and_clamps() -> None:
    r = Regime(rows=10, quantiles=(0.1, 0.5, 0.9), ratios=(0.5, 1.0, 2.0))
    assert r.ratio(0.5) == 1.0
    # halfway from q=0.5 to 0.9 in log space: exp((ln 1 + ln 2) / 2) = sqrt(2)
    assert r.ratio(0.7) == pytest.approx(math.sqrt(2.0))
    assert r.ratio(0.01) == 0.5 and r.ratio(0.99) == 2.0


def test_band_file_is_sourced_and_each_regime_ascends() -> None:
    d = band_data()
    assert "leave-one-source-out" in d.source and d.as_of[:2] == "20"
    for (metric, cls), reg in d.regimes.items():
        assert list(reg.ratios) == sorted(reg.ratios), (metric, cls)
        assert reg.ratio(0.1) < 1.0 < reg.ratio(0.9) or cls != "all", (metric, cls)
    assert {"ttft", "tpot", "throughput"} == {m for m, _ in d.regimes}


def test_band_inside_the_measured_range_is_the_regime_quantiles(catalog: Catalog) -> None:
    # Qwen3.5-35B-A3B BF16 on one H200 with vLLM at batch 4: rows of this kind are in bench/data.
    cfg = Config(catalog.model("qwen3.5-35b-a3b"), catalog.gpu("h200"), "bf16", 1)
    shape = Shape(isl=1000, osl=1000)
    est = estimate(cfg, shape, 4)
    b = bands(cfg, shape, est)
    assert b is not None and b.outside == () and b.widen == 1.0 and b.regime == concurrency_class(4) == "low"
    reg = band_data().regimes[("ttft", "low")]
    assert b.ttft_ms.low == pytest.approx(est.ttft_ms * reg.ratio(0.1))
    assert b.ttft_ms.high == pytest.approx(est.ttft_ms * reg.ratio(0.9))


def test_far_past_the_measured_throughput_the_band_widens_and_says_why(catalog: Catalog) -> None:
    # The example: 35B-A3B FP8 on one H200 at batch 512, far above any Hopper row's tok/s per GPU.
    cfg = Config(catalog.model("qwen3.5-35b-a3b"), catalog.gpu("h200"), "fp8", 1)
    shape = Shape(isl=1000, osl=1000)
    est = estimate(cfg, shape, 512)
    b = bands(cfg, shape, est)
    assert b is not None
    top = band_data().coverage.tokens_per_s_per_gpu_max["hopper"]
    assert est.output_tokens_per_s_per_gpu > top
    # one term: 1 + per_doubling · log2(predicted / measured max)
    assert b.widen == pytest.approx(1 + band_data().per_doubling * math.log2(est.output_tokens_per_s_per_gpu / top))
    assert any("tok/s per GPU" in w for w in b.outside)
    reg = band_data().regimes[("throughput", "high")]
    inside_width = math.log(reg.ratio(0.9) / reg.ratio(0.1))
    assert math.log(b.output_tokens_per_s.high / b.output_tokens_per_s.low) == pytest.approx(inside_width * b.widen)


def test_unmeasured_gpu_family_widens_by_the_stated_factor(catalog: Catalog) -> None:
    cfg = Config(catalog.model("qwen3.5-27b"), catalog.gpu("l40s"), "fp8", 1)
    widen, why = coverage_gaps(cfg, Shape(isl=1000, osl=500), 4, 100.0)
    assert widen == band_data().unmeasured and why == ("no measurements on ada GPUs",)


def test_confidence_never_loosens_and_default_is_the_central_prediction(catalog: Catalog) -> None:
    cfg = Config(catalog.model("qwen3.5-27b"), catalog.gpu("h100-sxm"), "fp8", 1)
    shape = Shape(isl=2000, osl=1000)
    est = estimate(cfg, shape, 16)
    assert conservative(cfg, shape, est, DEFAULT_CONFIDENCE) is est
    c9 = conservative(cfg, shape, est, 0.9)
    assert c9.ttft_ms >= est.ttft_ms and c9.tpot_ms > est.tpot_ms and c9.output_tokens_per_s <= est.output_tokens_per_s
    reg = band_data().regimes[("tpot", "low")]
    assert c9.tpot_ms == pytest.approx(est.tpot_ms * max(1.0, reg.ratio(0.9)))
    # A batch that meets TPOT at the 0.9 quantile also meets it centrally, not the other way round.
    target = est.tpot_ms * 1.2
    assert max_batch(cfg, shape, target, 0.9) <= max_batch(cfg, shape, target)
    with pytest.raises(RequestError, match="confidence"):
        conservative(cfg, shape, est, 0.99)


def test_request_default_confidence_is_the_perf_default() -> None:
    assert Request.model_fields["confidence"].default == DEFAULT_CONFIDENCE


def test_plans_carry_bands_and_a_higher_confidence_never_costs_less(catalog: Catalog) -> None:
    base = solve(Request(task="chat", rps=5, deploy="cloud"), catalog)
    safe = solve(Request(task="chat", rps=5, deploy="cloud", confidence=0.9), catalog)
    assert safe.recommended.monthly_cost_usd >= base.recommended.monthly_cost_usd
    for plan in (base, safe):
        for o in plan.options:
            b = getattr(o, "bands", None)
            if b is None:
                continue
            assert b.ttft_ms[0] <= b.ttft_ms[1] and b.tpot_ms[0] <= b.tpot_ms[1]
            assert b.output_tokens_per_s[0] <= b.output_tokens_per_s[1]


def test_estimate_cli_shows_band_and_extrapolation_warning(invoke: Callable[..., Result]) -> None:
    res = invoke("estimate", "--model", "qwen3.5-35b-a3b", "--gpu", "h200", "--precision", "fp8", "--tp", "1",
                 "--isl", "1000", "--osl", "1000", "--batch", "512", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    b = out["bands"]
    assert b["output_tokens_per_s"]["p10"] < out["output_tokens_per_s"] < b["output_tokens_per_s"]["p90"]
    assert b["outside_measured_range"] and any("outside the measured range" in w for w in out["warnings"])
