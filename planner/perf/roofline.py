"""The roofline model: per-Config constants (`Prepared`) and the pure-float step/latency formulas.

Everything a call to `estimate` needs that does not depend on the batch or request shape is computed
once per Config in `Prepared.__init__` and cached, so the hot path is a few dozen float operations.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from planner.catalog.params import BYTES_PER_WEIGHT
from planner.catalog.schema import GpuSpec
from planner.errors import RequestError
from planner.perf.constants import Constants, EngineConsts, FamilyEff, constants
from planner.perf.geometry import Geometry, geometry
from planner.perf.types import Config, Shape

GB = 1e9
GIB = 2**30

KV_BYTES: dict[str, float] = {"bf16": 2.0, "fp8": 1.0}
GDN_CHUNK = 64  # chunk length of the chunked delta-rule kernel (prefill)


def peak_tflops(gpu: GpuSpec, precision: str, quant_compute: float = 1.0) -> float:
    """Dense tensor TFLOPS the matmuls run at. Quantised weights without native math run at BF16; with
    native math only the `quant_compute` share of the nominal gain over BF16 is counted."""
    t = gpu.tflops
    rate = t.bf16
    if precision == "fp8" and "fp8" in gpu.native_precisions and t.fp8:
        rate = t.fp8
    elif precision == "nvfp4" and "nvfp4" in gpu.native_precisions and t.fp4:
        rate = t.fp4
    return t.bf16 + (rate - t.bf16) * quant_compute


def allreduce_terms(gpu: GpuSpec, tp: int, eff: FamilyEff, c: Constants) -> tuple[float, float]:
    """(latency s, bytes/s) of one ring all-reduce over `tp` GPUs on this GPU's interconnect: the fitted
    software latency plus 2(tp-1) link steps, and the one-direction bandwidth the ring's links give it
    (interconnects.yaml). Time for S bytes = latency + 2(tp-1)/tp · S / bytes_per_s."""
    ic = c.interconnects.get(gpu.interconnect)
    hop_us, mesh = (ic.hop_us, ic.mesh_links) if ic is not None else (0.0, 0)
    share = min(1.0, (tp - 1) / mesh) if mesh and tp > 1 else 1.0
    latency = (eff.allreduce_us + 2 * (tp - 1) * hop_us) * 1e-6
    return latency, gpu.interconnect_gb_s / 2 * GB * c.link_efficiency * share


class Prepared:
    """Per-Config constants. Sizes are per GPU in bytes, rates per replica."""

    __slots__ = (
        "accept_len",
        "allreduce_s",
        "attn_coef",
        "budget",
        "bw",
        "cfg",
        "chunk",
        "comm_bytes_s",
        "consts",
        "dense_read",
        "draft_expert_bytes",
        "draft_flops",
        "draft_read",
        "draft_s",
        "e",
        "eff",
        "eng",
        "expert_layer_bytes",
        "flops_tok",
        "g",
        "k_over_e",
        "kv_tok",
        "lm_flops",
        "max_seqs",
        "mixed",
        "mtp_kv_tok",
        "n_allreduce",
        "n_draft",
        "overhead_s",
        "peak",
        "peak_bf16",
        "request_s",
        "seq_s",
        "state_rw",
        "state_seq",
        "state_share",
        "state_traffic",
        "tp",
        "vis_flops_patch",
        "w_activation",
        "w_reserve",
        "weights",
        "weights_split",
    )

    def __init__(self, cfg: Config, eff: FamilyEff | None = None, consts: Constants | None = None) -> None:
        c = self.consts = consts or constants()
        if cfg.tp < 1 or cfg.ep < 1 or cfg.tp % cfg.ep:
            raise RequestError(f"ep: must divide tp (got tp={cfg.tp}, ep={cfg.ep})")
        if cfg.mtp < 0:
            raise RequestError(f"mtp: must be >= 0 (got {cfg.mtp})")
        # A measured row's release and launch flags (calibration rows); plans leave both unset: pinned defaults.
        eng: EngineConsts = c.engine(cfg.engine, cfg.engine_version)
        if cfg.engine_args:
            try:
                settings: dict[str, Any] = dict(cfg.engine_args)
                eng = dataclasses.replace(eng, **settings)
            except TypeError:
                raise RequestError(f"engine_args: unknown engine setting in {cfg.engine_args}") from None
        g: Geometry = geometry(cfg.model)
        gpu = cfg.gpu
        self.cfg, self.g, self.eng = cfg, g, eng
        self.eff = eff or c.family(gpu.family)
        tp = self.tp = cfg.tp
        q = BYTES_PER_WEIGHT[cfg.precision]
        mtp_on = cfg.mtp > 0 and g.mtp_layers > 0
        # Weights: everything is sharded over the TP group (vocab-parallel embeddings, TP or EP experts,
        # TP vision encoder). Embeddings, lm_head and the vision encoder stay BF16 in quantised checkpoints.
        split = {
            "body": g.body * q / tp,
            "experts": g.routed * q / tp,
            "embeddings": (g.embed + g.lm_head) * 2.0 / tp,
            # `--language-model-only` (text-only deployments) does not load the vision encoder.
            "vision": 0.0 if cfg.language_model_only else g.vision * 2.0 / tp,
            "mtp": g.mtp * q / tp if mtp_on else 0.0,
        }
        self.weights_split = split
        self.weights = sum(split.values())
        lm_read = (g.lm_head or g.embed) * 2.0 / tp
        self.dense_read = split["body"] + lm_read
        self.e = float(g.num_experts)
        self.k_over_e = g.experts_per_token / g.num_experts if g.is_moe else 0.0
        self.expert_layer_bytes = (3.0 * g.hidden * g.moe_intermediate * q / tp) * g.num_layers
        # KV heads are split over TP until there is one per GPU, then replicated.
        kv_heads = math.ceil(g.n_kv / tp)
        kvb = KV_BYTES[cfg.kv_dtype]
        self.kv_tok = 2.0 * g.n_full * kv_heads * g.head_dim * kvb
        self.mtp_kv_tok = 2.0 * g.mtp_layers * kv_heads * g.head_dim * kvb if mtp_on else 0.0
        v_heads = math.ceil(g.lin_v_heads / tp)
        ssm = v_heads * g.lin_k_dim * g.lin_v_dim * g.ssm_bytes
        conv = (g.conv_kernel - 1 + (cfg.mtp if mtp_on else 0)) * (g.conv_dim / tp) * 2.0
        self.state_rw = g.n_linear * (ssm + conv)
        # Speculative verify keeps the recurrent state after each verified position so it can roll back to the
        # last accepted one (vLLM 0.33 v1/worker/mamba_utils.py: 1 + num_speculative_tokens state blocks per
        # request; SGLang 0.5.23 mem_cache/memory_pool.py: an intermediate SSM state per draft token): each
        # verify step reads one state and writes n + 1 of them instead of one.
        n_spec = cfg.mtp if mtp_on and g.n_linear else 0
        # State slots a running request holds: the engine's cache strategy, plus rollback states under MTP.
        slots = eng.state_slots + (cfg.mtp + eng.spec_state_slots if n_spec else 0)
        self.state_seq = self.state_rw * slots if g.n_linear else 0.0
        self.state_share = eng.state_pool_share if g.n_linear else 0.0
        self.state_traffic = self.state_rw * (2.0 + n_spec)
        # Engine memory budget and reserve.
        self.budget = gpu.memory_gib_usable * GIB * eng.gpu_memory_utilization
        small = gpu.memory_gib_usable < eng.small_gpu_gib
        self.chunk = eng.small_chunk_tokens if small else eng.chunk_tokens
        self.max_seqs = eng.small_max_num_seqs if small else eng.max_num_seqs
        self.mixed = eng.mixed_chunk
        # Peak activations of one chunk: residual/attention buffers and the FFN intermediate (gate+up),
        # plus fp32 logits of a full decode batch for the sampler.
        act_tok = 2.0 * (6 * g.hidden + 2 * g.ffn_width / tp + 2 * (g.n_heads * g.head_dim) / tp)
        self.w_activation = self.chunk * act_tok + min(self.max_seqs, self.chunk) * g.vocab * 4.0 / tp
        self.w_reserve = eng.reserve_gib * GIB
        # Rates.
        eff_ = self.eff
        self.peak = peak_tflops(gpu, cfg.precision, c.quant_compute) * 1e12 * tp * eff_.compute
        self.bw = gpu.bandwidth_tb_s * 1e12 * eff_.bandwidth
        frac = self.k_over_e
        lin_tok = g.n_linear * g.lin_v_heads * (4.0 * g.lin_k_dim * g.lin_v_dim
                                                + 2.0 * GDN_CHUNK * (g.lin_k_dim + g.lin_v_dim))
        # Routed-expert FLOPs count 1/moe_compute times: small per-expert GEMMs run below dense efficiency.
        self.flops_tok = 2.0 * (g.body + g.routed * frac / c.moe_compute) + lin_tok
        self.lm_flops = 2.0 * g.vocab * g.hidden
        self.attn_coef = 4.0 * g.n_heads * g.head_dim * g.n_full
        # Tensor-parallel all-reduce: two per layer (attention out, FFN out), ring algorithm.
        self.n_allreduce = 2 * g.num_layers if tp > 1 else 0
        self.allreduce_s, link = allreduce_terms(gpu, tp, eff_, c)
        self.comm_bytes_s = (2.0 * (tp - 1) / tp * g.hidden * 2.0 / link) if tp > 1 else 0.0
        if cfg.ep > 1:
            # EP replaces the FFN all-reduce by dispatch + combine all-to-all of k copies of each token.
            a2a = 2.0 * g.experts_per_token * (cfg.ep - 1) / cfg.ep * g.hidden * 2.0 / link
            self.comm_bytes_s = self.comm_bytes_s / 2 + a2a / 2
        self.overhead_s = eff_.step_overhead_ms * 1e-3
        self.seq_s = c.seq_step_us * 1e-6
        own = (eff_.request_overhead_ms or {}).get(cfg.engine)
        self.request_s = (own if own is not None else c.request_overhead_ms.get(cfg.engine, 0.0)) * 1e-3
        if tp > 1:
            self.request_s += c.multi_gpu_request_ms.get(cfg.engine, 0.0) * 1e-3
        # Speculative decoding (MTP): n sequential draft passes, then one verify pass of n+1 tokens.
        self.n_draft = cfg.mtp if mtp_on else 0
        a = cfg.mtp_acceptance if cfg.mtp_acceptance is not None else c.mtp_acceptance
        if not 0.0 <= a <= 1.0:
            raise RequestError(f"mtp_acceptance: must be within 0..1 (got {a})")
        self.accept_len = sum(a**i for i in range(self.n_draft + 1))
        # One draft pass runs one MTP block. In MoE models that block is an MoE layer of its own (E experts,
        # e.g. 805 M of the 845 M MTP parameters of 35B-A3B), so a pass reads only the experts its tokens
        # route to, like the decoder's MoE layers, not the whole block.
        layers = max(g.mtp_layers, 1)
        mtp_routed = min(float(g.num_experts * 3 * g.hidden * g.moe_intermediate), g.mtp / layers) \
            if mtp_on else 0.0
        mtp_dense = g.mtp / layers - mtp_routed if mtp_on else 0.0
        self.draft_read = mtp_dense * q / tp + lm_read
        self.draft_expert_bytes = mtp_routed / g.num_experts * q / tp if g.is_moe else 0.0
        self.draft_flops = 2.0 * (mtp_dense + mtp_routed * frac) + self.lm_flops
        self.draft_s = self.overhead_s * c.draft_overhead_fraction
        # Vision encoder: its weights stay BF16 whatever the checkpoint, so it runs at the BF16 rate.
        self.vis_flops_patch = 2.0 * g.vision
        self.peak_bf16 = gpu.tflops.bf16 * 1e12 * tp * eff_.compute

    # ------------------------------------------------------------------ memory

    def per_seq_bytes(self, tokens: float) -> float:
        return (self.kv_tok + self.mtp_kv_tok) * tokens + self.state_seq

    def pool_bytes(self) -> float:
        return self.budget - self.weights - self.w_reserve - self.w_activation

    def kv_room(self) -> float:
        """Bytes of the pool the KV cache may use: all of it less one sequence's state when KV and state
        share the pool, the KV part when the engine sizes a separate state pool."""
        pool = self.pool_bytes()
        return pool * (1.0 - self.state_share) if self.state_share else pool - self.state_seq

    def max_concurrency(self, tokens: float) -> int:
        pool = self.pool_bytes()
        if pool <= 0:
            return 0
        if not self.state_share:
            return min(int(pool // self.per_seq_bytes(tokens)), self.max_seqs)
        # Separate pools (SGLang): the KV part bounds the tokens, the state part the running requests.
        kv = pool * (1.0 - self.state_share) // ((self.kv_tok + self.mtp_kv_tok) * tokens)
        state = pool * self.state_share // self.state_seq
        return min(int(kv), int(state), self.max_seqs)

    # ------------------------------------------------------------------ time

    def experts_touched(self, tokens: float) -> float:
        """Expected distinct routed experts per layer hit by `tokens` tokens (uniform routing)."""
        if self.e == 0.0:
            return 0.0
        return self.e * (1.0 - float((1.0 - self.k_over_e) ** tokens))

    def step(
        self, batch: float, ctx: float, prefill: float, prefill_ctx: float
    ) -> tuple[float, float, float]:
        """(memory, compute, communication) seconds of one forward step.

        `batch` sequences decode (each verifying n_draft+1 tokens against `ctx` tokens of context) while
        `prefill` prompt tokens at mean position `prefill_ctx` are processed in the same step.
        """
        t_dec = batch * (self.n_draft + 1)
        tokens = t_dec + prefill
        mem = (self.dense_read + self.experts_touched(tokens) * self.expert_layer_bytes
               + batch * ctx * (self.kv_tok + self.mtp_kv_tok) + prefill * self.kv_tok
               + batch * self.state_traffic) / self.bw
        comp = (self.flops_tok * tokens + self.lm_flops * t_dec
                + self.attn_coef * (t_dec * ctx + prefill * prefill_ctx)) / self.peak
        comm = self.n_allreduce * (self.allreduce_s + tokens * self.comm_bytes_s) if tokens > 0 else 0.0
        return mem, comp, comm

    def draft_time(self, batch: float, ctx: float) -> float:
        if self.n_draft == 0:
            return 0.0
        mem = (self.draft_read + self.experts_touched(batch) * self.draft_expert_bytes
               + batch * ctx * self.mtp_kv_tok) / self.bw
        comp = batch * self.draft_flops / self.peak
        comm = (self.allreduce_s * 2 + batch * self.comm_bytes_s * 2) if self.tp > 1 else 0.0
        return self.n_draft * (max(mem, comp) + comm + self.draft_s)


def vision_flops(shape: Shape, g: Geometry) -> float:
    """ViT FLOPs per request: 2 per parameter per patch, plus full attention inside each image (or
    two-frame video grid), 4·depth·hidden·patches² — quadratic, so large pages dominate."""
    patch_px = g.vis_patch * g.vis_patch
    img = shape.image_pixels / patch_px
    grid = shape.frame_pixels / patch_px
    linear = 2.0 * g.vision * (shape.images * img + shape.video_frames / g.vis_temporal * grid)
    attn = 4.0 * g.vis_depth * g.vis_hidden * (shape.images * img**2 + shape.video_frames / g.vis_temporal * grid**2)
    return linear + attn


_CACHE: dict[tuple[object, ...], Prepared] = {}
_CACHE_MAX = 65536
_LAST: list[tuple[Config, Prepared]] = []


def prepared(cfg: Config) -> Prepared:
    """Cached per-Config constants. The key holds the catalog objects' ids; the cached value keeps
    them alive, so an id cannot be reused by another object while its entry exists."""
    c = constants()  # a calibration profile in force (planner.perf.constants.calibrated) has its own entries
    if _LAST and _LAST[0][0] is cfg and _LAST[0][1].consts is c:
        return _LAST[0][1]  # the same Config asked again (memory, max_batch, estimate in a row)
    key = (id(c), id(cfg.model), id(cfg.gpu), cfg.precision, cfg.tp, cfg.ep, cfg.kv_dtype, cfg.engine, cfg.mtp,
           cfg.mtp_acceptance, cfg.language_model_only, cfg.engine_version, cfg.engine_args)
    p = _CACHE.get(key)
    if p is None or p.cfg.model is not cfg.model or p.cfg.gpu is not cfg.gpu or p.consts is not c:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        p = _CACHE[key] = Prepared(cfg, consts=c)
    _LAST[:] = [(cfg, p)]
    return p
