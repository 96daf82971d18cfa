"""The one shape every cost function returns: a costed way of paying for a deployment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

# 365 days × 24 h ÷ 12: the convention cloud price lists use for "per month".
HOURS_PER_MONTH = 730.0

CostKind = Literal["cloud", "onprem", "api"]


@dataclass(frozen=True)
class CostLine:
    """What one way of paying costs per month, with the inputs behind the number in `detail`.

    `monthly_usd` is the all-in monthly figure (for on-prem: depreciation + opex). `capex_usd` is
    the up-front purchase (0 for cloud and API). `detail` holds every input and subtotal, keyed by
    name, so reports can show (and spreadsheets can recompute) how the total was reached.
    """

    kind: CostKind
    provider: str
    instance: str | None
    instances: int
    gpus: int
    monthly_usd: float
    capex_usd: float
    basis: str
    as_of: dt.date
    stale: bool
    source: str
    detail: dict[str, float] = field(default_factory=dict)
    offer_id: str = ""

    @property
    def label(self) -> str:
        """Short human name: `aws p5.48xlarge 1y`, `on-prem 5y depreciation`, `alibaba api`."""
        if self.kind == "onprem":
            return f"on-prem ({self.basis})"
        if self.kind == "api":
            return f"{self.provider} API"
        return f"{self.provider} {self.instance} ({self.basis})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "provider": self.provider,
            "instance": self.instance,
            "instances": self.instances,
            "gpus": self.gpus,
            "monthly_usd": self.monthly_usd,
            "capex_usd": self.capex_usd,
            "basis": self.basis,
            "as_of": self.as_of.isoformat(),
            "stale": self.stale,
            "source": self.source,
            "offer_id": self.offer_id,
            "detail": dict(sorted(self.detail.items())),
        }
