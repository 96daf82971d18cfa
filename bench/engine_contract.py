"""Derive each pinned engine's flag contract from its own code, for the renderer's tests.

    bash tests/engines/setup.sh && .venv/bin/python bench/engine_contract.py

For vLLM 0.33.0 and SGLang 0.5.23 (.cache/engines/, the wheels from PyPI): every flag of the real
argument parser (`vllm serve`, `sglang.launch_server`) with whether it takes a value, its choices and
its default (tests/engines/dump_flags.py), and every environment variable whose default is a path
under the home or temp folder (read from the engine's env module), which a pod with a read-only root
and no passwd entry must point at a writable mount. Writes planner/render/contracts/<engine>-<version>.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from engine_env import ENGINES, SHIMS, VERSIONS  # noqa: E402

# Where each engine reads path-valued environment variables (in the wheel), and the pattern of a
# default under ~ or the temp folder.
ENV_MODULES = {"vllm": "vllm/envs.py", "sglang": "sglang/srt/environ.py"}
PATH_DEFAULT = re.compile(
    r'"?([A-Z][A-Z0-9_]+)"?\s*[:=]\s*(?:lambda:\s*)?(?:EnvStr\()?\s*(?:os\.path\.expanduser|tempfile\.gettempdir)'
)
# Libraries both engines import, with the variable each reads for its cache (file in that library).
LIBRARIES = {
    "TORCHINDUCTOR_CACHE_DIR": "torch/_inductor/runtime/cache_dir_utils.py "
                               "(default: tempdir/torchinductor_<getpass.getuser()>)",
    "TRITON_CACHE_DIR": "triton/knobs.py (default: ~/.triton/cache)",
    "FLASHINFER_WORKSPACE_BASE": "flashinfer/jit/env.py (default: the home folder)",
    "XDG_CACHE_HOME": "vllm/envs.py get_default_cache_root, huggingface_hub constants",
    "XDG_CONFIG_HOME": "vllm/envs.py get_default_config_root",
}


def writable_env(engine: str, src: Path) -> dict[str, str]:
    text = (src / ENV_MODULES[engine]).read_text(encoding="utf-8")
    found = {m.group(1): f"{ENV_MODULES[engine]}: default under ~ or the temp folder"
             for m in PATH_DEFAULT.finditer(text)}
    return dict(sorted({**found, **LIBRARIES}.items()))


def main() -> None:
    out_dir = ROOT / "planner" / "render" / "contracts"
    for engine, version in VERSIONS.items():
        src = ENGINES / f"{engine}-{version}"
        env = {**os.environ, "PYTHONPATH": f"{src}:{SHIMS}", "HF_HUB_OFFLINE": "1"}
        flags = json.loads(subprocess.run(
            [str(ENGINES / "venv" / "bin" / "python"), str(SHIMS / "dump_flags.py"), engine],
            check=True, capture_output=True, text=True, env=env).stdout)
        wheel = (src / "WHEEL.sha256").read_text(encoding="utf-8").split()
        doc = {
            "engine": engine, "version": version, "wheel": wheel[1], "wheel_sha256": wheel[0],
            "generated_by": "bench/engine_contract.py",
            "flags": {k: {"takes_value": v["takes_value"], "choices": v["choices"], "default": v["default"]}
                      for k, v in flags.items()},
            "writable_env": writable_env(engine, src),
        }
        path = out_dir / f"{engine}-{version}.json"
        path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(doc['flags'])} flags, {len(doc['writable_env'])} writable paths")


if __name__ == "__main__":
    main()
