"""What binds in a fleet plan, and the smallest relaxation when nothing is feasible.

Every statement is computed by re-solving the integer program with one constraint dropped (or
with the constraint's own usage as the objective), never claimed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from planner.errors import NoFeasiblePlan
from planner.fleet.columns import Column, Single
from planner.fleet.milp import Limits, Problem, Solution, solve
from planner.fleet.model import Binding
from planner.fmt import usd
from planner.solver.choose import split
from planner.solver.explain import near_misses

SAVING_EPS = 0.005  # dollars: below a cent, relaxing changes nothing


def _quota_use(cols: Sequence[Column], chosen: Sequence[int], q: int) -> int:
    return sum(cols[c].gpus for c in chosen if q in cols[c].quotas)


def bindings(problem: Problem, limits: Limits, sol: Solution) -> list[Binding]:
    spec, cols = problem.spec, problem.cols
    out: list[Binding] = []
    for i, q in enumerate(spec.quotas):
        used = _quota_use(cols, sol.chosen, i)
        free = solve(problem, dataclasses.replace(limits, quotas=_without(limits.quotas, i)))
        saving = sol.monthly_cost - free.monthly_cost if free is not None else 0.0
        if spec.objective == "cost" and saving > SAVING_EPS:
            out.append(Binding(constraint=f"fleet.quotas[{i}]", monthly_saving_usd=round(saving, 2),
                               detail=f"binds: {q}, {used} used; lifting it saves {usd(saving)}/month"))
        else:
            out.append(Binding(constraint=f"fleet.quotas[{i}]",
                               detail=f"{q}: {used} used, does not raise the cost"))
    for inv, powered, per in zip(spec.inventory, sol.servers, problem.server_cost, strict=True):
        used = sum(cols[c].gpus for c in sol.chosen if cols[c].owned and cols[c].gpu == inv.gpu)
        out.append(Binding(constraint=f"fleet.inventory[{inv.gpu}]",
                           detail=f"{used} of {inv.gpus} owned {inv.gpu} GPUs used on {powered} of {inv.servers} "
                                  f"servers, {usd(per)}/month running cost each (the purchase is sunk)"))
    if limits.capex_budget is not None:
        free = solve(problem, dataclasses.replace(limits, capex_budget=None))
        capex = sum(cols[c].capex for c in sol.chosen)
        saving = sol.monthly_cost - free.monthly_cost if free is not None else 0.0
        detail = (f"binds: {usd(capex)} of {usd(limits.capex_budget)} spent; a larger capex budget saves "
                  f"{usd(saving)}/month" if spec.objective == "cost" and saving > SAVING_EPS
                  else f"{usd(capex)} of {usd(limits.capex_budget)} spent")
        out.append(Binding(constraint="fleet.capex_budget", detail=detail,
                           monthly_saving_usd=round(saving, 2) if saving > SAVING_EPS else None))
    if limits.budget is not None:
        cash = sum(cols[c].cash for c in sol.chosen) + sum(
            k * n for k, n in zip(problem.server_cost, sol.servers, strict=True))
        detail = f"{usd(cash)} of {usd(limits.budget)}/month used"
        if spec.objective == "quality":
            free = solve(problem, dataclasses.replace(limits, budget=None))
            if free is not None and free.quality > sol.quality + 0.005:
                detail = (f"binds: {usd(cash)} of {usd(limits.budget)}/month; {usd(free.monthly_cost)}/month "
                          f"buys weighted quality {free.quality:.2f} instead of {sol.quality:.2f}")
        out.append(Binding(constraint="fleet.budget", detail=detail))
    if any(w.request.min_quality is not None for w in spec.workloads):
        free = solve(problem, dataclasses.replace(limits, quality_bars=False))
        saving = sol.monthly_cost - free.monthly_cost if free is not None else 0.0
        if spec.objective == "cost" and saving > SAVING_EPS:
            out.append(Binding(constraint="min_quality", monthly_saving_usd=round(saving, 2),
                               detail=f"binds: the workloads' quality bars cost {usd(saving)}/month"))
    return out


def _without(quotas: tuple[int | None, ...], i: int) -> tuple[int | None, ...]:
    return tuple(None if j == i else q for j, q in enumerate(quotas))


def infeasible(problem: Problem, singles: Sequence[Single], limits: Limits) -> NoFeasiblePlan:
    """Why no fleet exists, with the smallest relaxation of each constraint that alone would be enough."""
    spec, cols = problem.spec, problem.cols
    hints: list[str] = []
    for i, s in enumerate(singles):
        if not any(c.members == (i,) for c in cols):
            found = s.full_search()
            feasible, blocked = split(found.candidates, s.res)
            for h in near_misses(found, blocked, s.allowed.excluded) if not feasible else ["no candidate"]:
                hints.append(f"workloads[{s.spec.name}]: {h}")
    if hints:
        return NoFeasiblePlan("some workloads cannot be served even alone", hints)
    if limits.budget is not None:
        free = solve(problem, dataclasses.replace(limits, budget=None),
                     minimise=[c.cash for c in cols])
        if free is not None:
            need = sum(cols[c].cash for c in free.chosen) + sum(
                k * n for k, n in zip(problem.server_cost, free.servers, strict=True))
            hints.append(f"fleet.budget must be at least {usd(math.ceil(need))}/month")
    if limits.capex_budget is not None:
        free = solve(problem, dataclasses.replace(limits, capex_budget=None),
                     minimise=[c.capex for c in cols])
        if free is not None:
            need = math.ceil(sum(cols[c].capex for c in free.chosen))
            hints.append(f"fleet.capex_budget must be at least {usd(need)}")
    for i, q in enumerate(spec.quotas):
        free = solve(problem, dataclasses.replace(limits, quotas=_without(limits.quotas, i)),
                     minimise=[float(c.gpus) if i in c.quotas else 0.0 for c in cols])
        if free is not None:
            hints.append(f"fleet.quotas[{i}] ({q}) must allow at least {_quota_use(cols, free.chosen, i)} GPUs")
    if any(w.request.min_quality is not None for w in spec.workloads):
        free = solve(problem, dataclasses.replace(limits, quality_bars=False))
        if free is not None:
            low = sorted({f"workloads[{spec.workloads[m].name}].min_quality at most {q:.2f}"
                          for c in free.chosen for m, q in zip(cols[c].members, cols[c].qualities, strict=True)
                          if (spec.workloads[m].request.min_quality or 0.0) > q})
            hints.append("lower " + ", ".join(low))
    if not hints:
        hints.append("no single relaxation is enough: raise the budgets and quotas together, or allow more "
                     "deploy kinds, providers, regions or GPUs")
    return NoFeasiblePlan("no fleet meets every workload within the fleet's constraints", hints)
