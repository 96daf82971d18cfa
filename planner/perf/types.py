"""Inputs and outputs of the performance model: plain frozen dataclasses (cheap to build in the solver)."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.catalog.schema import Engine, GpuSpec, KvDtype, ModelSpec, Precision


@dataclass(frozen=True, eq=False)
class Config:
    """One replica: a model on `tp` GPUs (experts spread over `ep` of them) served by one engine.

    Compared by identity (`eq=False`): the catalog objects inside are not hashable and the solver
    builds each candidate once; per-Config constants are cached on a key of ids and scalars.
    """

    model: ModelSpec
    gpu: GpuSpec
    precision: Precision
    tp: int
    ep: int = 1
    kv_dtype: KvDtype = "bf16"
    engine: Engine = "vllm"
    mtp: int = 0
    """Speculative (MTP) draft tokens per step; 0 = off."""
    mtp_acceptance: float | None = None
    """Probability that each drafted token is accepted; None -> published default (efficiency.yaml)."""
    language_model_only: bool = False
    """Text-only deployment (`--language-model-only`): the vision encoder's weights are not loaded."""
    engine_version: str | None = None
    """Engine release whose defaults apply (engines.yaml `by_version`); None: the pinned release plans deploy.
    Set by the calibration rows, which were measured on older releases."""
    engine_args: tuple[tuple[str, float], ...] = ()
    """Launch settings that replace the engine's defaults, as (`EngineConsts` field, value) pairs: what a
    measured deployment set (`--mem-fraction-static 0.8` -> ("gpu_memory_utilization", 0.8))."""


@dataclass(frozen=True)
class Shape:
    """One request: text prompt and output lengths plus visual inputs."""

    isl: int
    osl: int
    prefix_hit: float = 0.0
    images: float = 0.0
    image_pixels: int = 0
    video_frames: float = 0.0
    frame_pixels: int = 0
    cohort: bool = False
    """Requests arrive in lock-step cohorts rather than staggered: a closed-loop benchmark whose clients all
    start at once with identical lengths and a fixed number of decode steps (no speculative decoding).
    Such a cohort is prefilled back to back and finishes in the same step, so it stays in lock-step
    (see planner.perf.api). Plans describe production traffic and leave it False."""


@dataclass(frozen=True)
class MemoryReport:
    """Per-GPU memory in GB (1e9 bytes)."""

    fits: bool
    budget_gb: float
    """What the engine may use: usable memory × gpu_memory_utilization."""
    weights_gb: float
    reserve_gb: float
    """CUDA graphs, NCCL/cuBLAS workspace and peak activations of one prefill chunk."""
    kv_pool_gb: float
    """Left for KV cache and recurrent state (negative when the weights do not fit)."""
    kv_per_seq_gb: float
    state_per_seq_gb: float
    max_concurrency: int
    """Sequences of the shape's length that fit, capped by the engine's max running requests."""
    shortfall_gb: float
    """How much memory per GPU is missing for one sequence (0 when it fits)."""


@dataclass(frozen=True)
class Estimate:
    fits: bool
    batch: int
    effective_batch: int
    memory_per_gpu_gb: float
    max_concurrency: int
    ttft_ms: float
    tpot_ms: float
    output_tokens_per_s: float
    output_tokens_per_s_per_gpu: float
    breakdown: dict[str, float] = field(default_factory=dict)
