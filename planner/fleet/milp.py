"""The fleet's integer program, solved by HiGHS through its own Python bindings (`highspy`, docs/fleet.md).

One binary x_c per column c (a deployment: configuration, offer, replicas, and the workloads it
serves). Every workload is served by exactly one chosen column; quotas, owned GPUs, the monthly
budget and the capex budget are knapsack rows. Minimise Σ cost_c·x_c, or (objective quality)
maximise the weighted task quality within the budget, then the cost at that quality.

`highspy` rather than `scipy.optimize.milp` (the same HiGHS, called the same way): importing
scipy.optimize and scipy.sparse costs about a second of start-up, more than the whole program.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from planner.fleet.columns import Column
from planner.fleet.spec import FleetSpec

# Ties among equal-cost fleets break toward fewer GPUs, then higher quality: far below a cent in total.
GPU_TIE = 1e-4
QUALITY_TIE = 1e-6
QUALITY_SLACK = 1e-6  # the second (cost) stage keeps the first stage's quality up to this
OPTIONS: dict[str, float | str | bool] = {"mip_rel_gap": 0.0, "presolve": "on", "time_limit": 60.0,
                                          "output_flag": False}


@dataclass(frozen=True)
class Limits:
    """The constraints one solve applies; relaxations drop some of them (see explain)."""

    budget: float | None
    capex_budget: float | None
    quotas: tuple[int | None, ...]  # max GPUs per quota; None = dropped
    quality_bars: bool = True  # False: columns below a workload's min_quality are allowed

    @classmethod
    def of(cls, spec: FleetSpec) -> Limits:
        return cls(spec.budget, spec.capex_budget, tuple(q.max_gpus for q in spec.quotas))


@dataclass(frozen=True)
class Problem:
    """The columns and what the fleet's owned servers cost to run, one figure per inventory entry."""

    spec: FleetSpec
    cols: Sequence[Column]
    server_cost: tuple[float, ...]  # running cost of one owned server, $/month, aligned with spec.inventory


@dataclass(frozen=True)
class Solution:
    chosen: tuple[int, ...]  # column indices
    monthly_cost: float  # columns plus the owned servers powered
    quality: float  # weighted mean task quality over the workloads
    servers: tuple[int, ...] = ()  # owned servers powered, aligned with spec.inventory
    status: str = "optimal"


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """File descriptor 1 on /dev/null: HiGHS 1.16 prints its banner from C++ when a solver is made,
    before `output_flag` can be set, and stdout carries the fleet plan (--format json)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w", encoding="utf-8") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def weighted_quality(cols: Sequence[Column], chosen: Sequence[int], weights: Sequence[float]) -> float:
    total = sum(weights)
    return sum(weights[m] * q for c in chosen for m, q in zip(cols[c].members, cols[c].qualities, strict=True)) / total


def solve(problem: Problem, limits: Limits, objective: str | None = None,
          minimise: Sequence[float] | None = None) -> Solution | None:
    """The optimum under `limits`, or None when nothing is feasible. `minimise` replaces the objective
    with another per-column figure (explain uses it: the smallest quota or capex that still works).

    Variables: one binary per allowed column, then one integer per owned-server type (how many of
    those servers run; their running cost is paid per server powered, whatever share of it is used).
    """
    spec, cols = problem.spec, problem.cols
    n_w = len(spec.workloads)
    allowed = [i for i, c in enumerate(cols) if limits.quality_bars is False or c.quality_ok]
    if not allowed:
        return None
    sub = [cols[i] for i in allowed]
    n_c, n_s = len(sub), len(spec.inventory)
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(values: Sequence[float], low: float, high: float, servers: Sequence[float] = ()) -> None:
        r = np.zeros(n_c + n_s)
        r[:n_c] = values
        r[n_c:n_c + len(servers)] = servers
        rows.append(r)
        lo.append(low)
        hi.append(high)

    for w in range(n_w):
        row([1.0 if w in c.members else 0.0 for c in sub], 1.0, 1.0)
    for q, cap in enumerate(limits.quotas):
        if cap is not None:
            row([float(c.gpus) if q in c.quotas else 0.0 for c in sub], -np.inf, float(cap))
    for j, inv in enumerate(spec.inventory):
        # GPUs used on owned servers of this type fit in the servers powered.
        row([float(c.gpus) if c.owned and c.gpu == inv.gpu else 0.0 for c in sub], -np.inf, 0.0,
            [-float(inv.gpus_per_server) if k == j else 0.0 for k in range(n_s)])
    server_cost = np.array(problem.server_cost, dtype=float)
    if limits.budget is not None:
        row([c.cash for c in sub], -np.inf, limits.budget, list(server_cost))
    if limits.capex_budget is not None:
        row([c.capex for c in sub], -np.inf, limits.capex_budget)
    weights = [w.weight for w in spec.workloads]
    total_w = sum(weights)
    quality = np.zeros(n_c + n_s)
    quality[:n_c] = [sum(weights[m] * q for m, q in zip(c.members, c.qualities, strict=True)) / total_w for c in sub]
    cost = np.zeros(n_c + n_s)
    cost[:n_c] = [c.monthly_cost + GPU_TIE * c.gpus for c in sub]
    cost[n_c:] = server_cost
    cost -= QUALITY_TIE * quality
    upper = np.array([1.0] * n_c + [float(inv.servers) for inv in spec.inventory])
    if minimise is not None:
        goal = np.zeros(n_c + n_s)
        goal[:n_c] = [minimise[i] for i in allowed]
        goal += 1e-6 * cost
    elif (objective or spec.objective) == "quality":
        first = _run(-quality + 1e-9 * cost, rows, lo, hi, upper)
        if first is None:
            return None
        row(list(quality[:n_c]), float(quality @ first) - QUALITY_SLACK, np.inf)
        goal = cost
    else:
        goal = cost
    x = _run(goal, rows, lo, hi, upper)
    if x is None:
        return None
    chosen = tuple(sorted(allowed[i] for i in range(n_c) if x[i] > 0.5))
    servers = tuple(int(v) for v in x[n_c:])
    total = sum(cols[c].monthly_cost for c in chosen) + float(server_cost @ np.array(servers, dtype=float))
    return Solution(chosen, round(total, 2), round(weighted_quality(cols, chosen, weights), 2), servers)


def _run(goal: np.ndarray, rows: list[np.ndarray], lo: list[float], hi: list[float],
         upper: np.ndarray) -> np.ndarray | None:
    """Solve min goal·x, lo <= A x <= hi, 0 <= x <= upper, x integer; None unless proven optimal."""
    a = np.vstack(rows)
    cols, idx = np.nonzero(a.T)  # column-wise (CSC) nonzeros, as scipy.optimize.milp hands HiGHS
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = goal, np.zeros(len(goal)), upper
    lp.row_lower_, lp.row_upper_ = np.array(lo, dtype=float), np.array(hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = a.shape[1], a.shape[0]
    lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(np.bincount(cols, minlength=a.shape[1]))))
    lp.a_matrix_.index_, lp.a_matrix_.value_ = idx, a[idx, cols]
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(goal)
    with _stdout_silenced():
        h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy types its bindings, not this wrapper
    for key, value in OPTIONS.items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    out: np.ndarray = np.round(np.array(h.getSolution().col_value))
    return out


def greedy(problem: Problem, limits: Limits) -> Solution | None:
    """Each workload in turn takes its cheapest one-workload column (owned: the servers it newly powers)
    that still fits the remaining quotas, inventory and budgets: the baseline the integer program must
    never lose to."""
    spec, cols = problem.spec, problem.cols
    quota_left = list(limits.quotas)
    inv_of = {inv.gpu: j for j, inv in enumerate(spec.inventory)}
    used = [0] * len(spec.inventory)
    budget, capex = limits.budget, limits.capex_budget
    chosen: list[int] = []

    def powered(j: int, gpus: int) -> int:
        return -(-gpus // spec.inventory[j].gpus_per_server)

    def marginal(c: Column) -> float:
        if not c.owned:
            return c.monthly_cost
        j = inv_of[c.gpu or ""]
        return problem.server_cost[j] * (powered(j, used[j] + c.gpus) - powered(j, used[j]))

    for w in range(len(spec.workloads)):
        options = sorted((marginal(c), i) for i, c in enumerate(cols)
                         if c.members == (w,) and (c.quality_ok or not limits.quality_bars))
        for extra, i in options:
            c = cols[i]
            if any(quota_left[q] is not None and c.gpus > (quota_left[q] or 0) for q in c.quotas):
                continue
            if c.owned and used[inv_of[c.gpu or ""]] + c.gpus > spec.inventory[inv_of[c.gpu or ""]].gpus:
                continue
            cash = extra if c.owned else c.cash
            if (budget is not None and cash > budget) or (capex is not None and c.capex > capex):
                continue
            for q in c.quotas:
                left = quota_left[q]
                quota_left[q] = None if left is None else left - c.gpus
            if c.owned:
                used[inv_of[c.gpu or ""]] += c.gpus
            budget = None if budget is None else budget - cash
            capex = None if capex is None else capex - c.capex
            chosen.append(i)
            break
        else:
            return None
    servers = tuple(powered(j, u) for j, u in enumerate(used))
    total = sum(cols[c].monthly_cost for c in chosen) + sum(k * s for k, s in zip(problem.server_cost, servers,
                                                                                    strict=True))
    weights = [wl.weight for wl in spec.workloads]
    return Solution(tuple(sorted(chosen)), round(total, 2), round(weighted_quality(cols, chosen, weights), 2),
                    servers, status="greedy")
