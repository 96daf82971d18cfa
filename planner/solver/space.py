"""The request resolved against task defaults, and the candidate configurations to search."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from planner import clock
from planner.catalog.loader import Catalog
from planner.catalog.schema import ENGINES, Engine, GpuSpec, Precision
from planner.errors import CatalogError, RequestError
from planner.feasibility import tp_choices
from planner.perf import Config, Shape
from planner.request import Request
from planner.solver.quality import quality

SECONDS_PER_MONTH = 730.0 * 3600.0
MTP_CHOICES = (0, 2)  # off, or the model card's 2 speculative tokens
# Expert parallelism is not searched: in the performance model an EP group holds the same expert
# bytes per GPU as TP and only swaps the FFN all-reduce for a k-fold all-to-all, so EP never wins;
# what makes it win in practice (wider expert GEMMs, less TP traffic at DP-attention scale) is not
# modelled yet. `estimate --ep` and the renderers still take it.
EP_SEARCHED = False


@dataclass(frozen=True)
class Resolved:
    """Everything the search needs, with task defaults filled in."""

    request: Request
    isl: int
    osl: int
    shape: Shape
    ttft_ms: float
    tpot_ms: float
    arrival_rps: float | None  # open-loop load
    concurrency: int | None  # closed-loop load
    today: dt.date  # what staleness is judged against: read once per plan
    _quality: dict[tuple[str, str | None], float | None] = field(default_factory=dict, compare=False)

    def quality(self, catalog: Catalog, model_id: str, precision: str | None) -> float | None:
        """Task quality, memoised: every configuration of a model/precision shares it."""
        key = (model_id, precision)
        if key not in self._quality:
            self._quality[key] = quality(catalog, model_id, precision, self.request.task)
        return self._quality[key]

    @property
    def has_load(self) -> bool:
        return self.arrival_rps is not None or self.concurrency is not None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {
            "task": self.request.task,
            "isl": self.isl,
            "osl": self.osl,
            "images_per_request": self.shape.images,
            "video_frames_per_request": self.shape.video_frames,
            "prefix_hit": self.shape.prefix_hit,
            "ttft_ms": self.ttft_ms,
            "tpot_ms": self.tpot_ms,
            "arrival_rps": self.arrival_rps,
            "concurrency": self.concurrency,
        }


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
    rps = request.rps
    if request.tokens_per_day is not None:
        # Tokens a request really carries, images and frames included (the encoders share geometry).
        visual = max((visual_tokens_of(shape, catalog, m) for m in catalog.models), default=0)
        rps = request.tokens_per_day / 86400.0 / (isl + visual + osl)
    return Resolved(
        request=request,
        isl=isl,
        osl=osl,
        shape=shape,
        ttft_ms=request.ttft_ms or task.targets.ttft_ms,
        tpot_ms=request.tpot_ms or task.targets.tpot_ms,
        arrival_rps=rps,
        concurrency=request.concurrency,
        today=clock.today(),
    )


def visual_tokens_of(shape: Shape, catalog: Catalog, model_id: str) -> int:
    """Prompt tokens the images/frames add (patch 16 × spatial merge 2: one token per 32×32 px)."""
    model = catalog.model(model_id)
    if model.architecture is None and model.hosted_twin_of:
        model = catalog.model(model.hosted_twin_of)
    arch = model.architecture
    if arch is None:
        return 0
    v = arch.vision
    px_per_token = (v.patch_size * v.spatial_merge_size) ** 2
    image = shape.images * shape.image_pixels / px_per_token
    video = shape.video_frames * shape.frame_pixels / px_per_token / v.temporal_patch_size
    return round(image + video)


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


@dataclass(frozen=True)
class Family:
    """What a rejection is reported against: one model/precision/GPU/engine combination."""

    model: str
    precision: Precision
    gpu: str
    engine: Engine

    def __str__(self) -> str:
        return f"{self.model} {self.precision} on {self.gpu} ({self.engine})"


def nodes_for(tp: int, gpu: GpuSpec) -> int:
    return math.ceil(tp / gpu.gpus_per_node)


def configurations(res: Resolved, catalog: Catalog) -> Iterator[tuple[Family, Config | None]]:
    """Every self-hosted configuration the request allows, by family; None = precision unsupported.

    KV cache stays BF16 (the engines' default): the hybrid models' KV is small, and FP8 KV would
    add an unmeasured quality risk to every plan.
    """
    req = res.request
    engines: tuple[Engine, ...] = (req.engine,) if req.engine else ENGINES
    # Same rule as the rendered deployment: no images or video -> the encoder is not loaded.
    text_only = res.shape.images == 0 and res.shape.video_frames == 0
    for model in catalog.models.values():
        if not model.open_weights or (req.models and model.id not in req.models):
            continue
        arch = model.architecture
        assert arch is not None
        for ckpt in model.checkpoints:
            if req.precisions and ckpt.precision not in req.precisions:
                continue
            for gpu in catalog.gpus.values():
                if req.gpus and gpu.id not in req.gpus:
                    continue
                for engine in engines:
                    fam = Family(model.id, ckpt.precision, gpu.id, engine)
                    if ckpt.precision not in gpu.native_precisions:
                        yield fam, None
                        continue
                    for tp in tp_choices(model, gpu):
                        for mtp in MTP_CHOICES if arch.mtp_layers else (0,):
                            yield fam, Config(
                                model=model,
                                gpu=gpu,
                                precision=ckpt.precision,
                                tp=tp,
                                ep=1,  # see EP_SEARCHED
                                kv_dtype="bf16",
                                engine=engine,
                                mtp=mtp,
                                # vLLM's --language-model-only skips the encoder; SGLang loads it regardless.
                                language_model_only=text_only and engine == "vllm",
                            )
