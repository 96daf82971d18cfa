"""Load the engine defaults (engines.yaml) and fitted efficiencies (efficiency.yaml) once."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.catalog.snapshot import packaged_yaml
from planner.errors import CatalogError, RequestError


@dataclass(frozen=True)
class EngineConsts:
    gpu_memory_utilization: float
    reserve_gib: float
    max_num_seqs: int
    chunk_tokens: int
    mixed_chunk: bool
    state_slots: int
    """Recurrent-state slots each running request holds (engine's cache strategy; engines.yaml)."""
    spec_state_slots: int = 0
    """With n draft tokens a request holds n + this many more (rollback states of speculative verify)."""
    state_pool_share: float = 0.0
    """Share of the KV+state pool reserved for recurrent state (SGLang's separate mamba pool); 0: shared."""
    small_gpu_gib: float = 0.0
    """GPUs with less usable memory get the smaller defaults below (vLLM: < 70 GiB)."""
    small_max_num_seqs: int = 0
    small_chunk_tokens: int = 0
    recv_interval: int = 1
    """Decode steps between the scheduler's polls for new requests (SGLang `--scheduler-recv-interval`,
    default 1; a prefill step makes it poll at once: 0.5.23 managers/scheduler_components/recv_skipper.py,
    the same rule as 0.5.5.post3 managers/scheduler_recv_skipper.py)."""


Version = tuple[int, ...]
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_BOUND = re.compile(r"^\s*(<=|>=|<|>|==)\s*(\d+(?:\.\d+)*)\s*$")


def parse_version(text: str) -> Version:
    """`0.5.8.post1` -> (0, 5, 8); `0.23` -> (0, 23, 0). Raises ValueError on text without one."""
    m = _VERSION.search(text)
    if m is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(g or 0) for g in m.groups())


_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class VersionRule:
    """Engine defaults of a range of older releases (engines.yaml `by_version`), e.g. `>=0.5.6,<0.5.14`."""

    bounds: tuple[tuple[str, Version], ...]
    consts: EngineConsts

    def matches(self, version: Version) -> bool:
        return all(_OPS[op](version, v) for op, v in self.bounds)


def _bounds(spec: str) -> tuple[tuple[str, Version], ...]:
    out = []
    for part in spec.split(","):
        m = _BOUND.match(part)
        if m is None:
            raise CatalogError(f"planner/perf/engines.yaml: by_version `versions` {spec!r}: "
                               "expected comparisons like `>=0.5.6,<0.5.14`")
        out.append((m.group(1), parse_version(m.group(2))))
    return tuple(out)


@dataclass(frozen=True)
class Interconnect:
    """How an all-reduce uses one interconnect kind (interconnects.yaml)."""

    hop_us: float
    """Latency of one step of the ring (2(tp-1) steps per all-reduce)."""
    mesh_links: int = 0
    """0: switched fabric; else point-to-point links per GPU, of which a TP group uses tp-1."""


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
    request_overhead_ms: dict[str, float] | None = None
    """Per engine, this family's own fixed TTFT cost (a calibration profile); None: the engine's."""


FIT_FIELDS: tuple[str, ...] = ("bandwidth", "compute", "step_overhead_ms", "allreduce_us")
"""The `FamilyEff` fields fitted per GPU family on measurements (bench/fit_efficiency.py)."""
FIT_BOUNDS: dict[str, tuple[float, float]] = {
    # Physical limits: a fraction of a peak is within (0, 1], and no kernel sustains the spec-sheet HBM rate
    # (refresh, ECC, row switches: a device-to-device copy reaches ~0.9 of it); costs are positive and below
    # what any measured step or collective shows (a 20 ms step or an 80 us all-reduce is already pathological).
    "bandwidth": (0.3, 0.92),
    "compute": (0.05, 0.9),
    "step_overhead_ms": (0.2, 20.0),
    "allreduce_us": (2.0, 80.0),
}
FIT_NEUTRAL: dict[str, float] = {"bandwidth": 0.7, "compute": 0.4, "step_overhead_ms": 1.0, "allreduce_us": 30.0}
"""Start point of fits that must not see the shipped values (cross-validation)."""
GLOBAL_FIT_FIELDS: tuple[str, ...] = ("moe_compute", "quant_compute", "seq_step_us")
"""Scalar `Constants` fields fitted across all families; the `PER_ENGINE_FIT_FIELDS` are fitted per engine."""
PER_ENGINE_FIT_FIELDS: tuple[str, ...] = ("request_overhead_ms", "multi_gpu_request_ms")
GLOBAL_FIT_BOUNDS: dict[str, tuple[float, float]] = {
    "moe_compute": (0.05, 1.0),
    "quant_compute": (0.0, 1.0),
    "seq_step_us": (0.0, 50.0),
    "multi_gpu_request_ms": (0.0, 200.0),
    "request_overhead_ms": (0.0, 300.0),
}
GLOBAL_FIT_NEUTRAL: dict[str, float] = {"moe_compute": 0.5, "quant_compute": 0.5, "seq_step_us": 5.0,
                                         "multi_gpu_request_ms": 1.0, "request_overhead_ms": 50.0}


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
    seq_step_us: float = 0.0
    """Cost each decoding request adds to every step, independent of its context: the per-request work of
    the scheduler and output processor (block tables, incremental detokenise, stop checks) and its sampling.
    Global: the same software on every GPU. Per request, not per verified position: with MTP a step yields
    1 + a + … tokens for one request's bookkeeping, so drafting amortises it."""
    multi_gpu_request_ms: dict[str, float] = dataclasses.field(default_factory=dict)
    interconnects: dict[str, Interconnect] = dataclasses.field(default_factory=dict)
    """Extra fixed TTFT cost of a request on a TP group (tp > 1): the request is handed to every rank's
    scheduler, and its prefill runs outside the decode CUDA graphs, launching each layer's kernels and
    collectives eagerly on every rank. Per engine: SGLang runs a scheduler per rank, vLLM one."""
    calibration: str | None = None
    """The calibration profile in force (one line naming it), None for the shipped constants alone."""
    calibration_families: frozenset[str] | None = None
    """The GPU families that profile calibrated."""
    engine_versions: dict[str, tuple[VersionRule, ...]] = dataclasses.field(default_factory=dict)
    """Per engine, the defaults of older releases where they differ from the pinned one (first match wins)."""

    def engine(self, name: str, version: str | None = None) -> EngineConsts:
        """The engine's defaults at `version` (None: the pinned release that plans deploy)."""
        if version is None:
            return self.engines[name]
        try:
            v = parse_version(version)
        except ValueError:
            raise RequestError(f"engine_version: expected a release number like 0.5.15 (got {version!r})") from None
        return next((r.consts for r in self.engine_versions.get(name, ()) if r.matches(v)), self.engines[name])

    def family(self, name: str) -> FamilyEff:
        eff = self.families.get(name)
        if eff is not None:
            return eff
        base = self.families[self.fallback_family]
        return FamilyEff(base.bandwidth, base.compute, base.step_overhead_ms, base.allreduce_us, fitted=False)


def _read(name: str) -> dict[str, Any]:
    data = packaged_yaml(Path(__file__).with_name(name))
    if not isinstance(data, dict) or "source" not in data or "as_of" not in data:
        raise CatalogError(f"planner/perf/{name}: needs a mapping with `source` and `as_of`")
    return data


_CALIBRATED: contextvars.ContextVar[Constants | None] = contextvars.ContextVar("calibrated", default=None)


def constants() -> Constants:
    """The shipped constants, or those of the calibration profile in force (`calibrated`)."""
    return _CALIBRATED.get() or shipped()


@contextlib.contextmanager
def calibrated(consts: Constants) -> Iterator[None]:
    """Within the block, `constants()` is `consts` (planner/calibrate applies a profile with this)."""
    token = _CALIBRATED.set(consts)
    try:
        yield
    finally:
        _CALIBRATED.reset(token)


@functools.cache
def shipped() -> Constants:
    eng, eff, ic = _read("engines.yaml"), _read("efficiency.yaml"), _read("interconnects.yaml")
    try:
        engines, versions = {}, {}
        for k, v in eng["engines"].items():
            older = v.pop("by_version", None) or []
            engines[k] = EngineConsts(**v)
            versions[k] = tuple(VersionRule(_bounds(str(o.pop("versions"))), dataclasses.replace(engines[k], **o))
                                for o in older)
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
            seq_step_us=float(eff["seq_step_us"]),
            request_overhead_ms={str(k): float(v) for k, v in eff["request_overhead_ms"].items()},
            interconnects={str(k): Interconnect(**v) for k, v in ic["interconnects"].items()},
            multi_gpu_request_ms={str(k): float(v) for k, v in (eff.get("multi_gpu_request_ms") or {}).items()},
            source=str(eff["source"]),
            as_of=str(eff["as_of"]),
            engine_versions=versions,
        )
    except (KeyError, TypeError) as exc:
        raise CatalogError(f"planner/perf constants malformed: {exc}") from None
