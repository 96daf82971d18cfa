"""Precision-independent numbers of a model, derived once from its catalog entry.

Parameter groups (counts, not bytes):
- `routed`: all routed experts of the text model (L·E·3·h·i_moe); 0 for dense models.
- `body`: every other weight inside the decoder blocks (attention, Gated DeltaNet, dense FFN,
  shared experts, routers, norms), i.e. text − routed − embedding − lm_head.
- `embed`, `lm_head`: vocab × hidden each (lm_head 0 when tied).
- `vision`, `mtp`: the vision encoder and the MTP block(s).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.catalog.schema import ModelSpec
from planner.errors import RequestError


@dataclass(frozen=True)
class Geometry:
    model_id: str
    num_layers: int
    n_full: int
    n_linear: int
    hidden: int
    vocab: int
    n_heads: int
    n_kv: int
    head_dim: int
    lin_k_heads: int
    lin_v_heads: int
    lin_k_dim: int
    lin_v_dim: int
    conv_kernel: int
    conv_dim: int
    ssm_bytes: int
    num_experts: int
    experts_per_token: int
    moe_intermediate: int
    ffn_width: int
    """Per-token FFN width through the MLP (dense intermediate, or k·i_moe + shared) — activations."""
    routed: float
    body: float
    embed: float
    lm_head: float
    vision: float
    mtp: float
    mtp_layers: int
    vis_depth: int
    vis_hidden: int
    vis_intermediate: int
    vis_patch: int
    vis_temporal: int
    vis_merge: int

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def text(self) -> float:
        return self.routed + self.body + self.embed + self.lm_head

    @property
    def active(self) -> float:
        """Parameters used per token, embedding table included (the catalog's `params.active`)."""
        frac = self.experts_per_token / self.num_experts if self.is_moe else 0.0
        return self.body + self.embed + self.lm_head + self.routed * frac


def _vision_params(h: int, inter: int, depth: int, patch: int, temporal: int, merge: int, out: int) -> float:
    # Qwen3-VL style ViT: qkv+o (4h²) and a 2-matrix MLP per block, a 3-D patch embedding and a
    # 2-layer merger from (merge²·h) to the LM width. Biases and norms are < 0.1 % and left out.
    blocks = depth * (4 * h * h + 2 * h * inter)
    patch_embed = 3 * temporal * patch * patch * h
    merged = merge * merge * h
    return float(blocks + patch_embed + merged * merged + merged * out)


_DERIVED: dict[int, tuple[ModelSpec, Geometry]] = {}


def geometry(model: ModelSpec) -> Geometry:
    """Derive the numbers the roofline needs; raises RequestError for hosted-only models.

    Memoised per catalog entry (a search asks once per configuration, thousands of times per model):
    the entry is kept with its geometry, so its id cannot be reused while the entry exists."""
    hit = _DERIVED.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    g = _derive(model)
    if len(_DERIVED) >= 256:  # catalogs loaded again and again (tests): entries of old ones go
        _DERIVED.clear()
    _DERIVED[id(model)] = (model, g)
    return g


def _derive(model: ModelSpec) -> Geometry:
    arch, params = model.architecture, model.params
    if arch is None or params is None:
        raise RequestError(f"model: {model.id!r} has no published architecture (hosted only); "
                           "choose an open-weights model")
    h, vocab = arch.hidden_size, arch.vocab_size
    embed = float(vocab * h)
    lm_head = 0.0 if arch.tie_word_embeddings else float(vocab * h)
    vis = arch.vision
    vision = float(params.vision) if params.vision is not None else _vision_params(
        vis.hidden_size, vis.intermediate_size, vis.depth, vis.patch_size, vis.temporal_patch_size,
        vis.spatial_merge_size, vis.out_hidden_size)
    if params.vision is None and "vision" in params.unknown:
        vision = 0.0  # text-only model: the catalog says so explicitly
    mtp = float(params.mtp or 0)
    text = float(params.text) if params.text is not None else float(params.total) - vision - mtp
    e = arch.num_experts or 0
    k = arch.experts_per_token or 0
    i_moe = arch.moe_intermediate_size or 0
    routed = float(arch.num_layers * e * 3 * h * i_moe)
    body = text - routed - embed - lm_head
    if body <= 0:
        raise RequestError(f"model: {model.id!r} params.text is smaller than its experts and embeddings")
    shared = (arch.shared_experts or 0) * (arch.shared_expert_intermediate_size or 0)
    ffn = (k * i_moe + shared) if e else (arch.intermediate_size or 4 * h)
    conv_dim = 2 * arch.linear_num_key_heads * arch.linear_key_head_dim \
        + arch.linear_num_value_heads * arch.linear_value_head_dim
    return Geometry(
        model_id=model.id,
        num_layers=arch.num_layers,
        n_full=arch.n_full_layers,
        n_linear=arch.n_linear_layers,
        hidden=h,
        vocab=vocab,
        n_heads=arch.num_attention_heads,
        n_kv=arch.num_kv_heads,
        head_dim=arch.head_dim,
        lin_k_heads=arch.linear_num_key_heads,
        lin_v_heads=arch.linear_num_value_heads,
        lin_k_dim=arch.linear_key_head_dim,
        lin_v_dim=arch.linear_value_head_dim,
        conv_kernel=arch.linear_conv_kernel_dim,
        conv_dim=conv_dim,
        ssm_bytes=4 if arch.ssm_state_dtype == "float32" else 2,
        num_experts=e,
        experts_per_token=k,
        moe_intermediate=i_moe,
        ffn_width=ffn,
        routed=routed,
        body=body,
        embed=embed,
        lm_head=lm_head,
        vision=vision,
        mtp=mtp,
        mtp_layers=arch.mtp_layers,
        vis_depth=vis.depth,
        vis_hidden=vis.hidden_size,
        vis_intermediate=vis.intermediate_size,
        vis_patch=vis.patch_size,
        vis_temporal=vis.temporal_patch_size,
        vis_merge=vis.spatial_merge_size,
    )
