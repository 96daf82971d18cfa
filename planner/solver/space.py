"""The candidate configurations to search: every model × checkpoint × GPU × engine × TP × MTP allowed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from planner.catalog import Catalog
from planner.catalog.schema import ENGINES, Engine, GpuSpec, Precision
from planner.feasibility import Layout, Problem, check, mtp_choices, tp_choices
from planner.perf import Config
from planner.solver.resolve import Resolved

# Expert parallelism is not searched: in the performance model an EP group holds the same expert
# bytes per GPU as TP and only swaps the FFN all-reduce for a k-fold all-to-all, so EP never wins;
# what makes it win in practice (wider expert GEMMs, less TP traffic at DP-attention scale) is not
# modelled yet. `estimate --ep` and the renderers still take it.
EP_SEARCHED = False


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


def configurations(res: Resolved, catalog: Catalog) -> Iterator[tuple[Family, Config | Problem]]:
    """Every self-hosted configuration the request allows, by family; a Problem when none can exist.

    KV cache stays BF16 (the engines' default): the hybrid models' KV is small, and FP8 KV would
    add an unmeasured quality risk to every plan.
    """
    req = res.request
    engines: tuple[Engine, ...] = (req.engine,) if req.engine else ENGINES
    # Same rule as the rendered deployment: no images or video -> the encoder is not loaded.
    text_only = res.workload.text_only
    # How well the MTP head drafts this task's text (catalog, per task); None: the engines' default.
    acc = catalog.task(req.task).mtp_acceptance
    acceptance = acc.per_token if acc is not None else None
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
                    tps = tp_choices(model, gpu, ckpt.precision, engine)
                    if not tps:
                        problem = check(model, gpu, ckpt.precision, engine, Layout(1)).problem
                        if problem is not None:
                            yield fam, problem
                        continue
                    for tp in tps:
                        for mtp in mtp_choices(model, engine, gpu) if arch.mtp_layers else (0,):
                            yield fam, Config(
                                model=model,
                                gpu=gpu,
                                precision=ckpt.precision,
                                tp=tp,
                                ep=1,  # see EP_SEARCHED
                                kv_dtype="bf16",
                                engine=engine,
                                mtp=mtp,
                                mtp_acceptance=acceptance if mtp else None,
                                # vLLM's --language-model-only skips the encoder; SGLang loads it regardless.
                                language_model_only=text_only and engine == "vllm",
                            )
