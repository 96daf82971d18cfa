"""Write planner/perf/bands.yaml: the performance model's error per regime from leave-one-source-out residuals,
and the range the measurements cover.

    .venv/bin/python bench/calib_bands.py [--dry-run]

Each row is predicted by a fit of bench/fit_efficiency.py that never saw the row's publication
(bench/crossval.py's folds), so the quantiles describe the error on a new source. Regimes are per metric
and concurrency class (planner.perf.bands.concurrency_class); a class with fewer than 5 rows falls back to
the metric's pooled quantiles. Takes several minutes (one fit per source).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calib_rows import Case, load_cases
from crossval import held_out
from fit_efficiency import source_date

from planner.perf import estimate
from planner.perf.bands import concurrency_class
from planner.perf.constants import constants

OUT = Path(__file__).resolve().parents[1] / "planner" / "perf" / "bands.yaml"
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
METRICS = ("ttft", "tpot", "throughput")
# Assumptions (not fitted: there is no evidence past the measured range, which is the point).
PER_DOUBLING = 0.5
UNMEASURED = 1.5


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    pos = q * (len(sorted_values) - 1)
    i = math.floor(pos)
    j = min(i + 1, len(sorted_values) - 1)
    return sorted_values[i] + (pos - i) * (sorted_values[j] - sorted_values[i])


def regimes(res: list[tuple[Case, str, float]]) -> dict[str, dict[str, tuple[int, list[float]]]]:
    """metric -> class -> (rows, measured/predicted at each quantile)."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c, metric, r in res:
        ratio = -r  # log(measured/predicted)
        groups[(metric, concurrency_class(c.batch))].append(ratio)
        groups[(metric, "all")].append(ratio)
    out: dict[str, dict[str, tuple[int, list[float]]]] = defaultdict(dict)
    for (metric, cls), vals in sorted(groups.items()):
        s = sorted(vals)
        out[metric][cls] = (len(s), [math.exp(quantile(s, q)) for q in QUANTILES])
    return out


def coverage(cases: list[Case]) -> dict[str, object]:
    """What the measurements span: running batch (as the model sizes it), context, output tok/s per GPU
    per GPU family, families and engines per family."""
    batch, ctx = 1, 1
    per_gpu: dict[str, float] = defaultdict(float)
    engine_fams: dict[str, set[str]] = defaultdict(set)
    for c in cases:
        if c.tpot_ms or c.thr:
            e = estimate(c.cfg, c.shape, c.batch)
            if e.fits:
                batch = max(batch, e.effective_batch)
        ctx = max(ctx, c.shape.isl + c.shape.osl)
        if c.thr:
            per_gpu[c.family] = max(per_gpu[c.family], c.thr / c.cfg.tp)
        engine_fams[c.cfg.engine].add(c.family)
    return {"batch_max": batch, "context_max": ctx, "per_gpu": dict(sorted(per_gpu.items())),
            "families": sorted({c.family for c in cases}),
            "engine_families": {e: sorted(f) for e, f in sorted(engine_fams.items())}}


def render(reg: dict[str, dict[str, tuple[int, list[float]]]], cov: dict[str, object], n_rows: int,
           n_sources: int) -> str:
    lines = [
        "# Written by bench/calib_bands.py — do not edit by hand; rerun the script after refitting.",
        "source: >-",
        "  bench/calib_bands.py: leave-one-source-out residuals of bench/fit_efficiency.py on",
        f"  bench/data/measurements.csv ({n_rows} expressible rows, {n_sources} sources); coverage from the same rows",
        f"as_of: {source_date()}",
        f"quantiles: [{', '.join(f'{q:g}' for q in QUANTILES)}]",
        "# measured ÷ predicted at each quantile, per metric and concurrency class (running batch <=16, <=128, more)",
        "regimes:",
    ]
    for metric in METRICS:
        lines.append(f"  {metric}:")
        for cls in ("low", "mid", "high", "all"):
            if cls in reg[metric]:
                n, ratios = reg[metric][cls]
                lines.append(f"    {cls}: {{rows: {n}, ratio: [{', '.join(f'{r:.3f}' for r in ratios)}]}}")
    per_gpu = cov["per_gpu"]
    assert isinstance(per_gpu, dict)
    fams = cov["engine_families"]
    assert isinstance(fams, dict)
    lines += [
        "coverage:",
        f"  batch_max: {cov['batch_max']}  # largest running batch the model sizes for a measured row",
        f"  context_max: {cov['context_max']}  # input + output tokens",
        "  tokens_per_s_per_gpu_max: {" + ", ".join(f"{f}: {v:.0f}" for f, v in per_gpu.items()) + "}",
        f"  families: [{', '.join(cov['families'])}]",  # type: ignore[arg-type]
        "  engine_families: {" + ", ".join(f"{e}: [{', '.join(f)}]" for e, f in fams.items()) + "}",
        "extrapolation:",
        f"  per_doubling: {PER_DOUBLING}  # each doubling past a covered maximum adds this to the log-width factor",
        f"  unmeasured: {UNMEASURED}  # log-width factor on a GPU family (or engine on it) without measurements",
        "  source: \"qwen-plan assumption: no evidence exists past the measured range, so the band grows with the",
        "    distance from it instead of being fitted\"",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description="write planner/perf/bands.yaml")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = ap.parse_args()
    cases, _ = load_cases()
    res = held_out(cases, constants(), "source")
    text = render(regimes(res), coverage(cases), len(cases), len({c.source for c in cases}))
    if args.dry_run:
        print(text)
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
