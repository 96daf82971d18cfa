"""How many of a user's own benchmark points it takes to halve the error on a GPU family the shipped
model does not know well, by cross-validation on bench/data.

    .venv/bin/python bench/calibration_gain.py [--families cdna3,blackwell] [--draws 12] [--seed 1]

For each family: refit the shipped constants without any of its rows (it then borrows the fallback
family's values, flagged unfitted, as ampere/ada do today). Then, for n = 1, 2, 4, ...: draw n of its
rows as "the user's benchmark", run the calibration fit of `qwen-plan calibrate` on them (planner/
calibrate, prior = the refit constants) and measure the median absolute percentage error on the
family's other rows. Prints the median over draws for each n, and the smallest n that halves the
error of n = 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calib_rows import load_cases
from fit_efficiency import fit, point

from planner.calibrate.fit import Point, residuals
from planner.calibrate.run import fit_points
from planner.perf.constants import Constants, shipped

COUNTS = (1, 2, 3, 4, 6, 8, 12, 16)


def pooled(consts: Constants, points: list[Point]) -> float:
    """Median APE over every metric of `points` (TTFT, TPOT and throughput pooled)."""
    errs = [abs(math.exp(r) - 1) * 100 for _, _, r in residuals(consts, points)]
    return statistics.median(errs) if errs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", default="")
    ap.add_argument("--draws", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cases, _ = load_cases()
    families = [f for f in args.families.split(",") if f] or sorted({c.family for c in cases})
    for fam in families:
        own = [point(c) for c in cases if c.family == fam]
        others = [c for c in cases if c.family != fam]
        base = fit(others, shipped())
        # The family unknown to the model: it borrows the fallback family's values, flagged unfitted.
        kept = {k: v for k, v in base.families.items() if k != fam}
        fallback = base.fallback_family if base.fallback_family in kept else sorted(kept)[0]
        base = dataclasses.replace(base, families=kept, fallback_family=fallback)
        start = pooled(base, own)
        print(f"{fam}: {len(own)} rows; model fitted without them (values borrowed from {fallback}): "
              f"median APE {start:.1f}%")
        rng = random.Random(args.seed)
        halved = None
        for n in COUNTS:
            if n >= len(own) - 2:
                break
            errs = []
            for _ in range(args.draws):
                idx = set(rng.sample(range(len(own)), n))
                train = [p for i, p in enumerate(own) if i in idx]
                test = [p for i, p in enumerate(own) if i not in idx]
                errs.append(pooled(fit_points(train, base).constants, test))
            med = statistics.median(errs)
            print(f"  n={n:>2}: held-out median APE {med:5.1f}%  (draws: {min(errs):.1f}..{max(errs):.1f}%)")
            if halved is None and med <= start / 2:
                halved = n
        print(f"  points to halve the error: {halved if halved is not None else f'more than {n}'}")


if __name__ == "__main__":
    main()
