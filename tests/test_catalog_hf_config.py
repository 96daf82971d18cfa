"""Model architecture in the YAML equals the shipped HF config.json; parameter counts add up."""

from __future__ import annotations

import json
from typing import Any

import pytest

from planner.catalog import Catalog
from planner.catalog.params import estimate_checkpoint_bytes, param_breakdown

OPEN_MODELS = ["qwen3.5-27b", "qwen3.5-35b-a3b", "qwen3.5-122b-a10b"]


def _config(catalog: Catalog, model_id: str) -> dict[str, Any]:
    m = catalog.model(model_id)
    assert m.hf_config is not None
    path = catalog.origin[("models", model_id)].parent / m.hf_config
    return dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("model_id", OPEN_MODELS)
def test_architecture_matches_config_json(catalog: Catalog, model_id: str) -> None:
    cfg = _config(catalog, model_id)
    t, v = cfg["text_config"], cfg["vision_config"]
    a = catalog.model(model_id).architecture
    assert a is not None
    assert (a.num_layers, a.full_attention_interval, a.hidden_size) == (
        t["num_hidden_layers"], t["full_attention_interval"], t["hidden_size"]
    )
    assert (a.num_attention_heads, a.num_kv_heads, a.head_dim) == (
        t["num_attention_heads"], t["num_key_value_heads"], t["head_dim"]
    )
    assert (a.linear_num_key_heads, a.linear_num_value_heads, a.linear_key_head_dim,
            a.linear_value_head_dim, a.linear_conv_kernel_dim) == (
        t["linear_num_key_heads"], t["linear_num_value_heads"], t["linear_key_head_dim"],
        t["linear_value_head_dim"], t["linear_conv_kernel_dim"])
    assert a.intermediate_size == t.get("intermediate_size")
    assert a.num_experts == t.get("num_experts")
    assert a.experts_per_token == t.get("num_experts_per_tok")
    assert a.moe_intermediate_size == t.get("moe_intermediate_size")
    assert a.shared_expert_intermediate_size == t.get("shared_expert_intermediate_size")
    assert a.is_moe == ("num_experts" in t)
    assert (a.vocab_size, a.native_context, a.mtp_layers) == (
        t["vocab_size"], t["max_position_embeddings"], t["mtp_num_hidden_layers"]
    )
    assert a.tie_word_embeddings == cfg["tie_word_embeddings"]
    assert a.ssm_state_dtype == t["mamba_ssm_dtype"]
    assert a.attn_output_gate == t["attn_output_gate"]
    assert a.mtp_dedicated_embeddings == t["mtp_use_dedicated_embeddings"]
    assert a.layer_types == t["layer_types"]
    assert a.n_full_layers == t["layer_types"].count("full_attention")
    assert a.n_linear_layers == t["layer_types"].count("linear_attention")
    assert a.vision.model_dump() == {k: v[k] for k in a.vision.model_dump()}


@pytest.mark.parametrize(
    ("model_id", "published_total"),
    # HF safetensors totals, published independently of config.json.
    [("qwen3.5-27b", 27_781_427_952), ("qwen3.5-35b-a3b", 35_951_822_704),
     ("qwen3.5-122b-a10b", 125_086_497_008)],
)
def test_param_counts_reproduce_the_published_total(
    catalog: Catalog, model_id: str, published_total: int
) -> None:
    m = catalog.model(model_id)
    assert m.architecture is not None and m.params is not None
    p = param_breakdown(m.architecture)
    assert p.total == published_total == m.params.total
    yaml_split = (m.params.text, m.params.vision, m.params.mtp, m.params.active)
    assert (p.text, p.vision, p.mtp, p.active) == yaml_split


def test_dense_27b_counts_by_hand(catalog: Catalog) -> None:
    a = catalog.model("qwen3.5-27b").architecture
    assert a is not None
    h, v = 5120, 248_320
    attn = h * 24 * 256 * 2 + 2 * h * 4 * 256 + 24 * 256 * h  # gated q, k, v, o
    gdn = h * (2 * 16 * 128 + 2 * 48 * 128) + h * 2 * 48 + 48 * 128 * h  # qkvz, ba, out
    ffn = 3 * h * 17_408
    linear = 16 * (attn + ffn) + 48 * (gdn + ffn)
    assert param_breakdown(a).text_linear == linear
    small = 2 * v * h + h + 64 * 2 * h + 16 * 2 * 256 + 48 * (10_240 * 4 + 2 * 48 + 128)
    assert param_breakdown(a).text == linear + small == 26_895_998_464
    assert param_breakdown(a).active == param_breakdown(a).text  # dense


def test_moe_active_params_by_hand(catalog: Catalog) -> None:
    a = catalog.model("qwen3.5-35b-a3b").architecture
    assert a is not None
    p = param_breakdown(a)
    unused_experts_per_layer = (256 - 8) * 3 * 2048 * 512
    assert p.text - p.active == 40 * unused_experts_per_layer


@pytest.mark.parametrize("model_id", OPEN_MODELS)
def test_computed_checkpoint_sizes_match_the_estimator(catalog: Catalog, model_id: str) -> None:
    m = catalog.model(model_id)
    assert m.architecture is not None
    computed = [c for c in m.checkpoints if c.disk_bytes_computed]
    assert computed, "every open model has at least one unpublished (computed) checkpoint size"
    for c in computed:
        assert c.disk_bytes == estimate_checkpoint_bytes(m.architecture, c.precision)


def test_estimator_is_close_to_published_bf16_sizes(catalog: Catalog) -> None:
    # Published repo sizes include safetensors headers and are rounded to 10 MB.
    for model_id in OPEN_MODELS:
        m = catalog.model(model_id)
        assert m.architecture is not None
        bf16 = catalog.checkpoints_of(model_id)["bf16"]
        assert not bf16.disk_bytes_computed
        est = estimate_checkpoint_bytes(m.architecture, "bf16")
        assert abs(bf16.disk_bytes - est) / est < 0.002, model_id


def test_quantised_size_ordering(catalog: Catalog) -> None:
    a = catalog.model("qwen3.5-122b-a10b").architecture
    assert a is not None
    sizes = {p: estimate_checkpoint_bytes(a, p) for p in ("bf16", "fp8", "nvfp4", "int4")}
    assert sizes["bf16"] > sizes["fp8"] > sizes["nvfp4"] > sizes["int4"]
    # int4 GPTQ: 0.5 B + (2 + 0.5) B per 128 weights on the quantised part.
    q = param_breakdown(a).text_linear
    assert sizes["int4"] - (sizes["bf16"] - 2 * q) == q // 2 + (q // 128) * 2 + (q // 128) // 2
