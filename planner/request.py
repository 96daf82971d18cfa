"""What the user asks for: workload, targets, constraints. Validated once, then frozen."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from planner.catalog.schema import Engine, Precision, TaskId
from planner.terms import Commit

Deploy = Literal["cloud", "onprem", "api", "any"]



class Request(BaseModel):
    """A sizing request. Unset shape and targets are filled from the task's defaults."""

    # No inf/nan, and bounds far beyond any real deployment, so arithmetic downstream stays finite.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    task: TaskId = Field(description="Workload kind; sets the quality score and default request shape.")
    budget: float | None = Field(default=None, gt=0, le=1e9, description="Monthly budget, USD.")
    rps: float | None = Field(default=None, gt=0, le=1e6, description="Load: requests per second (Poisson arrivals).")
    concurrency: int | None = Field(default=None, gt=0, le=10**7, description="Load: concurrent in-flight requests.")
    tokens_per_day: float | None = Field(default=None, gt=0, le=1e15, description="Load: output+input tokens per day.")
    isl: int | None = Field(default=None, gt=0, le=10_000_000, description="Input tokens per request (text).")
    osl: int | None = Field(default=None, gt=0, le=1_000_000, description="Output tokens per request.")
    ttft_ms: float | None = Field(default=None, gt=0, le=3.6e6, description="p95 time-to-first-token target, ms.")
    tpot_ms: float | None = Field(default=None, gt=0, le=1e5, description="p95 time-per-output-token target, ms.")
    min_quality: float | None = Field(default=None, ge=0, le=100, description="Minimum task quality score.")
    deploy: Deploy = Field(default="any", description="Where it may run.")
    gpus: tuple[str, ...] | None = Field(default=None, description="Allowed GPU ids (default: all).")
    providers: tuple[str, ...] | None = Field(default=None, description="Allowed cloud providers/API hosts.")
    precisions: tuple[Precision, ...] | None = Field(default=None, description="Allowed weight precisions.")
    models: tuple[str, ...] | None = Field(default=None, description="Allowed model ids.")
    engine: Engine | None = Field(default=None, description="Serving engine (default: vllm or sglang).")
    commit: Commit = Field(default="none", description="Cloud price basis: on-demand, 1y or 3y commitment.")
    years: float | None = Field(default=None, gt=0, le=30, description="On-prem depreciation years.")
    power_price: float | None = Field(default=None, gt=0, le=10, description="On-prem power $/kWh.")
    pue: float | None = Field(default=None, ge=1, le=5, description="On-prem PUE.")
    utilization: float | None = Field(default=None, gt=0, le=1, description="On-prem average utilisation.")

    @model_validator(mode="after")
    def _one_load(self) -> Request:
        given = [n for n in ("rps", "concurrency", "tokens_per_day") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give one load, not {' and '.join(given)}")
        return self

    @property
    def has_load(self) -> bool:
        return any(v is not None for v in (self.rps, self.concurrency, self.tokens_per_day))
