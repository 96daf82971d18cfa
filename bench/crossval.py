"""Cross-validate the efficiency fit: hold out one group of rows, fit on the rest, predict the held-out rows.

    .venv/bin/python bench/crossval.py [--by source|model|family] [--quiet]

Every fold starts from the same neutral constants (not the shipped ones), so nothing learnt from the
held-out rows leaks in. A GPU family with no rows left in the training folds gets the fallback family's
fitted values, as the planner does for ampere/ada. Prints the held-out median and p90 absolute
percentage error per metric, pooled over all folds, next to the in-sample error of the full fit.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calib_rows import Case, load_cases
from fit_efficiency import fit, residuals

from planner.perf.constants import Constants, constants

METRICS = ("ttft", "tpot", "throughput")


def key(c: Case, by: str) -> str:
    if by == "model":
        return c.label.split("/")[0]
    if by == "family":
        return c.family
    return c.source


def table(res: list[tuple[Case, str, float]]) -> dict[str, tuple[float, float, int]]:
    out: dict[str, tuple[float, float, int]] = {}
    for metric in METRICS:
        errs = sorted(abs(math.exp(r) - 1) * 100 for _, m, r in res if m == metric)
        if errs:
            out[metric] = (statistics.median(errs), errs[int(0.9 * (len(errs) - 1) + 0.5)], len(errs))
    return out


def fmt(t: dict[str, tuple[float, float, int]]) -> str:
    return "  ".join(f"{m} {v[0]:5.1f}% (p90 {v[1]:5.1f}%, n={v[2]})" for m, v in t.items())


def held_out(cases: list[Case], base: Constants, by: str = "source",
             each: Callable[[str, list[tuple[Case, str, float]]], None] | None = None) -> list[tuple[Case, str, float]]:
    """Residuals log(predicted/measured) of every row, each predicted by a fit that never saw its group."""
    groups: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        groups[key(c, by)].append(c)
    held: list[tuple[Case, str, float]] = []
    for name in sorted(groups):
        train = [c for c in cases if key(c, by) != name]
        res = residuals(fit(train, base, neutral=True), groups[name])
        held += res
        if each is not None:
            each(name, res)
    return held


def concurrency(c: Case) -> str:
    return "c1" if c.batch == 1 else "c2-16" if c.batch <= 16 else "c17-128" if c.batch <= 128 else "c>128"


GROUPINGS: dict[str, Callable[[Case], str]] = {
    "model": lambda c: c.label.split("/")[0],
    "family": lambda c: c.family,
    "engine": lambda c: c.cfg.engine,
    "concurrency": concurrency,
}


def bias(res: list[tuple[Case, str, float]]) -> dict[str, float]:
    """Median signed error (predicted/measured - 1) per metric, %."""
    out = {}
    for metric in METRICS:
        errs = [(math.exp(r) - 1) * 100 for _, m, r in res if m == metric]
        if errs:
            out[metric] = statistics.median(errs)
    return out


def grouped(res: list[tuple[Case, str, float]], title: str) -> None:
    """Median APE and signed bias per model, GPU family, engine and concurrency class."""
    print(title)
    for gname, fn in GROUPINGS.items():
        groups: dict[str, list[tuple[Case, str, float]]] = defaultdict(list)
        for row in res:
            groups[fn(row[0])].append(row)
        for name in sorted(groups):
            t, b = table(groups[name]), bias(groups[name])
            parts = "  ".join(f"{m} {v[0]:5.1f}% ({b[m]:+5.1f}%, n={v[2]})" for m, v in t.items())
            print(f"  {gname:<11} {name:<22} {parts}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--by", choices=("source", "model", "family"), default="source")
    ap.add_argument("--quiet", action="store_true", help="only the pooled result")
    args = ap.parse_args()
    base = constants()
    cases, _ = load_cases()
    full = fit(cases, base, neutral=True)
    print(f"in-sample (all {len(cases)} rows, neutral start):  {fmt(table(residuals(full, cases)))}")

    def show(name: str, res: list[tuple[Case, str, float]]) -> None:
        if not args.quiet:
            print(f"  hold out {name[:60]:<60} rows {len({c.row_id for c, _, _ in res}):>3}: {fmt(table(res))}")

    held = held_out(cases, base, args.by, show)
    print(f"held out, pooled over {len({key(c, args.by) for c in cases})} {args.by} folds:  {fmt(table(held))}")
    # The planner serves Qwen3.5 models: how the held-out error looks on rows of that architecture.
    q35 = [r for r in held if r[0].label.startswith("qwen3.5")]
    print(f"held out, Qwen3.5-architecture rows only:  {fmt(table(q35))}")
    print("  median signed error (predicted/measured - 1): "
          + "  ".join(f"{m} {v:+.1f}%" for m, v in bias(q35).items()))
    if not args.quiet:
        grouped(held, "held out, by group: median APE (median signed error, rows)")


if __name__ == "__main__":
    main()
