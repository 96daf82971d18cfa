"""The procurement table: every option of a plan costed under every way of paying for it.

This is the one data structure the XLSX, CSV and HTML writers read; its `to_dict()` is the JSON
the spreadsheet's live formulas must reproduce.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner import clock, cost
from planner.catalog import Catalog
from planner.cost import CostLine, SensitivityPoint, TcoInputs
from planner.cost.cloud import Commit
from planner.plan import Option, Plan
from planner.report.curves import LoadCurves, load_curves

SECONDS_PER_MONTH = cost.HOURS_PER_MONTH * 3600.0
_COMMIT_BASIS = {"none": "on-demand", "1y": "1y", "3y": "3y"}


@dataclass(frozen=True)
class Workload:
    """Monthly volume an option serves: the request's load, or the option's capacity if none given."""

    isl: int  # text input tokens per request
    osl: int
    rps: float
    basis: str  # how rps was obtained: "arrival rate", "concurrency (Little's law)",
    # "concurrency at the assumed API latency" (hosted APIs: the solver's rate), "capacity"
    visual_tokens: int = 0  # prompt tokens the images/video frames add (billed as input by APIs)
    cached_fraction: float = 0.0  # the task's prefix-cache hit rate: billed at the API's cached price

    @property
    def input_per_request(self) -> int:
        return self.isl + self.visual_tokens

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
            "isl": self.isl,
            "visual_tokens": self.visual_tokens,
            "osl": self.osl,
            "rps": self.rps,
            "basis": self.basis,
            "cached_fraction": self.cached_fraction,
            "requests_month": self.requests_month,
            "input_tokens_month": self.input_tokens_month,
            "output_tokens_month": self.output_tokens_month,
        }


@dataclass(frozen=True)
class CostRow:
    line: CostLine
    usd_per_m_output: float | None
    chosen: bool  # the way of paying the solver picked for this option

    def to_dict(self) -> dict[str, Any]:
        return {**self.line.to_dict(), "usd_per_m_output": self.usd_per_m_output, "chosen": self.chosen}


@dataclass(frozen=True)
class OptionCosts:
    index: int  # 1 = recommended
    label: str
    option: Option
    workload: Workload
    rows: tuple[CostRow, ...]
    buy_vs_rent_months: float | None
    buy_vs_rent_against: str | None
    api_breakeven_tokens_month: float | None
    api_breakeven_against: str | None

    @property
    def recommended(self) -> bool:
        return self.index == 1

    @property
    def onprem(self) -> CostRow | None:
        return next((r for r in self.rows if r.line.kind == "onprem"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "label": self.label,
            "recommended": self.recommended,
            "option": self.option.model_dump(mode="json"),
            "workload": self.workload.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            "buy_vs_rent_months": self.buy_vs_rent_months,
            "buy_vs_rent_against": self.buy_vs_rent_against,
            "api_breakeven_tokens_month": self.api_breakeven_tokens_month,
            "api_breakeven_against": self.api_breakeven_against,
        }


@dataclass(frozen=True)
class Procurement:
    as_of: dt.date  # the day prices were checked for staleness
    commit: Commit
    tco: TcoInputs
    options: tuple[OptionCosts, ...]
    sensitivity: tuple[SensitivityPoint, ...] = ()
    baseline_monthly_usd: float | None = None
    providers: tuple[str, ...] | None = None  # the request's allowed providers (None = all)
    curves: LoadCurves | None = None  # cost against load for the first self-hosted option

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
            "tco": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in vars(self.tco).items()},
            "options": [o.to_dict() for o in self.options],
            "stale": self.stale,
            "sources": self.sources(),
            "sensitivity": [p.to_dict() for p in self.sensitivity],
            "baseline_monthly_usd": self.baseline_monthly_usd,
            "providers": list(self.providers) if self.providers else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)


def option_label(o: Option) -> str:
    if o.deploy == "api" or o.gpu is None:
        return f"{o.model} via {o.provider} API"
    ep = f", EP{o.ep}" if o.ep > 1 else ""
    mtp = f", MTP{o.mtp_tokens}" if o.mtp_tokens else ""
    return (f"{o.model} {o.precision} on {o.total_gpus}× {o.gpu} "
            f"(TP{o.tp}{ep}{mtp} × {o.replicas} replicas, {o.engine})")


def _num(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def visual_tokens(plan: Plan, catalog: Catalog, model_id: str) -> int:
    """Prompt tokens images and video add per request, counted exactly as the solver counts them."""
    res = plan.resolved
    if not (_num(res, "images_per_request") or _num(res, "video_frames_per_request")):
        return 0
    # Imported here: only vision tasks need it, and the solver's count is the one source of truth.
    from planner.solver.costing import visual_tokens as count
    from planner.solver.space import resolve

    return count(resolve(plan.request, catalog), catalog, model_id)


def workload_of(plan: Plan, option: Option, visual: int = 0) -> Workload:
    """Requests per second this option serves, derived the way the solver sizes it."""
    res, req = plan.resolved, plan.request
    cached = float(_num(res, "prefix_hit") or 0.0)
    isl = int(_num(res, "isl") or req.isl or 0)
    osl = int(_num(res, "osl") or req.osl or 0)
    rps = _num(res, "arrival_rps") or req.rps
    if rps is None and req.tokens_per_day is not None and isl + osl > 0:
        rps = req.tokens_per_day / 86400.0 / (isl + visual + osl)
    if rps is not None:
        return Workload(isl, osl, rps, "arrival rate", visual, cached)
    conc = _num(res, "concurrency") or req.concurrency
    if conc is not None and option.deploy == "api" and option.capacity_rps > 0:
        # The solver prices a hosted API at the rate the concurrency gives at its assumed API
        # latency and reports that rate as capacity_rps; recomputing it here from the SLO targets
        # would bill a different volume than the solver did.
        return Workload(isl, osl, option.capacity_rps, "concurrency at the assumed API latency", visual,
                        cached)
    if conc is not None:
        ttft = option.ttft_ms if option.ttft_ms is not None else (_num(res, "ttft_ms") or 0.0)
        tpot = option.tpot_ms if option.tpot_ms is not None else (_num(res, "tpot_ms") or 0.0)
        latency_s = (ttft + osl * tpot) / 1000.0
        if latency_s > 0:
            return Workload(isl, osl, conc / latency_s, "concurrency (Little's law)", visual, cached)
    return Workload(isl, osl, option.capacity_rps, "capacity", visual, cached)


def _is_chosen(option: Option, line: CostLine, commit: str) -> bool:
    if option.deploy != line.kind:
        return False
    if line.kind == "cloud":
        return (line.provider, line.instance, line.basis) == (
            option.provider, option.instance, _COMMIT_BASIS.get(commit, commit))
    if line.kind == "api":
        return line.provider == option.provider
    return True


def _cost_lines(plan: Plan, catalog: Catalog, o: Option, w: Workload, t: TcoInputs,
                today: dt.date) -> list[CostLine]:
    req = plan.request
    providers = req.providers or None
    lines: list[CostLine] = []
    if o.gpu is not None and o.replicas > 0:
        per_replica = max(1, o.total_gpus // o.replicas)
        commits: tuple[Commit, ...] = cost.COMMITS
        for commit in commits:
            best: dict[str, CostLine] = {}
            for ln in cost.replica_cloud_costs(catalog, o.gpu, per_replica, o.replicas, commit, providers,
                                               today=today):
                best.setdefault(ln.provider, ln)
            lines.extend(sorted(best.values(), key=lambda c: (c.monthly_usd, c.provider)))
        offers = catalog.purchases_for(o.gpu)
        if offers:
            gpu = catalog.gpu(o.gpu)
            candidates = [cost.purchase_cost(p, gpu, o.total_gpus, t, today=today) for p in offers]
            lines.append(min(candidates, key=lambda c: (c.monthly_usd, c.offer_id)))
    if w.input_per_request > 0:
        lines.extend(cost.api_costs(catalog, o.model, w.input_tokens_month, w.output_tokens_month,
                                    w.input_per_request, providers, w.cached_fraction, today=today))
    return lines


def _option_costs(plan: Plan, catalog: Catalog, index: int, o: Option, t: TcoInputs,
                  today: dt.date) -> OptionCosts:
    w = workload_of(plan, o, visual_tokens(plan, catalog, o.model))
    commit = plan.request.commit
    lines = _cost_lines(plan, catalog, o, w, t, today)
    rows = tuple(
        CostRow(ln, cost.usd_per_million_output(ln.monthly_usd, w.output_tokens_month),
                _is_chosen(o, ln, commit))
        for ln in lines
    )
    basis = _COMMIT_BASIS[commit]
    clouds = [r.line for r in rows if r.line.kind == "cloud" and r.line.basis == basis]
    onprem = next((r.line for r in rows if r.line.kind == "onprem"), None)
    bvr = against = None
    if onprem is not None and clouds:
        rent = min(clouds, key=lambda c: (c.monthly_usd, c.offer_id))
        bvr = cost.buy_vs_rent_month(onprem.capex_usd, onprem.detail["opex_monthly"], rent.monthly_usd)
        if bvr is not None and bvr > 12 * onprem.detail["depreciation_years"]:
            bvr = None  # pays back only after the hardware is written off: buying never wins
        against = rent.label
    be = be_against = None
    apis = [r.line for r in rows if r.line.kind == "api"]
    self_hosted = [r.line for r in rows if r.line.kind != "api"]
    if o.deploy != "api" and apis and self_hosted:
        chosen = next((r.line for r in rows if r.chosen), None)
        selfhost_monthly = chosen.monthly_usd if chosen is not None else o.monthly_cost_usd
        api_line = apis[0]
        be = cost.breakeven_tokens_per_month(selfhost_monthly, catalog.api[api_line.offer_id],
                                             w.input_per_request, w.osl, w.cached_fraction)
        be_against = api_line.label
    return OptionCosts(index, option_label(o), o, w, rows, bvr, against, be, be_against)


def procurement_table(
    plan: Plan,
    catalog: Catalog,
    *,
    years: float | None = None,
    power_price: float | None = None,
    pue: float | None = None,
    utilization: float | None = None,
    today: dt.date | None = None,
    sensitivity: Sequence[SensitivityPoint] = (),
) -> Procurement:
    """Cost the recommended option and every alternative under every way of paying.

    On-prem overrides default to the plan's request (`--years`, `--power-price`, ...), then to the
    catalog's TCO assumptions. `today` fixes the staleness check (default: the system date).
    """
    req = plan.request
    today = today or clock.today()
    t = cost.tco_inputs(
        catalog.tco,
        years=years if years is not None else req.years,
        power_price=power_price if power_price is not None else req.power_price,
        pue=pue if pue is not None else req.pue,
        utilization=utilization if utilization is not None else req.utilization,
    )
    options = [plan.recommended, *[a for a in plan.alternatives if a != plan.recommended]]
    costed = tuple(_option_costs(plan, catalog, i, o, t, today) for i, o in enumerate(options, start=1))
    proc = Procurement(
        as_of=today,
        commit=req.commit,
        tco=t,
        options=costed,
        sensitivity=tuple(sensitivity),
        baseline_monthly_usd=plan.recommended.monthly_cost_usd,
        providers=req.providers or None,
    )
    return dataclasses.replace(proc, curves=load_curves(proc, catalog))
