"""Each option's predicted TTFT, TPOT and throughput with its p10–p90 error band, as every report shows it.

The bands are the Plan's (`SelfHosted.bands`: the cross-validated residuals of the option's regime,
widened outside the measured range); this module only reads them, so the HTML, XLSX and CSV agree.
A hosted API's latency is its provider's published median: the Plan holds no spread for it, and the
reports say so instead of showing a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.fmt import DASH, num
from planner.plan import SelfHosted
from planner.report.procurement import Option

API_NO_BAND = ("band not available: a hosted API's latency is its provider's published median, "
               "not modelled here; the plan holds no spread for it")
NO_BAND = "band not available: the performance model has no cross-validated error for this configuration"


@dataclass(frozen=True)
class Predicted:
    """A predicted number and its p10–p90 band; either is None when the Plan does not hold it."""

    value: float | None
    band: tuple[float, float] | None
    digits: int  # decimals the reports print it with

    def text(self, unit: str) -> str:
        """`113.1 ms (p10–p90 70.6–346.7)`; the value alone (or `—`) when there is no band."""
        value = DASH if self.value is None else f"{num(self.value, self.digits)} {unit}".rstrip()
        if self.band is None:
            return value
        return f"{value} (p10–p90 {self.range_text()})"

    def range_text(self) -> str:
        return DASH if self.band is None else f"{num(self.band[0], self.digits)}–{num(self.band[1], self.digits)}"


@dataclass(frozen=True)
class OptionBands:
    ttft_ms: Predicted  # p95 TTFT at the sized load
    tpot_ms: Predicted  # p95 TPOT at a full batch
    output_tokens_per_s: Predicted  # per replica at the sized batch: the Plan holds only its band
    regime: str | None  # the concurrency class whose held-out residuals set the band
    widened: tuple[str, ...]  # why the band was widened (empty inside the measured range)
    unavailable: str | None  # why there is no band at all

    @property
    def note(self) -> str:
        """One sentence for the report: why the band is missing or widened; empty when neither."""
        if self.unavailable is not None:
            return self.unavailable
        if self.widened:
            return "band widened, outside the measured range: " + "; ".join(self.widened)
        return ""


def option_bands(o: Option) -> OptionBands:
    if not isinstance(o, SelfHosted):
        none = Predicted(None, None, 1)
        return OptionBands(none, Predicted(None, None, 2), none, None, (), API_NO_BAND)
    b = o.bands
    if b is None:
        return OptionBands(Predicted(o.ttft_ms, None, 1), Predicted(o.tpot_ms, None, 2), Predicted(None, None, 1),
                           None, (), NO_BAND)
    return OptionBands(Predicted(o.ttft_ms, b.ttft_ms, 1), Predicted(o.tpot_ms, b.tpot_ms, 2),
                       Predicted(None, b.output_tokens_per_s, 1), b.regime, tuple(b.outside_measured_range), None)
