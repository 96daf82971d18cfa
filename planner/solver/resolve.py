"""The request resolved against its task's defaults: the Plan's Workload plus what the search needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from planner import clock
from planner.catalog import Catalog
from planner.errors import CatalogError, RequestError
from planner.perf import Shape
from planner.perf.tokens import visual
from planner.plan import DeployKind, LoadKind, Workload
from planner.request import Request
from planner.solver.quality import QUALITY_NOISE_POINTS, output_tokens, quality, thinking_for


@dataclass(frozen=True)
class Resolved:
    """Everything the search needs, with task defaults filled in."""

    request: Request
    workload: Workload
    shape: Shape
    today: dt.date  # what staleness is judged against: read once per plan
    deploys: frozenset[DeployKind] = frozenset({"cloud", "api"})  # where the plan may run (see deploy_kinds)
    _quality: dict[tuple[str, str | None], float | None] = field(default_factory=dict, compare=False)

    def quality(self, catalog: Catalog, model_id: str, precision: str | None) -> float | None:
        """Task quality, memoised: every configuration of a model/precision shares it."""
        key = (model_id, precision)
        if key not in self._quality:
            self._quality[key] = quality(catalog, model_id, precision, self.request.task, self.workload.thinking)
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

    @property
    def sizing_rps(self) -> float | None:
        """The open-loop rate replicas are sized for: the peak when given, else the (average) load."""
        return self.workload.peak_rps or self.workload.arrival_rps

    @property
    def think_s(self) -> float:
        return self.workload.think_time_s

    def users_rps(self, service_s: float) -> float:
        """Closed loop: N users, each issuing a request per think time plus the request's own latency."""
        assert self.concurrency is not None
        return self.concurrency / (self.think_s + service_s)

    @property
    def quality_tolerance(self) -> float:
        """Quality points within which options tie (benchmark noise unless the request says otherwise)."""
        t = self.request.quality_tolerance
        return QUALITY_NOISE_POINTS if t is None else t


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
    think = thinking_for(task, request.thinking)
    # --osl is the whole output as the user measured it; the task's osl is re-sized for the thinking mode.
    mode_osl, longest = output_tokens(task, think)
    osl = request.osl or mode_osl
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
    if request.rps is not None or request.tokens_per_day is not None or request.load_profile is not None:
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
        think_time_s=request.think_time_s or 0.0,
        thinking=think.mode,
        thinking_tokens=0 if request.osl else think.tokens,
        max_output_tokens=osl if request.osl else max(osl, longest),
    )
    if request.load_profile is not None:
        if request.peak_rps is not None:
            raise RequestError("--peak-rps contradicts --load-profile: the profile's busiest hour is the peak; "
                               "drop one of them")
        profile = request.load_profile
        workload = workload.model_copy(update={"load_profile": profile, "arrival_rps": sum(profile) / len(profile),
                                               "peak_rps": max(profile)})
    if request.peak_rps is not None:
        average = workload.arrival_rps
        if average is None:
            raise RequestError("--peak-rps: is the peak of an open-loop load; give the average as --rps or "
                               "--tokens-per-day")
        if request.peak_rps < average:
            raise RequestError(f"--peak-rps: must be at least the average load ({average:g} req/s), "
                               f"got {request.peak_rps:g}")
        workload = workload.model_copy(update={"peak_rps": request.peak_rps})
    if request.think_time_s is not None and request.concurrency is None:
        raise RequestError("--think-time-s: applies to closed-loop users; give --concurrency N with it")
    if request.tokens_per_day is not None:
        workload = workload.model_copy(
            update={"arrival_rps": workload.rps_for_tokens_per_day(request.tokens_per_day)})
    return Resolved(request=request, workload=workload, shape=shape, today=clock.today(),
                    deploys=deploy_kinds(request, catalog))


def deploy_kinds(request: Request, catalog: Catalog) -> frozenset[DeployKind]:
    """Where the plan may run. `--budget` is monthly cash, so buying hardware is considered only when
    the user allows it (`--deploy onprem|any` or a `--capex-budget`); cloud-only flags (`--commit`, a
    cloud provider in `--providers`) contradict an explicit wish to buy: one line naming both flags."""
    clouds = {o.provider for o in catalog.cloud.values()}
    cloud_only = []
    if request.commit != "none":
        cloud_only.append(f"--commit {request.commit}")
    named = sorted(set(request.providers or ()) & clouds)
    if named:
        cloud_only.append(f"--providers {','.join(named)}")
    buy = []
    if request.deploy in ("onprem", "any"):
        buy.append(f"--deploy {request.deploy}")
    if request.capex_budget is not None:
        buy.append("--capex-budget")
    if cloud_only and buy:
        raise RequestError(f"{cloud_only[0]} contradicts {buy[0]}: {cloud_only[0].split()[0]} applies to cloud "
                           "rental only, and on-prem cannot be rented; use --deploy cloud, or drop one of them")
    if request.capex_budget is not None and request.deploy in ("cloud", "api"):
        raise RequestError(f"--capex-budget contradicts --deploy {request.deploy}: a purchase budget needs "
                           "on-prem; use --deploy onprem or any, or drop --capex-budget")
    if request.commit != "none" and request.deploy == "api":
        raise RequestError(f"--commit {request.commit} contradicts --deploy api: hosted APIs are billed per "
                           "token with no commitment; use --deploy cloud, or drop --commit")
    if request.deploy is None:
        return frozenset({"cloud", "api", "onprem"} if request.capex_budget is not None else {"cloud", "api"})
    if request.deploy == "any":
        return frozenset({"cloud", "api", "onprem"})
    return frozenset({request.deploy})


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
