"""Engine-version admission rules (planner/perf/engines.yaml `by_version`): measured rows are evaluated with
the defaults of the release they name, plans with the pinned release's. Hand-built specs from
tests/test_perf.py; every number is worked out in the comments."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_perf import EFF, H200, M35, consts

from planner.errors import RequestError
from planner.perf import Config, Shape, estimate
from planner.perf.constants import constants, parse_version
from planner.perf.roofline import GIB, Prepared, prepared

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from calib_rows import engine_args, engine_version

STATE_RW = 64_389_120  # 30 GDN layers x (32 x 128 x 128 x 4 B + 3 x 8192 x 2 B), tests/test_perf.py


def sglang(version: str | None, mtp: int = 0) -> Prepared:
    return Prepared(Config(M35, H200, "bf16", 1, engine="sglang", mtp=mtp, engine_version=version), EFF, consts())


def test_sglang_state_pool_caps_running_requests_by_release() -> None:
    # Pool on the 141 GiB test GPU: 141 x 2^30 x 0.85 = 128,687,957,606.4 B, less the BF16 weights
    # (34,660,610,688 + 446,571,248) x 2 = 70,214,363,872, the 2 GiB reserve and one chunk's activations
    # 8192 x 2 x (6 x 2048 + 2 x 4608 + 2 x 4096) + 1024 x 248,320 x 4 = 1,503,657,984: 54,822,452,102.4 B.
    pool = 141 * GIB * 0.85 - 70_214_363_872 - 2 * GIB - 1_503_657_984
    assert sglang(None).pool_bytes() == pytest.approx(pool)
    # The mamba part 0.9 / 1.9 = 0.4737 of it: 25,969,395,560.9 B. SGLang caps running requests at
    # max_mamba_cache_size // ratio. 0.5.14 on (0.5.15, 0.5.16 and the pinned 0.5.23 alike): `auto` picks
    # extra_buffer, ratio 3 + 2 = 5 -> 25,969,395,560.9 // (5 x 64,389,120 = 321,945,600) = 80.
    # Up to 0.5.13: `auto` is no_buffer, ratio 3 -> 25,969,395,560.9 // 193,167,360 = 134.
    # The KV part, 0.5263 x pool = 28,853,056,541.5 B, holds 28,853,056,541.5 // (9216 x 20,480) = 152
    # sequences of 9216 tokens: the state pool binds under both rules.
    for version in (None, "0.5.14", "0.5.15", "0.5.16", "0.5.23"):
        p = sglang(version)
        assert p.state_seq == 5 * STATE_RW
        assert p.max_concurrency(9216) == 80
    for version in ("0.5.6", "0.5.9", "0.5.13"):
        p = sglang(version)
        assert p.state_seq == 3 * STATE_RW
        assert p.max_concurrency(9216) == 134
    # With 3 draft tokens both rules add n + 1 = 4 intermediate states. The MTP head's 844,640,768 BF16
    # weights leave a pool of 53,133,170,566.4 B (mamba part 25,169,182,897.3 B) and the conv state holds
    # 3 + 3 columns: 30 x (2,097,152 + 6 x 8192 x 2) = 65,863,680 B per slot. // (9 x 65,863,680) = 42
    # (pinned) and // (7 x 65,863,680) = 54 (0.5.13).
    assert sglang(None, mtp=3).max_concurrency(9216) == 42
    assert sglang("0.5.13", mtp=3).max_concurrency(9216) == 54


def test_vllm_before_hybrid_prefix_caching_holds_one_state_block() -> None:
    # vLLM 0.33 (pinned): prefix caching on, mamba_cache_mode "align", 2 state blocks per request.
    # 0.17.1: prefix caching off for hybrid models, mode "none", 1 block. One pool for KV and state:
    # 141 x 2^30 x 0.9 - weights - reserve - activations (as above) = 62,392,331,961.6 B; per sequence of
    # 9216 tokens 188,743,680 B of KV plus the blocks: // 317,521,920 = 196 pinned, // 253,132,800 = 246.
    pinned = Prepared(Config(M35, H200, "bf16", 1), EFF, consts())
    old = Prepared(Config(M35, H200, "bf16", 1, engine_version="0.17.1"), EFF, consts())
    assert pinned.pool_bytes() == pytest.approx(141 * GIB * 0.9 - 70_214_363_872 - 2 * GIB - 1_503_657_984)
    assert (pinned.state_seq, old.state_seq) == (2 * STATE_RW, STATE_RW)
    assert (pinned.max_concurrency(9216), old.max_concurrency(9216)) == (196, 246)
    # a release after the rule's range is the pinned rule
    assert Prepared(Config(M35, H200, "bf16", 1, engine_version="0.23"), EFF, consts()).state_seq == 2 * STATE_RW


def test_plans_use_the_pinned_release_and_results_are_cached_per_version() -> None:
    c = constants()
    assert c.engine("sglang") is c.engines["sglang"]
    assert c.engine("sglang", "0.5.23") is c.engines["sglang"]
    assert c.engine("sglang", "0.5.13") == replace(c.engines["sglang"], state_slots=3)
    shape = Shape(isl=1000, osl=100)
    pinned = Config(M35, H200, "bf16", 1, engine="sglang")
    older = Config(M35, H200, "bf16", 1, engine="sglang", engine_version="0.5.13")
    # the per-Config cache keeps the two apart (same model, GPU and scalars otherwise)
    assert prepared(pinned).eng.state_slots == 5
    assert prepared(older).eng.state_slots == 3
    assert estimate(older, shape, 1024).max_concurrency > estimate(pinned, shape, 1024).max_concurrency


def test_version_text_and_bad_versions() -> None:
    assert parse_version("0.5.8.post1") == (0, 5, 8)
    assert parse_version("0.23") == (0, 23, 0)
    with pytest.raises(RequestError, match="engine_version"):
        Prepared(Config(M35, H200, "bf16", 1, engine_version="nightly"), EFF, consts())


@pytest.mark.parametrize(("engine", "text", "expected"), [
    ("SGLang", "lmsysorg/sglang:v0.5.6-cu129-amd64", "0.5.6"),
    ("SGLang", "SGLang v0.5.5.post1", "0.5.5"),
    ("SGLang", "0.5.8+", "0.5.8"),
    ("SGLang", "lmsysorg/sglang:nightly-dev-cu13-20260914-4358a161", None),
    ("SGLang", "main (Sep 2025)", None),
    ("vLLM", "vllm/vllm-openai:v0.13.0", "0.13.0"),
    ("Dynamo + vLLM, KV-aware routing", "Dynamo 1.3.0 / vLLM 0.23", "0.23"),
    ("TensorRT-LLM", "TRT-LLM v1.2.0rc1", None),
    ("ATOM (AMD)", "rocm/atom:rocm7.1.1-ubuntu24.04-pytorch2.9-atom0.1.1-MI350x", None),
])
def test_measurement_rows_name_their_release(engine: str, text: str, expected: str | None) -> None:
    assert engine_version(engine, text) == expected


def test_launch_flags_replace_the_engine_defaults() -> None:
    # --mem-fraction-static 0.8 on the 141 GiB GPU: 0.05 x 141 x 2^30 = 7,569,879,859.2 B less budget than
    # 0.85; --max-running-requests 16 shrinks the sampler's fp32 logits from 1024 to 16 rows:
    # 1008 x 248,320 x 4 = 1,001,226,240 B back. Pool: 54,822,452,102.4 - 6,568,653,619.2 = 48,253,798,483.2 B.
    flags = (("gpu_memory_utilization", 0.8), ("max_num_seqs", 16))
    base = sglang(None)
    tuned = Prepared(Config(M35, H200, "bf16", 1, engine="sglang", engine_args=flags), EFF, consts())
    assert base.pool_bytes() - tuned.pool_bytes() == pytest.approx(0.05 * 141 * GIB - 1008 * 248_320 * 4)
    # the state part then holds 48,253,798,483.2 x 0.4737 // 321,945,600 = 70 requests, but the flag caps it
    assert replace(tuned.eng, max_num_seqs=1024) == replace(base.eng, gpu_memory_utilization=0.8)
    assert tuned.max_concurrency(9216) == 16
    with pytest.raises(RequestError, match="engine_args"):
        Prepared(Config(M35, H200, "bf16", 1, engine_args=(("no_such_setting", 1.0),)), EFF, consts())


def test_measurement_notes_give_the_launch_flags() -> None:
    assert engine_args("Tuned: mem-fraction 0.9, max-running-requests 512, chunked-prefill 16384; one wave.") == (
        ("gpu_memory_utilization", 0.9), ("max_num_seqs", 512), ("small_max_num_seqs", 512),
        ("chunk_tokens", 16384), ("small_chunk_tokens", 16384))
    assert engine_args("cmd: vllm serve x --max-num-seqs=512. 1000 requests") == (
        ("max_num_seqs", 512), ("small_max_num_seqs", 512))
    assert engine_args("Launch flags of the cell: --mem-fraction-static 0.8.") == (("gpu_memory_utilization", 0.8),)
    # TensorRT-LLM's kv_cache_free_gpu_mem_fraction is a share of the memory left after the weights: not this
    assert engine_args("kv_cache_free_gpu_mem_fraction 0.95 typical.") == ()
    assert engine_args("--scheduler-recv-interval 30 (30 at concurrency >= 16, else 10)") == (("recv_interval", 30),)
