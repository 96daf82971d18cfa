"""Pure cost functions: $/month for cloud (on-demand, committed), on-prem TCO and hosted APIs.

Every input comes from the catalog or the request; nothing here knows about the CLI or the solver.
"""

from planner.cost.api import api_cost, api_costs, api_tier, cheapest_api
from planner.cost.breakeven import (
    api_usd_per_token,
    breakeven_tokens_per_month,
    buy_vs_rent_month,
    usd_per_million_output,
)
from planner.cost.cloud import (
    COMMITS,
    Commit,
    cheapest_replica_cloud,
    cloud_cost,
    instance_price,
    instances_for_replicas,
    replica_cloud_costs,
)
from planner.cost.lines import HOURS_PER_MONTH, CostKind, CostLine
from planner.cost.onprem import TcoInputs, onprem_cost, purchase_cost, tco_inputs
from planner.cost.sensitivity import (
    DEFAULT_MULTIPLIERS,
    Replan,
    SensitivityPoint,
    scale_load,
    sensitivity,
)

__all__ = [
    "COMMITS",
    "DEFAULT_MULTIPLIERS",
    "HOURS_PER_MONTH",
    "Commit",
    "CostKind",
    "CostLine",
    "Replan",
    "SensitivityPoint",
    "TcoInputs",
    "api_cost",
    "api_costs",
    "api_tier",
    "api_usd_per_token",
    "breakeven_tokens_per_month",
    "buy_vs_rent_month",
    "cheapest_api",
    "cheapest_replica_cloud",
    "cloud_cost",
    "instance_price",
    "instances_for_replicas",
    "onprem_cost",
    "purchase_cost",
    "replica_cloud_costs",
    "scale_load",
    "sensitivity",
    "tco_inputs",
    "usd_per_million_output",
]
