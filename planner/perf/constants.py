"""Load the engine defaults (engines.yaml) and fitted efficiencies (efficiency.yaml) once."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from planner.errors import CatalogError


@dataclass(frozen=True)
class EngineConsts:
    gpu_memory_utilization: float
    reserve_gib: float
    max_num_seqs: int
    chunk_tokens: int
    mixed_chunk: bool
    state_slots: int
    small_gpu_gib: float = 0.0
    """GPUs with less usable memory get the smaller defaults below (vLLM: < 70 GiB)."""
    small_max_num_seqs: int = 0
    small_chunk_tokens: int = 0


@dataclass(frozen=True)
class FamilyEff:
    """Achievable fractions of peak and fixed costs for one GPU family (fitted)."""

    bandwidth: float
    """Fraction of peak HBM bandwidth reached by decode steps."""
    compute: float
    """Fraction of peak tensor FLOPS reached by prefill / large-batch steps."""
    step_overhead_ms: float
    """Fixed engine cost per forward step (scheduling, sampling, launches)."""
    allreduce_us: float
    """Latency of one tensor-parallel all-reduce (two per layer)."""
    fitted: bool = True


@dataclass(frozen=True)
class Constants:
    engines: dict[str, EngineConsts]
    families: dict[str, FamilyEff]
    fallback_family: str
    mtp_acceptance: float
    draft_overhead_fraction: float
    link_efficiency: float
    moe_compute: float
    """Efficiency of routed-expert GEMMs relative to dense ones (small per-expert token groups)."""
    quant_compute: float
    """Share of the FP8/FP4 tensor-rate gain over BF16 that kernels realise (0 none, 1 all)."""
    request_overhead_ms: dict[str, float]
    """Per engine, fixed cost in every TTFT: HTTP, tokenise, admission and scheduling, first-token
    detokenise and stream. Software, so it belongs to the engine rather than to the GPU."""
    source: str
    as_of: str

    def family(self, name: str) -> FamilyEff:
        eff = self.families.get(name)
        if eff is not None:
            return eff
        base = self.families[self.fallback_family]
        return FamilyEff(base.bandwidth, base.compute, base.step_overhead_ms, base.allreduce_us, fitted=False)


def _read(name: str) -> dict[str, Any]:
    text = (resources.files("planner.perf") / name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "source" not in data or "as_of" not in data:
        raise CatalogError(f"planner/perf/{name}: needs a mapping with `source` and `as_of`")
    return data


@functools.cache
def constants() -> Constants:
    eng, eff = _read("engines.yaml"), _read("efficiency.yaml")
    try:
        engines = {k: EngineConsts(**v) for k, v in eng["engines"].items()}
        families = {k: FamilyEff(**v) for k, v in eff["families"].items()}
        return Constants(
            engines=engines,
            families=families,
            fallback_family=str(eff["fallback_family"]),
            mtp_acceptance=float(eng["mtp"]["acceptance"]),
            draft_overhead_fraction=float(eng["mtp"]["draft_overhead_fraction"]),
            link_efficiency=float(eff["link_efficiency"]),
            moe_compute=float(eff["moe_compute"]),
            quant_compute=float(eff["quant_compute"]),
            request_overhead_ms={str(k): float(v) for k, v in eff["request_overhead_ms"].items()},
            source=str(eff["source"]),
            as_of=str(eff["as_of"]),
        )
    except (KeyError, TypeError) as exc:
        raise CatalogError(f"planner/perf constants malformed: {exc}") from None
