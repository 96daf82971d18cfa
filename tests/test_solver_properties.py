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
                      language_model_only=dep.language_model_only)
    est = perf.estimate(cfg, res.shape, dep.max_num_seqs)
    assert est.fits
    settings = perf.engine_settings(cfg)
    assert dep.max_model_len <= settings.max_context_tokens  # the engine would refuse to start
    assert dep.max_num_batched_tokens == settings.max_num_batched_tokens
    assert est.tpot_ms <= t2 * 1.0001
    assert est.ttft_ms <= rec.ttft_ms + 0.05  # the plan rounds to 0.1 ms


@SETTINGS
@given(task=tasks, budget=st.floats(2000, 60000))
def test_more_budget_never_lowers_quality(task: str, budget: float) -> None:
    low = _solve(task=task, budget=budget, deploy="cloud")
    high = _solve(task=task, budget=budget * 2, deploy="cloud")
    if low is not None:
        assert high is not None
        assert high.recommended.quality >= low.recommended.quality


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
