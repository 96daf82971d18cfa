"""Break-even points: API vs self-hosting by volume, buying vs renting by month."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import ApiOffer
from planner.cost.api import api_cost
from planner.cost.lines import ApiLine, CloudLine, OnpremLine


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)


class BuyVsRent(_Frozen):
    """Months after which buying has cost less than renting; None = never within the hardware's life."""

    months: float | None
    against: str  # the cloud line's label
    against_stale: bool


class ApiBreakeven(_Frozen):
    """Monthly tokens (input + output) above which the self-hosted bill beats the API."""

    tokens_month: float
    against: str  # the API line's label
    against_stale: bool


def api_usd_per_token(api_offer: ApiOffer, isl: int, osl: int, cached_fraction: float = 0.0) -> float:
    """Blended API price per token (input + output) for requests of this shape: one request's bill."""
    per_request = api_cost(api_offer, float(isl), float(osl), isl, cached_fraction).monthly_usd
    return per_request / (isl + osl)


def breakeven_tokens_per_month(
    selfhost_monthly: float, api_offer: ApiOffer, isl: int, osl: int, cached_fraction: float = 0.0
) -> float:
    """Monthly token volume (input + output) above which a fixed self-hosting bill beats the API.

    Valid while the self-hosted deployment has the capacity for that volume; past its capacity the
    self-hosted bill steps up (more replicas) and the break-even moves with it.
    """
    return selfhost_monthly / api_usd_per_token(api_offer, isl, osl, cached_fraction)


def buy_vs_rent_month(capex: float, onprem_opex_monthly: float, cloud_monthly: float) -> float | None:
    """Months after which buying (capex up front + opex) has cost less than renting; None = never.

    Solves capex + opex × m = cloud × m. Renting that is no dearer than the running costs alone
    never pays back the purchase.
    """
    saving = cloud_monthly - onprem_opex_monthly
    if saving <= 0:
        return None
    return capex / saving


def buy_vs_rent(onprem: OnpremLine, rents: Sequence[CloudLine]) -> BuyVsRent | None:
    """Buying against the cheapest rent in `rents` (one commitment); None without both."""
    if not rents:
        return None
    rent = min(rents, key=lambda c: (c.monthly_usd, c.offer_id))
    months = buy_vs_rent_month(onprem.capex_usd, onprem.opex_monthly, rent.monthly_usd)
    if months is not None and months > 12 * onprem.depreciation_years:
        months = None  # pays back only after the hardware is written off: buying never wins
    return BuyVsRent(months=months, against=rent.label, against_stale=rent.stale)


def api_breakeven(selfhost_monthly: float, api: ApiLine, api_offer: ApiOffer, osl: int) -> ApiBreakeven:
    """The self-hosted bill against the API line, for requests of `api.isl` in and `osl` out."""
    tokens = breakeven_tokens_per_month(selfhost_monthly, api_offer, api.isl, osl, api.cached_fraction)
    return ApiBreakeven(tokens_month=tokens, against=api.label, against_stale=api.stale)


def usd_per_million_output(monthly_usd: float, output_tokens_month: float) -> float | None:
    """Cost per million output tokens; None when no output is produced."""
    if output_tokens_month <= 0:
        return None
    return monthly_usd / (output_tokens_month / 1e6)
