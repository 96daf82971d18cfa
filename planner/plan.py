"""The Plan: the one serialisable object every output (render, report, CLI) reads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.catalog.schema import Engine, KvDtype, Precision
from planner.request import Request

DeployKind = Literal["cloud", "onprem", "api"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deployment(_Frozen):
    """Engine-neutral description of one self-hosted deployment; render maps it to flags."""

    model: str
    checkpoint: str = Field(description="Hugging Face repo id of the weights.")
    precision: Precision
    kv_dtype: KvDtype
    engine: Engine
    gpu: str
    tp: int = Field(ge=1)
    ep: int = Field(ge=1, description="Expert-parallel size (1 = experts split by TP).")
    pp: int = Field(default=1, ge=1)
    dp: int = Field(default=1, ge=1, description="Data-parallel ranks inside one replica.")
    gpus_per_replica: int = Field(ge=1)
    nodes_per_replica: int = Field(ge=1)
    replicas: int = Field(ge=1)
    max_model_len: int = Field(gt=0)
    max_num_seqs: int = Field(gt=0)
    max_num_batched_tokens: int = Field(gt=0)
    mtp_tokens: int = Field(ge=0, description="MTP speculative tokens; 0 = off.")
    gpu_memory_utilization: float = Field(gt=0, le=1)
    language_model_only: bool = Field(description="Skip the vision encoder (text-only tasks).")


class Option(_Frozen):
    """One costed, performance-checked way to serve the request."""

    model: str
    precision: Precision | None
    gpu: str | None
    tp: int
    ep: int
    replicas: int
    total_gpus: int
    engine: Engine | None
    mtp_tokens: int
    deploy: DeployKind
    provider: str | None
    instance: str | None
    instances: int = Field(description="Cloud instances, on-prem servers, or 0 for API.")
    monthly_cost_usd: float
    capex_usd: float = Field(default=0.0, description="Up-front purchase (on-prem), 0 for cloud and API.")
    usd_per_million_tokens: float
    ttft_ms: float | None = Field(description="p95 TTFT, ms; None for a hosted API (not modelled).")
    tpot_ms: float | None = Field(description="p95 TPOT, ms; None for a hosted API (not modelled).")
    capacity_rps: float
    capacity_tokens_per_day: float
    batch_per_replica: int
    quality: float
    stale_price: bool = False
    price_as_of: str | None = None


class Rejection(_Frozen):
    family: str = Field(description="model/precision/gpu/engine family that was ruled out.")
    constraint: Literal[
        "memory", "ttft", "tpot", "quality", "budget", "load", "precision", "availability", "context"
    ]
    detail: str
    shortfall: float | None = Field(default=None, description="How far off, in the constraint's unit.")


class Plan(_Frozen):
    version: str
    request: Request
    resolved: dict[str, float | int | str | None] = Field(
        description="Request after task defaults: isl, osl, ttft_ms, tpot_ms, load."
    )
    recommended: Option
    deployment: Deployment | None = Field(description="None when the recommendation is a hosted API.")
    alternatives: list[Option]
    rejected: list[Rejection]
    queueing_model: str
    candidates_evaluated: int
    stale_prices: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
