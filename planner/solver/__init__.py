"""Search every candidate the catalog allows, keep the feasible ones, choose, and explain.

With a load: the cheapest option meeting load, SLO and quality within budget.
Without one: the highest task quality within budget, reporting the capacity it buys.
Ties break toward fewer GPUs, then vLLM (the default engine), then lower latency; without a load,
lower $ per million output tokens comes before all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planner import __version__, perf
from planner.catalog.loader import Catalog, stale_entries
from planner.errors import NoFeasiblePlan
from planner.feasibility import context_problem
from planner.plan import Deployment, Option, Plan, Rejection
from planner.request import Request
from planner.solver import queueing
from planner.solver.costing import api_options, self_hosted_options, visual_tokens
from planner.solver.evaluate import Failure, Sized, exact_capacity, size
from planner.solver.space import Family, Resolved, configurations, nodes_for, resolve

QUEUEING_MODEL = (
    "M/M/c over engine batch slots: Poisson arrivals, each request holds one of replicas × batch "
    "slots for TTFT + OSL × TPOT; replicas are the fewest whose Erlang-C p95 queueing delay plus "
    "the steady-state TTFT meets the TTFT target (closed-loop --concurrency: one slot per user)."
)
ALTERNATIVES = 8

__all__ = ["Resolved", "resolve", "solve"]


@dataclass
class _Search:
    res: Resolved
    catalog: Catalog
    options: list[Option]
    sized: dict[tuple[str, str, str, str, int, int, int], Sized]
    failures: dict[Family, list[Failure]]
    evaluated: int = 0


def _key(o: Option) -> tuple[str, str, str, str, int, int, int]:
    return (o.model, o.precision or "", o.gpu or "", o.engine or "", o.tp, o.ep, o.mtp_tokens)


def _search(res: Resolved, catalog: Catalog) -> _Search:
    s = _Search(res, catalog, [], {}, {})
    self_hosted = configurations(res, catalog) if res.request.deploy != "api" else iter(())
    too_long: dict[str, str | None] = {}
    for fam, cfg in self_hosted:
        s.evaluated += 1
        if cfg is None:
            s.failures.setdefault(fam, []).append(
                Failure("precision", f"{fam.gpu} has no native {fam.precision} support", 0.0)
            )
            continue
        if fam.model not in too_long:
            tokens = res.isl + visual_tokens(res, catalog, fam.model) + res.osl
            too_long[fam.model] = context_problem(cfg.model, tokens)
        if too_long[fam.model]:
            s.failures.setdefault(fam, []).append(Failure("context", str(too_long[fam.model]), 0.0))
            continue
        outcome = size(cfg, res)
        if isinstance(outcome, Failure):
            s.failures.setdefault(fam, []).append(outcome)
            continue
        priced = list(self_hosted_options(outcome, res, catalog))
        if not priced:
            s.failures.setdefault(fam, []).append(Failure("availability", f"{_unpriced(res)} for {fam.gpu}", 0.0))
        for opt in priced:
            s.options.append(opt)
            s.sized[_key(opt)] = outcome
    api = list(api_options(res, catalog))
    s.evaluated += len(api)
    s.options.extend(api)
    return s


def _unpriced(res: Resolved) -> str:
    """What is missing when a configuration meets the targets but has no price on the allowed terms."""
    req = res.request
    where = []
    if req.deploy in ("cloud", "any"):
        providers = f" from {', '.join(req.providers)}" if req.providers else ""
        basis = "" if req.commit == "none" else f" at a {req.commit} commitment"
        where.append(f"no cloud offer{providers}{basis}")
    if req.deploy in ("onprem", "any"):
        where.append("no purchase price")
    return " and ".join(where)


def _violations(o: Option, res: Resolved) -> list[tuple[str, float]]:
    req = res.request
    out: list[tuple[str, float]] = []
    if req.budget is not None and o.monthly_cost_usd > req.budget:
        out.append(("budget", o.monthly_cost_usd - req.budget))
    if req.min_quality is not None and o.quality < req.min_quality:
        out.append(("quality", req.min_quality - o.quality))
    return out


def _rank(res: Resolved) -> Callable[[Option], tuple[float, ...]]:
    def latency(o: Option) -> float:
        return (o.ttft_ms or 0.0) + res.osl * (o.tpot_ms or 0.0)

    def not_default_engine(o: Option) -> bool:
        return o.engine not in (None, "vllm")  # vLLM is the default engine: it wins exact ties

    if res.has_load:
        return lambda o: (o.monthly_cost_usd, o.total_gpus, not_default_engine(o), latency(o), o.usd_per_million_tokens)
    return lambda o: (-o.quality, o.usd_per_million_tokens, o.total_gpus, not_default_engine(o), latency(o),
                      o.monthly_cost_usd)


def _describe(o: Option) -> str:
    return o.model if o.deploy == "api" else f"{o.model} {o.precision} on {o.gpu}"


def pareto(options: list[Option], osl: int) -> list[Option]:
    """Options no other beats on cost, end-to-end latency and quality at once."""

    def axes(o: Option) -> tuple[float, float, float]:
        lat = (o.ttft_ms or 0.0) + osl * (o.tpot_ms or 0.0) if o.deploy != "api" else float("inf")
        return (o.monthly_cost_usd, lat, -o.quality)

    pts = [(axes(o), o) for o in options]
    front = []
    for a, o in pts:
        dominated = any(
            all(x <= y for x, y in zip(b, a, strict=True)) and b != a for b, _ in pts
        )
        if not dominated:
            front.append(o)
    return front


def _best_per_family(options: list[Option], rank: Callable[[Option], tuple[float, ...]]) -> list[Option]:
    best: dict[tuple[str, ...], Option] = {}
    for o in sorted(options, key=rank):
        fam = (o.model, o.precision or "", o.gpu or "", o.deploy, o.provider or "")
        best.setdefault(fam, o)
    return list(best.values())


def _rejections(s: _Search) -> list[Rejection]:
    """Families that produced no option at all, by the performance constraint that stopped them.

    Families with options are judged on those options instead (budget, quality) by the caller.
    """
    priced = {(o.model, o.precision or "", o.gpu or "", o.engine or "") for o in s.options}
    out: list[Rejection] = []
    for fam, fails in sorted(s.failures.items(), key=lambda kv: str(kv[0])):
        if (fam.model, fam.precision, fam.gpu, fam.engine) in priced:
            continue
        # Report the constraint that came closest: the one a user would relax first.
        order = {"precision": 0, "context": 0, "memory": 1, "tpot": 2, "ttft": 3, "load": 4, "availability": 5}
        worst = max(fails, key=lambda f: (order.get(f.constraint, 0), -f.shortfall))
        out.append(Rejection(family=str(fam), constraint=worst.constraint,
                             detail=worst.detail, shortfall=round(worst.shortfall, 2)))
    return out


def _with_capacity(o: Option, s: _Search) -> Option:
    """With an open-loop load, fill in the exact capacity of a shown option (see exact_capacity)."""
    if o.deploy == "api" or s.res.arrival_rps is None:
        return o
    cap = exact_capacity(s.sized[_key(o)], known=s.res.arrival_rps)
    return o.model_copy(update={
        "capacity_rps": round(cap, 4),
        "capacity_tokens_per_day": round(cap * 86400 * (s.res.isl + s.res.osl)),
    })


def _deployment(o: Option, s: _Search) -> Deployment | None:
    if o.deploy == "api":
        return None
    sized = s.sized[_key(o)]
    cfg = sized.cfg
    ckpt = s.catalog.checkpoints_of(cfg.model.id)[cfg.precision]
    arch = cfg.model.architecture
    assert arch is not None
    res = s.res
    prompt = res.isl + visual_tokens(res, s.catalog, cfg.model.id)
    eng = perf.engine_settings(cfg)
    # Headroom over the typical request so longer-than-average prompts are not refused, within what
    # the KV pool can hold for one sequence (engines refuse to start otherwise).
    wanted = min(arch.native_context, _pow2_ceil(2 * (prompt + res.osl)))
    # The search already refused requests longer than the native context, so this stays within it.
    max_len = max(prompt + res.osl, min(wanted, eng.max_context_tokens // 1024 * 1024))
    return Deployment(
        model=cfg.model.id,
        checkpoint=ckpt.repo,
        precision=cfg.precision,
        kv_dtype=cfg.kv_dtype,
        engine=cfg.engine,
        gpu=cfg.gpu.id,
        tp=cfg.tp,
        ep=cfg.ep,
        gpus_per_replica=cfg.tp,
        nodes_per_replica=nodes_for(cfg.tp, cfg.gpu),
        replicas=sized.replicas,
        max_model_len=max_len,
        max_num_seqs=sized.batch,
        max_num_batched_tokens=eng.max_num_batched_tokens,
        mtp_tokens=cfg.mtp,
        gpu_memory_utilization=eng.gpu_memory_utilization,
        language_model_only=cfg.language_model_only,
    )


def _pow2_ceil(n: int) -> int:
    p = 1024
    while p < n:
        p *= 2
    return p


def _near_misses(s: _Search, blocked: list[tuple[Option, list[tuple[str, float]]]]) -> list[str]:
    res, hints = s.res, []
    single = [(o, v[0]) for o, v in blocked if len(v) == 1]
    for constraint in ("budget", "quality"):
        cands = [(sf, o) for o, (c, sf) in single if c == constraint]
        if not cands:
            continue
        _, o = min(cands, key=lambda t: t[0])
        if constraint == "budget":
            hints.append(f"budget must be at least ${o.monthly_cost_usd:,.0f}/month "
                         f"({_describe(o)}, {o.deploy})")
        else:
            # Option.quality is already rounded to 2 decimals and compared as such: this value is feasible.
            hints.append(f"--min-quality must be at most {o.quality:.2f} ({_describe(o)})")
    fails = [f for fl in s.failures.values() for f in fl]
    req = res.request
    if req.deploy != "api" and not any(o.deploy != "api" for o in s.options):
        hints.extend(_self_hosted_hints(fails, res))
    if not s.options and not hints and req.deploy == "api":
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
        gpus = sorted({f.detail.rsplit(" for ", 1)[1] for f in by["availability"]})
        shown = ", ".join(gpus[:5]) + (f" and {len(gpus) - 5} more" if len(gpus) > 5 else "")
        return [f"{_unpriced(res)} for the GPUs that meet the targets ({shown}): allow another --deploy "
                "or --providers, or add a price in a catalog overlay"]
    hints = []
    # A family that failed on TTFT had already met TPOT, so TPOT binds only when none got that far.
    binding = ("ttft", "TTFT", res.ttft_ms) if by["ttft"] else ("tpot", "TPOT", res.tpot_ms)
    constraint, flag, target = binding
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


def solve(request: Request, catalog: Catalog) -> Plan:
    res = resolve(request, catalog)
    s = _search(res, catalog)
    rank = _rank(res)
    feasible, blocked = [], []
    for o in s.options:
        v = _violations(o, res)
        (blocked.append((o, v)) if v else feasible.append(o))
    if not feasible:
        raise NoFeasiblePlan(
            f"no plan meets the request ({s.evaluated} candidates evaluated)", _near_misses(s, blocked)
        )
    feasible.sort(key=rank)
    best = _with_capacity(feasible[0], s)
    per_family = _best_per_family(feasible, rank)
    front = [o for o in pareto(per_family, res.osl) if o != feasible[0]]
    alternatives = [_with_capacity(o, s) for o in sorted(front, key=rank)[:ALTERNATIVES]]
    rejected = _rejections(s)

    def label(o: Option) -> str:
        return f"{_describe(o)} ({o.deploy}{', ' + o.provider if o.provider else ''})"

    # A family with a feasible option is not rejected, even if its other configurations are.
    seen = {r.family for r in rejected} | {label(o) for o in feasible}
    for o, v in sorted(blocked, key=lambda t: rank(t[0])):
        fam = label(o)
        if fam in seen:
            continue
        seen.add(fam)
        c, sf = v[0]
        detail = (f"${o.monthly_cost_usd:,.0f}/month is ${sf:,.0f} over budget" if c == "budget"
                  else f"quality {o.quality:.1f} is {sf:.1f} below the minimum")
        rejected.append(Rejection(family=fam, constraint=c, detail=detail, shortfall=round(sf, 2)))
    notes = _notes(best, res, s)
    stale = stale_entries(catalog, res.today)
    return Plan(
        version=__version__,
        request=res.request,
        resolved=res.as_dict(),
        recommended=best,
        deployment=_deployment(best, s),
        alternatives=alternatives,
        rejected=rejected,
        queueing_model=QUEUEING_MODEL,
        candidates_evaluated=s.evaluated,
        stale_prices=stale,
        notes=notes,
    )


def _notes(best: Option, res: Resolved, s: _Search) -> list[str]:
    notes = []
    if best.deploy == "api":
        notes.append("hosted API latency is the provider's; it is not modelled, so TTFT/TPOT are not checked")
        if res.concurrency is not None:
            notes.append(f"priced at {best.capacity_rps:.2f} req/s: {res.concurrency} users at the latency of "
                         "one stream of the same model on a single reference GPU (an assumption)")
    if res.request.providers and res.request.deploy == "onprem":
        notes.append("--providers filters cloud and API offers; it has no effect with --deploy onprem")
    if not res.has_load and res.request.budget is None and res.request.deploy in ("api", "any"):
        notes.append("hosted APIs are priced per token: give a load (--rps, --concurrency, --tokens-per-day) "
                     "or a budget to compare them")
    if not res.has_load:
        notes.append(
            f"no load given: one replica, highest quality within budget; it sustains "
            f"{best.capacity_rps:.2f} req/s ({best.capacity_tokens_per_day:,.0f} tokens/day) at the SLO"
        )
        if res.request.budget and best.deploy != "api" and best.monthly_cost_usd > 0:
            n = int(res.request.budget // best.monthly_cost_usd)
            if n > 1:
                sized = s.sized[_key(best)]
                cap = queueing.max_rps(n * sized.batch, sized.service_s,
                                       (res.ttft_ms - sized.ttft_ms) / 1000.0)
                notes.append(f"the budget buys up to {n} such replicas: about {cap:.2f} req/s")
    if best.deploy == "onprem":
        t = s.catalog.tco
        notes.append(f"on-prem: ${best.capex_usd:,.0f} up front; the monthly figure is "
                     f"{res.request.years or t.depreciation_years:g}-year depreciation plus power"
                     + ("" if t.colo_usd_per_kw_month or t.ops_usd_per_gpu_month else
                        " (no colocation, staff or cost of capital: add them in a catalog overlay)"))
    if best.gpu is not None:
        caveat = perf.calibration_caveat(s.catalog.gpu(best.gpu))
        if caveat:
            notes.append(caveat)
    if best.stale_price:
        notes.append(f"the recommended price is older than 12 months (as of {best.price_as_of})")
    return notes
