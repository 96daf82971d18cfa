"""Fit the per-GPU-family efficiency constants on the calibration measurements and write them to
planner/perf/efficiency.yaml; prints the error before and after.

    .venv/bin/python bench/fit_efficiency.py [--dry-run]

Per family (hopper, blackwell, cdna3, cdna4): achievable fraction of peak HBM bandwidth and of peak
tensor FLOPS, a fixed engine cost per forward step, the latency of one TP all-reduce and a fixed
per-request TTFT cost. Global: the efficiency of routed-expert GEMMs relative to dense ones, the share of
the FP8/FP4 rate gain that kernels realise, and the fixed cost each decoding request adds to a step.
23 constants for ~250 rows x up to 3 metrics; no per-row factors. Robust
least squares on log(predicted/measured), by planner/calibrate/fit.py (the fit `qwen-plan calibrate`
runs too, there with a prior); this script only maps the rows and writes the file.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calib_rows import DATA, Case, load_cases

from planner.calibrate import fit as calib
from planner.calibrate.fit import ErrorStats, Point
from planner.perf.constants import Constants, constants

OUT = Path(__file__).resolve().parents[1] / "planner" / "perf" / "efficiency.yaml"
ENGINES = ("sglang", "vllm")


def point(c: Case) -> Point:
    return Point(c.label, c.cfg, c.shape, c.batch, c.ttft_ms, c.tpot_ms, c.thr, c.family, c.source)


def residuals(consts: Constants, cases: Sequence[Case]) -> list[tuple[Case, str, float]]:
    """log(predicted/measured) per row and metric (planner.calibrate.fit.residuals on the rows)."""
    pts = [point(c) for c in cases]
    back = {id(p): c for p, c in zip(pts, cases, strict=True)}
    return [(back[id(p)], m, r) for p, m, r in calib.residuals(consts, pts)]


def report(res: Sequence[tuple[object, str, float]], title: str) -> dict[str, ErrorStats]:
    print(title)
    out = calib.error_table(res)
    for metric, e in out.items():
        print(f"  {metric:<11} median APE {e.median_pct:5.1f}%  p90 {e.p90_pct:6.1f}%  rows {e.n}")
    return out


def source_date() -> str:
    with DATA.open(newline="", encoding="utf-8") as fh:
        return max(r["source_date"] for r in csv.DictReader(fh) if r["source_date"][:2] == "20")[:10]


def write(consts: Constants, families: list[str], n_cases: int, err: dict[str, ErrorStats]) -> None:
    lines = [
        "# Written by bench/fit_efficiency.py — do not edit by hand; rerun the script to refit.",
        "source: bench/fit_efficiency.py on bench/data/measurements.csv "
        f"({n_cases} expressible rows; robust least squares on log(predicted/measured))",
        f"as_of: {source_date()}",
        "fit_median_ape_pct: {" + ", ".join(f"{m}: {v.median_pct:.1f}" for m, v in err.items()) + "}",
        "fallback_family: hopper  # ampere/ada have no measurements: hopper values, flagged unfitted",
        f"link_efficiency: {consts.link_efficiency}  # share of one-direction link bandwidth reached",
        f"moe_compute: {consts.moe_compute:.3f}",
        f"quant_compute: {consts.quant_compute:.3f}",
        f"seq_step_us: {consts.seq_step_us:.2f}  # per decoding request per step: bookkeeping, sampling",
        "request_overhead_ms: {" + ", ".join(f"{e}: {consts.request_overhead_ms[e]:.1f}" for e in ENGINES)
        + "}  # per engine: HTTP, tokenise, admission, first-token stream",
        "multi_gpu_request_ms: {" + ", ".join(f"{e}: {consts.multi_gpu_request_ms.get(e, 0.0):.1f}" for e in ENGINES)
        + "}  # per engine, per request on a TP group: hand-off to every rank, eager prefill",
        "families:",
    ]
    for f in families:
        e = consts.families[f]
        lines.append(f"  {f}: {{bandwidth: {e.bandwidth:.3f}, compute: {e.compute:.3f}, "
                     f"step_overhead_ms: {e.step_overhead_ms:.2f}, allreduce_us: {e.allreduce_us:.1f}}}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


def identified_global_params(cases: Sequence[Case]) -> list[calib.Param]:
    """The global constants these rows can pin. An engine's request cost shows only in TTFT (Little's-law
    throughput subtracts it), its TP-group cost only in TTFT at tp > 1: without such rows (a fold that holds
    out the only source of that engine's TTFTs) the fit would drift along a flat direction."""
    ttft = {c.cfg.engine for c in cases if c.ttft_ms}
    multi = {c.cfg.engine for c in cases if c.ttft_ms and c.cfg.tp > 1}
    return [p for p in calib.global_params(ENGINES) if len(parts := p.name.split(".")) == 1
            or (parts[0] == "request_overhead_ms" and parts[1] in ttft) or (parts[0] != "request_overhead_ms"
                                                                             and parts[1] in multi)]


def fit(cases: list[Case], base: Constants, neutral: bool = False) -> Constants:
    """The plain robust fit (no prior) of every family present in `cases` plus the global constants,
    by planner.calibrate.fit. Families without rows keep the fallback family's fitted values (how the
    planner serves ampere/ada). `neutral`: start from FIT_NEUTRAL, not the shipped values."""
    families = sorted({c.family for c in cases})
    params = calib.family_params(families) + identified_global_params(cases)
    if neutral:
        # What the rows cannot pin stays neutral too, not at the shipped value (fitted on every row).
        fixed = [p for p in calib.global_params(ENGINES) if p not in params]
        base = calib.with_values(base, fixed, [calib.neutral(p.name) for p in fixed])
    start = calib.neutral_start(params) if neutral else None
    best = calib.fit([point(c) for c in cases], base, params, start=start).constants
    fb = best.families.get(base.fallback_family) or next(iter(best.families.values()))
    fitted = {c.family for c in cases}
    fams = {f: best.families[f] if f in fitted else fb for f in sorted(set(base.families) | fitted)}
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
          f"seq_step_us {best.seq_step_us:.2f}  "
          f"request_overhead_ms {best.request_overhead_ms}  multi_gpu_request_ms {best.multi_gpu_request_ms}")
    if not args.dry_run:
        write(best, families, len(cases), result)


if __name__ == "__main__":
    main()
