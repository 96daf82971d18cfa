"""The Plan: the whole answer, typed. Every output (render, report, CLI) reads it and the Catalog only.

If a reader needs a number (the load rate, a cost line, a break-even, a sensitivity point, a load
curve), the solver or the cost layer computed it once and it is a field here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.catalog.schema import Engine, KvDtype, Precision, TaskId
from planner.cost import ApiBreakeven, ApiLine, BuyVsRent, CloudLine, CostLine, LoadCurves, OnpremLine, TcoInputs
from planner.request import Request
from planner.terms import SECONDS_PER_DAY, Commit

DeployKind = Literal["cloud", "onprem", "api"]
Constraint = Literal["memory", "ttft", "tpot", "quality", "budget", "capex", "load", "precision", "engine",
                     "availability", "context", "tier", "region", "market", "stale", "latency"]
LoadKind = Literal["arrival_rate", "concurrency", "none"]
PricedBasis = Literal["arrival rate", "concurrency (Little's law)", "concurrency at the published API latency",
                      "capacity", "budget"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)


class Workload(_Frozen):
    """The request resolved against its task's defaults: what every option is sized and priced for."""

    task: TaskId
    isl: int = Field(description="Text input tokens per request.")
    osl: int = Field(description="Output tokens per request.")
    prefix_hit: float = Field(description="Share of the text prompt the prefix cache serves.")
    images_per_request: float
    image_pixels: int
    video_frames_per_request: float
    frame_pixels: int
    visual_tokens: float = Field(description="Prompt tokens the images and frames add per request.")
    ttft_ms: float = Field(description="p95 TTFT target, ms.")
    tpot_ms: float = Field(description="p95 TPOT target, ms.")
    load: LoadKind
    arrival_rps: float | None = Field(description="Open-loop load (rps, or tokens per day ÷ tokens per request).")
    concurrency: int | None = Field(description="Closed-loop load: users each with one request in flight.")
    peak_rps: float | None = Field(default=None, description="Open-loop peak the replicas are sized for; "
                                   "arrival_rps is then the average, what tokens are billed at.")
    think_time_s: float = Field(default=0.0, description="Closed loop: each user's pause between requests, s.")
    thinking: str = Field(default="on", description="Thinking mode: on, off or 'budget N'.")
    thinking_tokens: int = Field(default=0, description="Thinking tokens included in osl (mean per request).")
    max_output_tokens: int = Field(default=0, description="Longest output a request may reach (answer + "
                                   "thinking room); 0: osl.")
    load_profile: tuple[float, ...] | None = Field(default=None, description="24 hourly request rates (UTC): "
                                                   "arrival_rps is their mean, peak_rps their maximum.")

    @property
    def input_tokens(self) -> float:
        """Prompt tokens per request, text and visual."""
        return self.isl + self.visual_tokens

    @property
    def tokens_per_request(self) -> float:
        """Input (text + visual) and output tokens of one request: what tokens per day count."""
        return self.input_tokens + self.osl

    @property
    def text_only(self) -> bool:
        return self.images_per_request == 0 and self.video_frames_per_request == 0

    @property
    def has_load(self) -> bool:
        return self.load != "none"

    def tokens_per_day(self, rps: float) -> float:
        return rps * SECONDS_PER_DAY * self.tokens_per_request

    def rps_for_tokens_per_day(self, tokens_per_day: float) -> float:
        return tokens_per_day / SECONDS_PER_DAY / self.tokens_per_request


class Deployment(_Frozen):
    """Engine-neutral description of one self-hosted deployment; render maps it to flags."""

    model: str
    checkpoint: str = Field(description="Hugging Face repo id of the weights.")
    precision: Precision
    kv_dtype: KvDtype
    engine: Engine
    gpu: str
    tp: int = Field(ge=1, le=1024)
    ep: int = Field(ge=1, le=1024, description="Expert-parallel size (1 = experts split by TP).")
    pp: int = Field(default=1, ge=1, le=64)
    dp: int = Field(default=1, ge=1, le=1024, description="Data-parallel ranks inside one replica.")
    gpus_per_replica: int = Field(ge=1, le=4096)
    nodes_per_replica: int = Field(ge=1, le=512)
    replicas: int = Field(ge=1, le=4096)
    max_model_len: int = Field(gt=0, le=10_000_000)
    max_num_seqs: int = Field(gt=0, le=1_000_000)
    max_num_batched_tokens: int = Field(gt=0, le=10_000_000)
    mtp_tokens: int = Field(ge=0, le=16, description="MTP speculative tokens; 0 = off.")
    gpu_memory_utilization: float = Field(gt=0, le=1)
    language_model_only: bool = Field(description="Skip the vision encoder (text-only tasks).")
    replicas_by_hour: tuple[int, ...] | None = Field(default=None, description="Replicas running each UTC hour "
                                                     "under a load profile (the autoscaler's schedule; `replicas` "
                                                     "is the peak). None: `replicas` all day.")

    @property
    def min_replicas(self) -> int:
        return min(self.replicas_by_hour) if self.replicas_by_hour else self.replicas

    @property
    def replica_range(self) -> str:
        """`3`, or `1–9` when the replicas follow an hourly load profile."""
        return f"{self.min_replicas}–{self.replicas}" if self.min_replicas < self.replicas else str(self.replicas)

    @property
    def total_gpus(self) -> int:
        return self.gpus_per_replica * self.replicas


class _Option(_Frozen):
    model: str
    quality: float
    quality_range: tuple[float, float] | None = Field(
        default=None, description="Task quality with the quantisation and thinking-mode terms at the ends of "
        "their evidence (catalogs/tasks).")
    monthly_cost_usd: float = Field(description="All-in monthly figure (on-prem: depreciation + cost of capital + "
                                    "opex), what options are compared on.")
    capex_usd: float = Field(default=0.0, description="Up-front purchase (on-prem), 0 for cloud and API.")
    monthly_opex_usd: float | None = Field(
        default=None, description="Monthly running cost: rent, API bill, or on-prem energy + facility + staff and "
        "support (no depreciation or cost of capital).")
    usd_per_million_tokens: float = Field(description="Monthly cost per million output tokens at the priced rate.")
    capacity_rps: float = Field(description="Capacity: the requests per second the option sustains at the SLO "
                                "(an API's own capacity is its rate limit, unpublished: its load is shown).")
    capacity_tokens_per_day: float
    priced_rps: float = Field(description="Load: the requests per second the cost lines bill for.")
    priced_basis: PricedBasis
    usd_per_quality_point: float | None = Field(
        default=None, description="Extra $/month per quality point over the cheapest shown option; None for that "
        "option, and for options no better or no dearer than it.")
    chosen: CostLine = Field(description="The way of paying the solver picked (narrowed per option kind).")
    costs: list[CostLine] = Field(
        default_factory=list, description="Every way of paying for this option, the chosen one included.")

    @property
    def stale_price(self) -> bool:
        return self.chosen.stale

    @property
    def price_as_of(self) -> str:
        return self.chosen.as_of.isoformat()


class PerfBands(_Frozen):
    """p10–p90 of what a replica like this measured where the model predicted the option's numbers: the
    cross-validated error of its regime (planner/perf/bands.yaml), widened outside the measured range."""

    ttft_ms: tuple[float, float] = Field(description="p95 TTFT at the sized load, p10..p90, ms.")
    tpot_ms: tuple[float, float]
    output_tokens_per_s: tuple[float, float] = Field(description="Per replica at the sized batch.")
    regime: str = Field(description="Concurrency class whose held-out residuals set the band.")
    outside_measured_range: list[str] = Field(default_factory=list,
                                              description="Why the band was widened (empty inside the range).")


class SelfHosted(_Option):
    """Weights served on GPUs the user rents (cloud) or buys (on-prem)."""

    deploy: Literal["cloud", "onprem"]
    deployment: Deployment
    chosen: CloudLine | OnpremLine
    ttft_ms: float = Field(description="p95 TTFT at the sized load, ms.")
    tpot_ms: float = Field(description="p95 TPOT at a full batch, ms.")
    bands: PerfBands | None = Field(default=None, description="Error bands of the predicted latency/throughput.")
    batch_per_replica: int
    gpus_paid: int = Field(default=0, description="GPUs in the whole instances or servers paid for.")
    spare_gpus: int = Field(default=0, description="GPUs paid for that no replica uses (spare capacity).")
    buy_vs_rent: BuyVsRent | None = None
    api_breakeven: ApiBreakeven | None = None

    @property
    def provider(self) -> str | None:
        return self.chosen.provider if isinstance(self.chosen, CloudLine) else None

    @property
    def instance(self) -> str | None:
        return self.chosen.instance_type if isinstance(self.chosen, CloudLine) else None

    @property
    def instances(self) -> int:
        return self.chosen.instances

    @property
    def precision(self) -> Precision:
        return self.deployment.precision

    @property
    def gpu(self) -> str:
        return self.deployment.gpu

    @property
    def tp(self) -> int:
        return self.deployment.tp

    @property
    def ep(self) -> int:
        return self.deployment.ep

    @property
    def replicas(self) -> int:
        return self.deployment.replicas

    @property
    def engine(self) -> Engine:
        return self.deployment.engine

    @property
    def mtp_tokens(self) -> int:
        return self.deployment.mtp_tokens

    @property
    def total_gpus(self) -> int:
        return self.deployment.total_gpus

    @property
    def label(self) -> str:
        d = self.deployment
        ep = f", EP{d.ep}" if d.ep > 1 else ""
        mtp = f", MTP{d.mtp_tokens}" if d.mtp_tokens else ""
        layout = f"TP{d.tp}{ep}{mtp} × {d.replica_range} replicas, {d.engine}"
        return f"{d.model} {d.precision} on {d.total_gpus}× {d.gpu} ({layout})"

    @property
    def where(self) -> str:
        if isinstance(self.chosen, CloudLine):
            return f"{self.chosen.provider} {self.chosen.instance_type} ×{self.chosen.instances}"
        return f"on-prem, {self.chosen.servers} server(s)"


class Api(_Option):
    """A hosted API billed per token; its latency is the slowest published median (checked against the targets)."""

    deploy: Literal["api"]
    chosen: ApiLine
    ttft_ms: float = Field(description="Published median TTFT (the slowest measurement), ms.")
    tpot_ms: float = Field(description="1000 ÷ the slowest published output tokens/s, ms.")

    @property
    def provider(self) -> str:
        return self.chosen.provider

    @property
    def label(self) -> str:
        return f"{self.model} via {self.chosen.provider} API"

    @property
    def where(self) -> str:
        return f"API ({self.chosen.provider})"


Option = Annotated[SelfHosted | Api, Field(discriminator="deploy")]


class Rejection(_Frozen):
    """A family of options (or one offer) ruled out, and the constraint that ruled it out."""

    model: str | None = Field(default=None, description="None for an offer excluded for every model.")
    offer: str | None = Field(default=None, description="The catalog offer excluded (tier, region, market, stale).")
    precision: Precision | None = None
    gpu: str | None = None
    engine: Engine | None = None
    deploy: DeployKind | None = None
    provider: str | None = None
    constraint: Constraint
    detail: str
    shortfall: float | None = Field(default=None, description="How far off, in the constraint's unit.")

    @property
    def family(self) -> str:
        if self.offer is not None:
            return f"offer {self.offer} ({', '.join(x for x in (self.deploy, self.provider, self.gpu) if x)})"
        if self.deploy == "api":
            return f"{self.model} (api, {self.provider})"
        what = " ".join(x for x in (self.model, self.precision, f"on {self.gpu}" if self.gpu else None) if x)
        where = ", ".join(x for x in (self.engine, self.deploy, self.provider) if x)
        return f"{what} ({where})" if where else what


class SensitivityPoint(_Frozen):
    """The solver's choice at a multiple of the request's load."""

    multiplier: float
    summary: str
    monthly_usd: float | None
    feasible: bool


class Plan(_Frozen):
    version: str
    request: Request
    workload: Workload
    commit: Commit
    tco: TcoInputs = Field(description="On-prem assumptions with the request's overrides applied.")
    as_of: dt.date = Field(description="The day prices were judged for staleness.")
    recommended: Option
    alternatives: list[Option]
    rejected: list[Rejection]
    queueing_model: str
    candidates_evaluated: int
    stale_prices: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    sensitivity: list[SensitivityPoint] = Field(
        default_factory=list, description="Re-plans at other loads (written with reports; empty otherwise).")
    load_curves: LoadCurves | None = Field(
        default=None, description="Cost against load for the first self-hosted option (written with reports).")

    @property
    def options(self) -> list[SelfHosted | Api]:
        """Recommended first, then the alternatives: index 0 is the ★ row of every table."""
        return [self.recommended, *self.alternatives]

    @property
    def deployment(self) -> Deployment | None:
        """The recommended deployment; None when the recommendation is a hosted API."""
        return self.recommended.deployment if isinstance(self.recommended, SelfHosted) else None
