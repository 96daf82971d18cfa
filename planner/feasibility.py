"""Whether a deployment can exist at all: the one rule set the solver, `estimate` and `render` call.

Kept apart from `perf` (how fast a deployment is, not whether an engine would start it) and from
the solver (which only enumerates what these rules allow). Shaped like vLLM's `ParallelConfig`
validation: every cross-field rule in one function, messages that name the offending values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from planner.catalog.schema import Engine, GpuSpec, ModelSpec

# The TP sizes the solver searches (engines accept any size the heads split over; these are the
# ones whole nodes and NVLink domains come in).
TP_SIZES = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class Problem:
    """What is wrong, and which field of the deployment (or flag of estimate) it is about."""

    field: str  # model | engine | precision | tp | ep | gpus_per_replica | nodes_per_replica
    message: str

    def at(self, prefix: str = "") -> str:
        """`deployment.tp: ...` for render, `tp: ...` for estimate."""
        return f"{prefix}{self.field}: {self.message}"


@dataclass(frozen=True)
class Verdict:
    problem: Problem | None
    caveats: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.problem is None


# A rule that refuses under strict checking and only cautions under hypothetical ones.
_Soft = Callable[[Problem, str], Problem | None]


@dataclass(frozen=True)
class Layout:
    """The parallel layout of one replica. `gpus`/`nodes` None: derived (tp × pp × dp, whole nodes)."""

    tp: int
    ep: int = 1
    pp: int = 1
    dp: int = 1
    gpus: int | None = None
    nodes: int | None = None


def check(
    model: ModelSpec, gpu: GpuSpec, precision: str, engine: Engine, layout: Layout, *, hypothetical: bool = False
) -> Verdict:
    """The first reason this configuration cannot be served, plus what makes it uncertain.

    `hypothetical` (estimate): a precision with no catalog checkpoint, a precision without native
    kernels on the GPU, or a TP group wider than the GPU's fast link are caveats, not refusals —
    the question is "how fast would it be", not "deploy it".
    """
    caveats: list[str] = []

    def soft(p: Problem, caveat: str) -> Problem | None:
        if hypothetical:
            caveats.append(caveat)
            return None
        return p

    problem = (
        _weights(model)
        or _engine(model, engine, gpu)
        or _checkpoint(model, precision, soft)
        or _native(gpu, precision, soft)
        or _heads(model, layout.tp)
        or _tp_span(gpu, layout.tp, soft)
        or _expert_parallel(model, engine, layout)
        or _gpu_counts(gpu, layout)
    )
    return Verdict(problem, tuple(caveats))


def tp_choices(model: ModelSpec, gpu: GpuSpec, precision: str, engine: Engine) -> list[int]:
    """The searched TP sizes at which this configuration can be served."""
    return [tp for tp in TP_SIZES if check(model, gpu, precision, engine, Layout(tp)).ok]


def context_problem(model: ModelSpec, tokens: float) -> str | None:
    """A request longer than the model's native context needs YaRN, which qwen-plan does not configure."""
    arch = model.architecture
    if arch is not None and tokens > arch.native_context:
        return (f"a request of {tokens:,.0f} tokens exceeds {model.id}'s native {arch.native_context:,}-token "
                f"context (YaRN extension to {arch.extended_context:,} is not configured by qwen-plan)")
    return None


def _weights(model: ModelSpec) -> Problem | None:
    if model.architecture is None or not model.open_weights:
        twin = f"; its open twin is {model.hosted_twin_of}" if model.hosted_twin_of else ""
        return Problem("model", f"{model.id} is hosted only, there are no weights to deploy{twin}")
    return None


def _engine(model: ModelSpec, engine: Engine, gpu: GpuSpec) -> Problem | None:
    support = model.engines.get(engine)
    if support is None:
        return Problem("engine", f"{model.id} lists no {engine} support; accepted: {', '.join(sorted(model.engines))}")
    if gpu.vendor not in support.vendors:
        return Problem("engine", f"{engine} is not deployable on {gpu.vendor} GPUs for {model.id} "
                                 f"(accepted vendors: {', '.join(support.vendors)}; see the catalog's source)")
    return None


def _checkpoint(model: ModelSpec, precision: str, soft: _Soft) -> Problem | None:
    have = sorted(c.precision for c in model.checkpoints)
    if precision in have:
        return None
    return soft(Problem("precision", f"{model.id} has no {precision} checkpoint; accepted: {', '.join(have)}"),
                f"no {precision} checkpoint of {model.id} in the catalog: estimated from its geometry")


def _native(gpu: GpuSpec, precision: str, soft: _Soft) -> Problem | None:
    if precision in gpu.native_precisions:
        return None
    return soft(Problem("precision", f"{precision} does not run natively on {gpu.id}; "
                                     f"accepted: {', '.join(gpu.native_precisions)}"),
                f"{precision} is not served natively on {gpu.id}: weight-only kernels assumed")


def _heads(model: ModelSpec, tp: int) -> Problem | None:
    """Engines shard attention and Gated DeltaNet key heads evenly over TP; anything else will not load."""
    arch = model.architecture
    assert arch is not None
    if tp < 1:
        return Problem("tp", f"tp={tp} must be at least 1")
    for heads, what in ((arch.num_attention_heads, "attention heads"), (arch.linear_num_key_heads, "GDN key heads")):
        if heads % tp:
            return Problem("tp", f"tp={tp}: {model.id} has {heads} {what}, which do not split over {tp} GPUs")
    return None


def _tp_span(gpu: GpuSpec, tp: int, soft: _Soft) -> Problem | None:
    """A TP group stays inside one node (PCIe or NVLink alike) unless the NVLink domain spans nodes (NVL72)."""
    limit = max(gpu.gpus_per_node, gpu.nvlink_domain)
    if tp <= limit:
        return None
    return soft(Problem("tp", f"tp={tp}: a {gpu.id} tensor-parallel group spans at most {limit} GPUs"),
                f"TP {tp} spans nodes: all-reduce modelled at the {gpu.interconnect} rate, optimistic")


def _expert_parallel(model: ModelSpec, engine: Engine, layout: Layout) -> Problem | None:
    ep, ranks = layout.ep, layout.tp * layout.dp
    if ep == 1:
        return None
    arch = model.architecture
    assert arch is not None
    if not arch.is_moe:
        return Problem("ep", f"ep={ep}: {model.id} is dense; expert parallelism needs an MoE model (ep=1)")
    if engine == "vllm" and ep != ranks:
        # vLLM's expert-parallel group is always TP×DP; any other size cannot be expressed.
        return Problem("ep", f"vLLM needs ep = tp×dp = {ranks} or 1, got {ep}")
    if ep > ranks or ranks % ep:
        return Problem("ep", f"ep={ep} must divide tp×dp = {ranks}")
    return None


def _gpu_counts(gpu: GpuSpec, layout: Layout) -> Problem | None:
    product = layout.tp * layout.pp * layout.dp
    gpus = product if layout.gpus is None else layout.gpus
    if gpus != product:
        return Problem("gpus_per_replica",
                       f"{gpus} != tp×pp×dp = {layout.tp}×{layout.pp}×{layout.dp}")
    nodes = layout.nodes if layout.nodes is not None else -(-gpus // gpu.gpus_per_node)
    if nodes < 1 or gpus % nodes:
        return Problem("nodes_per_replica", f"{gpus} GPUs do not split evenly over {nodes} nodes")
    if gpus // nodes > gpu.gpus_per_node:
        return Problem("nodes_per_replica",
                       f"{gpus // nodes} GPUs per node exceeds {gpu.id}'s {gpu.gpus_per_node}")
    return None


def mtp_choices(model: ModelSpec, engine: Engine, gpu: GpuSpec) -> tuple[int, ...]:
    """MTP settings worth searching where the engine's recipe is published for this vendor: off, one draft
    token, or the recipe's. Long drafts win at small, memory-bound batches; one draft at larger ones, where
    each drafted token costs verify compute and is accepted less often than the one before it. (Draft lengths
    between the two are not searched: each one costs the search a third more candidates.)"""
    support = model.engines.get(engine)
    if support is None or support.mtp_tokens is None or gpu.vendor not in support.mtp_vendors:
        return (0,)
    return tuple(sorted({0, 1, support.mtp_tokens}))
