"""Compare the performance model with every measurement it can express.

    .venv/bin/python bench/accuracy.py [--rows] [--by label|family|model]

Prints, per metric (TTFT, TPOT/ITL, output throughput), the median and 90th-percentile absolute
percentage error and the row count; then the memory check against published minimum deployments.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calib_rows import Case, load_cases

from planner.catalog import Catalog, load_catalog
from planner.perf import Config, Shape, estimate, memory

METRICS = ("ttft", "tpot", "throughput")
# Reference for "does this deployment serve the model": at least one 8K-token request fits after
# weights, engine reserve and activations.
MIN_SHAPE = Shape(isl=7168, osl=1024)
MIN_CONCURRENCY = 1


def errors(cases: list[Case]) -> list[tuple[Case, str, float, float]]:
    """(case, metric, measured, predicted) for every metric a row reports."""
    out: list[tuple[Case, str, float, float]] = []
    for c in cases:
        e = estimate(c.cfg, c.shape, c.batch)
        if not e.fits:
            continue
        for metric, measured, predicted in (("ttft", c.ttft_ms, e.ttft_ms), ("tpot", c.tpot_ms, e.tpot_ms),
                                            ("throughput", c.thr, e.output_tokens_per_s)):
            if measured:
                out.append((c, metric, measured, predicted))
    return out


def ape(measured: float, predicted: float) -> float:
    return abs(predicted - measured) / measured * 100.0


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def summary(rows: list[tuple[Case, str, float, float]]) -> dict[str, tuple[float, float, int, float]]:
    """metric -> (median APE %, p90 APE %, rows, median signed error %)."""
    out: dict[str, tuple[float, float, int, float]] = {}
    for metric in METRICS:
        errs = [ape(m, p) for _, met, m, p in rows if met == metric]
        signed = [(p - m) / m * 100.0 for _, met, m, p in rows if met == metric]
        if errs:
            out[metric] = (statistics.median(errs), quantile(errs, 0.9), len(errs), statistics.median(signed))
    return out


def concurrency(c: Case) -> str:
    return "c1" if c.batch == 1 else "c2-16" if c.batch <= 16 else "c17-128" if c.batch <= 128 else "c>128"


GROUP_KEYS = {
    "label": lambda c: c.label,
    "family": lambda c: c.family,
    "model": lambda c: c.label.split("/")[0],
    "engine": lambda c: c.cfg.engine,
    "concurrency": concurrency,
}


def minimum_check(cat: Catalog) -> list[tuple[str, str, int, int | None, bool]]:
    """(model, precision, gpu, published count, smallest fitting TP in 1,2,4,8, agrees)."""
    out = []
    for m in sorted(cat.models.values(), key=lambda m: m.id):
        for md in m.published_minimums:
            gpu = cat.gpu(md.gpu)
            ours = None
            for tp in (1, 2, 4, 8):
                rep = memory(Config(m, gpu, md.precision, tp, language_model_only=True), MIN_SHAPE)
                if rep.max_concurrency >= MIN_CONCURRENCY:
                    ours = tp
                    break
            # agrees when the published deployment fits; ours may be smaller (recipes keep KV headroom)
            out.append((f"{m.id} {md.precision} {md.gpu}", md.precision, md.count, ours,
                        ours is not None and ours <= md.count))
    return [(a, b, c, d, e) for a, b, c, d, e in out]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", action="store_true", help="print every compared row")
    ap.add_argument("--by", choices=tuple(GROUP_KEYS), action="append", help="also group errors (repeatable)")
    args = ap.parse_args()
    cat = load_catalog()
    cases, skipped = load_cases(cat)
    rows = errors(cases)
    print(f"rows in file: {len(cases) + len(skipped)}; expressible: {len(cases)}; skipped: {len(skipped)}")
    print(f"{'metric':<12}{'median APE %':>14}{'p90 APE %':>12}{'rows':>7}{'median signed %':>17}")
    for metric, (med, p90, n, bias) in summary(rows).items():
        print(f"{metric:<12}{med:>14.1f}{p90:>12.1f}{n:>7}{bias:>+17.1f}")
    q35 = [r for r in rows if r[0].label.startswith("qwen3.5")]
    print("Qwen3.5-architecture rows: " + "  ".join(
        f"{k} {v[0]:.1f}% (signed {v[3]:+.1f}%, n={v[2]})" for k, v in summary(q35).items()))
    for by in args.by or ():
        groups: dict[str, list[tuple[Case, str, float, float]]] = defaultdict(list)
        for row in rows:
            groups[GROUP_KEYS[by](row[0])].append(row)
        print(f"by {by}: median APE % (median signed %)/rows")
        for key in sorted(groups):
            parts = "  ".join(f"{k} {v[0]:.0f}% ({v[3]:+.0f}%)/{v[2]}" for k, v in summary(groups[key]).items())
            print(f"  {key:<45} {parts}")
    if args.rows:
        for c, metric, m, p in rows:
            print(f"  {c.row_id} {c.label:<42} b={c.batch:<5} {c.shape.isl}/{c.shape.osl} {metric:<10} "
                  f"measured {m:10.1f} predicted {p:10.1f} ({(p - m) / m * 100:+.0f}%)")
    print("\nmemory vs published minimum deployments "
          f"(ours: smallest TP serving >= {MIN_CONCURRENCY} sequences of "
          f"{MIN_SHAPE.isl + MIN_SHAPE.osl} tokens)")
    checks = minimum_check(cat)
    for name, _, count, ours, ok in checks:
        verdict = "fits" if ok else "DIFFERS"
        print(f"  {name:<36} published {count}  model {ours if ours else '>8'}  {verdict}")
    print(f"  published deployment fits: {sum(c[4] for c in checks)}/{len(checks)}; "
          f"same GPU count: {sum(c[2] == c[3] for c in checks)}/{len(checks)}")


if __name__ == "__main__":
    main()
