"""The fleet's lazy search gives exactly what the solver's full search gives, where the fleet looks.

For each workload: the plan `qwen-plan plan` recommends, the frontier of candidates, every
configuration's cheapest cost (sizing the rest on demand), the order shared configurations are
tried in, and the lower bounds the laziness rests on, all against `planner.solver.search.search`
on the full catalog.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import pytest

from planner.catalog import Catalog
from planner.fleet import parse_fleet
from planner.fleet.columns import Single, by_bound, plan_alone
from planner.fleet.ladder import Ladders
from planner.fleet.lazy import ConfigKey, frontier, key_of
from planner.solver.choose import rank, split
from planner.solver.costing import Candidate
from planner.solver.evaluate import Failure, size
from planner.solver.search import Search

WORKLOADS = [
    {"name": "chat", "task": "chat", "rps": 0.5},
    {"name": "docs", "task": "docs", "rps": 3, "min_quality": 70, "regions": ["eu"]},
    {"name": "daily", "task": "coding", "load_profile": [0.2] * 8 + [2.0] * 10 + [0.5] * 6},
]


@pytest.fixture(scope="module")
def planned(catalog: Catalog) -> list[tuple[Single, Search]]:
    spec = parse_fleet({"fleet": {"deploy": "any"}, "workloads": WORKLOADS}, catalog)
    singles = [plan_alone(w, catalog) for w in spec.workloads]
    return [(s, s.full_search()) for s in singles]


def _same(cands: Iterable[Candidate]) -> list[tuple[object, ...]]:
    """Candidates as values: a perf Config compares by identity, and each search builds its own."""
    out: list[tuple[object, ...]] = []
    for c in cands:
        s = c.sized
        cfg = None if s is None else (key_of(s.cfg), s.cfg.mtp_acceptance, s.cfg.language_model_only)
        out.append((dataclasses.replace(c, sized=None), cfg,
                    None if s is None else dataclasses.astuple(dataclasses.replace(s, cfg=None))[1:]))
    return out


def _cheapest_by_config(s: Single, cands: list[Candidate]) -> dict[ConfigKey, float]:
    floor = s.res.request.min_quality
    out: dict[ConfigKey, float] = {}
    for c in cands:
        if c.sized is not None and (floor is None or c.quality >= floor):
            k = key_of(c.sized.cfg)
            out[k] = min(out.get(k, c.monthly_cost_usd), c.monthly_cost_usd)
    return out


@pytest.mark.parametrize("i", range(len(WORKLOADS)), ids=[w["name"] for w in WORKLOADS])
def test_lazy_search_is_the_full_search_where_the_fleet_looks(planned: list[tuple[Single, Search]], i: int) -> None:
    s, full = planned[i]
    feasible, _ = split(full.candidates, s.res)
    assert feasible and s.alone is not None
    assert _same([s.alone]) == _same([min(feasible, key=rank(s.res))])
    assert _same(frontier(s.lazy.candidates)) == _same(frontier(full.candidates))
    if s.res.workload.load_profile is None:
        sized = sum(e.candidates is not None and bool(e.candidates) for e in s.lazy.entries)
        assert sized < len(s.lazy.entries) / 2  # the laziness prunes (the point of it)
    expected = _cheapest_by_config(s, full.candidates)
    got = {k: s.lazy.cost_on(k) for k in s.lazy.by_key}
    assert {k: v for k, v in got.items() if v is not None} == expected
    # Everything sized now: the very candidates of the search, in its order.
    assert _same(s.lazy.candidates) == _same(full.candidates)


def test_the_bounds_hold_for_every_candidate(planned: list[tuple[Single, Search]]) -> None:
    for s, full in planned[:2]:
        for c in full.candidates:
            if c.sized is None:
                continue
            e = s.lazy.by_key[key_of(c.sized.cfg)]
            assert e.bounds is not None and c.deploy in e.bounds
            b = e.bounds[c.deploy]
            assert c.monthly_cost_usd >= b.cost and c.total_gpus >= b.gpus and c.line.capex_usd >= b.capex


def test_shared_configurations_come_in_the_order_of_their_bounds(planned: list[tuple[Single, Search]]) -> None:
    (a, fa), (b, fb) = planned[0], planned[1]
    ca, cb = _cheapest_by_config(a, fa.candidates), _cheapest_by_config(b, fb.candidates)
    expected = sorted((max(ca[k], cb[k]), k) for k in set(ca) & set(cb))
    keys = set(a.lazy.by_key) & set(b.lazy.by_key)
    assert list(by_bound([a, b], keys, lambda: math.inf)) == expected
    bar = expected[3][0]
    below = [e for e in expected if e[0] < bar]
    assert below and [e for e in by_bound([a, b], keys, lambda: bar) if e[0] < bar] == below


def test_a_ladder_shared_by_two_loads_sizes_as_size_does(planned: list[tuple[Single, Search]]) -> None:
    """`size` split at the load: the same ladder serves a workload and its twin at another rate."""
    s, _ = planned[0]
    twin = dataclasses.replace(s.res, workload=s.res.workload.model_copy(update={"arrival_rps": 7.0}))
    ladders = Ladders()
    outcomes: set[str] = set()
    for e in s.lazy.entries[::3]:
        for res in (s.res, twin):
            cfg = s.lazy.config(e)
            got, want = ladders.size(cfg, res), size(cfg, res)
            assert got == want
            outcomes.add(got.constraint if isinstance(got, Failure) else "sized")
    assert {"sized", "memory"} <= outcomes  # both paths taken
