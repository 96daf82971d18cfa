"""Typed, frozen shapes of the catalog. Every entry carries `source` and `as_of`.

Unknown facts are `null` in YAML with a reason under `unknown: {field: reason}`; the
validator checks that every `None` number has such a reason, so nothing is silently invented.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import types
import unicodedata
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.k8s_names import extended_resource_error, label_key_error, label_value_error

Precision = Literal["bf16", "fp8", "int4", "nvfp4"]
KvDtype = Literal["bf16", "fp8"]
Engine = Literal["vllm", "sglang"]
Vendor = Literal["nvidia", "amd"]
TaskId = Literal["docs", "chat", "coding", "math", "agentic", "vision", "video"]
# Offer tiers: `secure` = the provider's own data centres under its enterprise terms; `community` =
# hosts run by third parties on the provider's platform; `marketplace` = a router/reseller that passes
# requests to hosts it does not run; `spot` = interruptible capacity.
Tier = Literal["secure", "community", "marketplace", "spot"]
TIERS: tuple[Tier, ...] = ("secure", "community", "marketplace", "spot")
# Where hardware is sold new: `global` = outside export-restricted markets; `cn` = mainland China.
Market = Literal["global", "cn"]
MARKETS: tuple[Market, ...] = ("global", "cn")

PRECISIONS: tuple[Precision, ...] = ("bf16", "fp8", "int4", "nvfp4")
TASKS: tuple[TaskId, ...] = ("docs", "chat", "coding", "math", "agentic", "vision", "video")
ENGINES: tuple[Engine, ...] = ("vllm", "sglang")


# Characters that break a line or hide text: a catalog string lands in shell comments, YAML, Markdown
# and report cells, so it must be one visible line (a newline in a GPU name became a command in launch.sh).
_HIDDEN = frozenset(("Cc", "Cf", "Zl", "Zp", "Co", "Cs"))
# Every catalog number (bytes of a checkpoint, dollars of a rack, a price per token) is within these,
# so no product or quotient downstream overflows to inf or underflows to 0: each field's own bounds
# say what it means, these say what arithmetic survives.
NUMBER_MIN, NUMBER_MAX = 1e-9, 1e15


def text_problem(text: str) -> str | None:
    """Why `text` is not one line of visible text, or None."""
    if text.isprintable():  # the common case, in C: no control, format or separator characters
        return None
    for ch in text:
        if unicodedata.category(ch) in _HIDDEN:
            return f"must be one line of text (contains {ch!a})"
    return None


def plain_value(annotation: Any, value: Any, *, magnitude: bool = True) -> Any:
    """Reject `true` where a number is meant (pydantic reads it as 1) and text that is not one line.

    `magnitude`: also keep numbers within NUMBER_MIN..NUMBER_MAX (for models without bounds of their own).
    """
    if isinstance(value, bool):
        if _is_number(annotation) and not _allows_bool(annotation):
            raise ValueError("must be a number, not true/false")
    elif isinstance(value, int | float) and magnitude:
        if value != 0 and math.isfinite(value) and not NUMBER_MIN <= abs(value) <= NUMBER_MAX:
            raise ValueError(f"out of range: 0, or a magnitude within {NUMBER_MIN:g}..{NUMBER_MAX:g}")
    elif isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str) and (problem := text_problem(item)):
                raise ValueError(problem)
        if isinstance(value, list) and _is_tuple(annotation):
            # JSON has arrays only; strict validation (a plan.json read back) takes no list for a tuple.
            return tuple(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            for item in (k, v):
                if isinstance(item, str) and (problem := text_problem(item)):
                    raise ValueError(problem)
    return value


def _is_tuple(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_tuple(a) for a in get_args(annotation))
    return annotation is tuple or get_origin(annotation) is tuple


def _allows_bool(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_allows_bool(a) for a in get_args(annotation))
    return annotation is bool


class Frozen(BaseModel):
    # allow_inf_nan=False: YAML spells infinity `.inf`, which passes `gt=0` and would surface as
    # "$inf" in a plan and `Infinity` (invalid JSON) in its output.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, value: Any, info: ValidationInfo) -> Any:
        return plain_value(_annotations(cls).get(info.field_name or ""), value)


@functools.cache
def _annotations(cls: type[BaseModel]) -> dict[str, Any]:
    # Cached: every field of every catalog entry asks, at every CLI start.
    return {name: f.annotation for name, f in cls.model_fields.items()}


class Sourced(Frozen):
    """Anything holding numbers: where they come from and when they were true."""

    source: str = Field(min_length=3, description="Where the numbers come from (URL, repo@commit, doc).")
    as_of: dt.date = Field(description="Date the source was read or published.")
    unknown: dict[str, str] = Field(
        default_factory=dict, description="Field name -> why the value is null (not found, not applicable)."
    )

    @model_validator(mode="after")
    def _nulls_are_explained(self) -> Sourced:
        # Only numbers: a null number is a missing fact; a null link (e.g. `stand_in_for`) is
        # simply "not applicable".
        for name, info in type(self).model_fields.items():
            if name == "unknown" or not _is_number(info.annotation):
                continue
            if getattr(self, name) is None and name not in self.unknown:
                raise ValueError(f"{name} is null: add `unknown: {{{name}: <reason>}}` to say why")
        for name in self.unknown:
            if name not in type(self).model_fields:
                accepted = ", ".join(type(self).model_fields)
                raise ValueError(f"unknown.{name}: no such field; accepted: {accepted}")
        return self


def _is_number(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_number(a) for a in get_args(annotation))
    return annotation in (int, float)


# ---------------------------------------------------------------- models


class VisionEncoder(Frozen):
    depth: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    patch_size: int = Field(gt=0)
    temporal_patch_size: int = Field(gt=0)
    spatial_merge_size: int = Field(gt=0)
    out_hidden_size: int = Field(gt=0)
    num_position_embeddings: int | None = Field(
        default=None, gt=0, description="Learned position table size; needed only to count vision params."
    )


class Architecture(Sourced):
    """Text-model geometry as in the Hugging Face config.json (`text_config`)."""

    num_layers: int = Field(gt=0)
    full_attention_interval: int = Field(gt=0, description="Every Nth layer is full attention (KV cache).")
    hidden_size: int = Field(gt=0)
    intermediate_size: int | None = Field(default=None, description="Dense FFN width; null for MoE.")
    num_attention_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    linear_num_key_heads: int = Field(gt=0)
    linear_num_value_heads: int = Field(gt=0)
    linear_key_head_dim: int = Field(gt=0)
    linear_value_head_dim: int = Field(gt=0)
    linear_conv_kernel_dim: int = Field(gt=0)
    num_experts: int | None = Field(default=None, description="Routed experts; null for dense.")
    experts_per_token: int | None = None
    shared_experts: int | None = None
    moe_intermediate_size: int | None = None
    shared_expert_intermediate_size: int | None = None
    vocab_size: int = Field(gt=0)
    tie_word_embeddings: bool
    native_context: int = Field(gt=0)
    extended_context: int = Field(gt=0)
    mtp_layers: int = Field(ge=0)
    ssm_state_dtype: Literal["float32", "bfloat16"]
    attn_output_gate: bool = Field(default=True, description="Gated attention: q_proj also emits a gate.")
    mtp_dedicated_embeddings: bool = Field(default=False, description="MTP layer has its own embeddings.")
    vision: VisionEncoder

    @property
    def layer_types(self) -> list[Literal["linear_attention", "full_attention"]]:
        """Per-layer kind, as config.json `layer_types` (every Nth layer is full attention)."""
        n = self.full_attention_interval
        return ["full_attention" if (i + 1) % n == 0 else "linear_attention" for i in range(self.num_layers)]

    @property
    def n_full_layers(self) -> int:
        return self.num_layers // self.full_attention_interval

    @property
    def n_linear_layers(self) -> int:
        return self.num_layers - self.n_full_layers

    @property
    def is_moe(self) -> bool:
        return self.num_experts is not None


class ParamCounts(Sourced):
    total: int = Field(gt=0, description="All parameters in the HF safetensors (text + vision + MTP).")
    text: int | None = Field(default=None, gt=0)
    vision: int | None = Field(default=None, gt=0)
    mtp: int | None = Field(default=None, gt=0)
    active: int | None = Field(default=None, gt=0, description="Per token, text model, incl. embeddings.")


class Checkpoint(Sourced):
    precision: Precision
    repo: str
    disk_bytes: int | None = Field(default=None, gt=0)
    disk_bytes_computed: bool = Field(
        default=False, description="True when disk_bytes is computed from params, not published."
    )
    official: bool = True


class BenchmarkScore(Sourced):
    benchmark: str
    score: float
    thinking: bool = True
    stand_in_for: str | None = Field(
        default=None, description="Set when the score is another model's, standing in (e.g. Flash)."
    )


class EngineSupport(Sourced):
    min_version: str | None = None
    flags: list[str] = Field(default_factory=list, description="Always-on flags (parsers).")
    tool_flags: list[str] = Field(default_factory=list)
    vendors: list[Literal["nvidia", "amd"]] = Field(
        default=["nvidia", "amd"], min_length=1, description="GPU vendors this engine can be deployed on.")
    mtp_tokens: int | None = Field(
        default=None, ge=1, le=8, description="Speculative tokens of the published MTP recipe; null = no recipe.")
    mtp_vendors: list[Literal["nvidia", "amd"]] = Field(
        default_factory=list, description="GPU vendors the MTP recipe is published for.")


class MinimumDeployment(Sourced):
    """A published minimum (e.g. a vLLM recipe): used to check the memory model."""

    precision: Precision
    gpu: str
    count: int = Field(gt=0)
    min_vram_gb: float | None = Field(default=None, gt=0, description="Published minimum total VRAM, GB.")


class ModelSpec(Sourced):
    id: str
    name: str
    hf_config: str | None = Field(default=None, description="Copy of config.json shipped with the catalog.")
    release_date: dt.date
    license: str | None = None
    open_weights: bool
    hosted_twin_of: str | None = Field(default=None, description="Open model this hosted model serves.")
    max_output_tokens: int | None = Field(default=None, gt=0)
    params: ParamCounts | None = None
    architecture: Architecture | None = None
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    benchmarks: list[BenchmarkScore] = Field(default_factory=list)
    engines: dict[Engine, EngineSupport] = Field(default_factory=dict)
    published_minimums: list[MinimumDeployment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _open_models_are_complete(self) -> ModelSpec:
        if self.open_weights and (self.architecture is None or self.params is None or not self.checkpoints):
            raise ValueError("open-weights models need params, architecture and checkpoints")
        return self


# ---------------------------------------------------------------- GPUs


def _checked(check: Any) -> AfterValidator:
    """A str validator from a `problem or None` function (see planner.k8s_names)."""

    def run(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(run)


ExtendedResource = Annotated[str, _checked(extended_resource_error)]
LabelKey = Annotated[str, _checked(label_key_error)]
LabelValue = Annotated[str, _checked(label_value_error)]


class Tflops(Frozen):
    """Dense tensor-core TFLOPS (no sparsity). null = not supported natively."""

    bf16: float = Field(gt=0)
    fp8: float | None = Field(default=None, gt=0)
    fp4: float | None = Field(default=None, gt=0)
    int8: float | None = Field(default=None, gt=0)


class GpuSpec(Sourced):
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list, description="Other spellings users and benchmarks use.")
    vendor: Vendor
    family: str = Field(description="Efficiency family: ampere, ada, hopper, blackwell, cdna3, cdna4.")
    memory_gb: float = Field(gt=0, description="Nameplate memory, GB.")
    memory_gib_usable: float = Field(gt=0, description="What the driver reports; size the KV cache from it.")
    bandwidth_tb_s: float = Field(gt=0)
    tflops: Tflops
    native_precisions: list[Precision]
    interconnect: Literal["nvlink", "pcie", "infinity-fabric"]
    interconnect_gb_s: float = Field(gt=0, description="Per GPU, bidirectional, GB/s.")
    gpus_per_node: int = Field(gt=0)
    nvlink_domain: int = Field(gt=0, description="GPUs reachable over the fast link (72 on NVL72).")
    tdp_w: float = Field(gt=0)
    year: int
    k8s_resource: ExtendedResource = Field(description="Extended resource name, e.g. nvidia.com/gpu.")
    node_label_key: LabelKey = Field(description="Node label the GPU is selected by, e.g. nvidia.com/gpu.product.")
    node_label_value: LabelValue
    markets: list[Market] = Field(
        default_factory=lambda: list(MARKETS[:1]), description="Markets where the GPU is sold new (export rules).")
    sold_new: bool = Field(default=True, description="False when the part is end-of-life: no new units are sold.")
    availability_note: str | None = Field(default=None, description="Why the markets or sold_new are restricted.")

    @field_validator("memory_gib_usable")
    @classmethod
    def _usable_within_nameplate(cls, usable: float, info: ValidationInfo) -> float:
        # Nameplate GB vs driver GiB: HBM stacks are GiB-sized (an 80 GB H100 reports 79.6 GiB) and
        # GDDR cards report less than their GB, so usable GiB above the GB figure is a typo.
        nameplate = info.data.get("memory_gb")
        if nameplate is not None and usable > nameplate:
            raise ValueError(
                f"exceeds the nameplate memory_gb ({nameplate:g}); give what the driver reports, "
                "at most the nameplate number"
            )
        return usable


# ---------------------------------------------------------------- offers


class CloudOffer(Sourced):
    id: str
    provider: str
    instance_type: str
    gpu: str
    gpus: int = Field(gt=0)
    region: str
    geo: str = Field(default="unspecified", description="Geography of the region (us, eu...): --regions matches it.")
    tier: Tier = "secure"
    usd_per_hour: float | None = Field(default=None, gt=0, description="Instance on-demand $/hour.")
    usd_per_hour_1y: float | None = Field(default=None, gt=0, description="Instance 1-year committed $/hour.")
    usd_per_hour_3y: float | None = Field(default=None, gt=0, description="Instance 3-year committed $/hour.")


class PurchaseOffer(Sourced):
    id: str
    gpu: str
    unit: Literal["gpu", "server", "rack"]
    gpus_per_unit: int = Field(gt=0)
    usd: float = Field(gt=0)
    includes_server: bool = Field(description="True when the price already covers the host server.")


class TcoAssumptions(Sourced):
    power_usd_per_kwh: float = Field(gt=0)
    pue: float = Field(ge=1.0)
    depreciation_years: float = Field(gt=0)
    utilization: float = Field(gt=0, le=1)
    server_power_factor: float = Field(ge=1.0, description="Server draw ÷ GPU TDP.")
    server_overhead_factor: float = Field(
        ge=1.0, description="Server price ÷ GPU price when only GPUs quoted."
    )
    network_fraction: float = Field(ge=0, lt=1, description="Cluster network share of total capex.")
    colo_usd_per_kw_month: float = Field(ge=0, description="Facility (colocation) $ per provisioned IT kW-month.")
    ops_usd_per_gpu_month: float | None = Field(default=0.0, ge=0, description="Staff $/GPU-month (null: none).")
    ops_fraction: float = Field(
        default=0.0, ge=0, le=5, description="Operations staff, support/maintenance, storage and licences, as a "
        "share of the monthly depreciation + power + facility figure.")
    cost_of_capital: float | None = Field(default=0.0, ge=0, le=1, description="Annual rate on capex (null: none).")


class ApiTier(Frozen):
    max_input_tokens: int | None = Field(
        default=None, gt=0, description="Upper bound of the tier; null = open."
    )
    usd_per_m_input: float = Field(gt=0)
    usd_per_m_output: float = Field(gt=0)


class ApiLatency(Sourced):
    """Published medians for one API host; the slowest is what targets are checked at, the fastest shows the spread."""

    ttft_s: float = Field(gt=0, description="Slowest published median time to first token, seconds.")
    ttft_s_best: float = Field(gt=0, description="Fastest published median TTFT, seconds.")
    output_tokens_per_s: float = Field(gt=0, description="Slowest published median output speed, tokens/s.")
    output_tokens_per_s_best: float = Field(gt=0, description="Fastest published median output speed.")


class ApiOffer(Sourced):
    id: str
    model: str
    provider: str
    tiers: list[ApiTier] = Field(min_length=1)
    usd_per_m_cached_input: float | None = Field(default=None, gt=0)
    max_context: int | None = Field(default=None, gt=0)
    tier: Tier = "secure"
    region: str = "unspecified"
    geo: str = "unspecified"
    latency: ApiLatency | None = Field(
        default=None, description="Published latency; null = none published, so the targets cannot be checked.")

    @model_validator(mode="after")
    def _tiers_ascend(self) -> ApiOffer:
        bounds = [t.max_input_tokens for t in self.tiers]
        closed = [b for b in bounds if b is not None]
        if None in bounds[:-1] or closed != sorted(set(closed)):
            raise ValueError("tiers must ascend by max_input_tokens, with at most one open (null) tier, last")
        return self


class Offers(Frozen):
    cloud: list[CloudOffer] = Field(default_factory=list)
    purchase: list[PurchaseOffer] = Field(default_factory=list)
    api: list[ApiOffer] = Field(default_factory=list)
    tco: TcoAssumptions | None = None


# ---------------------------------------------------------------- tasks


class BenchmarkWeight(Frozen):
    benchmark: str
    weight: float = Field(gt=0)


class RequestShape(Sourced):
    isl: int = Field(gt=0, description="Text input tokens per request.")
    osl: int = Field(gt=0, description="Output tokens per request.")
    images_per_request: float = Field(default=0, ge=0)
    image_pixels: int = Field(default=0, ge=0, description="Pixels per image/page after resize.")
    video_frames_per_request: float = Field(default=0, ge=0)
    video_frame_pixels: int = Field(default=0, ge=0)
    prefix_hit: float = Field(default=0, ge=0, le=1)


class LatencyTargets(Sourced):
    ttft_ms: float = Field(gt=0, description="p95 time to first token.")
    tpot_ms: float = Field(gt=0, description="p95 time per output token.")


ThinkingDefault = Literal["on", "off"]


class TaskThinking(Sourced):
    """Thinking mode of a task: its default, what thinking adds to the output, what turning it off costs."""

    default: ThinkingDefault
    thinking_tokens: int = Field(ge=0, description="Mean thinking tokens per request when thinking is on, "
                                 "included in the shape's osl (thinking off leaves osl minus these).")
    max_output_tokens: int = Field(gt=0, description="Output a thinking request may reach unbudgeted: "
                                   "max_model_len leaves room for it.")
    no_thinking_delta: float = Field(le=0, description="Quality points the task score changes by with "
                                     "thinking off (the benchmark scores are thinking-mode).")
    no_thinking_range: tuple[float, float] = Field(description="Plausible range of that change, points.")


class MtpAcceptance(Sourced):
    """How well the MTP head guesses this task's text (predictable code and math accept more than prose)."""

    per_token: float = Field(gt=0, lt=1, description="Probability each drafted token is accepted given the ones "
                             "before it were: accepted length 1 + a + a² + … per verify step.")


class TaskSpec(Frozen):
    id: TaskId
    description: str
    quality: list[BenchmarkWeight] = Field(min_length=1)
    quality_source: str
    as_of: dt.date | None = Field(default=None, description="When the quality weights were chosen.")
    shape: RequestShape
    targets: LatencyTargets
    thinking: TaskThinking | None = Field(default=None, description="None: the task ignores thinking mode.")
    mtp_acceptance: MtpAcceptance | None = Field(default=None, description="None: the engines' default "
                                                 "(planner/perf/engines.yaml).")


class PenaltyBand(Frozen):
    points: float = Field(ge=0)
    low: float = Field(ge=0, description="Smallest loss the evidence allows, points.")
    high: float = Field(ge=0, description="Largest loss the evidence allows, points.")


class PrecisionPenalty(Sourced):
    """Quality points lost by a quantised checkpoint relative to BF16."""

    precision: Precision
    points: float = Field(ge=0)
    band: tuple[float, float] | None = Field(default=None, description="Range of `points` the evidence allows.")
    by_task: dict[TaskId, PenaltyBand] = Field(
        default_factory=dict, description="Tasks whose loss differs (long generation: coding, math, agentic).")
    dense_by_task: dict[TaskId, PenaltyBand] = Field(
        default_factory=dict, description="Dense models, where it differs again (every weight is read per token).")
    kv_fp8: PenaltyBand | None = Field(default=None, description="Extra loss with an FP8 KV cache.")
    kv_fp8_by_task: dict[TaskId, PenaltyBand] = Field(default_factory=dict)
