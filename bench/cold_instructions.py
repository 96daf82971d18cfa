"""Instructions executed by one cold CLI start (valgrind --tool=cachegrind), a timing-noise-free
measure of start-up plus search work for comparing two versions on a shared, noisy machine.

Needs valgrind on PATH. On the wheel `pip install .` installs (bench/cold_start.py).

    .venv/bin/python bench/cold_instructions.py [--requests 0,2]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

from cold_start import installed_cli
from solver_speed import REQUESTS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", default=",".join(str(i) for i in range(len(REQUESTS))),
                    help="indices into solver_speed.REQUESTS")
    args = ap.parse_args()
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is not on PATH")
    with installed_cli() as cli:
        for i in (int(x) for x in args.requests.split(",")):
            req = REQUESTS[i]
            out = subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                                  cli.exe, *req, "--format", "json"], capture_output=True, text=True, env=cli.env,
                                 cwd=cli.cwd, check=True)
            refs = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
            assert refs is not None, out.stderr[-500:]
            print(f"{' '.join(req):55} {int(refs.group(1).replace(',', '')) / 1e9:7.3f} G instructions")


if __name__ == "__main__":
    main()
