"""Turn the chosen candidates into the Plan's Options: every way of paying, break-evens, exact capacity."""

from __future__ import annotations

from planner import cost
from planner.catalog import Catalog
from planner.cost import CloudLine, OnpremLine, TcoInputs
from planner.plan import Api, SelfHosted
from planner.solver.costing import Candidate, api_lines
from planner.solver.deployment import deployment
from planner.solver.evaluate import exact_capacity
from planner.solver.resolve import Resolved


def tco_of(res: Resolved, catalog: Catalog) -> TcoInputs:
    req = res.request
    return cost.tco_inputs(catalog.tco, years=req.years, power_price=req.power_price, pue=req.pue,
                           utilization=req.utilization)


def present(c: Candidate, res: Resolved, catalog: Catalog, tco: TcoInputs) -> SelfHosted | Api:
    w = res.workload
    apis = api_lines(res, catalog, c.model, c.priced_rps) if w.input_tokens > 0 else []
    common = {
        "model": c.model, "quality": c.quality, "monthly_cost_usd": c.monthly_cost_usd,
        "usd_per_million_tokens": c.usd_per_million_tokens, "priced_rps": round(c.priced_rps, 6),
        "priced_basis": c.priced_basis,
    }
    if c.sized is None:
        assert c.deploy == "api" and c.line.kind == "api"
        return Api(deploy="api", chosen=c.line, costs=list(apis), capacity_rps=round(c.capacity_rps, 4),
                   capacity_tokens_per_day=round(w.tokens_per_day(c.capacity_rps)), **common)
    sized = c.sized
    assert c.deploy != "api" and not isinstance(c.line, cost.ApiLine)
    # With an open-loop load the search only knew the load was met; shown options get their exact capacity.
    capacity = exact_capacity(sized, known=res.arrival_rps) if res.arrival_rps is not None else c.capacity_rps
    ways = cost.self_hosted_costs(catalog, sized.cfg.gpu.id, sized.cfg.tp, sized.replicas, tco,
                                  res.request.providers, today=res.today)
    onprem = next((ln for ln in ways if isinstance(ln, OnpremLine)), None)
    rents = [ln for ln in ways if isinstance(ln, CloudLine) and ln.commit == res.request.commit]
    buy = cost.buy_vs_rent(onprem, rents) if onprem is not None else None
    breakeven = (cost.api_breakeven(c.line.monthly_usd, apis[0], catalog.api[apis[0].offer_id], w.osl)
                 if apis else None)
    return SelfHosted(
        deploy=c.deploy, deployment=deployment(sized, res, catalog), chosen=c.line, costs=[*ways, *apis],
        capex_usd=round(c.line.capex_usd, 2), ttft_ms=round(sized.ttft_ms, 1), tpot_ms=round(sized.tpot_ms, 2),
        batch_per_replica=sized.batch, capacity_rps=round(capacity, 4),
        capacity_tokens_per_day=round(w.tokens_per_day(capacity)), buy_vs_rent=buy, api_breakeven=breakeven,
        **common,
    )
