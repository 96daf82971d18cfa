"""Explain: why every other family was rejected, what to relax when nothing fits, notes on the choice."""

from __future__ import annotations

from planner import perf
from planner.cost import OnpremLine, TcoInputs
from planner.fmt import usd
from planner.plan import Rejection
from planner.solver import queueing
from planner.solver.choose import Blocked, Rank, family_key, monthly_cash
from planner.solver.costing import Candidate
from planner.solver.evaluate import Failure
from planner.solver.resolve import Resolved
from planner.solver.search import Search, unpriced

# The constraint reported for a family that failed several ways: the one a user would relax first.
_ORDER = {"precision": 0, "engine": 0, "context": 0, "memory": 1, "tpot": 2, "ttft": 3, "load": 4, "availability": 5}


def rejections(s: Search, feasible: list[Candidate], blocked: Blocked, order: Rank) -> list[Rejection]:
    res = s.res
    """Families with no candidate at all (by the performance constraint that stopped them), then
    families whose every candidate broke the budget or the quality bar."""
    priced = {(c.model, c.sized.cfg.precision, c.sized.cfg.gpu.id, c.sized.cfg.engine)
              for c in s.candidates if c.sized is not None}
    out: list[Rejection] = []
    for fam, fails in sorted(s.failures.items(), key=lambda kv: str(kv[0])):
        if (fam.model, fam.precision, fam.gpu, fam.engine) in priced:
            continue
        worst = max(fails, key=lambda f: (_ORDER.get(f.constraint, 0), -f.shortfall))
        out.append(Rejection(model=fam.model, precision=fam.precision, gpu=fam.gpu, engine=fam.engine,
                             constraint=worst.constraint, detail=worst.detail, shortfall=round(worst.shortfall, 2)))
    # A family with a feasible option is not rejected, even if its other configurations are.
    seen = {family_key(c) for c in feasible}
    for c, v in sorted(blocked, key=lambda t: order(t[0])):
        if family_key(c) in seen:
            continue
        seen.add(family_key(c))
        constraint, shortfall = v[0]
        detail = {
            "budget": f"{usd(monthly_cash(c, res))}/month is {usd(shortfall)} over budget",
            "capex": f"{usd(c.line.capex_usd)} up front is {usd(shortfall)} over the capex budget",
        }.get(constraint, f"quality {c.quality:.1f} is {shortfall:.1f} below the minimum")
        cfg = c.sized.cfg if c.sized is not None else None
        out.append(Rejection(
            model=c.model, precision=cfg.precision if cfg else None, gpu=cfg.gpu.id if cfg else None,
            engine=None, deploy=c.deploy, provider=c.line.provider if c.deploy != "onprem" else None,
            constraint="budget" if constraint == "budget" else "capex" if constraint == "capex" else "quality",
            detail=detail, shortfall=round(shortfall, 2)))
    return out


def near_misses(s: Search, blocked: Blocked, excluded: list[Rejection]) -> list[str]:
    res, hints = s.res, []
    single = [(c, v[0]) for c, v in blocked if len(v) == 1]
    for constraint in ("budget", "capex", "quality"):
        cands = [(sf, c) for c, (name, sf) in single if name == constraint]
        if not cands:
            continue
        _, c = min(cands, key=lambda t: t[0])
        if constraint == "budget":
            hints.append(f"budget must be at least {usd(monthly_cash(c, res))}/month ({c.describe()}, {c.deploy})")
        elif constraint == "capex":
            hints.append(f"--capex-budget must be at least {usd(c.line.capex_usd)} ({c.describe()}, on-prem)")
        else:
            # quality is already rounded to 2 decimals and compared as such: this value is feasible.
            hints.append(f"--min-quality must be at most {c.quality:.2f} ({c.describe()})")
    fails = [f for fl in s.failures.values() for f in fl]
    # An API too slow for the targets fails on TTFT/TPOT like a self-hosted configuration.
    fails += [Failure(r.constraint, r.detail, r.shortfall or 0.0) for r in excluded
              if r.deploy == "api" and r.constraint in ("ttft", "tpot")]
    req = res.request
    only_api = res.deploys == {"api"}
    if not only_api and not any(c.deploy != "api" for c in s.candidates):
        hints.extend(_self_hosted_hints(fails, res))
    elif only_api and not s.catalog.api:  # every API was too slow (or unmeasured)
        hints.extend(_self_hosted_hints([f for f in fails if f.constraint in ("ttft", "tpot")], res))
    if not s.candidates and not hints and only_api:
        if not res.has_load and req.budget is None:
            hints.append("hosted APIs are priced per token: give a load (--rps, --concurrency, --tokens-per-day) "
                         "or a --budget")
        else:
            hints.append("no hosted API prices the allowed --models/--providers")
    if not hints and req.precisions and not only_api:
        have = sorted({f"{m.id} {c.precision}" for m in s.catalog.models.values() for c in m.checkpoints
                       if not req.models or m.id in req.models})
        hints.append(f"no checkpoint in --precisions {','.join(req.precisions)} for the allowed models; "
                     f"available: {', '.join(have)}")
    if not hints:
        hints.append("no candidates: widen --models/--gpus/--precisions/--deploy/--providers")
    return hints


def _self_hosted_hints(fails: list[Failure], res: Resolved) -> list[str]:
    """Why no self-hosted option exists, naming the constraint that stopped the most promising ones."""
    by = {c: [f for f in fails if f.constraint == c] for c in ("availability", "ttft", "tpot", "memory", "context")}
    if by["availability"]:
        # Configurations met the targets but nobody sells them on the allowed terms.
        gpus = sorted({f.gpu for f in by["availability"] if f.gpu})
        shown = ", ".join(gpus[:5]) + (f" and {len(gpus) - 5} more" if len(gpus) > 5 else "")
        return [f"{unpriced(res)} for the GPUs that meet the targets ({shown}): allow another --deploy "
                "or --providers, or add a price in a catalog overlay"]
    hints = []
    # A family that failed on TTFT had already met TPOT, so TPOT binds only when none got that far.
    constraint, flag, target = ("ttft", "TTFT", res.ttft_ms) if by["ttft"] else ("tpot", "TPOT", res.tpot_ms)
    if by[constraint]:
        best = min(f.shortfall for f in by[constraint]) + target
        hints.append(f"{flag} below {best:,.0f} ms is not reachable on the allowed GPUs or APIs (target {target:g} ms)")
    if not hints and by["memory"]:
        least = min(f.shortfall for f in by["memory"])
        hints.append(f"no allowed GPU/precision holds the model (closest is {least:,.1f} GB per GPU short): "
                     "allow larger or more GPUs, or a lower precision")
    if not hints and by["context"]:
        hints.append(by["context"][0].detail)
    return hints


def notes(cand: Candidate, res: Resolved, s: Search, tco: TcoInputs) -> list[str]:
    """What the user should know about the recommendation (assumptions, caveats, what the budget buys)."""
    out = []
    req = res.request
    if cand.deploy == "api":
        out.append("hosted API latency: the slowest published median TTFT and output speed for this host "
                   "(medians on the publisher's prompts, not p95 at your prompt length)")
        if res.concurrency is not None:
            think = f" plus {res.think_s:g} s of think time" if res.think_s else ""
            out.append(f"priced at {cand.priced_rps:.2f} req/s: {res.concurrency} users, each waiting the "
                       f"published API latency{think} per request")
    if "onprem" not in res.deploys and req.deploy is None and req.budget is not None:
        out.append("--budget is monthly cash: buying hardware was not considered (allow it with --deploy onprem "
                   "or any, or a --capex-budget)")
    if res.workload.load_profile is not None:
        out.append(f"load profile: sized for the busiest hour ({res.workload.peak_rps:g} req/s); cloud replicas follow "
                   f"the hourly profile and are billed for the hours they run (each scale-up one hour early, for "
                   f"start-up and weight loading); committed instances cover the base load where that is cheaper "
                   f"than on-demand; on-prem pays for the peak; tokens and APIs are billed at the average "
                   f"{res.arrival_rps:g} req/s")
    elif res.workload.peak_rps is not None:
        out.append(f"replicas are sized for the peak of {res.workload.peak_rps:g} req/s and run all month (no "
                   f"hourly load profile: autoscaling savings are not priced); tokens and APIs are billed at "
                   f"the average {res.arrival_rps:g} req/s")
    if not res.has_load and req.budget is None and "api" in res.deploys:
        out.append("hosted APIs are priced per token: give a load (--rps, --concurrency, --tokens-per-day) "
                   "or a budget to compare them")
    if not res.has_load:
        what = (f"{cand.sized.replicas} replica(s) on the GPUs paid for sustain" if cand.sized is not None
                else "the budget pays the API for")
        out.append(
            f"no load given: highest quality within budget (within {res.quality_tolerance:g} points counts as a "
            f"tie, and the lower $ per million tokens wins); {what} {cand.capacity_rps:.2f} req/s "
            f"({res.workload.tokens_per_day(cand.capacity_rps):,.0f} tokens/day) at the SLO"
        )
        sized = cand.sized
        if req.budget and sized is not None and cand.monthly_cost_usd > 0:
            n = int(req.budget // cand.monthly_cost_usd)
            if n > 1:
                cap = queueing.max_rps(n * sized.replicas * sized.batch, sized.service_s, sized.wait_budget_s)
                out.append(f"the budget buys up to {n} such deployments: about {cap:.2f} req/s")
    if cand.sized is not None:
        spare = cand.line.gpus - cand.sized.cfg.tp * cand.sized.replicas
        if spare > 0:
            out.append(f"{spare} of the {cand.line.gpus} GPUs paid for are spare (no whole replica fits on them)")
    if isinstance(cand.line, OnpremLine):
        ln = cand.line
        out.append(
            f"on-prem: {usd(ln.capex_usd)} capex up front, then {usd(ln.monthly_usd)}/month = "
            f"{usd(ln.depreciation_monthly)} depreciation ({ln.depreciation_years:g} years) + "
            f"{usd(ln.capital_monthly)} cost of capital + {usd(ln.opex_monthly)} opex (energy "
            f"{usd(ln.power_monthly)}, facility {usd(ln.colo_monthly)}, staff and support {usd(ln.ops_monthly)})")
        if "cost_of_capital" in tco.unpublished:
            out.append("on-prem cost of capital: no published rate, counted as 0 (give --cost-of-capital)")
    if cand.sized is not None:
        caveat = perf.calibration_caveat(cand.sized.cfg.gpu)
        if caveat:
            out.append(caveat)
    if cand.line.stale:
        out.append(f"the recommended price is older than 12 months (as of {cand.line.as_of.isoformat()}; "
                   "allowed by --allow-stale)")
    return out
