"""What a cold CLI start is timed on: the wheel `pip install .` builds, installed as it installs it.

The wheel carries compiled bytecode (pip compiles on install) and the pre-validated catalog
snapshot its build hook makes (planner/catalog/snapshot.py); an editable install has neither,
so timing one measures work no installed user does. The wheel is built from this checkout and
installed, without dependencies, into a fresh temporary folder placed first on PYTHONPATH; the
runs start in that folder, so no checkout shadows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Installed:
    exe: str
    env: dict[str, str]
    cwd: str


@contextmanager
def installed_cli() -> Iterator[Installed]:
    tmp = tempfile.mkdtemp(prefix="qwen-plan-bench-")
    try:
        pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "wheel", "--no-deps", "-w", tmp, str(ROOT)], check=True, capture_output=True)
        (wheel,) = Path(tmp).glob("qwen_plan-*.whl")
        site = Path(tmp) / "site"
        subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                       capture_output=True)
        env = {**os.environ, "PYTHONPATH": str(site)}
        env.pop("QWEN_PLAN_CATALOG", None)
        yield Installed(str(site / "bin" / "qwen-plan"), env, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
