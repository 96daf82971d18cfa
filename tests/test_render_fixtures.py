"""Hand-built Plans for the render tests (the solver is not involved).

Importable helpers only; this module holds no tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from planner.catalog import load_catalog
from planner.cost import CloudLine, tco_inputs
from planner.plan import Deployment, Plan, SelfHosted, Workload
from planner.request import Request


def make_plan(**deployment: Any) -> Plan:
    """A one-option Plan around a hand-written Deployment, priced at a made-up cloud rate."""
    d = Deployment(**deployment)
    line = CloudLine(provider="aws", offer_id="hand-built", monthly_usd=12345.0, as_of=dt.date(2026, 11, 1),
                     stale=False, source="hand-built test fixture", instance_type="hand-built", commit="none",
                     usd_per_instance_hour=12345.0 / 730 / d.replicas, instances=d.replicas,
                     gpus_per_instance=d.gpus_per_replica, gpus_needed=d.total_gpus, hours_per_month=730.0)
    option = SelfHosted(
        model=d.model, deploy="cloud", deployment=d, chosen=line, costs=[line], quality=80.0,
        monthly_cost_usd=12345.0, usd_per_million_tokens=0.5, ttft_ms=850.0, tpot_ms=28.0, capacity_rps=4.2,
        capacity_tokens_per_day=1.0e9, priced_rps=4.0, priced_basis="arrival rate",
        batch_per_replica=d.max_num_seqs,
    )
    workload = Workload(task="chat", isl=2048, osl=512, prefix_hit=0.0, images_per_request=0, image_pixels=0,
                        video_frames_per_request=0, frame_pixels=0, visual_tokens=0.0, ttft_ms=2000.0,
                        tpot_ms=50.0, load="arrival_rate", arrival_rps=4.0, concurrency=None)
    return Plan(
        version="0.1.0", request=Request(task="chat", rps=4.0), workload=workload, commit="none",
        tco=tco_inputs(load_catalog().tco), as_of=dt.date(2026, 12, 1), recommended=option, alternatives=[],
        rejected=[], queueing_model="M/M/c per replica", candidates_evaluated=1,
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
        max_num_batched_tokens=16384, mtp_tokens=1, gpu_memory_utilization=0.9, language_model_only=True,
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


def gb200_plan(**overrides: Any) -> Plan:
    """A replica over two GB200 trays (4 GPUs each) of one NVL72 rack: multi-node NVLink."""
    return multinode_plan(**{"gpu": "gb200", "tp": 4, "pp": 2, "gpus_per_replica": 8, **overrides})


def amd_plan(**overrides: Any) -> Plan:
    """One MI300X per replica: ROCm image, device groups, no MTP (no published ROCm recipe)."""
    return moe_plan(**{"gpu": "mi300x", "tp": 1, "ep": 1, "gpus_per_replica": 1, "mtp_tokens": 0, **overrides})


# name -> (plan factory, autoscaler) for the golden files
# A business-hours profile (UTC): 1 replica at night, 2 on the shoulders, 3 from 10:00 to 18:00.
BUSINESS_HOURS = (1,) * 7 + (2,) * 3 + (3,) * 8 + (2,) * 3 + (1,) * 3


def profile_plan(**overrides: Any) -> Plan:
    """The MoE plan with its replicas following an hourly load profile (KEDA cron windows)."""
    return moe_plan(**{"replicas_by_hour": BUSINESS_HOURS, **overrides})


GOLDEN: dict[str, tuple[Any, str]] = {
    "dense-27b-fp8-h100": (dense_plan, "hpa"),
    "moe-122b-fp8-h200-ep": (moe_plan, "keda"),
    "multinode-122b-bf16-a100": (multinode_plan, "hpa"),
    "multinode-122b-bf16-gb200": (gb200_plan, "hpa"),
    "moe-122b-fp8-mi300x": (amd_plan, "hpa"),
    "moe-122b-fp8-h200-profile": (profile_plan, "keda"),
}
