"""What the user asks for: workload, targets, constraints. Validated once, then frozen."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from planner.catalog.schema import Engine, Precision, TaskId, Tier, plain_value
from planner.terms import HOURS_PER_DAY, Commit

Deploy = Literal["cloud", "onprem", "api", "any"]
MarketChoice = Literal["global", "cn", "any"]
DEFAULT_TIERS: tuple[Tier, ...] = ("secure",)  # enterprise-grade offers only, unless --tiers widens it



THINKING_BUDGET_MAX = 1_000_000
_BUDGET = re.compile(r"^budget[ =:]?(\d+)$|^(\d+)$")


def parse_thinking(text: str) -> str:
    """`on`, `off`, `budget N` (also `budget=N`, `budget:N` or just N) as one canonical spelling."""
    t = " ".join(str(text).lower().split())
    if t in ("on", "off"):
        return t
    m = _BUDGET.match(t)
    n = int(m.group(1) or m.group(2)) if m else 0
    if not 1 <= n <= THINKING_BUDGET_MAX:
        raise ValueError(f"{text!r} is not on, off or 'budget N' with N in 1..{THINKING_BUDGET_MAX:,}")
    return f"budget {n}"


class Request(BaseModel):
    """A sizing request. Unset shape and targets are filled from the task's defaults."""

    # No inf/nan, and bounds far beyond any real deployment, so arithmetic downstream stays finite.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    task: TaskId = Field(description="Workload kind; sets the quality score and default request shape.")
    budget: float | None = Field(default=None, gt=0, le=1e9, description="Monthly cash budget, USD: rent, API "
                                 "bills, or on-prem depreciation + running costs (running costs only when a "
                                 "--capex-budget pays for the hardware).")
    capex_budget: float | None = Field(default=None, gt=0, le=1e11, description="Up-front purchase budget, USD; "
                                       "allows buying hardware (on-prem) and caps its capex.")
    rps: float | None = Field(default=None, gt=0, le=1e6, description="Load: requests per second (Poisson arrivals).")
    peak_rps: float | None = Field(default=None, gt=0, le=1e6, description="Peak requests per second, with --rps "
                                   "(or --tokens-per-day) as the average: replicas are sized for the peak.")
    load_profile: tuple[float, ...] | None = Field(default=None, description="Load: 24 hourly request rates "
                                                   "(req/s, UTC hours 0-23): sized for the busiest hour, the "
                                                   "autoscaler follows the rest.")
    concurrency: int | None = Field(default=None, gt=0, le=10**7, description="Load: concurrent in-flight requests.")
    think_time_s: float | None = Field(default=None, ge=0, le=1e5, description="Closed loop: seconds each "
                                       "--concurrency user waits between a reply and its next request.")
    tokens_per_day: float | None = Field(default=None, gt=0, le=1e15, description="Load: output+input tokens per day.")
    isl: int | None = Field(default=None, gt=0, le=10_000_000, description="Input tokens per request (text).")
    osl: int | None = Field(default=None, gt=0, le=1_000_000, description="Output tokens per request.")
    ttft_ms: float | None = Field(default=None, gt=0, le=3.6e6, description="p95 time-to-first-token target, ms.")
    tpot_ms: float | None = Field(default=None, gt=0, le=1e5, description="p95 time-per-output-token target, ms.")
    min_quality: float | None = Field(default=None, ge=0, le=100, description="Minimum task quality score.")
    deploy: Deploy | None = Field(default=None, description="Where it may run (default: cloud and api; "
                                  "on-prem too with --capex-budget).")
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
    colo_usd_per_kw_month: float | None = Field(default=None, ge=0, le=10_000,
                                                description="On-prem facility/colocation $ per IT kW-month.")
    ops_fraction: float | None = Field(default=None, ge=0, le=5, description="On-prem staff, support, storage "
                                       "and licences as a share of depreciation + power + facility.")
    cost_of_capital: float | None = Field(default=None, ge=0, le=1, description="On-prem annual cost of capital "
                                          "on the capex (0.08 = 8%).")
    tiers: tuple[Tier, ...] | None = Field(default=None, description="Allowed offer tiers (default: secure).")
    regions: tuple[str, ...] | None = Field(default=None, description="Allowed cloud/API regions or geographies "
                                            "(us, eu, us-east-1...; default: all).")
    market: MarketChoice = Field(default="global", description="Where hardware is bought: GPUs sold new there "
                                 "(any = also export-restricted and end-of-life parts).")
    allow_stale: bool = Field(default=False, description="Also recommend prices older than 12 months.")
    quality_tolerance: float | None = Field(default=None, ge=0, le=100, description="Quality points within which "
                                            "options tie, so cost decides (default: benchmark noise).")
    thinking: str | None = Field(default=None, description="Thinking mode: on, off, or 'budget N' (thinking "
                                 "capped at N tokens); default per task. Sets quality, output tokens (unless --osl "
                                 "gives the total) and max model length.")
    confidence: float = Field(default=0.5, ge=0.5, le=0.95, description="Size on this quantile of measured "
                              "outcomes (cross-validated error bands): 0.9 = latency met in 9 of 10 comparable "
                              "measurements (default 0.5: the central prediction).")

    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, value: Any, info: ValidationInfo) -> Any:
        # `rps: true` is not 1 request per second; a field value is one line of text.
        return plain_value(cls.model_fields[info.field_name or ""].annotation, value, magnitude=False)

    @field_validator("load_profile")
    @classmethod
    def _day(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if len(value) != HOURS_PER_DAY:
            raise ValueError(f"expected {HOURS_PER_DAY} hourly request rates (req/s), got {len(value)}")
        if any(not 0 <= v <= 1e6 for v in value) or max(value) <= 0:
            raise ValueError("hourly request rates must lie in [0, 1e6] req/s with at least one above 0")
        return value

    @field_validator("thinking")
    @classmethod
    def _thinking(cls, value: str | None) -> str | None:
        return None if value is None else parse_thinking(value)

    @model_validator(mode="after")
    def _one_load(self) -> Request:
        given = [n for n in ("rps", "concurrency", "tokens_per_day", "load_profile") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give one load, not {' and '.join(given)}")
        return self

    @property
    def has_load(self) -> bool:
        return any(v is not None for v in (self.rps, self.concurrency, self.tokens_per_day, self.load_profile))
