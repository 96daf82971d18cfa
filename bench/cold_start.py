"""The environment a cold CLI start is timed in: compiled bytecode, as `pip install .` leaves it.

An editable install under PYTHONDONTWRITEBYTECODE=1 (this workplace sets it) recompiles every
module on each start, which no installed user sees. The bytecode goes to a fresh temporary folder
(PYTHONPYCACHEPREFIX) and is written by one untimed run of the command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def compiled_env(warm_up: Sequence[str]) -> Iterator[dict[str, str]]:
    pycache = tempfile.mkdtemp(prefix="qwen-plan-bench-pyc-")
    env = {**os.environ, "PYTHONPYCACHEPREFIX": pycache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        subprocess.run(list(warm_up), capture_output=True, env=env, check=True)
        yield env
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
