"""The fleet plan, typed: what `qwen-plan fleet` prints and writes as the fleet's plan.json."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.plan import Option


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Served(_Frozen):
    """One workload: its targets, the deployment that serves it and why."""

    name: str
    task: str
    average_rps: float = Field(description="What tokens are billed at.")
    sizing_rps: float = Field(description="What replicas are sized for: the peak (the load profile's busiest "
                              "hour) or the average.")
    load_profile: list[float] | None = None
    ttft_target_ms: float
    tpot_target_ms: float
    min_quality: float | None
    deployment: str
    shared_with: list[str]
    ttft_ms: float = Field(description="p95 TTFT this workload sees on its deployment (the mix bound when shared).")
    tpot_ms: float
    ttft_band_ms: tuple[float, float] | None = Field(
        default=None, description="p10..p90 of ttft_ms: its deployment's error band (planner.plan.PerfBands) "
                                  "scaled to this workload's prediction; None on a hosted API (published medians).")
    tpot_band_ms: tuple[float, float] | None = Field(default=None, description="p10..p90 of tpot_ms, the same way.")
    quality: float
    share_monthly_usd: float = Field(description="Its deployment's monthly cost split by the members' peak load.")
    alone_monthly_usd: float | None = Field(description="What `qwen-plan plan` recommends for it alone, $/month.")
    alone: str | None = Field(description="That alone plan, described.")
    why: str


class FleetDeployment(_Frozen):
    name: str
    workloads: list[str]
    kind: Literal["cloud", "onprem", "api", "owned"]
    summary: str
    monthly_cost_usd: float = Field(description="What the fleet pays: owned servers count only their running cost.")
    capex_usd: float
    gpus: int
    option: Option


class Binding(_Frozen):
    """A constraint and what relaxing it would change."""

    constraint: str
    detail: str
    monthly_saving_usd: float | None = None


class FleetPlan(_Frozen):
    version: str
    as_of: dt.date
    objective: Literal["cost", "quality"]
    monthly_cost_usd: float
    capex_usd: float
    weighted_quality: float
    alone_monthly_usd: float = Field(description="Sum of the workloads' `qwen-plan plan` recommendations.")
    saving_usd: float = Field(description="alone_monthly_usd - monthly_cost_usd (negative: the fleet's "
                              "constraints cost more than planning each alone ignores).")
    saving_pct: float
    greedy_monthly_usd: float | None = Field(description="Each workload in turn on its cheapest column that fits "
                                             "what is left: the baseline the optimum never loses to.")
    deployments: list[FleetDeployment]
    workloads: list[Served]
    binding: list[Binding]
    columns: int = Field(description="Candidate deployments in the integer program.")
    formulation: str
    notes: list[str] = Field(default_factory=list)


def fleet_json(plan: FleetPlan) -> str:
    """The fleet plan as printed by `--format json` and written as the fleet's plan.json."""
    return json.dumps(plan.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"
