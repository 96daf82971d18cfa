"""Fit the per-GPU-family efficiency constants on the calibration measurements and write them to
planner/perf/efficiency.yaml; prints the error before and after.

    .venv/bin/python bench/fit_efficiency.py [--dry-run]

Per family (hopper, blackwell, cdna3, cdna4): achievable fraction of peak HBM bandwidth and of peak
tensor FLOPS, a fixed engine cost per forward step, the latency of one TP all-reduce and a fixed
per-request TTFT cost. Global: the
efficiency of routed-expert GEMMs relative to dense ones and the share of the FP8/FP4 rate gain that
kernels realise. 22 constants for ~250 rows x up to 3 metrics; no per-row factors. Robust
least squares on log(predicted/measured).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from calib_rows import DATA, Case, load_cases
from scipy.optimize import least_squares

from planner.perf.api import estimate_prepared
from planner.perf.constants import Constants, FamilyEff, constants
from planner.perf.roofline import Prepared

OUT = Path(__file__).resolve().parents[1] / "planner" / "perf" / "efficiency.yaml"
FIELDS = ("bandwidth", "compute", "step_overhead_ms", "allreduce_us")
LOWER = {"bandwidth": 0.3, "compute": 0.05, "step_overhead_ms": 0.2, "allreduce_us": 2.0}
UPPER = {"bandwidth": 1.0, "compute": 0.9, "step_overhead_ms": 20.0, "allreduce_us": 80.0}
ENGINES = ("sglang", "vllm")
N = len(FIELDS)
WEIGHT = {"tpot": 1.0, "throughput": 1.0, "ttft": 0.7}


def unpack(x: np.ndarray, families: list[str], base: Constants) -> Constants:
    fams = {f: FamilyEff(bandwidth=float(x[N * i]), compute=float(x[N * i + 1]),
                         step_overhead_ms=float(x[N * i + 2]), allreduce_us=float(x[N * i + 3]))
            for i, f in enumerate(families)}
    n = N * len(families)
    req = {e: float(x[n + 2 + i]) for i, e in enumerate(ENGINES)}
    return dataclasses.replace(base, families=fams, moe_compute=float(x[n]), quant_compute=float(x[n + 1]),
                               request_overhead_ms=req)


def residuals(consts: Constants, cases: list[Case]) -> list[tuple[Case, str, float]]:
    out: list[tuple[Case, str, float]] = []
    for c in cases:
        p = Prepared(c.cfg, consts.family(c.family), consts)
        e = estimate_prepared(p, c.shape, c.batch)
        if not e.fits:
            continue  # memory fit does not depend on the fitted constants; accuracy.py skips these too
        for metric, meas, pred in (("tpot", c.tpot_ms, e.tpot_ms), ("ttft", c.ttft_ms, e.ttft_ms),
                                   ("throughput", c.thr, e.output_tokens_per_s)):
            if meas:
                out.append((c, metric, math.log(pred / meas)))
    return out


def report(res: list[tuple[Case, str, float]], title: str) -> dict[str, tuple[float, int]]:
    print(title)
    out = {}
    for metric in ("ttft", "tpot", "throughput"):
        errs = sorted(abs(math.exp(r) - 1) * 100 for _, m, r in res if m == metric)
        if errs:
            out[metric] = (statistics.median(errs), len(errs))
            print(f"  {metric:<11} median APE {statistics.median(errs):5.1f}%  "
                  f"p90 {errs[int(0.9 * (len(errs) - 1) + 0.5)]:6.1f}%  rows {len(errs)}")
    return out


def source_date() -> str:
    with DATA.open(newline="", encoding="utf-8") as fh:
        return max(r["source_date"] for r in csv.DictReader(fh) if r["source_date"][:2] == "20")[:10]


def write(consts: Constants, families: list[str], n_cases: int, err: dict[str, tuple[float, int]]) -> None:
    lines = [
        "# Written by bench/fit_efficiency.py — do not edit by hand; rerun the script to refit.",
        "source: bench/fit_efficiency.py on bench/data/measurements.csv "
        f"({n_cases} expressible rows; robust least squares on log(predicted/measured))",
        f"as_of: {source_date()}",
        "fit_median_ape_pct: {" + ", ".join(f"{m}: {v[0]:.1f}" for m, v in err.items()) + "}",
        "fallback_family: hopper  # ampere/ada have no measurements: hopper values, flagged unfitted",
        f"link_efficiency: {consts.link_efficiency}  # share of one-direction link bandwidth reached",
        f"moe_compute: {consts.moe_compute:.3f}",
        f"quant_compute: {consts.quant_compute:.3f}",
        "request_overhead_ms: {" + ", ".join(f"{e}: {consts.request_overhead_ms[e]:.1f}" for e in ENGINES)
        + "}  # per engine: HTTP, tokenise, admission, first-token stream",
        "families:",
    ]
    for f in families:
        e = consts.families[f]
        lines.append(f"  {f}: {{bandwidth: {e.bandwidth:.3f}, compute: {e.compute:.3f}, "
                     f"step_overhead_ms: {e.step_overhead_ms:.2f}, allreduce_us: {e.allreduce_us:.1f}}}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


NEUTRAL = FamilyEff(bandwidth=0.7, compute=0.4, step_overhead_ms=1.0, allreduce_us=30.0)
"""Start point for fits that must not see the current constants (cross-validation)."""


def fit(cases: list[Case], base: Constants, neutral: bool = False) -> Constants:
    """Least-squares fit of every family present in `cases` plus the global constants. Families without
    rows keep the fallback family's fitted values (how the planner serves ampere/ada)."""
    families = sorted({c.family for c in cases})
    x0, lo, hi = [], [], []
    for f in families:
        e = NEUTRAL if neutral else base.family(f)
        for name in FIELDS:
            x0.append(min(max(getattr(e, name), LOWER[name]), UPPER[name]))
            lo.append(LOWER[name])
            hi.append(UPPER[name])
    glob = [0.5, 0.5, *(50.0 for _ in ENGINES)] if neutral else \
        [base.moe_compute, base.quant_compute, *(base.request_overhead_ms[e] for e in ENGINES)]
    x0 += glob
    lo += [0.05, 0.0, *(0.0 for _ in ENGINES)]
    hi += [1.0, 1.0, *(300.0 for _ in ENGINES)]

    def fun(x: np.ndarray) -> np.ndarray:
        res = residuals(unpack(x, families, base), cases)
        return np.array([r * WEIGHT[m] for _, m, r in res])

    sol = least_squares(fun, np.array(x0), bounds=(lo, hi), loss="soft_l1", f_scale=0.3, diff_step=1e-3)
    best = unpack(sol.x, families, base)
    fb = best.families.get(base.fallback_family) or next(iter(best.families.values()))
    fams = {f: best.families.get(f, fb) for f in sorted(set(base.families) | set(best.families))}
    return dataclasses.replace(best, families=fams)


def main() -> None:
    ap = argparse.ArgumentParser(description="refit planner/perf/efficiency.yaml")
    ap.add_argument("--dry-run", action="store_true", help="fit and report, do not write")
    args = ap.parse_args()
    base = constants()
    cases, _ = load_cases()
    families = sorted({c.family for c in cases})
    report(residuals(base, cases), f"before ({len(cases)} rows):")
    best = fit(cases, base)
    result = report(residuals(best, cases), "after:")
    for f in families:
        print(f"  {f}: {best.families[f]}")
    print(f"  moe_compute {best.moe_compute:.3f}  quant_compute {best.quant_compute:.3f}  "
          f"request_overhead_ms {best.request_overhead_ms}")
    if not args.dry_run:
        write(best, families, len(cases), result)


if __name__ == "__main__":
    main()
