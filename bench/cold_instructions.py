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
from pathlib import Path

import yaml
from cold_start import installed_cli
from fleet_speed import fleet_doc
from solver_speed import REQUESTS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", default=",".join(str(i) for i in range(len(REQUESTS))),
                    help="indices into solver_speed.REQUESTS")
    ap.add_argument("--fleets", default="", help="workload counts of bench/fleet_speed.py fleets, e.g. 10")
    args = ap.parse_args()
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is not on PATH")
    with installed_cli() as cli:
        runs = [(" ".join(REQUESTS[int(i)]), REQUESTS[int(i)]) for i in args.requests.split(",") if i]
        for n in (int(x) for x in args.fleets.split(",") if x):
            path = Path(cli.cwd) / f"fleet-{n}.yaml"
            path.write_text(yaml.safe_dump(fleet_doc(n)), encoding="utf-8")
            runs.append((f"fleet of {n} workloads", ["fleet", str(path)]))
        for label, args_ in runs:
            out = subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                                  cli.exe, *args_, "--format", "json"], capture_output=True, text=True, env=cli.env,
                                 cwd=cli.cwd, check=True)
            refs = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
            assert refs is not None, out.stderr[-500:]
            print(f"{label:55} {int(refs.group(1).replace(',', '')) / 1e9:7.3f} G instructions")


if __name__ == "__main__":
    main()
