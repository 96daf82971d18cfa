"""Architectures of the calibration models that are not in the catalog (benchmark-only data).

Values are the public Hugging Face `config.json` numbers of each model; parameter totals are the
published safetensors counts (rounded). Two mappings onto the hybrid schema are approximations,
documented in docs/performance-model.md:
- gpt-oss sliding-window layers (window 128) are "linear" layers whose fixed per-sequence state equals
  a 128-token K/V window (8 KV heads × 64 dims × 2 (K,V) × 128 tokens, bf16).
- DeepSeek MLA caches a 576-value latent per token per layer, replicated on every TP rank: one "KV
  head" of 288 dims (×2 for K,V = 576). Prefill runs MLA unabsorbed, 128 heads with 192-dim q·k
  (128 nope + 64 rope) and 128-dim values: 2·128·(192+128) = 81,920 FLOPs per token pair per layer. The
  model charges 4·heads·head_dim, so `num_attention_heads` is set to 71 (4·71·288 = 81,792) to match;
  it is used nowhere else but in activation sizes. Its 3 dense layers are folded into the routed-expert
  width (moe_intermediate 1947 = 2048 × 58/61) so routed parameters match 58 MoE layers.
"""

from __future__ import annotations

from typing import Any

from planner.catalog.schema import ModelSpec

_SRC = "Hugging Face config.json of the model (public); parameter totals from its safetensors index"
_ASOF = "2026-11-29"
_NO_VISION = {"depth": 1, "hidden_size": 1, "intermediate_size": 1, "num_heads": 1, "patch_size": 16,
              "temporal_patch_size": 2, "spatial_merge_size": 2, "out_hidden_size": 1}
_DENSE_LINEAR = {"linear_num_key_heads": 1, "linear_num_value_heads": 1, "linear_key_head_dim": 1,
                 "linear_value_head_dim": 1, "linear_conv_kernel_dim": 1}


def _spec(mid: str, params: dict[str, Any], arch: dict[str, Any],
          vision: dict[str, Any] | None = None) -> ModelSpec:
    p = {"source": _SRC, "as_of": _ASOF, **params}
    unknown: dict[str, str] = {}
    if "vision" not in params:
        p["vision"] = None
        unknown["vision"] = "text-only model"
    if "mtp" not in params:
        p["mtp"] = None
        unknown["mtp"] = "MTP weights not loaded in these benchmarks"
    if "active" not in params:
        unknown["active"] = "derived by planner.perf.geometry from the architecture"
    p["unknown"] = unknown
    a = {"source": _SRC, "as_of": _ASOF, "native_context": 131072, "extended_context": 131072,
         "tie_word_embeddings": False, "ssm_state_dtype": "float32", "mtp_layers": 0,
         "vision": vision or _NO_VISION, **arch}
    a["unknown"] = {f: "not applicable to this model" for f in (
        "intermediate_size", "num_experts", "experts_per_token", "shared_experts", "moe_intermediate_size",
        "shared_expert_intermediate_size") if a.get(f) is None}
    return ModelSpec.model_validate({
        "id": mid, "name": mid, "release_date": "2025-01-01", "open_weights": True, "source": _SRC,
        "as_of": _ASOF, "params": p, "architecture": a,
        "unknown": {f: "calibration-only entry"
                    for f in ("hf_config", "license", "hosted_twin_of", "max_output_tokens")},
        "checkpoints": [{"precision": "bf16", "repo": mid, "source": _SRC, "as_of": _ASOF,
                         "unknown": {"disk_bytes": "not needed for calibration"}}],
    })


def _moe(e: int, k: int, i: int, shared: int = 0) -> dict[str, Any]:
    return {"num_experts": e, "experts_per_token": k, "moe_intermediate_size": i,
            "shared_experts": 1 if shared else 0, "shared_expert_intermediate_size": shared or 1}


_QWEN_HYBRID = {"full_attention_interval": 4, "linear_num_key_heads": 16, "linear_key_head_dim": 128,
                "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4}
_QWEN35_VISION = {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16,
                  "patch_size": 16, "temporal_patch_size": 2, "spatial_merge_size": 2,
                  "out_hidden_size": 4096}

MODELS: dict[str, ModelSpec] = {
    "gpt-oss-120b": _spec(
        "gpt-oss-120b", {"total": 116_830_000_000, "text": 116_830_000_000},
        {"num_layers": 36, "full_attention_interval": 2, "hidden_size": 2880, "num_attention_heads": 64,
         "num_kv_heads": 8, "head_dim": 64, "linear_num_key_heads": 8, "linear_num_value_heads": 8,
         "linear_key_head_dim": 64, "linear_value_head_dim": 256, "linear_conv_kernel_dim": 1,
         "ssm_state_dtype": "bfloat16", "vocab_size": 201_088, **_moe(128, 4, 2880)}),
    "deepseek-r1": _spec(
        "deepseek-r1", {"total": 671_000_000_000, "text": 671_000_000_000},
        {"num_layers": 61, "full_attention_interval": 1, "hidden_size": 7168, "num_attention_heads": 71,
         "num_kv_heads": 1, "head_dim": 288, **_DENSE_LINEAR, "vocab_size": 129_280,
         **_moe(256, 8, 1947, 2048)}),
    "llama-3.3-70b": _spec(
        "llama-3.3-70b", {"total": 70_550_000_000, "text": 70_550_000_000},
        {"num_layers": 80, "full_attention_interval": 1, "hidden_size": 8192, "intermediate_size": 28672,
         "num_attention_heads": 64, "num_kv_heads": 8, "head_dim": 128, **_DENSE_LINEAR,
         "vocab_size": 128_256}),
    "qwen3-235b-a22b": _spec(
        "qwen3-235b-a22b", {"total": 235_090_000_000, "text": 235_090_000_000},
        {"num_layers": 94, "full_attention_interval": 1, "hidden_size": 4096, "num_attention_heads": 64,
         "num_kv_heads": 4, "head_dim": 128, **_DENSE_LINEAR, "vocab_size": 151_936, **_moe(128, 8, 1536)}),
    "qwen3-30b-a3b": _spec(
        "qwen3-30b-a3b", {"total": 30_530_000_000, "text": 30_530_000_000},
        {"num_layers": 48, "full_attention_interval": 1, "hidden_size": 2048, "num_attention_heads": 32,
         "num_kv_heads": 4, "head_dim": 128, **_DENSE_LINEAR, "vocab_size": 151_936, **_moe(128, 8, 768)}),
    "qwen3-32b": _spec(
        "qwen3-32b", {"total": 32_760_000_000, "text": 32_760_000_000},
        {"num_layers": 64, "full_attention_interval": 1, "hidden_size": 5120, "intermediate_size": 25600,
         "num_attention_heads": 64, "num_kv_heads": 8, "head_dim": 128, **_DENSE_LINEAR,
         "vocab_size": 151_936}),
    "qwen3-next-80b-a3b": _spec(
        "qwen3-next-80b-a3b", {"total": 81_320_000_000, "text": 79_700_000_000, "mtp": 1_600_000_000},
        {"num_layers": 48, **_QWEN_HYBRID, "hidden_size": 2048, "num_attention_heads": 16, "num_kv_heads": 2,
         "head_dim": 256, "linear_num_value_heads": 32, "vocab_size": 151_936, "mtp_layers": 1,
         **_moe(512, 10, 512, 512)}),
    "qwen3.5-397b-a17b": _spec(
        "qwen3.5-397b-a17b",
        {"total": 403_400_000_000, "text": 396_300_000_000, "vision": 450_000_000, "mtp": 6_600_000_000},
        {"num_layers": 60, **_QWEN_HYBRID, "hidden_size": 4096, "num_attention_heads": 32, "num_kv_heads": 2,
         "head_dim": 256, "linear_num_value_heads": 64, "vocab_size": 248_320, "mtp_layers": 1,
         "native_context": 262_144, "extended_context": 1_010_000, **_moe(512, 10, 1024, 1024)},
        _QWEN35_VISION),
    "qwen3.5-9b": _spec(
        "qwen3.5-9b",
        {"total": 9_650_000_000, "text": 8_940_000_000, "vision": 450_000_000, "mtp": 260_000_000},
        {"num_layers": 32, **_QWEN_HYBRID, "hidden_size": 4096, "intermediate_size": 12288,
         "num_attention_heads": 16, "num_kv_heads": 4, "head_dim": 256, "linear_num_value_heads": 32,
         "vocab_size": 248_320, "mtp_layers": 1, "native_context": 262_144, "extended_context": 1_010_000},
        _QWEN35_VISION),
}
