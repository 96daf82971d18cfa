"""The solver on a tiny hand-built catalog: one GPU, two priced instances, one API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from planner import perf
from planner.catalog import Catalog
from planner.catalog.schema import ApiOffer, CloudOffer
from planner.errors import NoFeasiblePlan
from planner.plan import Api
from planner.request import Request
from planner.solver import queueing, resolve, solve

SRC = {"source": "test", "as_of": dt.date(2026, 11, 1)}


def tiny(catalog: Catalog) -> Catalog:
    """Real models and tasks (the perf model needs real geometry), one GPU, hand-set prices."""
    h100 = catalog.gpu("h100-sxm")
    return dataclasses.replace(
        catalog,
        gpus={"h100-sxm": h100},
        cloud={
            "one": CloudOffer(id="one", provider="p1", instance_type="1x", gpu="h100-sxm", gpus=1, region="r",
                              usd_per_hour=3.0, unknown={"usd_per_hour_1y": "-", "usd_per_hour_3y": "-"}, **SRC),
            "eight": CloudOffer(id="eight", provider="p2", instance_type="8x", gpu="h100-sxm", gpus=8, region="r",
                                usd_per_hour=20.0, unknown={"usd_per_hour_1y": "-", "usd_per_hour_3y": "-"}, **SRC),
        },
        purchase={},
        api={"flash": ApiOffer(id="flash", model="qwen3.5-flash", provider="host",
                               tiers=[{"usd_per_m_input": 0.1, "usd_per_m_output": 0.4}],
                               unknown={"usd_per_m_cached_input": "-", "max_context": "-"},
                               latency={"ttft_s": 0.6, "ttft_s_best": 0.4, "output_tokens_per_s": 212,
                                        "output_tokens_per_s_best": 309, **SRC}, **SRC)},
    )


def test_cheapest_plan_prices_whole_instances(catalog: Catalog) -> None:
    cat = tiny(catalog)
    plan = solve(Request(task="chat", rps=1.0, deploy="cloud", models=("qwen3.5-35b-a3b",),
                         precisions=("fp8",), engine="vllm"), cat)
    rec = plan.recommended
    assert rec.gpu == "h100-sxm" and rec.tp == 1
    # One replica on the 1-GPU instance: 3 $/h × 730 h, cheaper than the 8-GPU box at 20 $/h.
    assert (rec.provider, rec.instances, rec.monthly_cost_usd) == ("p1", rec.replicas, 3.0 * 730 * rec.replicas)
    assert plan.deployment is not None and plan.deployment.max_num_seqs == rec.batch_per_replica


def test_replicas_follow_the_queueing_model(catalog: Catalog) -> None:
    cat = tiny(catalog)
    req = Request(task="chat", rps=30.0, deploy="cloud", models=("qwen3.5-27b",), precisions=("fp8",),
                  engine="vllm")
    plan = solve(req, cat)
    rec, dep = plan.recommended, plan.deployment
    assert dep is not None
    res = resolve(req, cat)
    cfg = perf.Config(model=cat.model(dep.model), gpu=cat.gpu(dep.gpu), precision=dep.precision, tp=dep.tp,
                      ep=dep.ep, engine=dep.engine, mtp=dep.mtp_tokens,
                      language_model_only=dep.language_model_only)
    est = perf.estimate(cfg, res.shape, dep.max_num_seqs)
    service = (est.ttft_ms + res.osl * est.tpot_ms) / 1000
    expected = queueing.replicas_for_rps(30.0, dep.max_num_seqs, service, (res.ttft_ms - est.ttft_ms) / 1000)
    # The fewest replicas the queue needs, then as many more as the whole instances paid for hold.
    assert expected is not None and rec.replicas == max(expected, rec.gpus_paid // dep.tp)
    assert rec.spare_gpus == rec.gpus_paid - dep.tp * rec.replicas
    # Packing: replicas of TP t fill 8-GPU boxes when those are cheaper per replica.
    per_replica_small = 3.0 * rec.tp
    boxes = math.ceil(rec.replicas / (8 // rec.tp))
    assert rec.monthly_cost_usd == pytest.approx(min(per_replica_small * rec.replicas, 20.0 * boxes) * 730)


def test_budget_near_miss_is_the_cheapest_plan(catalog: Catalog) -> None:
    cat = tiny(catalog)
    free = solve(Request(task="chat", rps=1.0, deploy="cloud"), cat)
    with pytest.raises(NoFeasiblePlan) as err:
        solve(Request(task="chat", rps=1.0, deploy="cloud", budget=free.recommended.monthly_cost_usd - 1), cat)
    assert err.value.exit_code == 1
    assert f"budget must be at least ${free.recommended.monthly_cost_usd:,.0f}/month" in err.value.near_misses[0]


def test_memory_rejection_names_the_shortfall(catalog: Catalog) -> None:
    cat = tiny(catalog)
    cat = dataclasses.replace(cat, gpus={**cat.gpus, "l4": catalog.gpu("l4")})
    plan = solve(Request(task="chat", rps=0.5, deploy="cloud", models=("qwen3.5-122b-a10b", "qwen3.5-27b")), cat)
    # 250 GB of BF16 weights cannot fit on 8 × 24 GB L4s at any TP: rejected for memory, with the GB missing.
    (rej,) = [r for r in plan.rejected if r.family == "qwen3.5-122b-a10b bf16 on l4 (vllm)"]
    assert rej.constraint == "memory"
    weights_per_gpu_at_tp8 = 250e9 / 8 / 1e9
    assert rej.shortfall is not None and rej.shortfall > weights_per_gpu_at_tp8 - 24 * 1.074 * 0.9


def test_unsupported_precision_is_rejected_by_name(catalog: Catalog) -> None:
    cat = tiny(catalog)
    plan = solve(Request(task="chat", rps=0.5, deploy="cloud"), cat)
    nvfp4 = [r for r in plan.rejected if "nvfp4 on h100-sxm" in r.family]
    assert nvfp4 and all(r.constraint == "precision" for r in nvfp4)


def test_api_wins_at_a_trickle_and_loses_at_scale(catalog: Catalog) -> None:
    cat = tiny(catalog)
    trickle = solve(Request(task="chat", rps=0.01), cat)
    assert trickle.recommended.deploy == "api" and trickle.deployment is None
    # An API's latency is its host's slowest published median, checked against the targets like any option.
    rec = trickle.recommended
    assert isinstance(rec, Api)
    lat = cat.api[rec.chosen.offer_id].latency
    assert lat is not None and rec.ttft_ms == lat.ttft_s * 1000 <= 1500
    heavy = solve(Request(task="chat", rps=50.0), cat)
    assert heavy.recommended.deploy == "cloud"
    api_alt = solve(Request(task="chat", rps=50.0, deploy="api"), cat).recommended
    assert api_alt.monthly_cost_usd > heavy.recommended.monthly_cost_usd
