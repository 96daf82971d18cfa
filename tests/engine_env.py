"""Run rendered commands through the pinned engines' own parsers and config checks (tests/engines/).

The engines run in their own venv (tests/engines/setup.sh builds .cache/engines/, tests/run.sh
calls it), never in qwen-plan's. Each checkpoint is stood in for by a folder holding the model's
real config.json (catalogs/models/hf-configs/) plus the quantisation block its catalog entry
describes, so the engine resolves the same architecture, context limit and quantisation method it
would from the Hub.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from planner.catalog import Catalog
from planner.catalog.schema import GpuSpec

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ROOT / ".cache" / "engines"
SHIMS = ROOT / "tests" / "engines"
VERSIONS = {"vllm": "0.33.0", "sglang": "0.5.23"}
CHECKERS = {"vllm": "vllm_check.py", "sglang": "sglang_check.py"}

# What the driver reports for each catalog GPU: compute capability (NVIDIA) or gfx target (AMD).
# NVIDIA: developer.nvidia.com/cuda-gpus; AMD: ROCm's GPU specifications table (gfx942 = CDNA3, gfx950 = CDNA4).
CAPABILITY = {"a10g": (8, 6), "l4": (8, 9), "l40s": (8, 9), "a100-40gb": (8, 0), "a100-80gb": (8, 0),
              "h100-pcie": (9, 0), "h100-sxm": (9, 0), "h200": (9, 0), "h20": (9, 0), "b200": (10, 0),
              "b300": (10, 3), "gb200": (10, 0), "rtx-pro-6000": (12, 0),
              "mi300x": (9, 4), "mi325x": (9, 4), "mi355x": (9, 5)}
GFX = {"cdna3": "gfx942", "cdna4": "gfx950"}

# The quantisation block of each precision's checkpoint, as the catalog's checkpoint sources describe it
# (fine-grained FP8 with 128x128 blocks; GPTQ int4, group 128; NVIDIA ModelOpt NVFP4, group 16).
QUANTIZATION: dict[str, dict[str, Any] | None] = {
    "bf16": None,
    "fp8": {"quant_method": "fp8", "activation_scheme": "dynamic", "fmt": "e4m3", "weight_block_size": [128, 128]},
    "int4": {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False, "sym": True},
    "nvfp4": {"quant_method": "modelopt", "quant_algo": "NVFP4", "group_size": 16},
}


def available() -> bool:
    return all((ENGINES / f"{e}-{v}" / ".done").exists() for e, v in VERSIONS.items()) and (
        ENGINES / "venv" / ".done").exists()


# tests/run.sh builds the engines in the background, runs `-m "not engines"`, then `-m engines` with
# QWEN_PLAN_REQUIRE_ENGINES set, so CI never skips these; a developer without .cache/engines does.
REQUIRED = bool(os.environ.get("QWEN_PLAN_REQUIRE_ENGINES"))
NEEDS_ENGINES = [pytest.mark.engines,
                 pytest.mark.skipif(not available() and not REQUIRED, reason="run tests/engines/setup.sh")]


def needs_engines(fn: Any) -> Any:
    for mark in NEEDS_ENGINES:
        fn = mark(fn)
    return fn


def device(gpu: GpuSpec) -> dict[str, Any]:
    return {"vendor": gpu.vendor, "name": gpu.name, "capability": list(CAPABILITY[gpu.id]),
            "memory_gib": gpu.memory_gib_usable, "count": gpu.gpus_per_node, "gfx": GFX.get(gpu.family, "")}


# The chat, reasoning and tool-call markers of the Qwen3.5 tokenizer that the engines' reasoning and
# tool parsers look up at start-up (vLLM's ReasoningConfig tokenizes <think>/</think>). The stand-in
# tokenizer holds only these: the real vocabulary (248k entries) cannot be fetched here.
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>",
                  "</tool_call>", "<tool_response>", "</tool_response>")


def _tokenizer_files(folder: Path) -> None:
    vocab = {t: i for i, t in enumerate(("[UNK]", *SPECIAL_TOKENS))}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for t, i in vocab.items() if t != "[UNK]"],
        "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "unk_token": "[UNK]", "model_max_length": 262144,
        "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}",
    }), encoding="utf-8")


def model_folder(catalog: Catalog, model_id: str, precision: str, root: Path) -> Path:
    """A stand-in checkpoint folder: the real config.json plus this precision's quantisation block,
    and a tokenizer holding the Qwen3.5 special tokens."""
    model = catalog.models[model_id]
    hf = ROOT / "catalogs" / "models" / "hf-configs" / f"{model.name}.config.json"
    config = json.loads(hf.read_text(encoding="utf-8"))
    quant = QUANTIZATION[precision]
    if quant is not None:
        config["quantization_config"] = quant
    folder = root / f"{model_id}-{precision}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    _tokenizer_files(folder)
    return folder


@dataclass(frozen=True)
class Case:
    id: str
    engine: str
    argv: list[str]  # what follows the engine's command
    device: dict[str, Any]


def run(cases: list[Case], home: Path) -> dict[str, dict[str, Any]]:
    """Each case's verdict from the engine's own code: {"ok", "error", "resolved"}.

    One process per engine and device (the platform is fixed at import), run side by side.
    """
    groups: dict[tuple[str, str], list[Case]] = {}
    for c in cases:
        groups.setdefault((c.engine, json.dumps(c.device, sort_keys=True)), []).append(c)
    procs = []
    for n, ((engine, _), group) in enumerate(sorted(groups.items())):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": f"{ENGINES / f'{engine}-{VERSIONS[engine]}'}:{SHIMS}",
               "VLLM_NO_USAGE_STATS": "1", "TOKENIZERS_PARALLELISM": "false",
               "TORCHINDUCTOR_COMPILE_THREADS": "1"}  # no compile-worker pool left behind
        # Files, not pipes: every checker runs at once, and none may block on a full pipe.
        stdin, stdout, stderr = (home / f"check-{n}.{ext}" for ext in ("in", "out", "err"))
        stdin.write_text(json.dumps({"cases": [{"id": c.id, "argv": c.argv, "device": c.device} for c in group]}))
        with stdin.open("rb") as i, stdout.open("wb") as o, stderr.open("wb") as e:
            p = subprocess.Popen([str(ENGINES / "venv" / "bin" / "python"), str(SHIMS / CHECKERS[engine])],
                                 stdin=i, stdout=o, stderr=e, env=env, cwd=home)
        procs.append((p, stdout, stderr, group))
    out: dict[str, dict[str, Any]] = {}
    for p, stdout, stderr, group in procs:
        p.wait(timeout=1200)
        got = {r["id"]: r for r in (json.loads(line) for line in stdout.read_text().splitlines()
                                    if line.startswith("{"))}
        for c in group:
            out[c.id] = got.get(c.id) or {
                "ok": False, "error": f"checker died: {stderr.read_text(errors='replace').strip()[-2000:]}"}
    return out
