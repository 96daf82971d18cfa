"""The neutral Deployment mapped to one engine's command line through engine_flags.yaml.

Pure functions: same Deployment and catalog, same argument list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from planner.catalog import Catalog
from planner.catalog.schema import Engine, GpuSpec
from planner.errors import RequestError
from planner.plan import Deployment
from planner.render.validate import check_deployment

TABLE_PATH = Path(__file__).with_name("engine_flags.yaml")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Image(_Frozen):
    repository: str
    tag: str | None = Field(description="null: no published tag is known for this pinned version.")
    digest: str | None = Field(default=None, description="sha256:… to pin by digest as well as tag.")

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


class MultiNode(_Frozen):
    master_port: int | None = None
    dist_init_port: int | None = None


class EngineSpec(_Frozen):
    version: str
    source: str
    as_of: dt.date
    images: dict[Literal["nvidia", "amd"], Image]
    family_tags: dict[str, str] = Field(default_factory=dict, description="GPU family -> tag, where it differs.")
    amd_image_unknown: str | None = None
    command: list[str]
    port: int
    health_path: str
    metrics_path: str
    queue_metric: str
    env: dict[str, str]
    multinode: MultiNode
    drain: Literal["shutdown_timeout_flag", "native_sigterm"]
    startup_overhead_s: int
    changes: list[str] = Field(default_factory=list, description="What changed from the previous pin.")


class FlagSpec(_Frozen):
    flag: str | None = None
    switch: bool = False
    positional: bool = False
    values: dict[str, str] = Field(default_factory=dict)
    format: Literal["vllm_mtp_json", "sglang_nextn"] | None = None


class Qwen35(_Frozen):
    reasoning_parser: str
    tool_call_parser: str


class Sizing(_Frozen):
    load_bandwidth_bytes_per_s: float = Field(gt=0)
    probe_period_s: int = Field(gt=0)
    cache_headroom: float = Field(ge=1)
    cpu_request_per_gpu: int = Field(gt=0)
    cpu_limit_per_gpu: int = Field(gt=0)
    host_memory_min_gib: int = Field(gt=0)
    host_memory_per_weight_gib: float = Field(gt=0)
    shm_gib_per_gpu: int = Field(gt=0)
    shm_gib_min: int = Field(gt=0)
    shm_gib_max: int = Field(gt=0)
    termination_grace_s: int = Field(gt=0)
    drain_margin_s: int = Field(ge=0)
    prestop_sleep_s: int = Field(gt=0)
    uid: int = Field(ge=10000)
    amd_device_gids: list[int] = Field(min_length=1)
    autoscale_queue_target: int = Field(gt=0)
    autoscale_max_factor: int = Field(ge=1)
    prometheus_address: str


class EngineTable(_Frozen):
    engines: dict[Engine, EngineSpec]
    qwen35: Qwen35
    parameters: dict[str, dict[Engine, FlagSpec | None]]
    sizing: Sizing


@cache
def engine_table() -> EngineTable:
    return EngineTable.model_validate(yaml.safe_load(TABLE_PATH.read_text(encoding="utf-8")))


def engine_image(engine: Engine, gpu: GpuSpec) -> Image:
    """The pinned image for this engine on this GPU: per vendor, and per family where builds differ."""
    spec = engine_table().engines[engine]
    image = spec.images[gpu.vendor]
    tag = spec.family_tags.get(gpu.family, image.tag)
    if tag is None:
        raise RequestError(
            f"gpu: no pinned {engine} {spec.version} image for {gpu.id} ({gpu.vendor}): "
            f"{spec.amd_image_unknown or 'none published'}; accepted: --engine vllm"
        )
    return image.model_copy(update={"tag": tag})


def drain_seconds(engine: Engine) -> int:
    """How long the engine may finish running requests after SIGTERM, inside the pod's grace period."""
    sz = engine_table().sizing
    return sz.termination_grace_s - sz.prestop_sleep_s - sz.drain_margin_s


def _vllm_mtp(tokens: int) -> list[str]:
    return [json.dumps({"method": "mtp", "num_speculative_tokens": tokens}, separators=(",", ":"))]


def _sglang_nextn(tokens: int) -> list[str]:
    # SGLang's NEXTN drafts `steps` tokens in a chain (top-k 1), verifying steps + 1 at once.
    return [
        "--speculative-algorithm", "NEXTN",
        "--speculative-num-steps", str(tokens),
        "--speculative-eagle-topk", "1",
        "--speculative-num-draft-tokens", str(tokens + 1),
    ]


_FORMATS: dict[str, Callable[[int], list[str]]] = {"vllm_mtp_json": _vllm_mtp, "sglang_nextn": _sglang_nextn}


def neutral_values(
    d: Deployment,
    *,
    prefix_caching: bool,
    node_rank: str = "$NODE_RANK",
    leader_address: str = "$LEADER_ADDRESS",
) -> dict[str, str | int | float | bool | None]:
    """The neutral parameters of engine_flags.yaml, resolved for this Deployment (None = omit).

    `prefix_caching`: the plan credits prefix-cache hits, so the engine must keep its prefix cache on.
    `node_rank`: "0" on the leader of a multi-node replica; ranks > 0 run headless.
    """
    t = engine_table()
    spec = t.engines[d.engine]
    multinode = d.nodes_per_replica > 1
    return {
        "model": d.checkpoint,
        "served_model_name": d.model,
        "host": "0.0.0.0",
        "port": spec.port,
        "tensor_parallel_size": d.tp,
        "pipeline_parallel_size": d.pp if d.pp > 1 else None,
        "data_parallel_size": d.dp if d.dp > 1 else None,
        "expert_parallel": (True if d.engine == "vllm" else d.ep) if d.ep > 1 else None,
        "max_model_len": d.max_model_len,
        "max_num_seqs": d.max_num_seqs,
        "max_num_batched_tokens": d.max_num_batched_tokens,
        "gpu_memory_utilization": d.gpu_memory_utilization,
        "kv_cache_dtype": d.kv_dtype,
        "reasoning_parser": t.qwen35.reasoning_parser,
        "auto_tool_choice": True,
        "tool_call_parser": t.qwen35.tool_call_parser,
        "speculative_mtp": d.mtp_tokens or None,
        "language_model_only": d.language_model_only or None,
        "enable_metrics": True,
        "enable_prefix_caching": prefix_caching or None,
        "shutdown_timeout": drain_seconds(d.engine) if spec.drain == "shutdown_timeout_flag" else None,
        "nnodes": d.nodes_per_replica if multinode else None,
        "node_rank": node_rank if multinode else None,
        "master_addr": leader_address if multinode else None,
        "master_port": spec.multinode.master_port if multinode else None,
        "headless": (multinode and node_rank != "0") or None,
        "dist_init_addr": f"{leader_address}:{spec.multinode.dist_init_port}" if multinode else None,
    }


def engine_args(
    deployment: Deployment,
    catalog: Catalog,
    *,
    prefix_caching: bool,
    node_rank: str = "$NODE_RANK",
    leader_address: str = "$LEADER_ADDRESS",
) -> list[str]:
    """Arguments after the engine's command (`vllm serve` / `python3 -m sglang.launch_server`).

    `node_rank` and `leader_address` fill the multi-node flags (Kubernetes passes
    `$(LWS_WORKER_INDEX)`-style references; launch.sh passes shell variables).
    """
    check_deployment(deployment, catalog)
    values = neutral_values(deployment, prefix_caching=prefix_caching, node_rank=node_rank,
                            leader_address=leader_address)
    positional: list[str] = []
    args: list[str] = []
    for param, per_engine in engine_table().parameters.items():
        spec = per_engine.get(deployment.engine)
        value = values[param]
        if spec is None or value is None or value is False:
            continue
        if spec.format is not None:
            if not isinstance(value, int):
                raise TypeError(f"{param}: formatter {spec.format} needs an int")
            rendered = _FORMATS[spec.format](value)
            args += ([spec.flag] if spec.flag else []) + rendered
        elif spec.switch:
            if value is True and spec.flag:
                args.append(spec.flag)
            elif spec.flag:
                args += [spec.flag, str(value)]
        else:
            text = spec.values.get(str(value), str(value))
            if spec.positional:
                positional.append(text)
            elif spec.flag:
                args += [spec.flag, text]
    return positional + args


def engine_command(engine: Engine) -> list[str]:
    return list(engine_table().engines[engine].command)
