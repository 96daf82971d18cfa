"""Queueing model: hand-computed Erlang C values and the replica search's invariants."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.solver import poisson, queueing


def test_erlang_c_two_servers_one_erlang() -> None:
    # B(2,1) = 0.5 / 2.5 = 0.2; C = B / (1 - rho + rho B) = 0.2 / 0.6
    assert math.isclose(queueing.erlang_c(2, 1.0), 1 / 3)


def test_erlang_c_overload_and_idle() -> None:
    assert queueing.erlang_c(4, 4.0) == 1.0
    assert queueing.erlang_c(4, 0.0) == 0.0


def test_wait_quantile_hand_computed() -> None:
    # c=2, λ=1/s, S=1 s: P_wait = 1/3, rate cμ-λ = 1/s, p95 wait = ln((1/3)/0.05)
    assert math.isclose(queueing.wait_quantile_s(2, 1.0, 1.0), math.log(20 / 3))


def test_erlang_c_matches_the_erlang_b_recursion() -> None:
    for servers, offered in ((8, 6.5), (64, 60.0), (900, 870.0)):
        b = 1.0
        for k in range(1, servers + 1):
            b = offered * b / (k + offered * b)
        rho = offered / servers
        assert math.isclose(queueing.erlang_c(servers, offered), b / (1 - rho + rho * b), rel_tol=1e-9)


def test_replicas_meet_the_wait_budget_and_one_fewer_does_not() -> None:
    n = queueing.replicas_for_rps(40.0, 16, 12.0, 0.3)
    assert n is not None
    assert queueing.wait_quantile_s(n * 16, 40.0, 12.0) <= 0.3
    assert queueing.wait_quantile_s((n - 1) * 16, 40.0, 12.0) > 0.3


@given(
    rps=st.floats(0.01, 500),
    slots=st.integers(1, 256),
    service=st.floats(0.5, 120),
    budget=st.floats(0.0, 5.0),
)
def test_more_load_never_needs_fewer_replicas(rps: float, slots: int, service: float, budget: float) -> None:
    a = queueing.replicas_for_rps(rps, slots, service, budget)
    b = queueing.replicas_for_rps(rps * 1.5, slots, service, budget)
    if a is not None and b is not None:
        assert b >= a


def test_max_rps_is_the_inverse_of_replicas() -> None:
    cap = queueing.max_rps(64, 10.0, 0.5)
    assert queueing.wait_quantile_s(64, cap, 10.0) <= 0.5
    assert queueing.wait_quantile_s(64, cap * 1.02, 10.0) > 0.5


def test_max_rps_never_reports_less_than_a_known_feasible_rate() -> None:
    servers, service, budget = 2025 * 64, 1.0, 0.2
    load = 0.999 * queueing.max_rps(servers, service, budget)
    assert queueing.max_rps(servers, service, budget, at_least=load) >= load


def test_poisson_cdf_agrees_with_scipy_over_six_decades() -> None:
    # The product avoids importing scipy.special at start-up; scipy stays the reference here.
    from scipy.special import pdtr

    rng = random.Random(7)
    worst = 0.0
    for _ in range(20000):
        c = int(10 ** rng.uniform(0, 6))
        a = (c + 1) * rng.uniform(1e-4, 0.9999)
        worst = max(worst, abs(poisson.poisson_cdf(c, a) / float(pdtr(c, a)) - 1))
    assert worst < 5e-9


def test_poisson_cdf_refuses_the_range_it_does_not_cover() -> None:
    with pytest.raises(ValueError):
        poisson.poisson_cdf(10, 11.0)


def _bisected_max_rps(servers: int, service: float, budget: float) -> float:
    """The definition, solved slowly: the largest rate whose p95 wait fits, to 1e-9 of the bound."""
    lo, hi = 0.0, servers / service
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if queueing.wait_quantile_s(servers, mid, service) <= budget else (lo, mid)
    return lo


@settings(max_examples=300, deadline=None, derandomize=True)
@given(servers=st.sampled_from([1, 2, 3, 8, 37, 64, 256, 1000, 4096, 50000]),
       service=st.floats(0.05, 500.0), budget=st.floats(1e-4, 30.0), hint=st.floats(0.0, 3.0))
def test_max_rps_newton_matches_the_definition(servers: int, service: float, budget: float, hint: float) -> None:
    # Newton from below must land on the same rate as bisection on the definition, and fit, whatever
    # the start hint (hint > 1 starts above the answer, which must only cost steps).
    exact = _bisected_max_rps(servers, service, budget)
    got = queueing.max_rps(servers, service, budget, start=hint * exact)
    assert queueing.wait_quantile_s(servers, got, service) <= budget
    assert exact - got <= 6e-5 * servers / service
