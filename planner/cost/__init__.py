"""Pure cost functions: $/month for cloud (on-demand, committed), on-prem TCO and hosted APIs.

One function per pricing question; every input comes from the catalog or the caller. Nothing here
knows about requests, the solver or the CLI.
"""

from planner.cost.api import api_cost, api_costs, api_tier, cheapest_api
from planner.cost.breakeven import (
    ApiBreakeven,
    BuyVsRent,
    api_breakeven,
    api_usd_per_token,
    breakeven_tokens_per_month,
    buy_vs_rent,
    buy_vs_rent_month,
    usd_per_million_output,
)
from planner.cost.cloud import (
    cheapest_replica_cloud,
    cheapest_scheduled_cloud,
    cloud_cost,
    instance_price,
    instances_for_replicas,
    replica_cloud_costs,
    scheduled_cloud_cost,
    scheduled_replica_cloud_costs,
)
from planner.cost.curves import Crossing, LoadCurves, Series, load_curves
from planner.cost.lines import ApiLine, CloudLine, CostKind, CostLine, OnpremLine
from planner.cost.onprem import TcoInputs, onprem_cost, purchase_cost, tco_inputs
from planner.cost.ways import self_hosted_costs

__all__ = [
    "ApiBreakeven",
    "ApiLine",
    "BuyVsRent",
    "CloudLine",
    "CostKind",
    "CostLine",
    "Crossing",
    "LoadCurves",
    "OnpremLine",
    "Series",
    "TcoInputs",
    "api_breakeven",
    "api_cost",
    "api_costs",
    "api_tier",
    "api_usd_per_token",
    "breakeven_tokens_per_month",
    "buy_vs_rent",
    "buy_vs_rent_month",
    "cheapest_api",
    "cheapest_replica_cloud",
    "cheapest_scheduled_cloud",
    "cloud_cost",
    "instance_price",
    "instances_for_replicas",
    "load_curves",
    "onprem_cost",
    "purchase_cost",
    "replica_cloud_costs",
    "scheduled_cloud_cost",
    "scheduled_replica_cloud_costs",
    "self_hosted_costs",
    "tco_inputs",
    "usd_per_million_output",
]
