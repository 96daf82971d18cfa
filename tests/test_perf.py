"""Performance model on small hand-built specs; every expected number is worked out in the comments."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from planner.catalog.schema import Engine, GpuSpec, ModelSpec
from planner.errors import RequestError
from planner.perf import Config, Shape, estimate, geometry, max_batch, memory
from planner.perf.api import estimate_prepared
from planner.perf.constants import Constants, FamilyEff, constants
from planner.perf.roofline import GIB, Prepared, vision_flops
from planner.perf.tokens import visual

SRC = {"source": "hand-built test spec", "as_of": "2026-01-01"}
VISION = {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "patch_size": 16,
          "temporal_patch_size": 2, "spatial_merge_size": 2, "out_hidden_size": 2048}


def qwen35(**arch: Any) -> ModelSpec:
    """Qwen3.5-35B-A3B geometry (models.md) unless overridden."""
    a = {"num_layers": 40, "full_attention_interval": 4, "hidden_size": 2048, "num_attention_heads": 16,
         "num_kv_heads": 2, "head_dim": 256, "linear_num_key_heads": 16, "linear_num_value_heads": 32,
         "linear_key_head_dim": 128, "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4,
         "num_experts": 256, "experts_per_token": 8, "shared_experts": 1, "moe_intermediate_size": 512,
         "shared_expert_intermediate_size": 512, "vocab_size": 248_320, "tie_word_embeddings": False,
         "native_context": 262_144, "extended_context": 1_010_000, "mtp_layers": 1,
         "ssm_state_dtype": "float32", "vision": VISION, "unknown": {"intermediate_size": "MoE"}, **SRC}
    a.update(arch)
    return ModelSpec.model_validate({
        "id": "m35", "name": "m35", "release_date": "2026-02-24", "open_weights": True,
        "params": {"total": 35_951_822_704, "text": 34_660_610_688, "vision": 446_571_248, "mtp": 844_640_768,
                   "active": 3_454_988_928, **SRC},
        "architecture": a,
        "checkpoints": [{"precision": "bf16", "repo": "x", "unknown": {"disk_bytes": "test"}, **SRC}],
        "unknown": dict.fromkeys(("hf_config", "license", "hosted_twin_of", "max_output_tokens"), "test"),
        **SRC,
    })


def dense(**arch: Any) -> ModelSpec:
    """The same spec without experts: other layer counts then keep params.text consistent."""
    moe = ("num_experts", "experts_per_token", "shared_experts", "moe_intermediate_size",
           "shared_expert_intermediate_size")
    return qwen35(**dict.fromkeys(moe), unknown={f: "dense" for f in (*moe, "intermediate_size")}, **arch)


def gpu(**over: Any) -> GpuSpec:
    g = {"id": "g", "name": "G", "vendor": "nvidia", "family": "hopper", "memory_gb": 141,
         "memory_gib_usable": 141, "bandwidth_tb_s": 4.8, "tflops": {"bf16": 989, "fp8": 1979},
         "native_precisions": ["bf16", "fp8"], "interconnect": "nvlink", "interconnect_gb_s": 900,
         "gpus_per_node": 8, "nvlink_domain": 8, "tdp_w": 700, "year": 2024, "k8s_resource": "nvidia.com/gpu",
         "node_label_key": "k", "node_label_value": "v", **SRC}
    g.update(over)
    return GpuSpec.model_validate(g)


# Round numbers for hand arithmetic: 100 % of peak, 1 ms step overhead, no all-reduce latency.
EFF = FamilyEff(bandwidth=1.0, compute=1.0, step_overhead_ms=1.0, allreduce_us=0.0)


def consts() -> Constants:
    return replace(constants(), moe_compute=1.0, quant_compute=1.0, link_efficiency=1.0, seq_step_us=0.0,
                   request_overhead_ms={"vllm": 0.0, "sglang": 0.0})


def prep(cfg: Config) -> Prepared:
    return Prepared(cfg, EFF, consts())


M35 = qwen35()
H200 = gpu()


def test_geometry_reproduces_catalog_active_params() -> None:
    g = geometry(M35)
    # routed = 40 layers × 256 experts × 3 × 2048 × 512 = 32,212,254,720
    assert g.routed == 32_212_254_720
    # active = text − routed + routed·8/256 = 34,660,610,688 − 32,212,254,720 + 1,006,632,960
    assert g.active == 3_454_988_928
    assert (g.n_full, g.n_linear) == (10, 30)


def test_kv_per_token_full_attention_layers_only_and_tp_replication() -> None:
    # 2 (K,V) × 10 full layers × 2 KV heads × 256 × 2 B = 20,480 B (models.md)
    assert prep(Config(M35, H200, "bf16", 1)).kv_tok == 20_480
    assert prep(Config(M35, H200, "bf16", 1, kv_dtype="fp8")).kv_tok == 10_240
    # TP2 splits the 2 KV heads; TP4 > 2 heads: one (replicated) head per GPU, still 10,240 B
    assert prep(Config(M35, H200, "bf16", 2)).kv_tok == 10_240
    assert prep(Config(M35, H200, "bf16", 4)).kv_tok == 10_240
    # 27B: 2 × 16 × 4 × 256 × 2 = 65,536 B
    m27 = dense(num_layers=64, num_kv_heads=4)
    assert prep(Config(m27, H200, "bf16", 1)).kv_tok == 65_536


def test_gdn_state_per_sequence_is_fixed_and_matches_reference() -> None:
    p = prep(Config(M35, H200, "bf16", 1))
    # 30 layers × (32 × 128 × 128 × 4 B + 3 × 8192 × 2 B) = 30 × (2,097,152 + 49,152) = 64,389,120 B
    assert p.state_rw == 64_389_120
    # bf16 state: 30 × (1,048,576 + 49,152) = 32,931,840 B
    assert prep(Config(qwen35(ssm_state_dtype="bfloat16"), H200, "bf16", 1)).state_rw == 32_931_840
    # 27B geometry: 48 × (48·128·128·4 + 3·10240·2) = 153,944,064 B; 122B: 36 × (64·…·4 + 3·12288·2)
    m27 = dense(num_layers=64, linear_num_value_heads=48)
    assert prep(Config(m27, H200, "bf16", 1)).state_rw == 153_944_064
    m122 = dense(num_layers=48, linear_num_value_heads=64)
    assert prep(Config(m122, H200, "bf16", 1)).state_rw == 153_649_152
    # independent of context: the per-sequence memory grows only by the KV term
    assert p.per_seq_bytes(1000) - p.per_seq_bytes(0) == 1000 * 20_480


def test_weights_per_gpu_by_precision_and_tp() -> None:
    g = geometry(M35)
    bf16 = prep(Config(M35, H200, "bf16", 1))
    # everything BF16 without MTP: (text + vision) × 2 B
    assert bf16.weights == pytest.approx((34_660_610_688 + 446_571_248) * 2)
    fp8 = prep(Config(M35, H200, "fp8", 2))
    embed = 2 * 248_320 * 2048  # embed + lm_head stay BF16
    quant = g.body + g.routed
    expected = (quant * (1 + 4 / 16384) + (embed + 446_571_248) * 2) / 2
    assert fp8.weights == pytest.approx(expected)
    # MTP weights are loaded only with speculative decoding on
    mtp = prep(Config(M35, H200, "bf16", 1, mtp=1))
    assert mtp.weights - bf16.weights == pytest.approx(844_640_768 * 2)


def test_experts_touched_by_a_batch() -> None:
    p = prep(Config(M35, H200, "bf16", 1))
    assert p.experts_touched(1) == pytest.approx(8.0)
    # 256 × (1 − (248/256)^32) = 256 × (1 − 0.36206) = 163.31: a batch of 32 reads most experts
    assert p.experts_touched(32) == pytest.approx(163.31, abs=0.01)
    assert p.experts_touched(1000) == pytest.approx(256.0, abs=1e-6)


def test_max_concurrency_from_memory() -> None:
    cfg = Config(M35, H200, "bf16", 1)
    p = prep(cfg)
    shape = Shape(isl=8192, osl=1024)
    pool = 141 * GIB * 0.9 - p.weights - p.w_reserve - p.w_activation
    # vLLM keeps two recurrent-state blocks per request with prefix caching on (mamba cache mode "align")
    per_seq = 9216 * 20_480 + 2 * 64_389_120
    assert p.max_concurrency(9216) == int(pool // per_seq)
    rep = memory(cfg, shape)
    assert rep.fits and rep.max_concurrency == int(pool // per_seq)
    assert rep.state_per_seq_gb == pytest.approx(2 * 0.06438912)


def test_sglang_sizes_a_separate_state_pool() -> None:
    # SGLang 0.5.23: the pool splits 0.9 : 1 between recurrent state and KV; each running request holds
    # 3 radix-cache + 2 extra-buffer state slots, and with n = 3 draft tokens n + 1 = 4 more.
    for mtp, slots in ((0, 5), (3, 9)):
        p = prep(Config(M35, H200, "bf16", 1, engine="sglang", mtp=mtp))
        pool = p.pool_bytes()
        state = p.state_rw * slots
        kv = (p.kv_tok + p.mtp_kv_tok) * 9216
        expect = min(int(pool * 0.4737 // state), int(pool * (1 - 0.4737) // kv))
        assert p.max_concurrency(9216) == expect
        # a short context is bound by the state pool, not the KV pool
        assert p.max_concurrency(100) == int(pool * 0.4737 // state)
        assert memory(Config(M35, H200, "bf16", 1, engine="sglang", mtp=mtp), Shape(8192, 1024)).state_per_seq_gb \
            == pytest.approx(state / 1e9)


def test_does_not_fit_reports_shortfall() -> None:
    small = gpu(memory_gib_usable=40, memory_gb=40)
    rep = memory(Config(M35, small, "bf16", 1), Shape(8192, 1024))
    assert not rep.fits and rep.max_concurrency == 0
    # 71 GB of BF16 weights on 36 GiB of budget: ~36 GB missing
    assert 30 < rep.shortfall_gb < 45
    est = estimate(Config(M35, small, "bf16", 1), Shape(8192, 1024), 4)
    assert not est.fits and est.effective_batch == 0 and est.tpot_ms == math.inf
    assert estimate(Config(M35, small, "bf16", 2), Shape(8192, 1024), 4).fits  # TP2 halves the weights


def test_decode_step_is_memory_bound_at_batch_one() -> None:
    p = prep(Config(M35, H200, "bf16", 1))
    mem, comp, comm = p.step(1, 1000, 0.0, 0.0)
    # bytes: body + lm_head (BF16) + 8 experts × 40 layers × 3·2048·512·2 B + 1000·20,480 KV + 2 × state
    g = geometry(M35)
    read = (g.body + g.lm_head) * 2 + 8 * 40 * 3 * 2048 * 512 * 2 + 1000 * 20_480 + 2 * 64_389_120
    assert mem == pytest.approx(read / 4.8e12)
    assert comp < mem and comm == 0.0


def test_tp_all_reduce_cost() -> None:
    p = prep(Config(M35, H200, "bf16", 2))
    _, _, comm = p.step(10, 1000, 0.0, 0.0)
    # 80 all-reduces, each 2·(2−1) ring steps of 0.5 µs over NVLink plus ring 2·(2−1)/2 × 10 tokens × 2048 × 2 B
    # over 450 GB/s one-way
    assert comm == pytest.approx(80 * (2 * 0.5e-6 + 10 * 2048 * 2 / 450e9))


def test_all_reduce_latency_and_bandwidth_per_interconnect() -> None:
    # One all-reduce of 1 MiB: fitted software latency 10 µs + 2(tp-1) ring steps + 2(tp-1)/tp · S / bandwidth.
    from planner.perf.roofline import allreduce_terms
    eff = replace(EFF, allreduce_us=10.0)
    c = consts()
    size = 2**20

    def t(g: GpuSpec, tp: int) -> float:
        lat, bw = allreduce_terms(g, tp, eff, c)
        return lat + 2 * (tp - 1) / tp * size / bw

    # NVLink (switched, 900 GB/s bidirectional -> 450e9 B/s one way at any TP), 0.5 µs per step:
    # TP2: 10 + 2·0.5 = 11 µs + 1·2^20/450e9 = 2.330 µs -> 13.330 µs
    # TP8: 10 + 14·0.5 = 17 µs + 1.75·2^20/450e9 = 4.078 µs -> 21.078 µs
    assert t(H200, 2) == pytest.approx(11e-6 + 2**20 / 450e9)
    assert t(H200, 8) == pytest.approx(17e-6 + 1.75 * 2**20 / 450e9)
    # Infinity Fabric mesh (7 links of 128 GB/s, 896 total): TP2 uses 1 link (64e9 B/s one way), TP8 all 7.
    # TP2: 10 + 2·1.0 = 12 µs + 2^20/64e9 = 16.384 µs -> 28.384 µs; TP8: 10 + 14 = 24 µs + 1.75·2^20/448e9
    mi = gpu(vendor="amd", family="cdna3", interconnect="infinity-fabric", interconnect_gb_s=896)
    assert t(mi, 2) == pytest.approx(12e-6 + 2**20 / 64e9)
    assert t(mi, 8) == pytest.approx(24e-6 + 1.75 * 2**20 / 448e9)
    # PCIe (64 GB/s, switched): bandwidth-bound, TP8 moves 1.75x the bytes of TP2
    pcie = gpu(interconnect="pcie", interconnect_gb_s=64)
    assert t(pcie, 8) - 24e-6 == pytest.approx(1.75 * (t(pcie, 2) - 12e-6))


def test_steady_state_amortises_prefill_and_reports_throughput() -> None:
    cfg = Config(M35, H200, "bf16", 1)
    e = estimate(cfg, Shape(isl=8000, osl=1000), 16)
    b = e.breakdown
    # 16 sequences × 8000 prompt tokens / 1000 steps = 128 prompt tokens per decode step
    assert b["prefill_tokens_per_step"] == pytest.approx(128.0)
    # A decoding request sees the other 15 requests' prefills, not its own (that one came before its TTFT)
    assert e.tpot_ms == pytest.approx(b["step_ms"] - b["prefill_share_ms"] / 16)
    # Little's law: 16 requests of 1000 tokens in the engine for TTFT (less the API-server cost) + 999 TPOT
    life_s = (e.ttft_ms - b["ttft_request_overhead_ms"] + 999 * e.tpot_ms) / 1e3
    assert e.output_tokens_per_s == pytest.approx(16 * 1000 / life_s)
    # heavier prompts make every decode step slower
    assert estimate(cfg, Shape(isl=32000, osl=1000), 16).tpot_ms > e.tpot_ms


def test_prefix_hits_skip_prefill_work() -> None:
    cfg = Config(M35, H200, "bf16", 1)
    cold = estimate(cfg, Shape(isl=16000, osl=500), 8)
    warm = estimate(cfg, Shape(isl=16000, osl=500, prefix_hit=0.9), 8)
    assert warm.ttft_ms < cold.ttft_ms / 3
    cold_tokens = cold.breakdown["prefill_tokens_per_step"]
    assert warm.breakdown["prefill_tokens_per_step"] == pytest.approx(cold_tokens / 10)
    assert warm.max_concurrency == cold.max_concurrency  # cached prefixes still occupy KV


def test_batch_beyond_memory_is_capped_and_queues() -> None:
    cfg = Config(M35, H200, "bf16", 1)
    shape = Shape(isl=100_000, osl=1000)
    maxc = memory(cfg, shape).max_concurrency
    e = estimate(cfg, shape, maxc + 50)
    assert e.effective_batch == maxc
    # 50 requests ahead, each waiting for osl tokens of one of the maxc running slots
    assert e.breakdown["ttft_queue_ms"] == pytest.approx(50 * 1000 / e.output_tokens_per_s * 1e3)


def test_visual_tokens_per_image_and_video_frame() -> None:
    g = geometry(M35)
    # 1024×1024 image: 1,048,576 px / (16·16·4) = 1024 tokens, 4096 ViT patches
    one = visual(Shape(1, 1, images=1, image_pixels=1024 * 1024), g.vis_patch, g.vis_temporal, g.vis_merge)
    assert (one.tokens, one.patches) == (1024.0, 4096.0)
    # 8 frames at 448×448, temporal patch 2 → 4 × 200,704/1024 = 784 tokens
    clip = visual(Shape(1, 1, video_frames=8, frame_pixels=448 * 448), g.vis_patch, g.vis_temporal, g.vis_merge)
    assert clip.tokens == pytest.approx(784.0)
    cfg = Config(M35, H200, "bf16", 1)
    e = estimate(cfg, Shape(isl=500, osl=200, images=2, image_pixels=1024 * 1024), 1)
    assert e.breakdown["visual_tokens"] == 2048.0 and e.breakdown["ttft_vision_ms"] > 0


def test_vision_encoder_flops_and_its_share_of_throughput() -> None:
    g = geometry(M35)
    # One 1024×1024 page = 4096 patches: 2 × 446,571,248 params × 4096 (linear)
    # + 4 × 27 layers × 1152 × 4096² (attention inside the image).
    expected = 2 * 446_571_248 * 4096 + 4 * 27 * 1152 * 4096**2
    assert vision_flops(Shape(1, 1, images=1, image_pixels=1024 * 1024), g) == pytest.approx(expected)
    cfg = Config(M35, H200, "fp8", 1)
    text = estimate(cfg, Shape(isl=3000, osl=600), 64)
    pages = estimate(cfg, Shape(isl=3000, osl=600, images=4, image_pixels=1024 * 1024), 64)
    # Other requests' pages are encoded in the steady state too: throughput must fall, not just TTFT rise.
    assert pages.output_tokens_per_s < text.output_tokens_per_s
    assert pages.ttft_ms > text.ttft_ms


def test_mtp_acceptance_default_and_override() -> None:
    p = prep(Config(M35, H200, "bf16", 1, mtp=3, mtp_acceptance=0.5))
    assert p.accept_len == pytest.approx(1 + 0.5 + 0.25 + 0.125)
    default = constants().mtp_acceptance
    assert prep(Config(M35, H200, "bf16", 1, mtp=1)).accept_len == pytest.approx(1 + default)
    on = estimate(Config(M35, H200, "bf16", 1, mtp=3), Shape(1000, 1000), 1)
    off = estimate(Config(M35, H200, "bf16", 1), Shape(1000, 1000), 1)
    assert on.tpot_ms < off.tpot_ms  # memory-bound decode gains from verifying 4 tokens per pass
    with pytest.raises(RequestError, match="mtp_acceptance"):
        prep(Config(M35, H200, "bf16", 1, mtp=1, mtp_acceptance=1.5))


def test_quantised_compute_uses_native_rate_only() -> None:
    a100 = gpu(tflops={"bf16": 312}, native_precisions=["bf16"])
    # FP8 on a GPU without FP8 math: weights shrink, matmuls stay at the BF16 rate
    assert prep(Config(M35, a100, "fp8", 1)).peak == pytest.approx(312e12)
    assert prep(Config(M35, H200, "fp8", 1)).peak == pytest.approx(1979e12)


def test_max_batch_meets_tpot_target() -> None:
    cfg = Config(M35, H200, "fp8", 1)
    shape = Shape(isl=2000, osl=500)
    b = max_batch(cfg, shape, tpot_ms=20.0)
    assert 1 <= b < memory(cfg, shape).max_concurrency
    assert estimate(cfg, shape, b).tpot_ms <= 20.0 < estimate(cfg, shape, b + 1).tpot_ms
    assert max_batch(cfg, shape, tpot_ms=0.01) == 0
    assert max_batch(cfg, shape) == memory(cfg, shape).max_concurrency


def test_bad_inputs_raise_request_errors() -> None:
    with pytest.raises(RequestError, match="ep"):
        estimate(Config(M35, H200, "bf16", 4, ep=3), Shape(10, 10), 1)
    with pytest.raises(RequestError, match="prefix_hit"):
        estimate(Config(M35, H200, "bf16", 1), Shape(10, 10, prefix_hit=2), 1)
    with pytest.raises(RequestError, match="batch"):
        estimate(Config(M35, H200, "bf16", 1), Shape(10, 10), 0)


def test_prefill_runs_in_chunks_not_spread_over_every_step() -> None:
    # vLLM mixes whole prompt chunks into a few decode steps. b=16, isl 8000, osl 1000: 128 prompt tokens
    # per step on average = one 8000-token chunk in f = 128/8000 = 1.6 % of the steps.
    p = prep(Config(M35, H200, "bf16", 1))
    e = estimate_prepared(p, Shape(isl=8000, osl=1000), 16)
    mem0, comp0, comm0 = p.step(16, 8500, 0.0, 0.0)  # ctx = 8000 + 1000/2
    mem1, comp1, comm1 = p.step(16, 8500, 8000, 4000)  # the chunk's causal mean context 8000/2
    t0, t1 = max(mem0, comp0) + comm0, max(mem1, comp1) + comm1
    assert e.breakdown["step_ms"] == pytest.approx((t0 + 1e-3 + 128 / 8000 * (t1 - t0)) * 1e3)
    # Spreading 128 tokens over every step would read ~all 256 experts each step (8·144 routings):
    mem_spread = p.step(16, 8500, 128, 4000)[0]
    assert e.breakdown["step_ms"] < (mem_spread + 1e-3) * 1e3


def test_prefill_bound_when_prompt_demand_exceeds_the_token_budget() -> None:
    # isl 128 / osl 4 at concurrency 1024: each decoding sequence brings 128/4 = 32 prompt tokens per
    # step, so 8192-token steps hold only d = 8192 / (32 + 1) = 248.2 decoding sequences; the rest queue.
    p = prep(Config(M35, H200, "bf16", 1))
    e = estimate_prepared(p, Shape(isl=128, osl=4), 1024)
    d = 8192 / 33
    assert e.effective_batch == 248
    assert e.breakdown["prefill_tokens_per_step"] == pytest.approx(d * 32)
    b = e.breakdown
    life_s = (e.ttft_ms - b["ttft_queue_ms"] - b["ttft_request_overhead_ms"] + 3 * e.tpot_ms) / 1e3
    assert e.output_tokens_per_s == pytest.approx(d * 4 / life_s)
    assert e.breakdown["ttft_queue_ms"] == pytest.approx((1024 - d) * 4 / e.output_tokens_per_s * 1e3)


def test_request_overhead_belongs_to_the_engine() -> None:
    c = replace(consts(), request_overhead_ms={"vllm": 30.0, "sglang": 90.0})
    shape = Shape(isl=1000, osl=100)
    cases: tuple[tuple[Engine, float], ...] = (("vllm", 30.0), ("sglang", 90.0))
    for engine, ms in cases:
        p = Prepared(Config(M35, H200, "bf16", 1, engine=engine), EFF, c)
        assert estimate_prepared(p, shape, 1).breakdown["ttft_request_overhead_ms"] == pytest.approx(ms)


def test_mtp_draft_pass_reads_only_routed_experts() -> None:
    # The 35B MTP block is one MoE layer: 256 experts x 3 x 2048 x 512 = 805,306,368 routed parameters
    # of its 844,640,768; the other 39,334,400 (attention, shared expert, fc, norms) are read every pass.
    p = prep(Config(M35, H200, "bf16", 1, mtp=1))
    lm_head = 248_320 * 2048 * 2.0
    assert p.draft_read == pytest.approx(39_334_400 * 2.0 + lm_head)
    assert p.draft_expert_bytes == pytest.approx(805_306_368 / 256 * 2.0)
    # One drafted token routes to 8 of 256 experts: 8 x 6.29 MB instead of the whole 1.61 GB block.
    assert p.experts_touched(1.0) * p.draft_expert_bytes == pytest.approx(8 * 805_306_368 / 256 * 2.0)
    # A dense model's MTP block is read whole.
    d = prep(Config(dense(), H200, "bf16", 1, mtp=1))
    assert d.draft_read == pytest.approx(844_640_768 * 2.0 + lm_head) and d.draft_expert_bytes == 0.0
