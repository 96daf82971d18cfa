"""Run SGLang's own server-argument parser, resolution pipeline and checks on rendered commands.

Input (stdin, JSON): {"cases": [{"id": str, "argv": [...], "device": {...}}]}, where argv is what
follows `python3 -m sglang.launch_server`. Output (stdout, one JSON object per line):
{"id", "ok", "error", "resolved"}. Runs in the engine venv with the pinned wheel's sources on
PYTHONPATH (tests/engines/setup.sh).
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

# Compiled or GPU-only packages SGLang imports while resolving arguments.
KERNEL_PACKAGES = ("sgl_kernel", "flashinfer", "deep_gemm", "sgl_fa", "flash_attn", "vllm", "triton_kernels",
                   "mooncake", "nixl", "aiter")

RESOLVED = ("tp_size", "pp_size", "dp_size", "ep_size", "nnodes", "context_length", "max_running_requests",
            "chunked_prefill_size", "mem_fraction_static", "kv_cache_dtype", "disable_radix_cache",
            "mamba_radix_cache_strategy", "speculative_algorithm", "speculative_num_steps",
            "speculative_eagle_topk", "speculative_num_draft_tokens", "reasoning_parser", "tool_call_parser",
            "attention_backend", "device", "enable_metrics", "served_model_name")


def check(argv: list[str]) -> dict[str, Any]:
    from sglang.srt.server_args import prepare_server_args

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = prepare_server_args(argv)
    except SystemExit:
        return {"ok": False, "error": err.getvalue().strip().splitlines()[-1]}
    args.resolve_once()
    args.check_server_args()
    d = args.resolved_dict()
    return {"ok": True, "error": None, "resolved": {k: d.get(k) for k in RESOLVED}}


def main() -> None:
    cases = json.load(sys.stdin)["cases"]
    if len({json.dumps(c["device"], sort_keys=True) for c in cases}) != 1:
        raise SystemExit("sglang_check: one device per run (the platform is fixed at import)")
    stub_modules(roots=KERNEL_PACKAGES)
    fake_torch_device(Device.from_json(cases[0]["device"]))
    for case in cases:
        try:
            out = check(case["argv"])
        except Exception as exc:  # the engine's own rejection, reported per case
            out = {"ok": False, "error": f"{type(exc).__name__}: {str(exc).strip()}"}
        print(json.dumps({"id": case["id"], **out}, default=str), flush=True)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # The engines leave compile-worker pools and daemon threads behind; their exit handlers add minutes.
    os._exit(0)
