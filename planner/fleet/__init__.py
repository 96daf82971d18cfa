"""Fleet planning: several workloads, one fleet, one integer program (docs/fleet.md).

`spec` reads the fleet file, `columns` builds the candidate deployments with the solver's own
search (and `mix` sizes shared ones), `milp` chooses, `explain` says what binds, and `plan_fleet`
returns the FleetPlan plus, for each deployment, the Plan that render and report turn into files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner import __version__
from planner.catalog import Catalog
from planner.fleet.columns import Column, Single, columns, plan_alone, server_costs
from planner.fleet.explain import bindings, infeasible
from planner.fleet.lazy import Spaces
from planner.fleet.milp import Limits, Problem, Solution, greedy, solve
from planner.fleet.mix import member_latency
from planner.fleet.model import FleetDeployment, FleetPlan, Served
from planner.fleet.spec import FleetSpec, load_fleet, parse_fleet
from planner.fmt import usd
from planner.k8s_names import slug
from planner.plan import Api, Plan, SelfHosted
from planner.solver import QUEUEING_MODEL
from planner.solver.options import present, tco_of

__all__ = ["FleetPlan", "FleetResult", "FleetSpec", "load_fleet", "parse_fleet", "plan_fleet"]

FORMULATION = (
    "min Σ cost_c·x_c over binary x_c (one per candidate deployment c: configuration, offer, replicas, "
    "workloads served) s.t. Σ_{c∋w} x_c = 1 for every workload w; Σ gpus_c·x_c ≤ quota over the columns "
    "each quota counts; Σ gpus_c·x_c ≤ owned GPUs over owned columns; Σ cash_c·x_c ≤ budget; "
    "Σ capex_c·x_c ≤ capex budget (objective quality: max Σ weight·quality first, then min cost at it); "
    "solved by HiGHS (highspy), gap 0"
)
NAME_MAX = 40


@dataclass(frozen=True)
class FleetResult:
    plan: FleetPlan
    deployments: dict[str, Plan]  # deployment name -> the Plan its folder is rendered from


def _name(col: Column, taken: set[str]) -> str:
    c = col.candidate
    if c.sized is None:
        base = f"api-{slug(c.model)}-{slug(c.line.provider)}"
    else:
        base = f"{slug(c.model)}-{slug(c.sized.cfg.gpu.id)}" + ("-owned" if col.owned else "")
    base = base[:NAME_MAX - 3].strip("-")
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    taken.add(name)
    return name


def _plan_of(col: Column, monthly: float) -> Plan:
    res, cat = col.res, col.catalog
    tco = tco_of(res, cat)
    option = present(col.candidate, res, cat, tco)
    notes = (["owned servers: the fleet counts only their running cost "
             f"({usd(monthly)}/month, its share of the servers powered); the line below prices them as bought"]
             if col.owned else [])
    return Plan(version=__version__, request=res.request, workload=res.workload, commit=res.request.commit, tco=tco,
                as_of=res.today, recommended=option, alternatives=[], rejected=[], queueing_model=QUEUEING_MODEL,
                candidates_evaluated=1, notes=notes)


def _scaled(band: tuple[float, float], central: float, value: float, digits: int) -> tuple[float, float] | None:
    """The deployment's band around its own prediction, as ratios, applied to a member's prediction: a
    shared deployment's members see the same replica, so the same relative model error."""
    if central <= 0:
        return None
    return round(value * band[0] / central, digits), round(value * band[1] / central, digits)


def _summary(option: SelfHosted | Api) -> str:
    return f"{option.label}, {option.where}"


def _why(spec: FleetSpec, singles: Sequence[Single], col: Column, w: int, apart: float) -> str:
    s = singles[w]
    target = f"TTFT target {s.res.ttft_ms:g} ms, TPOT {s.res.tpot_ms:g} ms"
    quality = s.res.request.min_quality
    bar = f", quality ≥ {quality:g}" if quality is not None else ""
    if len(col.members) > 1:
        others = ", ".join(spec.workloads[m].name for m in col.members if m != w)
        return (f"shares one deployment with {others}: sized for their combined peak load and request mix "
                f"({target}{bar} each hold under the mix), it costs {usd(col.monthly_cost)}/month against "
                f"{usd(apart)} for serving them apart")
    why = f"its cheapest deployment in the fleet meeting {target}{bar}"
    if col.owned:
        why += "; it runs on owned servers, which cost only their running cost (the purchase is sunk)"
    alone = s.alone
    if alone is not None and col.monthly_cost > alone.monthly_cost_usd + 0.005:
        why += (f"; alone it would take {alone.describe()} at {usd(alone.monthly_cost_usd)}, which a fleet "
                "constraint rules out")
    return why


def _apart(cols: Sequence[Column], members: tuple[int, ...]) -> float:
    return sum(min((c.monthly_cost for c in cols if c.members == (m,) and c.quality_ok), default=0.0)
               for m in members)


def _owned_costs(problem: Problem, sol: Solution) -> dict[int, float]:
    """Each owned deployment's share of the servers powered, by the GPUs it uses."""
    cols, out = problem.cols, {}
    for inv, powered, per in zip(problem.spec.inventory, sol.servers, problem.server_cost, strict=True):
        on = [c for c in sol.chosen if cols[c].owned and cols[c].gpu == inv.gpu]
        used = sum(cols[c].gpus for c in on)
        for c in on:
            out[c] = round(powered * per * cols[c].gpus / used, 2)
    return out


def plan_fleet(spec: FleetSpec, catalog: Catalog) -> FleetResult:
    spaces = Spaces()
    singles = [plan_alone(w, catalog, spaces) for w in spec.workloads]
    cols = columns(spec, singles, catalog)
    problem = Problem(spec, cols, server_costs(spec, singles, catalog))
    limits = Limits.of(spec)
    sol = solve(problem, limits)
    if sol is None:
        raise infeasible(problem, singles, limits)
    base = greedy(problem, limits)
    owned_cost = _owned_costs(problem, sol)
    taken: set[str] = set()
    deployments: list[FleetDeployment] = []
    plans: dict[str, Plan] = {}
    served: dict[int, Served] = {}
    for ci in sorted(sol.chosen, key=lambda c: (cols[c].members, c)):
        col = cols[ci]
        name = _name(col, taken)
        monthly = owned_cost.get(ci, col.monthly_cost)
        plan = _plan_of(col, monthly)
        plans[name] = plan
        option = plan.recommended
        deployments.append(FleetDeployment(
            name=name, workloads=[spec.workloads[m].name for m in col.members], kind=col.kind,
            summary=_summary(option), monthly_cost_usd=monthly, capex_usd=col.capex, gpus=col.gpus,
            option=option))
        sized = col.candidate.sized
        if sized is not None:
            latency = member_latency(sized, [singles[m].res for m in col.members])
        else:
            latency = [(col.candidate.ttft_ms, col.candidate.tpot_ms)]
        peaks = [singles[m].res.sizing_rps or 0.0 for m in col.members]
        apart = _apart(cols, col.members)
        bands = option.bands if isinstance(option, SelfHosted) else None
        for m, q, (ttft, tpot), peak in zip(col.members, col.qualities, latency, peaks, strict=True):
            s = singles[m]
            alone = s.alone
            served[m] = Served(
                name=s.spec.name, task=s.res.request.task, average_rps=round(s.res.arrival_rps or 0.0, 6),
                sizing_rps=round(s.res.sizing_rps or 0.0, 6),
                load_profile=list(s.spec.request.load_profile) if s.spec.request.load_profile else None,
                ttft_target_ms=s.res.ttft_ms, tpot_target_ms=s.res.tpot_ms, min_quality=s.res.request.min_quality,
                deployment=name, shared_with=[spec.workloads[o].name for o in col.members if o != m],
                ttft_ms=round(ttft, 1), tpot_ms=round(tpot, 2), quality=q,
                ttft_band_ms=_scaled(bands.ttft_ms, option.ttft_ms, ttft, 1) if bands else None,
                tpot_band_ms=_scaled(bands.tpot_ms, option.tpot_ms, tpot, 2) if bands else None,
                share_monthly_usd=round(monthly * peak / sum(peaks), 2),
                alone_monthly_usd=alone.monthly_cost_usd if alone is not None else None,
                alone=f"{alone.describe()} ({alone.deploy})" if alone is not None else None,
                why=_why(spec, singles, col, m, apart))
    alone_total = round(sum(s.alone.monthly_cost_usd for s in singles if s.alone is not None), 2)
    saving = round(alone_total - sol.monthly_cost, 2)
    notes = []
    if any(s.alone is None for s in singles):
        notes.append("some workloads have no feasible plan alone; the alone total leaves them out")
    if any(q.max_gpus == 0 for q in spec.quotas):
        notes.append("a quota of 0 GPUs rules that GPU out where it applies")
    fleet = FleetPlan(
        version=__version__, as_of=singles[0].res.today, objective=spec.objective, monthly_cost_usd=sol.monthly_cost,
        capex_usd=round(sum(cols[c].capex for c in sol.chosen), 2), weighted_quality=sol.quality,
        alone_monthly_usd=alone_total, saving_usd=saving,
        saving_pct=round(100.0 * saving / alone_total, 2) if alone_total > 0 else 0.0,
        greedy_monthly_usd=base.monthly_cost if base is not None else None,
        deployments=deployments, workloads=[served[i] for i in range(len(singles))],
        binding=bindings(problem, limits, sol), columns=len(cols), formulation=FORMULATION, notes=notes)
    return FleetResult(fleet, plans)

