"""Hand-built Plans for the render tests (the solver is not involved).

Importable helpers only; this module holds no tests.
"""

from __future__ import annotations

from typing import Any

from planner.plan import Deployment, Option, Plan
from planner.request import Request


def make_plan(**deployment: Any) -> Plan:
    d = Deployment(**deployment)
    option = Option(
        model=d.model, precision=d.precision, gpu=d.gpu, tp=d.tp, ep=d.ep, replicas=d.replicas,
        total_gpus=d.gpus_per_replica * d.replicas, engine=d.engine, mtp_tokens=d.mtp_tokens,
        deploy="cloud", provider="aws", instance="hand-built", instances=d.replicas,
        monthly_cost_usd=12345.0, usd_per_million_tokens=0.5, ttft_ms=850.0, tpot_ms=28.0,
        capacity_rps=4.2, capacity_tokens_per_day=1.0e9, batch_per_replica=d.max_num_seqs, quality=80.0,
    )
    return Plan(
        version="0.1.0", request=Request(task="chat"),
        resolved={"isl": 2048, "osl": 512, "ttft_ms": 2000.0, "tpot_ms": 50.0, "load": "4 rps"},
        recommended=option, deployment=d, alternatives=[], rejected=[],
        queueing_model="M/M/c per replica", candidates_evaluated=1,
    )


def dense_plan(**overrides: Any) -> Plan:
    """Qwen3.5-27B FP8 on one H100 SXM: a single-GPU Deployment."""
    base: dict[str, Any] = dict(
        model="qwen3.5-27b", checkpoint="Qwen/Qwen3.5-27B-FP8", precision="fp8", kv_dtype="fp8",
        engine="vllm", gpu="h100-sxm", tp=1, ep=1, pp=1, dp=1, gpus_per_replica=1, nodes_per_replica=1,
        replicas=1, max_model_len=32768, max_num_seqs=64, max_num_batched_tokens=8192, mtp_tokens=1,
        gpu_memory_utilization=0.9, language_model_only=True,
    )
    return make_plan(**{**base, **overrides})


def moe_plan(**overrides: Any) -> Plan:
    """Qwen3.5-122B-A10B FP8, TP2 with expert parallel on H200, three replicas."""
    base: dict[str, Any] = dict(
        model="qwen3.5-122b-a10b", checkpoint="Qwen/Qwen3.5-122B-A10B-FP8", precision="fp8",
        kv_dtype="bf16", engine="vllm", gpu="h200", tp=2, ep=2, pp=1, dp=1, gpus_per_replica=2,
        nodes_per_replica=1, replicas=3, max_model_len=65536, max_num_seqs=128,
        max_num_batched_tokens=16384, mtp_tokens=3, gpu_memory_utilization=0.9, language_model_only=True,
    )
    return make_plan(**{**base, **overrides})


def multinode_plan(**overrides: Any) -> Plan:
    """Qwen3.5-122B-A10B BF16 on 16 x A100 40GB: TP8 x PP2 over two 8-GPU nodes, two replicas."""
    base: dict[str, Any] = dict(
        model="qwen3.5-122b-a10b", checkpoint="Qwen/Qwen3.5-122B-A10B", precision="bf16",
        kv_dtype="bf16", engine="vllm", gpu="a100-40gb", tp=8, ep=1, pp=2, dp=1, gpus_per_replica=16,
        nodes_per_replica=2, replicas=2, max_model_len=32768, max_num_seqs=64,
        max_num_batched_tokens=8192, mtp_tokens=0, gpu_memory_utilization=0.92, language_model_only=False,
    )
    return make_plan(**{**base, **overrides})


# name -> (plan factory, autoscaler) for the golden files
GOLDEN: dict[str, tuple[Any, str]] = {
    "dense-27b-fp8-h100": (dense_plan, "hpa"),
    "moe-122b-fp8-h200-ep": (moe_plan, "keda"),
    "multinode-122b-bf16-a100": (multinode_plan, "hpa"),
}
