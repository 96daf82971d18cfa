"""On-prem total cost of ownership: purchase depreciated over N years, cost of capital, power, facility, ops.

Capex (the purchase, up front) and the monthly figure are kept apart: the monthly figure is the
depreciation and cost of capital of that capex plus the opex (energy, facility, staff and support).
"""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel, ConfigDict

from planner.catalog import Catalog
from planner.catalog.schema import GpuSpec, PurchaseOffer, TcoAssumptions
from planner.cost.lines import OnpremLine
from planner.cost.staleness import is_stale
from planner.errors import RequestError
from planner.terms import HOURS_PER_MONTH


class TcoInputs(BaseModel):
    """The catalog's TCO assumptions with the request's overrides applied."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    years: float
    hours_per_month: float
    power_usd_per_kwh: float
    pue: float
    utilization: float
    server_power_factor: float
    server_overhead_factor: float
    network_fraction: float
    colo_usd_per_kw_month: float
    ops_usd_per_gpu_month: float
    ops_fraction: float
    cost_of_capital: float
    unpublished: tuple[str, ...] = ()  # inputs with no published default, treated as 0 (the plan says so)
    as_of: dt.date
    source: str


def tco_inputs(
    tco: TcoAssumptions,
    *,
    years: float | None = None,
    power_price: float | None = None,
    pue: float | None = None,
    utilization: float | None = None,
    colo: float | None = None,
    ops_fraction: float | None = None,
    cost_of_capital: float | None = None,
) -> TcoInputs:
    """Merge overrides into the catalog defaults, rejecting values no data center can have.

    A catalog null (nothing published) counts as 0 and is named in `unpublished`, unless overridden.
    """
    if years is not None and years <= 0:
        raise RequestError(f"years: must be > 0 (got {years})")
    if power_price is not None and power_price <= 0:
        raise RequestError(f"power_price: must be > 0 $/kWh (got {power_price})")
    if pue is not None and pue < 1:
        raise RequestError(f"pue: must be >= 1.0 (got {pue})")
    if utilization is not None and not 0 < utilization <= 1:
        raise RequestError(f"utilization: must be in (0, 1] (got {utilization})")
    for name, value in (("colo_usd_per_kw_month", colo), ("ops_fraction", ops_fraction),
                        ("cost_of_capital", cost_of_capital)):
        if value is not None and value < 0:
            raise RequestError(f"{name}: must be >= 0 (got {value})")
    capital = tco.cost_of_capital if cost_of_capital is None else cost_of_capital
    unpublished = [n for n, v in (("cost_of_capital", capital), ("ops_usd_per_gpu_month", tco.ops_usd_per_gpu_month))
                   if v is None]
    return TcoInputs(
        hours_per_month=HOURS_PER_MONTH,
        years=tco.depreciation_years if years is None else years,
        power_usd_per_kwh=tco.power_usd_per_kwh if power_price is None else power_price,
        pue=tco.pue if pue is None else pue,
        utilization=tco.utilization if utilization is None else utilization,
        server_power_factor=tco.server_power_factor,
        server_overhead_factor=tco.server_overhead_factor,
        network_fraction=tco.network_fraction,
        colo_usd_per_kw_month=tco.colo_usd_per_kw_month if colo is None else colo,
        ops_usd_per_gpu_month=tco.ops_usd_per_gpu_month or 0.0,
        ops_fraction=tco.ops_fraction if ops_fraction is None else ops_fraction,
        cost_of_capital=capital or 0.0,
        unpublished=tuple(unpublished),
        as_of=tco.as_of,
        source=tco.source,
    )


def purchase_cost(
    offer: PurchaseOffer, gpu: GpuSpec, gpus_needed: int, t: TcoInputs, *, today: dt.date | None = None
) -> OnpremLine:
    """TCO of buying enough whole servers for `gpus_needed` GPUs from one purchase offer.

    GPUs round up to whole servers (`gpus_per_node`), then to whole purchase units. A GPU-only
    quote is scaled by the server overhead factor (host, RAM, NICs); the cluster network is a
    share of total capex, so capex = hardware ÷ (1 − network_fraction). Colocation is paid on the
    provisioned IT kW (the nameplate draw), energy on the metered draw (× utilisation × PUE). Cost of
    capital is interest on the average book value of a straight-line write-off (capex ÷ 2); staff,
    support, storage and licences are `ops_fraction` of depreciation + energy + facility, plus any
    per-GPU staff figure.
    """
    if gpus_needed < 1:
        raise RequestError(f"gpus_needed: must be a positive whole number (got {gpus_needed})")
    servers = math.ceil(gpus_needed / gpu.gpus_per_node)
    units = math.ceil(servers * gpu.gpus_per_node / offer.gpus_per_unit)
    gpus = units * offer.gpus_per_unit
    servers = math.ceil(gpus / gpu.gpus_per_node)
    overhead = 1.0 if offer.includes_server else t.server_overhead_factor
    hardware = units * offer.usd * overhead
    capex = hardware / (1.0 - t.network_fraction)
    depreciation = capex / (t.years * 12.0)
    kw_per_gpu = gpu.tdp_w / 1000.0 * t.server_power_factor
    power = gpus * kw_per_gpu * t.utilization * t.pue * t.power_usd_per_kwh * t.hours_per_month
    colo = gpus * kw_per_gpu * t.colo_usd_per_kw_month
    capital = capex / 2.0 * t.cost_of_capital / 12.0
    staff = gpus * t.ops_usd_per_gpu_month
    support = t.ops_fraction * (depreciation + power + colo)
    ops = staff + support
    # The TCO assumptions age too: the line is as old as its oldest input.
    as_of = min(offer.as_of, t.as_of)
    return OnpremLine(
        provider="on-prem",
        offer_id=offer.id,
        monthly_usd=depreciation + capital + power + colo + ops,
        as_of=as_of,
        stale=is_stale(as_of, today),
        source=f"{offer.source}; TCO assumptions: {t.source}",
        servers=servers,
        gpus=gpus,
        unit_usd=offer.usd,
        units=units,
        gpus_per_unit=offer.gpus_per_unit,
        includes_server=offer.includes_server,
        server_overhead_factor=overhead,
        hardware_usd=hardware,
        network_fraction=t.network_fraction,
        network_usd=capex - hardware,
        capex_usd=capex,
        depreciation_years=t.years,
        depreciation_monthly=depreciation,
        cost_of_capital=t.cost_of_capital,
        capital_monthly=capital,
        gpus_needed=gpus_needed,
        gpu_tdp_kw=gpu.tdp_w / 1000.0,
        server_power_factor=t.server_power_factor,
        it_kw=gpus * kw_per_gpu,
        utilization=t.utilization,
        pue=t.pue,
        power_usd_per_kwh=t.power_usd_per_kwh,
        hours_per_month=t.hours_per_month,
        power_monthly=power,
        colo_usd_per_kw_month=t.colo_usd_per_kw_month,
        colo_monthly=colo,
        ops_usd_per_gpu_month=t.ops_usd_per_gpu_month,
        ops_fraction=t.ops_fraction,
        support_monthly=support,
        ops_monthly=ops,
        opex_monthly=power + colo + ops,
    )


def onprem_cost(
    catalog: Catalog,
    gpu_id: str,
    gpus_needed: int,
    *,
    years: float | None = None,
    power_price: float | None = None,
    pue: float | None = None,
    utilization: float | None = None,
    tco: TcoInputs | None = None,
    today: dt.date | None = None,
) -> OnpremLine | None:
    """Cheapest on-prem TCO for the GPU across its purchase offers; None when nobody quotes a price."""
    offers = catalog.purchases_for(gpu_id)
    if not offers:
        return None
    t = tco or tco_inputs(catalog.tco, years=years, power_price=power_price, pue=pue, utilization=utilization)
    gpu = catalog.gpu(gpu_id)
    lines = [purchase_cost(o, gpu, gpus_needed, t, today=today) for o in offers]
    return min(lines, key=lambda c: (c.monthly_usd, c.offer_id))
