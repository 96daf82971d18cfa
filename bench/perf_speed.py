"""Time the performance model's hot path on the embedded catalog.

    .venv/bin/python bench/perf_speed.py

Builds every (model, GPU, precision, TP) candidate the catalog allows, then times estimate() on fresh
Config objects (first call per Config pays for the per-Config constants), repeated estimate() calls,
and max_batch() with a TPOT target.
"""

from __future__ import annotations

import time

from planner.catalog import load_catalog
from planner.catalog.schema import PRECISIONS
from planner.perf import Config, Shape, estimate, max_batch


def main() -> None:
    cat = load_catalog()
    shape = Shape(isl=4000, osl=500)
    configs = [Config(m, g, p, tp) for m in cat.models.values() if m.architecture is not None
               for g in cat.gpus.values() for p in PRECISIONS for tp in (1, 2, 4, 8)]
    t0 = time.perf_counter()
    for c in configs:
        estimate(c, shape, 32)
    t1 = time.perf_counter()
    reps = 20
    for _ in range(reps):
        for c in configs:
            estimate(c, shape, 32)
    t2 = time.perf_counter()
    for c in configs:
        max_batch(c, shape, tpot_ms=30.0)
    t3 = time.perf_counter()
    n = len(configs)
    print(f"{n} configs")
    print(f"estimate, first call per Config : {(t1 - t0) / n * 1e6:7.1f} us")
    print(f"estimate, cached Config         : {(t2 - t1) / (n * reps) * 1e6:7.1f} us")
    print(f"max_batch(tpot target)          : {(t3 - t2) / n * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
