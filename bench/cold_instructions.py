"""Instructions executed by one cold CLI start (valgrind --tool=cachegrind), a timing-noise-free
measure of start-up plus search work for comparing two versions on a shared, noisy machine.

Needs valgrind on PATH. Bytecode as `pip install .` leaves it (bench/cold_start.py).

    .venv/bin/python bench/cold_instructions.py [--requests 0,2]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from cold_start import compiled_env
from solver_speed import REQUESTS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", default=",".join(str(i) for i in range(len(REQUESTS))),
                    help="indices into solver_speed.REQUESTS")
    args = ap.parse_args()
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is not on PATH")
    exe = shutil.which("qwen-plan", path=str(Path(sys.executable).parent)) or "qwen-plan"
    with compiled_env([exe, *REQUESTS[0], "--format", "json"]) as env:
        for i in (int(x) for x in args.requests.split(",")):
            req = REQUESTS[i]
            out = subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                                  exe, *req, "--format", "json"], capture_output=True, text=True, env=env, check=True)
            refs = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
            assert refs is not None, out.stderr[-500:]
            print(f"{' '.join(req):55} {int(refs.group(1).replace(',', '')) / 1e9:7.3f} G instructions")


if __name__ == "__main__":
    main()
