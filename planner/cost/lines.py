"""Typed cost lines: what one way of paying for a deployment costs a month, with every input behind it.

One model per kind of cost (cloud rent, on-prem purchase, hosted API), so readers use fields, not
string keys. Lines ride on the Plan; reports and spreadsheets show (and recompute) them from here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.terms import Commit, commit_basis


class _Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    provider: str
    offer_id: str
    monthly_usd: float = Field(description="All-in monthly figure; on-prem: depreciation + opex.")
    as_of: dt.date
    stale: bool
    source: str


class CloudLine(_Line):
    """Rent of whole instances at one commitment."""

    kind: Literal["cloud"] = "cloud"
    instance_type: str
    commit: Commit
    usd_per_instance_hour: float
    instances: int
    gpus_per_instance: int
    gpus_needed: int
    hours_per_month: float
    always_on_instances: int | None = Field(default=None, ge=0, description="Under an hourly load profile: "
                                            "instances billed every hour at the commit basis, the rest (up to "
                                            "`instances` at the peak) on-demand burst hours. None: no profile, "
                                            "every instance runs all month.")
    burst_instance_hours: float = Field(default=0.0, ge=0, description="On-demand instance-hours a month above "
                                        "the always-on instances (hourly load profile).")
    burst_usd_per_instance_hour: float | None = Field(default=None, description="On-demand $/hour the burst pays.")

    @property
    def gpus(self) -> int:
        return self.instances * self.gpus_per_instance

    @property
    def scheduled(self) -> bool:
        """Whether an hourly profile lets some instances run only part of the day."""
        return self.always_on_instances is not None and self.always_on_instances < self.instances

    @property
    def instance(self) -> str:
        return self.instance_type

    @property
    def capex_usd(self) -> float:
        return 0.0

    @property
    def basis(self) -> str:
        if not self.scheduled:
            return commit_basis(self.commit)
        return (f"{commit_basis(self.commit)} x{self.always_on_instances} always on + "
                f"{self.burst_instance_hours:,.0f} on-demand instance-h/month (hourly profile)")

    @property
    def label(self) -> str:
        return f"{self.provider} {self.instance_type} ({self.basis})"


class OnpremLine(_Line):
    """Purchase depreciated over its life with its cost of capital, plus energy, facility and operations."""

    kind: Literal["onprem"] = "onprem"
    servers: int
    gpus: int
    unit_usd: float
    units: int
    gpus_per_unit: int
    includes_server: bool
    server_overhead_factor: float
    hardware_usd: float
    network_fraction: float
    network_usd: float
    capex_usd: float
    depreciation_years: float
    depreciation_monthly: float
    cost_of_capital: float = Field(description="Annual rate charged on the average book value (capex ÷ 2).")
    capital_monthly: float
    gpus_needed: int
    gpu_tdp_kw: float
    server_power_factor: float
    it_kw: float
    utilization: float
    pue: float
    power_usd_per_kwh: float
    hours_per_month: float
    power_monthly: float
    colo_usd_per_kw_month: float
    colo_monthly: float
    ops_usd_per_gpu_month: float
    ops_fraction: float = Field(description="Staff, support, storage, licences: share of depreciation + power + colo.")
    support_monthly: float
    ops_monthly: float = Field(description="Per-GPU staff plus the ops_fraction share.")
    opex_monthly: float = Field(description="Energy + facility + operations: the running cost, capex excluded.")

    @property
    def instances(self) -> int:
        return self.servers

    @property
    def instance(self) -> str:
        return self.offer_id

    @property
    def basis(self) -> str:
        return f"{self.depreciation_years:g}y depreciation"

    @property
    def label(self) -> str:
        return f"on-prem ({self.basis})"


class ApiLine(_Line):
    """A hosted API billed per token at one price tier."""

    kind: Literal["api"] = "api"
    input_tokens_month: float
    output_tokens_month: float
    isl: int = Field(description="Input tokens per request: what picks the price tier.")
    usd_per_m_input: float
    usd_per_m_cached_input: float
    cached_fraction: float
    usd_per_m_output: float
    input_usd: float
    output_usd: float
    tier_max_input_tokens: int | None = Field(description="Upper bound of the tier; None = open-ended.")

    @property
    def instances(self) -> int:
        return 0

    @property
    def gpus(self) -> int:
        return 0

    @property
    def instance(self) -> None:
        return None

    @property
    def capex_usd(self) -> float:
        return 0.0

    @property
    def basis(self) -> str:
        return "api"

    @property
    def label(self) -> str:
        return f"{self.provider} API"


CostLine = Annotated[CloudLine | OnpremLine | ApiLine, Field(discriminator="kind")]
CostKind = Literal["cloud", "onprem", "api"]
