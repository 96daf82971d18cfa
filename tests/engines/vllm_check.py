"""Run vLLM's own `vllm serve` argument parser and engine-config checks on rendered commands.

Input (stdin, JSON): {"cases": [{"id": str, "argv": [...], "device": {...}}]}, where argv is what
follows `vllm serve`. Output (stdout, one JSON object per line): {"id", "ok", "error", "resolved"}.
Runs in the engine venv with the pinned wheel's sources on PYTHONPATH (tests/engines/setup.sh).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from typing import Any

from device_shim import Device, fake_torch_device, stub_modules

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")

COMPILED = ("vllm._C", "vllm._C_stable_libtorch", "vllm._qutlass_C", "vllm._moe_C", "vllm._flashmla_C",
            "vllm._rocm_C", "vllm.vllm_flash_attn._vllm_fa2_C", "vllm.vllm_flash_attn._vllm_fa3_C",
            "vllm.cumem_allocator")


def _fake_platform(dev: Device) -> None:
    stub_modules(exact=COMPILED, roots=("amdsmi",) if dev.vendor == "amd" else ())
    fake_torch_device(dev)
    if dev.vendor == "nvidia":
        import vllm.third_party.pynvml as nv

        nv.nvmlInit = lambda: None
        nv.nvmlShutdown = lambda: None
        nv.nvmlDeviceGetCount = lambda: dev.count
        nv.nvmlDeviceGetHandleByIndex = lambda i: i
        nv.nvmlDeviceGetName = lambda h: dev.name
        nv.nvmlDeviceGetCudaComputeCapability = lambda h: dev.capability
        nv.nvmlDeviceGetUUID = lambda h: f"GPU-{h}"
        nv.nvmlDeviceGetP2PStatus = lambda a, b, c: nv.NVML_P2P_STATUS_OK
        import vllm.platforms.cuda as cuda

        cuda.CudaPlatform.device_count = classmethod(lambda cls: dev.count)  # type: ignore[assignment]
    else:
        import amdsmi  # the stand-in

        amdsmi.amdsmi_get_processor_handles.return_value = list(range(dev.count))
        amdsmi.amdsmi_get_gpu_asic_info.return_value = {"market_name": dev.name, "target_graphics_version": dev.gfx}
        import vllm.platforms.rocm as rocm

        rocm.RocmPlatform.device_count = classmethod(lambda cls: dev.count)  # type: ignore[assignment]


def _inspect_in_process() -> None:
    """vLLM inspects model classes in a fresh interpreter so that CUDA is not initialised in the parent;
    with a stand-in GPU nothing initialises, and the fresh interpreter would lack the stand-in."""
    from vllm.model_executor.models import registry

    registry._run_in_subprocess = lambda fn: fn()


def _resolved(cfg: Any) -> dict[str, Any]:
    spec = cfg.speculative_config
    par = cfg.parallel_config
    return {
        "platform": type(__import__("vllm.platforms", fromlist=["current_platform"]).current_platform).__name__,
        "model": cfg.model_config.model,
        "quantization": cfg.model_config.quantization,
        "max_model_len": cfg.model_config.max_model_len,
        "enable_prefix_caching": bool(cfg.cache_config.enable_prefix_caching),
        "mamba_cache_mode": str(getattr(cfg.cache_config, "mamba_cache_mode", None)),
        "cache_dtype": str(cfg.cache_config.cache_dtype),
        "gpu_memory_utilization": cfg.cache_config.gpu_memory_utilization,
        "max_num_seqs": cfg.scheduler_config.max_num_seqs,
        "max_num_batched_tokens": cfg.scheduler_config.max_num_batched_tokens,
        "enable_chunked_prefill": bool(cfg.scheduler_config.enable_chunked_prefill),
        "tensor_parallel_size": par.tensor_parallel_size,
        "pipeline_parallel_size": par.pipeline_parallel_size,
        "data_parallel_size": par.data_parallel_size,
        "enable_expert_parallel": bool(par.enable_expert_parallel),
        "nnodes": getattr(par, "nnodes", 1),
        "distributed_executor_backend": str(par.distributed_executor_backend),
        "speculative_method": None if spec is None else spec.method,
        "num_speculative_tokens": None if spec is None else spec.num_speculative_tokens,
    }


def check(argv: list[str]) -> dict[str, Any]:
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.common.cli_args import make_arg_parser, validate_parsed_serve_args
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit:
        return {"ok": False, "error": err.getvalue().strip().splitlines()[-1]}
    if args.model_tag is not None:  # what `vllm serve MODEL` does (vllm/entrypoints/cli/serve.py)
        args.model = args.model_tag
    validate_parsed_serve_args(args)
    cfg = AsyncEngineArgs.from_cli_args(args).create_engine_config()
    return {"ok": True, "error": None, "resolved": _resolved(cfg)}


def main() -> None:
    cases = json.load(sys.stdin)["cases"]
    devices = {json.dumps(c["device"], sort_keys=True) for c in cases}
    if len(devices) != 1:
        raise SystemExit("vllm_check: one device per run (the platform is fixed at import)")
    _fake_platform(Device.from_json(cases[0]["device"]))
    _inspect_in_process()
    for case in cases:
        try:
            out = check(case["argv"])
        except Exception as exc:  # the engine's own rejection, reported per case
            out = {"ok": False, "error": f"{type(exc).__name__}: {str(exc).strip()}"}
        print(json.dumps({"id": case["id"], **out}), flush=True)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # The engines leave compile-worker pools and daemon threads behind; their exit handlers add minutes.
    os._exit(0)
