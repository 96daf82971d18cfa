"""Turn the chosen candidates into the Plan's Options: every way of paying, break-evens, exact capacity."""

from __future__ import annotations

from planner import cost, perf
from planner.catalog import Catalog
from planner.cost import CloudLine, OnpremLine, TcoInputs
from planner.plan import Api, PerfBands, SelfHosted
from planner.solver import schedule
from planner.solver.costing import Candidate, api_lines
from planner.solver.deployment import deployment
from planner.solver.evaluate import Sized, exact_capacity
from planner.solver.quality import quality_range
from planner.solver.resolve import Resolved


def tco_of(res: Resolved, catalog: Catalog) -> TcoInputs:
    req = res.request
    return cost.tco_inputs(catalog.tco, years=req.years, power_price=req.power_price, pue=req.pue,
                           utilization=req.utilization, colo=req.colo_usd_per_kw_month,
                           ops_fraction=req.ops_fraction, cost_of_capital=req.cost_of_capital)


def with_quality_prices(options: list[SelfHosted | Api]) -> list[SelfHosted | Api]:
    """Each option's extra $/month per quality point over the cheapest shown option: what the extra
    quality costs, so a buyer can judge a few tenths of a point (benchmark noise) against the bill."""
    cheapest = min(options, key=lambda o: (o.monthly_cost_usd, -o.quality))
    out = []
    for o in options:
        dq, dc = o.quality - cheapest.quality, o.monthly_cost_usd - cheapest.monthly_cost_usd
        price = round(dc / dq, 2) if dq > 0 and dc > 0 else None
        out.append(o.model_copy(update={"usd_per_quality_point": price}))
    return out


def perf_bands(sized: Sized, res: Resolved) -> PerfBands | None:
    """The option's error bands around the central prediction. The queueing wait in its p95 TTFT is the
    queue model's, not the perf model's, so it is added to both ends of the steady-state TTFT band."""
    est = perf.estimate(sized.cfg, res.shape, sized.batch)
    b = perf.bands(sized.cfg, res.shape, est)
    if b is None:
        return None
    f_ttft = perf.conservative_factors(sized.cfg, res.shape, est, res.request.confidence)[0]
    wait = max(sized.ttft_ms - est.ttft_ms * f_ttft, 0.0)
    return PerfBands(
        ttft_ms=(round(b.ttft_ms.low + wait, 1), round(b.ttft_ms.high + wait, 1)),
        tpot_ms=(round(b.tpot_ms.low, 2), round(b.tpot_ms.high, 2)),
        output_tokens_per_s=(round(b.output_tokens_per_s.low, 1), round(b.output_tokens_per_s.high, 1)),
        regime=f"{b.regime} concurrency", outside_measured_range=list(b.outside))


def present(c: Candidate, res: Resolved, catalog: Catalog, tco: TcoInputs) -> SelfHosted | Api:
    w = res.workload
    apis = api_lines(res, catalog, c.model, c.priced_rps) if w.input_tokens > 0 else []
    precision = c.sized.cfg.precision if c.sized is not None else None
    q_range = quality_range(catalog, c.model, precision, res.request.task, w.thinking)
    common = {
        "model": c.model, "quality": c.quality, "monthly_cost_usd": c.monthly_cost_usd,
        "quality_range": (round(q_range[0], 2), round(q_range[1], 2)) if q_range else None,
        "usd_per_million_tokens": c.usd_per_million_tokens, "priced_rps": round(c.priced_rps, 6),
        "priced_basis": c.priced_basis,
        "monthly_opex_usd": round(c.line.opex_monthly if isinstance(c.line, OnpremLine) else c.line.monthly_usd, 2),
    }
    if c.sized is None:
        assert c.deploy == "api" and c.line.kind == "api"
        return Api(deploy="api", chosen=c.line, costs=list(apis), capacity_rps=round(c.capacity_rps, 4),
                   capacity_tokens_per_day=round(w.tokens_per_day(c.capacity_rps)), ttft_ms=round(c.api_ttft_ms, 1),
                   tpot_ms=round(c.api_tpot_ms, 2), **common)
    sized = c.sized
    assert c.deploy != "api" and not isinstance(c.line, cost.ApiLine)
    # With an open-loop load the search only knew the load was met; shown options get their exact capacity.
    rate = res.sizing_rps
    capacity = exact_capacity(sized, known=rate) if rate is not None else c.capacity_rps
    hourly = c.replicas_by_hour
    billed = None
    if res.workload.load_profile is not None:
        billed = hourly or schedule.billed_by_hour(schedule.needed_by_hour(sized, res.workload.load_profile))
    ways = cost.self_hosted_costs(catalog, sized.cfg.gpu.id, sized.cfg.tp, sized.replicas, tco,
                                  res.request.providers, today=res.today, replicas_by_hour=billed)
    onprem = next((ln for ln in ways if isinstance(ln, OnpremLine)), None)
    rents = [ln for ln in ways if isinstance(ln, CloudLine) and ln.commit == res.request.commit]
    buy = cost.buy_vs_rent(onprem, rents) if onprem is not None else None
    breakeven = (cost.api_breakeven(c.line.monthly_usd, apis[0], catalog.api[apis[0].offer_id], w.osl)
                 if apis else None)
    return SelfHosted(
        deploy=c.deploy, deployment=deployment(sized, res, catalog, hourly), chosen=c.line, costs=[*ways, *apis],
        capex_usd=round(c.line.capex_usd, 2), ttft_ms=round(sized.ttft_ms, 1), tpot_ms=round(sized.tpot_ms, 2),
        bands=perf_bands(sized, res),
        batch_per_replica=sized.batch, capacity_rps=round(capacity, 4), gpus_paid=c.line.gpus,
        spare_gpus=c.line.gpus - sized.cfg.tp * sized.replicas,
        capacity_tokens_per_day=round(w.tokens_per_day(capacity)), buy_vs_rent=buy, api_breakeven=breakeven,
        **common,
    )
