"""Which deployments can exist at all: the rules the solver searches within and `estimate` enforces.

Kept apart from `perf` (which answers how fast a deployment is, not whether an engine would run it)
and from the solver (which only enumerates what these rules allow).
"""

from __future__ import annotations

from planner.catalog.schema import GpuSpec, ModelSpec

TP_SIZES = (1, 2, 4, 8, 16)


def tp_allowed(model: ModelSpec, gpu: GpuSpec, tp: int) -> str | None:
    """Why `tp` cannot work for this model on this GPU, or None.

    Attention heads and Gated DeltaNet key heads must split evenly; a TP group stays inside one node
    (PCIe or NVLink alike) unless the GPU's NVLink domain spans nodes (GB200 NVL72 trays).
    """
    arch = model.architecture
    if arch is None:
        return f"{model.id} has no open weights to deploy"
    if tp not in TP_SIZES:
        return f"--tp {tp}: accepted: {', '.join(map(str, TP_SIZES))}"
    split = heads_problem(model, tp)
    if split:
        return split
    limit = max(gpu.gpus_per_node, gpu.nvlink_domain)
    if tp > limit:
        return f"--tp {tp}: a {gpu.id} tensor-parallel group spans at most {limit} GPUs"
    return None


def heads_problem(model: ModelSpec, tp: int) -> str | None:
    """Engines shard attention and Gated DeltaNet heads evenly over TP; anything else will not load."""
    arch = model.architecture
    if arch is None:
        return f"{model.id} has no open weights to deploy"
    for heads, what in ((arch.num_attention_heads, "attention heads"), (arch.linear_num_key_heads, "GDN key heads")):
        if tp < 1 or heads % tp:
            return f"--tp {tp}: {model.id} has {heads} {what}, which do not split over {tp} GPUs"
    return None


def estimate_caveats(model: ModelSpec, gpu: GpuSpec, precision: str, tp: int) -> list[str]:
    """What makes an `estimate` hypothetical rather than impossible: said, not refused."""
    notes = []
    if precision not in {c.precision for c in model.checkpoints}:
        notes.append(f"no {precision} checkpoint of {model.id} in the catalog: estimated from its geometry")
    if precision not in gpu.native_precisions:
        notes.append(f"{precision} is not served natively on {gpu.id}: weight-only kernels assumed")
    if tp > max(gpu.gpus_per_node, gpu.nvlink_domain):
        notes.append(f"TP {tp} spans nodes: all-reduce modelled at the {gpu.interconnect} rate, optimistic")
    return notes


def tp_choices(model: ModelSpec, gpu: GpuSpec) -> list[int]:
    return [tp for tp in TP_SIZES if tp_allowed(model, gpu, tp) is None]


def config_problem(model: ModelSpec, gpu: GpuSpec, precision: str, tp: int, ep: int) -> str | None:
    """The first reason this (model, GPU, precision, TP, EP) cannot be served, or None."""
    if not model.open_weights:
        return f"--model {model.id}: hosted only, no weights to deploy"
    if precision not in {c.precision for c in model.checkpoints}:
        have = ", ".join(sorted(c.precision for c in model.checkpoints))
        return f"--precision {precision}: {model.id} has no such checkpoint; accepted: {have}"
    if precision not in gpu.native_precisions:
        return f"--precision {precision}: not supported on {gpu.id}; accepted: {', '.join(gpu.native_precisions)}"
    problem = tp_allowed(model, gpu, tp)
    if problem:
        return problem
    arch = model.architecture
    assert arch is not None
    if ep != 1 and (not arch.is_moe or ep != tp):
        return f"--ep {ep}: expert parallelism spans the TP group (--ep {tp}) and needs an MoE model, or --ep 1"
    return None


def context_problem(model: ModelSpec, tokens: int) -> str | None:
    """A request longer than the model's native context needs YaRN, which qwen-plan does not configure."""
    arch = model.architecture
    if arch is not None and tokens > arch.native_context:
        return (f"a request of {tokens:,} tokens exceeds {model.id}'s native {arch.native_context:,}-token "
                f"context (YaRN extension to {arch.extended_context:,} is not configured by qwen-plan)")
    return None
