"""Invariants of the fleet solver (hypothesis, derandomized), on a pool of workloads planned once.

Planning a workload alone is the solver's own search (seconds); the fleet's columns and integer
program are fast, so each example draws a sub-fleet, quotas and inventory from the pool and solves it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import perf
from planner.catalog import Catalog
from planner.fleet import parse_fleet
from planner.fleet.columns import Single, columns, plan_alone, server_costs
from planner.fleet.milp import Limits, Problem, Solution, greedy, solve
from planner.fleet.mix import member_latency, size_mix
from planner.fleet.spec import FleetSpec, Owned, Quota
from planner.solver.evaluate import Sized, size

GPUS = ["l40s", "rtx-pro-6000", "h100-sxm"]
NARROW = {"deploy": "cloud", "models": ["qwen3.5-27b", "qwen3.5-35b-a3b"], "gpus": GPUS}
POOL = [("chat", 0.2), ("coding", 0.3), ("docs", 0.2), ("chat", 1.5), ("coding", 1.0), ("agentic", 0.4)]
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def pool(catalog: Catalog) -> tuple[FleetSpec, list[Single]]:
    doc = {"fleet": NARROW, "workloads": [{"name": f"w{i}", "task": t, "rps": r} for i, (t, r) in enumerate(POOL)]}
    spec = parse_fleet(doc, catalog)
    return spec, [plan_alone(w, catalog) for w in spec.workloads]


def sub_fleet(pool: tuple[FleetSpec, list[Single]], members: Sequence[int], quotas: Sequence[Quota] = (),
              inventory: Sequence[Owned] = ()) -> tuple[FleetSpec, list[Single]]:
    spec, singles = pool
    sub = dataclasses.replace(spec, workloads=tuple(spec.workloads[i] for i in members), quotas=tuple(quotas),
                              inventory=tuple(inventory))
    return sub, [singles[i] for i in members]


def optimum(spec: FleetSpec, singles: list[Single], catalog: Catalog) -> tuple[Problem, Solution | None]:
    problem = Problem(spec, columns(spec, singles, catalog), server_costs(spec, singles, catalog))
    return problem, solve(problem, Limits.of(spec))


members_st = st.lists(st.integers(0, len(POOL) - 1), min_size=2, max_size=4, unique=True).map(sorted)
quota_st = st.builds(lambda g, n: Quota(g, None, None, n), st.sampled_from(GPUS), st.integers(0, 3))


@SETTINGS
@given(members=members_st)
def test_fleet_never_costs_more_than_planning_each_alone(pool: tuple[FleetSpec, list[Single]], catalog: Catalog,
                                                         members: list[int]) -> None:
    spec, singles = sub_fleet(pool, members)
    _, sol = optimum(spec, singles, catalog)
    assert sol is not None
    alone = [s.alone for s in singles]
    assert all(a is not None for a in alone)
    assert sol.monthly_cost <= sum(a.monthly_cost_usd for a in alone if a is not None) + 0.01


@SETTINGS
@given(members=members_st, quota=quota_st)
def test_removing_a_quota_never_raises_cost(pool: tuple[FleetSpec, list[Single]], catalog: Catalog,
                                            members: list[int], quota: Quota) -> None:
    spec, singles = sub_fleet(pool, members, [quota])
    _, limited = optimum(spec, singles, catalog)
    _, free = optimum(dataclasses.replace(spec, quotas=()), singles, catalog)
    assert free is not None
    if limited is not None:
        assert free.monthly_cost <= limited.monthly_cost + 0.01


@SETTINGS
@given(members=members_st, quota=st.none() | quota_st, servers=st.integers(0, 1))
def test_every_slo_and_quality_hold_in_the_performance_model(
    pool: tuple[FleetSpec, list[Single]], catalog: Catalog, members: list[int], quota: Quota | None, servers: int
) -> None:
    inventory = [Owned("h100-sxm", servers, 8)] if servers else []
    spec, singles = sub_fleet(pool, members, [quota] if quota else [], inventory)
    problem, sol = optimum(spec, singles, catalog)
    if sol is None:
        return
    covered = sorted(m for c in sol.chosen for m in problem.cols[c].members)
    assert covered == list(range(len(singles)))  # every workload served exactly once
    for ci in sol.chosen:
        col = problem.cols[ci]
        res = [singles[m].res for m in col.members]
        for r, q in zip(res, col.qualities, strict=True):
            assert r.request.min_quality is None or q >= r.request.min_quality
        sized = col.candidate.sized
        if sized is None:  # a hosted API: eligibility checked its published latency
            continue
        for r, (ttft, tpot) in zip(res, member_latency(sized, res), strict=True):
            assert ttft <= r.ttft_ms and tpot <= r.tpot_ms
            # Re-derived from the performance model: every pure batch of this member fits and meets
            # the tightest TPOT target of the deployment.
            est = perf.estimate(sized.cfg, r.shape, sized.batch)
            assert est.fits and est.effective_batch == sized.batch
            assert est.tpot_ms <= min(x.tpot_ms for x in res) + 1e-9


@SETTINGS
@given(members=members_st, quota=st.none() | quota_st, servers=st.integers(0, 1))
def test_the_optimum_is_never_worse_than_greedy(pool: tuple[FleetSpec, list[Single]], catalog: Catalog,
                                                members: list[int], quota: Quota | None, servers: int) -> None:
    inventory = [Owned("h100-sxm", servers, 8)] if servers else []
    spec, singles = sub_fleet(pool, members, [quota] if quota else [], inventory)
    problem, sol = optimum(spec, singles, catalog)
    base = greedy(problem, Limits.of(spec))
    if base is not None:
        assert sol is not None and sol.monthly_cost <= base.monthly_cost + 0.01


def test_a_group_of_one_is_sized_as_plan_sizes_it(pool: tuple[FleetSpec, list[Single]]) -> None:
    _, singles = pool
    s = singles[0]
    assert s.alone is not None and s.alone.sized is not None
    cfg = s.alone.sized.cfg
    assert size_mix(cfg, [s.res]) == size(cfg, s.res)


def test_two_halves_of_one_workload_need_what_it_needs(pool: tuple[FleetSpec, list[Single]]) -> None:
    """Same shape, half the rate each: no variance to add, so the mix needs exactly the whole's replicas."""
    _, singles = pool
    s = singles[3]  # chat at 1.5 req/s
    assert s.alone is not None and s.alone.sized is not None
    cfg = s.alone.sized.cfg
    half = dataclasses.replace(s.res, workload=s.res.workload.model_copy(update={"arrival_rps": 0.75}))
    whole = size(cfg, s.res)
    mixed = size_mix(cfg, [half, half])
    assert isinstance(whole, Sized) and mixed is not None
    assert mixed.replicas == whole.replicas



@SETTINGS
@given(members=members_st, budget=st.integers(2000, 12000))
def test_quality_objective_buys_at_least_the_cheapest_fleets_quality_within_budget(
    pool: tuple[FleetSpec, list[Single]], catalog: Catalog, members: list[int], budget: int
) -> None:
    spec, singles = sub_fleet(pool, members)
    spec = dataclasses.replace(spec, budget=float(budget))
    problem = Problem(spec, columns(spec, singles, catalog), server_costs(spec, singles, catalog))
    cheapest = solve(problem, Limits.of(spec))
    best = solve(problem, Limits.of(spec), objective="quality")
    assert (cheapest is None) == (best is None)
    if cheapest is not None and best is not None:
        assert best.monthly_cost <= budget + 0.01
        assert best.quality >= cheapest.quality - 0.01
