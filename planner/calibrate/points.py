"""Map measurements to configurations the performance model can predict (`fit.Point`).

A result file says what was measured; what it leaves out (GPU, TP, precision, engine, replicas) comes
from `Setup`, built by the CLI from flags and the benchmarked plan.json. A measurement that still
cannot be mapped is refused with one line naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from planner.calibrate.fit import Point
from planner.calibrate.measurement import Deployed, Measurement
from planner.catalog import Catalog
from planner.catalog.schema import ENGINES, PRECISIONS, KvDtype
from planner.errors import PlannerError, RequestError
from planner.feasibility import Layout, check
from planner.perf import Config, Shape
from planner.perf.constants import parse_version


@dataclass(frozen=True, kw_only=True)
class Setup(Deployed):
    """What the benchmarked deployment was, where the result files do not say (None: not given)."""

    kv_dtype: KvDtype = "bf16"
    language_model_only: bool = False

    def given(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(Deployed)}


def _need(m: Measurement, name: str) -> object:
    v = getattr(m, name)
    if v is None:
        flag = {"concurrency": "the file's concurrency", "isl": "input lengths", "osl": "output lengths"}
        if name in flag:
            raise RequestError(f"{m.source}: {name}: not in the file ({flag[name]} are needed to place the run)")
        raise RequestError(f"{m.source}: {name}: not in the file; give --{name} or --plan plan.json")
    return v


def release(version: str | None) -> str | None:
    """The engine release a run names, so it is predicted with that release's defaults (planner/perf/
    engines.yaml `by_version`: pool sizes, chunking); None (the pinned release's) for text naming no
    release number, as `main` or a nightly build, the same rule the shipped fit applies to its rows."""
    if version is None:
        return None
    try:
        parse_version(version)
    except ValueError:
        return None
    return version


def to_point(m: Measurement, setup: Setup, cat: Catalog) -> Point:
    """The configuration `m` ran on, with flags (`setup`) overriding the file where both say something."""
    flags = {k: v for k, v in setup.given().items() if v is not None}
    m = Measurement(**{**m.__dict__, **flags})
    model_name, gpu_name = str(_need(m, "model")), str(_need(m, "gpu"))
    try:
        model = cat.model(model_name)
        gpu = cat.gpu(gpu_name)
    except PlannerError as exc:
        raise RequestError(f"{m.source}: {exc}") from None
    precision = str(_need(m, "precision")).lower()
    named = [c for c in model.checkpoints if c.repo.lower() == str(m.model).lower()]
    if named and precision != named[0].precision:
        raise RequestError(f"{m.source}: precision: {m.model} is the {named[0].precision} checkpoint, not {precision}")
    if precision not in PRECISIONS:
        raise RequestError(f"{m.source}: precision: {precision!r} is not one of {', '.join(PRECISIONS)}")
    engine = str(_need(m, "engine")).lower()
    if engine not in ENGINES:
        raise RequestError(f"{m.source}: engine: {engine!r} is not one of {', '.join(ENGINES)}")
    tp = int(str(_need(m, "tp")))
    ep = m.ep or 1
    verdict = check(model, gpu, precision, engine, Layout(tp=tp, ep=ep), hypothetical=True)
    if verdict.problem is not None:
        raise RequestError(f"{m.source}: {verdict.problem.at()}")
    isl, osl, conc = (float(str(_need(m, k))) for k in ("isl", "osl", "concurrency"))
    if isl < 1 or osl < 1:
        raise RequestError(f"{m.source}: isl/osl: must be >= 1 token (got {isl:g}/{osl:g})")
    replicas = m.replicas or 1
    hit = m.prefix_hit or 0.0
    if not 0.0 <= hit <= 1.0:
        raise RequestError(f"{m.source}: prefix_hit: must be within 0..1 (got {hit})")
    cfg = Config(model=model, gpu=gpu, precision=precision, tp=tp, ep=ep, kv_dtype=setup.kv_dtype,
                 engine=engine, mtp=m.mtp or 0, language_model_only=setup.language_model_only,
                 engine_version=release(m.engine_version))
    label = f"{model.id}/{gpu.id}/{precision}/tp{tp}/{engine} isl {isl:.0f} osl {osl:.0f} c {conc:g}"
    # A client's throughput includes each request's TTFT, which the model's decode throughput leaves out:
    # beside a measured TPOT it would pull the fit the wrong way, so it counts only where TPOT is missing.
    thr = m.output_tokens_per_s / replicas if m.output_tokens_per_s and not m.tpot_ms else None
    return Point(label, cfg, Shape(isl=round(isl), osl=round(osl), prefix_hit=hit), max(round(conc / replicas), 1),
                 m.ttft_ms or None, m.tpot_ms or None, thr, gpu.family, m.source)
