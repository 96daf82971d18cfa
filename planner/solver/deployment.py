"""The engine-neutral Deployment of a sized configuration: what render turns into flags."""

from __future__ import annotations

import math

from planner import perf
from planner.catalog import Catalog
from planner.plan import Deployment
from planner.solver.evaluate import Sized
from planner.solver.resolve import Resolved
from planner.solver.space import nodes_for


def deployment(sized: Sized, res: Resolved, catalog: Catalog, replicas_by_hour: tuple[int, ...] | None = None
               ) -> Deployment:
    cfg = sized.cfg
    ckpt = catalog.checkpoints_of(cfg.model.id)[cfg.precision]
    arch = cfg.model.architecture
    assert arch is not None
    request = math.ceil(res.workload.input_tokens) + res.osl
    eng = perf.engine_settings(cfg)
    # Headroom over the typical request so longer-than-average prompts are not refused, within what
    # the KV pool can hold for one sequence (engines refuse to start otherwise).
    wanted = min(arch.native_context, _pow2_ceil(2 * request))
    # Room for the longest output the thinking mode allows (its budget, or the card's recommended output
    # length), within the native context and what the KV pool holds for one sequence.
    longest = min(arch.native_context, math.ceil(res.workload.input_tokens) + res.workload.max_output_tokens)
    # The search already refused requests longer than the native context, so this stays within it.
    max_len = max(request, min(max(wanted, longest), eng.max_context_tokens // 1024 * 1024))
    return Deployment(
        model=cfg.model.id,
        checkpoint=ckpt.repo,
        precision=cfg.precision,
        kv_dtype=cfg.kv_dtype,
        engine=cfg.engine,
        gpu=cfg.gpu.id,
        tp=cfg.tp,
        ep=cfg.ep,
        gpus_per_replica=cfg.tp,
        nodes_per_replica=nodes_for(cfg.tp, cfg.gpu),
        replicas=sized.replicas,
        max_model_len=max_len,
        max_num_seqs=sized.batch,
        max_num_batched_tokens=eng.max_num_batched_tokens,
        mtp_tokens=cfg.mtp,
        gpu_memory_utilization=eng.gpu_memory_utilization,
        language_model_only=cfg.language_model_only,
        replicas_by_hour=replicas_by_hour,
    )


def _pow2_ceil(n: int) -> int:
    p = 1024
    while p < n:
        p *= 2
    return p
