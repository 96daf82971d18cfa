"""The pruned search plans exactly what the whole search plans, and the bounds it prunes with hold."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.catalog import Catalog
from planner.errors import NoFeasiblePlan
from planner.request import Request
from planner.solver import resolve, solve
from planner.solver.eligibility import eligible
from planner.solver.options import tco_of
from planner.solver.search import Search, search

SOLVER = sys.modules["planner.solver"]

# Each kind of load the pruner bounds differently: open loop, peak, closed loop with and without think
# time, none (budget: $ per token), on-prem with a capex budget, a quality bar, cloud-only terms.
REQUESTS: list[dict[str, Any]] = [
    {"task": "coding", "rps": 200, "deploy": "any"},
    {"task": "docs", "budget": 20000},
    {"task": "chat", "rps": 20},
    {"task": "agentic", "concurrency": 64, "commit": "1y"},
    {"task": "video", "tokens_per_day": 5e8},
    {"task": "chat", "concurrency": 200, "think_time_s": 5},
    {"task": "coding", "rps": 5, "peak_rps": 50},
    {"task": "agentic", "rps": 30, "deploy": "onprem", "capex_budget": 500000},
    {"task": "chat", "rps": 3, "min_quality": 70, "deploy": "any"},
    {"task": "math", "budget": 5000, "deploy": "any"},
    {"task": "chat", "deploy": "any"},
    {"task": "docs", "rps": 2, "commit": "3y", "providers": ["aws", "gcp", "azure"]},
]


def _plan(catalog: Catalog, kw: dict[str, Any], whole: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        if whole:
            m.setattr(SOLVER, "search", lambda res, cat, tco, whole=False: search(res, cat, tco, whole=True))
        try:
            return solve(Request.model_validate(kw), catalog).model_dump_json()
        except NoFeasiblePlan as e:
            return f"no plan: {e} {e.near_misses}"


def _searches(catalog: Catalog, kw: dict[str, Any]) -> tuple[Search, Search]:
    res = resolve(Request.model_validate(kw), catalog)
    allowed = eligible(res, catalog)
    tco = tco_of(res, allowed.catalog)
    return search(res, allowed.catalog, tco), search(res, allowed.catalog, tco, whole=True)


@pytest.mark.parametrize("kw", REQUESTS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_the_pruned_search_plans_what_the_whole_search_plans(
    catalog: Catalog, kw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _plan(catalog, kw, False, monkeypatch) == _plan(catalog, kw, True, monkeypatch)


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(task=st.sampled_from(["chat", "coding", "docs", "agentic"]), rps=st.floats(0.05, 60.0),
       ttft=st.sampled_from([800.0, 3000.0, 15000.0]), tpot=st.sampled_from([20.0, 60.0]),
       deploy=st.sampled_from(["cloud", "onprem", "any"]), budget=st.sampled_from([None, 3000.0, 40000.0]),
       load=st.booleans())
def test_random_requests_plan_alike(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, task: str, rps: float, ttft: float, tpot: float,
    deploy: str, budget: float | None, load: bool,
) -> None:
    kw: dict[str, Any] = {"task": task, "ttft_ms": ttft, "tpot_ms": tpot, "deploy": deploy, "budget": budget,
                          "gpus": ["l40s", "h100-sxm", "h200", "mi300x", "b200"]}
    if load or budget is None:
        kw["rps"] = rps
    assert _plan(catalog, kw, False, monkeypatch) == _plan(catalog, kw, True, monkeypatch)


def test_an_infeasible_request_explains_from_the_whole_search(catalog: Catalog, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    kw = {"task": "chat", "rps": 50, "budget": 900, "deploy": "any"}
    got = _plan(catalog, kw, False, monkeypatch)
    assert got.startswith("no plan") and got == _plan(catalog, kw, True, monkeypatch)


@pytest.mark.parametrize("kw", REQUESTS[:4], ids=["open", "budget", "small-load", "closed"])
def test_pruning_prices_fewer_configurations(catalog: Catalog, kw: dict[str, Any]) -> None:
    pruned, whole = _searches(catalog, kw)
    assert pruned.evaluated == whole.evaluated  # every configuration is still counted as evaluated
    assert len(pruned.candidates) < 0.7 * len(whole.candidates)
