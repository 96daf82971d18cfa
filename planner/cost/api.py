"""Hosted API: tokens per month × per-token prices, input and output apart, context tiers honoured."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection

from planner.catalog import Catalog
from planner.catalog.schema import ApiOffer, ApiTier
from planner.cost.lines import ApiLine
from planner.cost.staleness import is_stale
from planner.errors import RequestError


def _tier_bound(tier: ApiTier) -> float:
    return math.inf if tier.max_input_tokens is None else tier.max_input_tokens


def api_tier(offer: ApiOffer, isl: int) -> ApiTier:
    """The price tier a request of `isl` input tokens falls in (tiers are priced per request length)."""
    if offer.max_context is not None and isl > offer.max_context:
        raise RequestError(f"isl: {isl} input tokens exceed {offer.id}'s context of {offer.max_context}")
    ordered = sorted(offer.tiers, key=_tier_bound)
    for tier in ordered:
        if tier.max_input_tokens is None or isl <= tier.max_input_tokens:
            return tier
    top = ordered[-1].max_input_tokens
    raise RequestError(f"isl: {isl} input tokens exceed {offer.id}'s largest price tier ({top})")


def api_cost(
    offer: ApiOffer,
    input_tokens_month: float,
    output_tokens_month: float,
    isl: int,
    cached_fraction: float = 0.0,
    *,
    today: dt.date | None = None,
) -> ApiLine:
    """Monthly API bill. `cached_fraction` of input is billed at the cached price where one exists."""
    if input_tokens_month < 0 or output_tokens_month < 0:
        raise RequestError("tokens per month: must be >= 0")
    if not 0 <= cached_fraction <= 1:
        raise RequestError(f"cached_fraction: must be in [0, 1] (got {cached_fraction})")
    tier = api_tier(offer, isl)
    cached_price = offer.usd_per_m_cached_input or tier.usd_per_m_input
    input_usd = input_tokens_month / 1e6 * (
        (1 - cached_fraction) * tier.usd_per_m_input + cached_fraction * cached_price
    )
    output_usd = output_tokens_month / 1e6 * tier.usd_per_m_output
    return ApiLine(
        provider=offer.provider,
        offer_id=offer.id,
        monthly_usd=input_usd + output_usd,
        as_of=offer.as_of,
        stale=is_stale(offer.as_of, today),
        source=offer.source,
        input_tokens_month=input_tokens_month,
        output_tokens_month=output_tokens_month,
        isl=isl,
        usd_per_m_input=tier.usd_per_m_input,
        usd_per_m_cached_input=cached_price,
        cached_fraction=cached_fraction,
        usd_per_m_output=tier.usd_per_m_output,
        input_usd=input_usd,
        output_usd=output_usd,
        tier_max_input_tokens=tier.max_input_tokens,
    )


def api_costs(
    catalog: Catalog,
    model_id: str,
    input_tokens_month: float,
    output_tokens_month: float,
    isl: int,
    providers: Collection[str] | None = None,
    cached_fraction: float = 0.0,
    *,
    today: dt.date | None = None,
) -> list[ApiLine]:
    """Every API offer for the model that accepts requests of this length, cheapest first."""
    lines: list[ApiLine] = []
    for offer in catalog.api_offers_for(model_id):
        if providers is not None and offer.provider not in providers:
            continue
        try:
            lines.append(
                api_cost(offer, input_tokens_month, output_tokens_month, isl, cached_fraction, today=today)
            )
        except RequestError:
            continue  # this host cannot take requests this long; others may
    return sorted(lines, key=lambda c: (c.monthly_usd, c.offer_id))


def cheapest_api(
    catalog: Catalog,
    model_id: str,
    input_tokens_month: float,
    output_tokens_month: float,
    isl: int,
    providers: Collection[str] | None = None,
    cached_fraction: float = 0.0,
    *,
    today: dt.date | None = None,
) -> ApiLine | None:
    lines = api_costs(
        catalog, model_id, input_tokens_month, output_tokens_month, isl, providers, cached_fraction,
        today=today,
    )
    return lines[0] if lines else None
