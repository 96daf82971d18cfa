"""The procurement table: every option of a plan with every way of paying for it, as the plan has them.

This is the one data structure the XLSX, CSV and HTML writers read; its `to_dict()` is the JSON
the spreadsheet's live formulas must reproduce. It only reads the Plan: cost lines, break-evens,
priced rates, sensitivity and load curves were all computed once, by the solver and the cost layer.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from planner.cost.breakeven import ApiBreakeven, BuyVsRent
from planner.cost.curves import LoadCurves
from planner.cost.lines import CostLine, OnpremLine
from planner.cost.onprem import TcoInputs
from planner.plan import Api, Plan, SelfHosted, SensitivityPoint
from planner.terms import SECONDS_PER_MONTH, Commit

Option = SelfHosted | Api


@dataclass(frozen=True)
class PricedLoad:
    """The monthly volume an option's cost lines bill for: its priced rate and the request's shape."""

    rps: float  # the option's priced_rps
    basis: str  # the option's priced_basis: how the rate was obtained
    input_per_request: float  # text + visual prompt tokens per request
    osl: int
    cached_fraction: float  # the task's prefix-cache hit rate: billed at the API's cached price

    @property
    def requests_month(self) -> float:
        return self.rps * SECONDS_PER_MONTH

    @property
    def input_tokens_month(self) -> float:
        return self.requests_month * self.input_per_request

    @property
    def output_tokens_month(self) -> float:
        return self.requests_month * self.osl

    def to_dict(self) -> dict[str, Any]:
        return {
            "rps": self.rps,
            "basis": self.basis,
            "input_per_request": self.input_per_request,
            "osl": self.osl,
            "cached_fraction": self.cached_fraction,
            "requests_month": self.requests_month,
            "input_tokens_month": self.input_tokens_month,
            "output_tokens_month": self.output_tokens_month,
        }


@dataclass(frozen=True)
class CostRow:
    line: CostLine
    usd_per_m_output: float | None  # a presentation ratio: this line's bill per million output tokens
    chosen: bool  # the way of paying the solver picked for this option

    def to_dict(self) -> dict[str, Any]:
        ln = self.line
        return {
            **ln.model_dump(mode="json"),
            "label": ln.label, "basis": ln.basis, "instance": ln.instance, "instances": ln.instances,
            "gpus": ln.gpus, "capex_usd": ln.capex_usd,
            "usd_per_m_output": self.usd_per_m_output, "chosen": self.chosen,
        }


@dataclass(frozen=True)
class OptionCosts:
    index: int  # 1 = recommended
    option: Option
    workload: PricedLoad
    rows: tuple[CostRow, ...]

    @property
    def label(self) -> str:
        return self.option.label

    @property
    def recommended(self) -> bool:
        return self.index == 1

    @property
    def onprem(self) -> CostRow | None:
        return next((r for r in self.rows if isinstance(r.line, OnpremLine)), None)

    @property
    def buy_vs_rent(self) -> BuyVsRent | None:
        return self.option.buy_vs_rent if isinstance(self.option, SelfHosted) else None

    @property
    def api_breakeven(self) -> ApiBreakeven | None:
        return self.option.api_breakeven if isinstance(self.option, SelfHosted) else None

    def to_dict(self) -> dict[str, Any]:
        bvr, be = self.buy_vs_rent, self.api_breakeven
        return {
            "index": self.index,
            "label": self.label,
            "recommended": self.recommended,
            "option": self.option.model_dump(mode="json", exclude={"costs"}),  # the costs are the rows
            "workload": self.workload.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            "buy_vs_rent_months": bvr.months if bvr else None,
            "buy_vs_rent_against": bvr.against if bvr else None,
            "buy_vs_rent_against_stale": bvr.against_stale if bvr else None,
            "api_breakeven_tokens_month": be.tokens_month if be else None,
            "api_breakeven_against": be.against if be else None,
            "api_breakeven_against_stale": be.against_stale if be else None,
        }


@dataclass(frozen=True)
class Procurement:
    plan: Plan
    options: tuple[OptionCosts, ...]

    @property
    def as_of(self) -> dt.date:
        """The day prices were checked for staleness."""
        return self.plan.as_of

    @property
    def commit(self) -> Commit:
        return self.plan.commit

    @property
    def tco(self) -> TcoInputs:
        return self.plan.tco

    @property
    def sensitivity(self) -> list[SensitivityPoint]:
        return self.plan.sensitivity

    @property
    def baseline_monthly_usd(self) -> float:
        return self.plan.recommended.monthly_cost_usd

    @property
    def providers(self) -> tuple[str, ...] | None:
        """The request's allowed providers (None = all)."""
        return tuple(self.plan.request.providers) if self.plan.request.providers else None

    @property
    def curves(self) -> LoadCurves | None:
        """Cost against load for the first self-hosted option."""
        return self.plan.load_curves

    @property
    def stale(self) -> list[str]:
        """One line per stale price used anywhere in the table."""
        out = {
            f"{r.line.offer_id} ({r.line.kind}, {r.line.provider}): price as_of {r.line.as_of} "
            f"is over 12 months old on {self.as_of}"
            for o in self.options
            for r in o.rows
            if r.line.stale
        }
        return sorted(out)

    def sources(self) -> list[dict[str, Any]]:
        """Every price behind the table: offer id, kind, provider, source, date, stale flag."""
        seen: dict[str, dict[str, Any]] = {}
        for o in self.options:
            for r in o.rows:
                ln = r.line
                seen.setdefault(
                    ln.offer_id,
                    {"offer_id": ln.offer_id, "kind": ln.kind, "provider": ln.provider,
                     "source": ln.source, "as_of": ln.as_of.isoformat(), "stale": ln.stale},
                )
        return [seen[k] for k in sorted(seen)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "commit": self.commit,
            "tco": self.tco.model_dump(mode="json"),
            "options": [o.to_dict() for o in self.options],
            "stale": self.stale,
            "sources": self.sources(),
            "sensitivity": [p.model_dump(mode="json") for p in self.sensitivity],
            "baseline_monthly_usd": self.baseline_monthly_usd,
            "providers": list(self.providers) if self.providers else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)


def way_of_paying(o: Option) -> str:
    """`cloud aws p5.48xlarge`, `onprem`, `api openrouter`: what the solver picked, in a few words."""
    instance = o.instance if isinstance(o, SelfHosted) else None
    return " ".join(x for x in (o.deploy, o.provider, instance) if x)


def priced_load(plan: Plan, o: Option) -> PricedLoad:
    w = plan.workload
    return PricedLoad(rps=o.priced_rps, basis=o.priced_basis, input_per_request=w.input_tokens, osl=w.osl,
                      cached_fraction=w.prefix_hit)


def _option_costs(plan: Plan, index: int, o: Option) -> OptionCosts:
    load = priced_load(plan, o)
    out_m = load.output_tokens_month / 1e6
    rows = tuple(
        CostRow(ln, ln.monthly_usd / out_m if out_m > 0 else None, ln == o.chosen)
        for ln in o.costs
    )
    return OptionCosts(index, o, load, rows)


def procurement_table(plan: Plan) -> Procurement:
    """The recommended option and every alternative, each with every way of paying the plan holds for it."""
    return Procurement(plan, tuple(_option_costs(plan, i, o) for i, o in enumerate(plan.options, start=1)))
