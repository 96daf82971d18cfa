"""Explain: why every other family was rejected, what to relax when nothing fits, notes on the choice."""

from __future__ import annotations

from planner import perf
from planner.fmt import usd
from planner.plan import Rejection
from planner.solver import queueing
from planner.solver.choose import Blocked, Rank, family_key
from planner.solver.costing import Candidate
from planner.solver.evaluate import Failure
from planner.solver.resolve import Resolved
from planner.solver.search import Search, unpriced

# The constraint reported for a family that failed several ways: the one a user would relax first.
_ORDER = {"precision": 0, "engine": 0, "context": 0, "memory": 1, "tpot": 2, "ttft": 3, "load": 4, "availability": 5}


def rejections(s: Search, feasible: list[Candidate], blocked: Blocked, order: Rank) -> list[Rejection]:
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
        detail = (f"{usd(c.monthly_cost_usd)}/month is {usd(shortfall)} over budget" if constraint == "budget"
                  else f"quality {c.quality:.1f} is {shortfall:.1f} below the minimum")
        cfg = c.sized.cfg if c.sized is not None else None
        out.append(Rejection(
            model=c.model, precision=cfg.precision if cfg else None, gpu=cfg.gpu.id if cfg else None,
            engine=None, deploy=c.deploy, provider=c.line.provider if c.deploy != "onprem" else None,
            constraint="budget" if constraint == "budget" else "quality", detail=detail,
            shortfall=round(shortfall, 2)))
    return out


def near_misses(s: Search, blocked: Blocked) -> list[str]:
    res, hints = s.res, []
    single = [(c, v[0]) for c, v in blocked if len(v) == 1]
    for constraint in ("budget", "quality"):
        cands = [(sf, c) for c, (name, sf) in single if name == constraint]
        if not cands:
            continue
        _, c = min(cands, key=lambda t: t[0])
        if constraint == "budget":
            hints.append(f"budget must be at least {usd(c.monthly_cost_usd)}/month ({c.describe()}, {c.deploy})")
        else:
            # quality is already rounded to 2 decimals and compared as such: this value is feasible.
            hints.append(f"--min-quality must be at most {c.quality:.2f} ({c.describe()})")
    fails = [f for fl in s.failures.values() for f in fl]
    req = res.request
    if req.deploy != "api" and not any(c.deploy != "api" for c in s.candidates):
        hints.extend(_self_hosted_hints(fails, res))
    if not s.candidates and not hints and req.deploy == "api":
        if not res.has_load and req.budget is None:
            hints.append("hosted APIs are priced per token: give a load (--rps, --concurrency, --tokens-per-day) "
                         "or a --budget")
        else:
            hints.append("no hosted API prices the allowed --models/--providers")
    if not hints and req.precisions and req.deploy != "api":
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
        hints.append(f"{flag} below {best:,.0f} ms is not reachable on the allowed GPUs (target {target:g} ms)")
    if not hints and by["memory"]:
        least = min(f.shortfall for f in by["memory"])
        hints.append(f"no allowed GPU/precision holds the model (closest is {least:,.1f} GB per GPU short): "
                     "allow larger or more GPUs, or a lower precision")
    if not hints and by["context"]:
        hints.append(by["context"][0].detail)
    return hints


def notes(cand: Candidate, res: Resolved, s: Search) -> list[str]:
    """What the user should know about the recommendation (assumptions, caveats, what the budget buys)."""
    out = []
    req = res.request
    if cand.deploy == "api":
        out.append("hosted API latency is the provider's; it is not modelled, so TTFT/TPOT are not checked")
        if res.concurrency is not None:
            out.append(f"priced at {cand.priced_rps:.2f} req/s: {res.concurrency} users at the latency of "
                       "one stream of the same model on a single reference GPU (an assumption)")
    if req.providers and req.deploy == "onprem":
        out.append("--providers filters cloud and API offers; it has no effect with --deploy onprem")
    if not res.has_load and req.budget is None and req.deploy in ("api", "any"):
        out.append("hosted APIs are priced per token: give a load (--rps, --concurrency, --tokens-per-day) "
                   "or a budget to compare them")
    if not res.has_load:
        out.append(
            f"no load given: one replica, highest quality within budget; it sustains "
            f"{cand.capacity_rps:.2f} req/s ({res.workload.tokens_per_day(cand.capacity_rps):,.0f} tokens/day) "
            "at the SLO"
        )
        sized = cand.sized
        if req.budget and sized is not None and cand.monthly_cost_usd > 0:
            n = int(req.budget // cand.monthly_cost_usd)
            if n > 1:
                cap = queueing.max_rps(n * sized.batch, sized.service_s, (res.ttft_ms - sized.ttft_ms) / 1000.0)
                out.append(f"the budget buys up to {n} such replicas: about {cap:.2f} req/s")
    if cand.deploy == "onprem":
        t = s.catalog.tco
        out.append(f"on-prem: {usd(cand.line.capex_usd)} up front; the monthly figure is "
                   f"{req.years or t.depreciation_years:g}-year depreciation plus power"
                   + ("" if t.colo_usd_per_kw_month or t.ops_usd_per_gpu_month else
                      " (no colocation, staff or cost of capital: add them in a catalog overlay)"))
    if cand.sized is not None:
        caveat = perf.calibration_caveat(cand.sized.cfg.gpu)
        if caveat:
            out.append(caveat)
    if cand.line.stale:
        out.append(f"the recommended price is older than 12 months (as of {cand.line.as_of.isoformat()})")
    return out

