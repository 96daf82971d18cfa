"""The request resolved against its task's defaults: the Plan's Workload plus what the search needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from planner import clock
from planner.catalog import Catalog
from planner.errors import CatalogError, RequestError
from planner.perf import Shape
from planner.perf.tokens import visual
from planner.plan import LoadKind, Workload
from planner.request import Request
from planner.solver.quality import quality


@dataclass(frozen=True)
class Resolved:
    """Everything the search needs, with task defaults filled in."""

    request: Request
    workload: Workload
    shape: Shape
    today: dt.date  # what staleness is judged against: read once per plan
    _quality: dict[tuple[str, str | None], float | None] = field(default_factory=dict, compare=False)

    def quality(self, catalog: Catalog, model_id: str, precision: str | None) -> float | None:
        """Task quality, memoised: every configuration of a model/precision shares it."""
        key = (model_id, precision)
        if key not in self._quality:
            self._quality[key] = quality(catalog, model_id, precision, self.request.task)
        return self._quality[key]

    @property
    def isl(self) -> int:
        return self.workload.isl

    @property
    def osl(self) -> int:
        return self.workload.osl

    @property
    def ttft_ms(self) -> float:
        return self.workload.ttft_ms

    @property
    def tpot_ms(self) -> float:
        return self.workload.tpot_ms

    @property
    def arrival_rps(self) -> float | None:
        return self.workload.arrival_rps

    @property
    def concurrency(self) -> int | None:
        return self.workload.concurrency

    @property
    def has_load(self) -> bool:
        return self.workload.has_load


def visual_tokens(shape: Shape, catalog: Catalog) -> float:
    """Visual prompt tokens per request: the most any model's encoder makes of the shape.

    The load is the same users whatever serves them, so one count converts tokens per day to a
    request rate for every option (the Qwen3.5 models share one ViT, so the count is exact).
    """
    counts = []
    for m in catalog.models.values():
        arch = catalog.open_twin(m.id).architecture
        if arch is not None:
            v = arch.vision
            counts.append(visual(shape, v.patch_size, v.temporal_patch_size, v.spatial_merge_size).tokens)
    return max(counts, default=0.0)


def resolve(request: Request, catalog: Catalog) -> Resolved:
    request = _canonical(request, catalog)
    task = catalog.task(request.task)
    s = task.shape
    isl = request.isl or s.isl
    osl = request.osl or s.osl
    shape = Shape(
        isl=isl,
        osl=osl,
        prefix_hit=s.prefix_hit,
        images=s.images_per_request,
        image_pixels=s.image_pixels,
        video_frames=s.video_frames_per_request,
        frame_pixels=s.video_frame_pixels,
    )
    load: LoadKind = "none"
    if request.rps is not None or request.tokens_per_day is not None:
        load = "arrival_rate"
    elif request.concurrency is not None:
        load = "concurrency"
    workload = Workload(
        task=request.task,
        isl=isl,
        osl=osl,
        prefix_hit=s.prefix_hit,
        images_per_request=s.images_per_request,
        image_pixels=s.image_pixels,
        video_frames_per_request=s.video_frames_per_request,
        frame_pixels=s.video_frame_pixels,
        visual_tokens=visual_tokens(shape, catalog),
        ttft_ms=request.ttft_ms or task.targets.ttft_ms,
        tpot_ms=request.tpot_ms or task.targets.tpot_ms,
        load=load,
        arrival_rps=request.rps,
        concurrency=request.concurrency,
    )
    if request.tokens_per_day is not None:
        workload = workload.model_copy(
            update={"arrival_rps": workload.rps_for_tokens_per_day(request.tokens_per_day)})
    return Resolved(request=request, workload=workload, shape=shape, today=clock.today())


def _canonical(request: Request, catalog: Catalog) -> Request:
    """--gpus/--models as catalog ids (aliases such as `H100` accepted); unknown names are errors."""
    update: dict[str, tuple[str, ...]] = {}
    for flag, name_of, lookup in (("--gpus", "gpus", catalog.gpu), ("--models", "models", catalog.model)):
        given = getattr(request, name_of)
        if given:
            try:
                update[name_of] = tuple(lookup(name).id for name in given)
            except CatalogError as exc:
                raise RequestError(f"{flag}: {exc}") from None
    providers = {o.provider for o in catalog.cloud.values()} | {o.provider for o in catalog.api.values()}
    for name in request.providers or ():
        if name not in providers:
            raise RequestError(f"--providers: unknown {name!r}; accepted: {', '.join(sorted(providers))}")
    return request.model_copy(update=update) if update else request
