"""Parameter counts and estimated checkpoint sizes from an `Architecture`.

The counts follow the Hugging Face Qwen3.5 layout (gated attention, Gated DeltaNet, dense or
MoE FFN with one shared expert, one MTP layer, ViT encoder with a 2×2 patch merger). They
reproduce the published safetensors totals of all three open models exactly, which is why
the catalog can state text/vision/MTP/active splits that no card publishes.

Checkpoint sizes for unpublished quantised repos are *estimates*: every Linear weight of the
text decoder layers is stored at the quantised width plus its scales, everything else
(embeddings, lm_head, norms, routers, conv1d, MTP, vision) stays BF16.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.catalog.schema import Architecture, Precision
from planner.errors import CatalogError

BF16_BYTES = 2
# Bytes per weight of a quantised Linear, scales included: FP8 one fp32 scale per 128×128 block,
# GPTQ-Int4 an fp16 scale and a 4-bit zero per group of 128, NVFP4 one fp8 scale per 16 values.
# The one table: checkpoint sizes here, weight memory and traffic in the perf model.
BYTES_PER_WEIGHT: dict[str, float] = {
    "bf16": 2.0, "fp8": 1.0 + 4 / 16384, "int4": 0.5 + 2.5 / 128, "nvfp4": 0.5 + 1 / 16,
}


@dataclass(frozen=True)
class ParamBreakdown:
    text: int
    active: int
    mtp: int
    vision: int
    text_linear: int
    """Weights of the decoder layers' Linear layers: the part a quantised checkpoint shrinks."""

    @property
    def total(self) -> int:
        return self.text + self.mtp + self.vision


def _attention(a: Architecture) -> int:
    q_width = a.num_attention_heads * a.head_dim
    q_proj = a.hidden_size * q_width * (2 if a.attn_output_gate else 1)
    kv_proj = 2 * a.hidden_size * a.num_kv_heads * a.head_dim
    return q_proj + kv_proj + q_width * a.hidden_size


def _conv_dim(a: Architecture) -> int:
    keys = a.linear_num_key_heads * a.linear_key_head_dim
    return 2 * keys + a.linear_num_value_heads * a.linear_value_head_dim


def _gdn_linear(a: Architecture) -> int:
    nk, nv = a.linear_num_key_heads, a.linear_num_value_heads
    qkvz = a.hidden_size * (2 * nk * a.linear_key_head_dim + 2 * nv * a.linear_value_head_dim)
    ba = a.hidden_size * 2 * nv
    out = nv * a.linear_value_head_dim * a.hidden_size
    return qkvz + ba + out


def _gdn_small(a: Architecture) -> int:
    # conv1d weights, dt_bias, A_log and the gated RMSNorm over the value head dim
    return _conv_dim(a) * a.linear_conv_kernel_dim + 2 * a.linear_num_value_heads + a.linear_value_head_dim


def _ffn(a: Architecture, experts: int) -> tuple[int, int]:
    """(Linear weights, small weights) of one FFN block with `experts` routed experts present."""
    h = a.hidden_size
    if not a.is_moe:
        if a.intermediate_size is None:
            raise CatalogError("architecture.intermediate_size: required for a dense model")
        return 3 * h * a.intermediate_size, 0
    if a.moe_intermediate_size is None or a.num_experts is None:
        raise CatalogError("architecture.moe_intermediate_size/num_experts: required for an MoE model")
    shared = (a.shared_experts or 0) * 3 * h * (a.shared_expert_intermediate_size or 0)
    routed = experts * 3 * h * a.moe_intermediate_size
    router_and_shared_gate = h * a.num_experts + (h if a.shared_experts else 0)
    return routed + shared, router_and_shared_gate


def _vision(a: Architecture) -> int:
    v = a.vision
    if v.num_position_embeddings is None:
        raise CatalogError("architecture.vision.num_position_embeddings: needed to count vision parameters")
    d, inter = v.hidden_size, v.intermediate_size
    patch_embed = 3 * v.temporal_patch_size * v.patch_size**2 * d + d
    block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * inter + inter) + (inter * d + d)
    merged = d * v.spatial_merge_size**2
    merger = 2 * d + (merged * merged + merged) + (merged * v.out_hidden_size + v.out_hidden_size)
    return patch_embed + v.num_position_embeddings * d + v.depth * block + merger


def param_breakdown(a: Architecture) -> ParamBreakdown:
    h = a.hidden_size
    embed_and_head = (1 if a.tie_word_embeddings else 2) * a.vocab_size * h
    norms = 2 * h
    attn = _attention(a)
    qk_norm = 2 * a.head_dim
    ffn_lin, ffn_small = _ffn(a, a.num_experts or 0)
    ffn_lin_active, _ = _ffn(a, a.experts_per_token or 0)

    full_lin = attn + ffn_lin
    lin_lin = _gdn_linear(a) + ffn_lin
    full_small = qk_norm + ffn_small + norms
    lin_small = _gdn_small(a) + ffn_small + norms
    nf, nl = a.n_full_layers, a.n_linear_layers
    text_linear = nf * full_lin + nl * lin_lin
    text = embed_and_head + h + text_linear + nf * full_small + nl * lin_small
    active = text - (nf + nl) * (ffn_lin - ffn_lin_active)
    # MTP: fc(2h -> h), two pre-fc norms, one full-attention decoder layer, final norm; it shares
    # the main embeddings and lm_head unless mtp_dedicated_embeddings.
    mtp_layer = 2 * h * h + 2 * h + attn + qk_norm + ffn_lin + ffn_small + norms + h
    mtp = a.mtp_layers * mtp_layer + (embed_and_head if a.mtp_dedicated_embeddings and a.mtp_layers else 0)
    return ParamBreakdown(text=text, active=active, mtp=mtp, vision=_vision(a), text_linear=text_linear)


def estimate_checkpoint_bytes(a: Architecture, precision: Precision) -> int:
    """Estimated safetensors bytes of a checkpoint at `precision` (see module docstring)."""
    p = param_breakdown(a)
    rest = (p.total - p.text_linear) * BF16_BYTES
    return round(p.text_linear * BYTES_PER_WEIGHT[precision] + rest)
