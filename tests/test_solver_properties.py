"""Solver invariants on random requests (hypothesis), checked against the performance model."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import perf
from planner.catalog import Catalog, load_catalog
from planner.errors import NoFeasiblePlan
from planner.plan import Plan, SelfHosted
from planner.request import Request
from planner.solver import resolve, solve

# A slice of the catalog keeps each solve fast; the invariants do not depend on its size.
GPUS = ("l40s", "h100-sxm", "h200", "mi300x", "a100-80gb")
# derandomize: the same examples on every run, so CI is reproducible.
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@cache
def _catalog() -> Catalog:
    return load_catalog()

tasks = st.sampled_from(["chat", "coding", "docs", "agentic"])
rps = st.floats(0.05, 40.0)
ttft = st.sampled_from([800.0, 2000.0, 5000.0, 15000.0])
tpot = st.sampled_from([20.0, 40.0, 80.0])


def _solve(**kw: object) -> Plan | None:
    try:
        return solve(Request.model_validate({"gpus": GPUS, **kw}), _catalog())
    except NoFeasiblePlan:
        return None


@SETTINGS
@given(task=tasks, load=rps, t1=ttft, t2=tpot, deploy=st.sampled_from(["cloud", "onprem"]))
def test_recommended_plan_meets_every_constraint(
    task: str, load: float, t1: float, t2: float, deploy: str
) -> None:
    budget = 60000.0
    plan = _solve(task=task, rps=load, ttft_ms=t1, tpot_ms=t2, deploy=deploy, budget=budget)
    if plan is None:
        return
    rec, dep = plan.recommended, plan.deployment
    assert isinstance(rec, SelfHosted) and dep is not None
    assert rec.monthly_cost_usd <= budget
    assert rec.ttft_ms <= t1 and rec.tpot_ms <= t2
    assert rec.capacity_rps >= load
    # Re-derive from the performance model, independently of the solver's bookkeeping.
    catalog = _catalog()
    res = resolve(plan.request, catalog)
    cfg = perf.Config(model=catalog.model(dep.model), gpu=catalog.gpu(dep.gpu), precision=dep.precision,
                      tp=dep.tp, ep=dep.ep, kv_dtype=dep.kv_dtype, engine=dep.engine, mtp=dep.mtp_tokens,
                      # the task's MTP acceptance (catalog), as the search assumed it
                      mtp_acceptance=acc.per_token if dep.mtp_tokens and (acc := catalog.task(task).mtp_acceptance)
                      else None, language_model_only=dep.language_model_only)
    est = perf.estimate(cfg, res.shape, dep.max_num_seqs)
    assert est.fits
    settings = perf.engine_settings(cfg)
    assert dep.max_model_len <= settings.max_context_tokens  # the engine would refuse to start
    assert dep.max_num_batched_tokens == settings.max_num_batched_tokens
    assert est.tpot_ms <= t2 * 1.0001
    assert est.ttft_ms <= rec.ttft_ms + 0.05  # the plan rounds to 0.1 ms


@SETTINGS
@given(task=tasks, budget=st.floats(2000, 60000), tol=st.sampled_from([0.0, 0.5, 1.5]),
       deploy=st.sampled_from(["cloud", "onprem"]), tiers=st.sampled_from([None, ("secure", "community")]))
def test_more_budget_never_lowers_quality(task: str, budget: float, tol: float, deploy: str,
                                          tiers: tuple[str, ...] | None) -> None:
    """Quality within the tolerance is a tie (cost decides), so more budget may pick a tied option a few
    tenths lower, never one beyond the tolerance; with no tolerance, never a lower one."""
    kw = {"task": task, "deploy": deploy, "quality_tolerance": tol, "tiers": tiers}
    low = _solve(budget=budget, **kw)
    high = _solve(budget=budget * 2, **kw)
    if low is not None:
        assert high is not None
        assert high.recommended.quality >= low.recommended.quality - tol - 1e-9


@SETTINGS
@given(task=tasks, load=rps, deploy=st.sampled_from(["cloud", "onprem", "any"]),
       widen=st.sampled_from([{"tiers": ("secure", "community", "marketplace", "spot")}, {"allow_stale": True},
                              {"market": "any"}, {"regions": None}]))
def test_allowing_more_offers_never_raises_cost(task: str, load: float, deploy: str, widen: dict[str, object]) -> None:
    """Wider tiers, stale prices, any market, any region: more offers compete, so the cost never rises."""
    narrow = _solve(task=task, rps=load, deploy=deploy, regions=("us",) if "regions" in widen else None)
    wide = _solve(task=task, rps=load, deploy=deploy, **widen)
    if narrow is not None:
        assert wide is not None
        assert wide.recommended.monthly_cost_usd <= narrow.recommended.monthly_cost_usd + 0.01


@SETTINGS
@given(task=tasks, load=rps, cap=st.floats(50_000, 2_000_000), factor=st.floats(1.0, 4.0))
def test_more_capex_budget_never_raises_cost(task: str, load: float, cap: float, factor: float) -> None:
    low = _solve(task=task, rps=load, capex_budget=cap)
    high = _solve(task=task, rps=load, capex_budget=cap * factor)
    if low is not None:
        assert high is not None
        assert high.recommended.monthly_cost_usd <= low.recommended.monthly_cost_usd + 0.01
        assert all(o.capex_usd <= cap * factor for o in high.options)


@SETTINGS
@given(task=tasks, load=rps, factor=st.floats(1.0, 4.0), deploy=st.sampled_from(["cloud", "onprem", "any"]))
def test_more_load_never_lowers_cost(task: str, load: float, factor: float, deploy: str) -> None:
    low = _solve(task=task, rps=load, deploy=deploy)
    high = _solve(task=task, rps=load * factor, deploy=deploy)
    if high is not None:
        assert low is not None
        assert high.recommended.monthly_cost_usd >= low.recommended.monthly_cost_usd - 0.01


@SETTINGS
@given(task=tasks, load=rps, subset=st.sets(st.sampled_from(GPUS), min_size=1, max_size=3))
def test_allowing_more_gpus_never_raises_cost(task: str, load: float, subset: set[str]) -> None:
    try:
        few = solve(Request.model_validate({"task": task, "rps": load, "gpus": sorted(subset), "deploy": "cloud"}),
                    _catalog())
    except NoFeasiblePlan:
        return
    more = _solve(task=task, rps=load, deploy="cloud")
    assert more is not None
    assert more.recommended.monthly_cost_usd <= few.recommended.monthly_cost_usd + 0.01


@SETTINGS
@given(task=tasks, load=rps, providers=st.sets(st.sampled_from(["aws", "gcp", "azure", "lambda"]), min_size=1))
def test_allowing_more_providers_never_raises_cost(
    task: str, load: float, providers: set[str]
) -> None:
    known = {o.provider for o in _catalog().cloud.values()}
    subset = tuple(sorted(p for p in providers if p in known))
    if not subset:
        return
    few = _solve(task=task, rps=load, deploy="cloud", providers=subset)
    if few is None:
        return
    more = _solve(task=task, rps=load, deploy="cloud")
    assert more is not None
    assert more.recommended.monthly_cost_usd <= few.recommended.monthly_cost_usd + 0.01


@SETTINGS
@given(task=tasks, load=rps, t1=ttft, t2=tpot, shrink=st.floats(0.3, 1.0))
def test_tighter_slo_never_lowers_cost(
    task: str, load: float, t1: float, t2: float, shrink: float
) -> None:
    loose = _solve(task=task, rps=load, ttft_ms=t1, tpot_ms=t2, deploy="cloud")
    tight = _solve(task=task, rps=load, ttft_ms=t1 * shrink, tpot_ms=t2 * shrink, deploy="cloud")
    if tight is not None:
        assert loose is not None
        assert tight.recommended.monthly_cost_usd >= loose.recommended.monthly_cost_usd - 0.01


@settings(max_examples=6, deadline=None, derandomize=True)
@given(task=tasks, load=st.floats(0.02, 20.0), factor=st.floats(1.0, 3.0), loosen=st.floats(1.0, 3.0))
def test_invariants_on_the_default_any_path(task: str, load: float, factor: float, loosen: float) -> None:
    """The whole catalog, hosted APIs included: more load never cheaper; a looser stated SLO never dearer."""
    cat = _catalog()
    base = solve(Request.model_validate({"task": task, "rps": load}), cat)
    more = solve(Request.model_validate({"task": task, "rps": load * factor}), cat)
    assert more.recommended.monthly_cost_usd >= base.recommended.monthly_cost_usd - 0.01
    t = cat.task(task).targets
    looser = solve(Request.model_validate(
        {"task": task, "rps": load, "ttft_ms": t.ttft_ms * loosen, "tpot_ms": t.tpot_ms * loosen}), cat)
    assert looser.recommended.monthly_cost_usd <= base.recommended.monthly_cost_usd + 0.01


@SETTINGS
@given(task=tasks, load=rps, factor=st.floats(1.0, 4.0), think=st.sampled_from([0.0, 2.0, 20.0]))
def test_a_higher_peak_never_lowers_cost_and_thinking_never_raises_it(
    task: str, load: float, factor: float, think: float
) -> None:
    flat = _solve(task=task, rps=load, deploy="cloud")
    peaked = _solve(task=task, rps=load, peak_rps=load * factor, deploy="cloud")
    if peaked is not None:
        assert flat is not None
        assert peaked.recommended.monthly_cost_usd >= flat.recommended.monthly_cost_usd - 0.01
        assert all(o.capacity_rps >= load * factor for o in peaked.options)
    users = max(1, round(load * 10))
    busy = _solve(task=task, concurrency=users, deploy="cloud")
    idle = _solve(task=task, concurrency=users, think_time_s=think, deploy="cloud")
    if busy is not None:
        assert idle is not None
        assert idle.recommended.monthly_cost_usd <= busy.recommended.monthly_cost_usd + 0.01


@SETTINGS
@given(task=tasks, peak=rps, night=st.floats(0.0, 1.0), commit=st.sampled_from(["none", "1y"]))
def test_an_hourly_profile_never_costs_more_than_its_peak_all_day(
    task: str, peak: float, night: float, commit: str
) -> None:
    # Business hours at the peak, the rest of the day at a random share of it.
    profile = [peak if 9 <= h < 18 else peak * night for h in range(24)]
    flat = _solve(task=task, rps=peak, deploy="cloud", commit=commit)
    hourly = _solve(task=task, load_profile=profile, deploy="cloud", commit=commit)
    if flat is None:
        assert hourly is None
        return
    assert hourly is not None
    assert hourly.recommended.monthly_cost_usd <= flat.recommended.monthly_cost_usd + 0.01
    assert all(o.capacity_rps >= peak for o in hourly.options)
