"""Fleet planning time on the full catalog: 3, 10 and 30 workloads, cold CLI start included.

Writes generated fleet files into a fresh temporary folder, runs the installed `qwen-plan fleet`
in a fresh process for each (median of --repeat runs), then times the stages in-process: planning
each workload alone (the solver's search), building the columns, and the integer program.
Target: under 2 s for 10 workloads from a cold start (the wheel `pip install .` builds and installs:
bench/cold_start.py).

    .venv/bin/python bench/fleet_speed.py [--repeat 3] [--sizes 3,10,30]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from cold_start import installed_cli

TASKS = ("chat", "coding", "docs", "agentic", "math", "vision")
RATES = (0.2, 0.5, 1.0, 2.0, 5.0)


def fleet_doc(n: int) -> dict[str, Any]:
    """n workloads cycling through tasks and rates (deterministic), a quota and owned servers."""
    combos = itertools.cycle(itertools.product(RATES, TASKS))
    workloads = [{"name": f"w{i}-{task}", "task": task, "rps": rate} for i, (rate, task) in zip(range(n), combos,
                                                                                              strict=False)]
    return {"fleet": {"deploy": "any", "quotas": [{"gpu": "h100-sxm", "max_gpus": 16}],
                      "inventory": [{"gpu": "h100-sxm", "servers": 1}]}, "workloads": workloads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="3,10,30")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    from planner.catalog import load_catalog
    from planner.fleet import parse_fleet
    from planner.fleet.columns import columns, plan_alone, server_costs
    from planner.fleet.lazy import Spaces
    from planner.fleet.milp import Limits, Problem, solve

    catalog = load_catalog()
    print(f"{'workloads':>9} {'cold CLI s (median)':>20} {'max':>7} {'alone s':>8} {'columns s':>10} "
          f"{'MILP s':>7} {'columns':>8} {'$/month':>10} {'alone $/month':>14}")
    with tempfile.TemporaryDirectory(prefix="fleet-speed-") as tmp, installed_cli() as cli:
        for n in sizes:
            doc = fleet_doc(n)
            path = Path(tmp) / f"fleet-{n}.yaml"
            path.write_text(yaml.safe_dump(doc), encoding="utf-8")
            times: list[float] = []
            plan: dict[str, Any] = {}
            run = [cli.exe, "fleet", str(path), "--format", "json"]
            subprocess.run(run, capture_output=True, env=cli.env, cwd=cli.cwd, check=False)  # warm-up
            for _ in range(args.repeat):
                t = time.perf_counter()
                out = subprocess.run(run, capture_output=True, text=True, env=cli.env, cwd=cli.cwd, check=False)
                times.append(time.perf_counter() - t)
                if out.returncode != 0:
                    sys.exit(f"fleet of {n} failed: {out.stderr.strip()}")
                plan = json.loads(out.stdout)
            spec = parse_fleet(doc, catalog)
            t0 = time.perf_counter()
            spaces = Spaces()
            singles = [plan_alone(w, catalog, spaces) for w in spec.workloads]
            t1 = time.perf_counter()
            cols = columns(spec, singles, catalog)
            t2 = time.perf_counter()
            solve(Problem(spec, cols, server_costs(spec, singles, catalog)), Limits.of(spec))
            t3 = time.perf_counter()
            print(f"{n:9d} {statistics.median(times):20.3f} {max(times):7.3f} {t1 - t0:8.3f} {t2 - t1:10.3f} "
                  f"{t3 - t2:7.3f} {len(cols):8d} {plan['monthly_cost_usd']:10.0f} {plan['alone_monthly_usd']:14.0f}")


if __name__ == "__main__":
    main()
