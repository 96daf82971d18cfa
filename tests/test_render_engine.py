"""engine_args: the neutral Deployment mapped to vLLM / SGLang flags, and the flag contract."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_render_fixtures import dense_plan, moe_plan, multinode_plan

from planner.catalog import Catalog
from planner.errors import RequestError
from planner.plan import Deployment
from planner.render import engine_args, engine_image
from planner.render.contracts import contract
from planner.render.engine import engine_table


def args_of(d: Deployment, catalog: Catalog, **kw: Any) -> list[str]:
    return engine_args(d, catalog, prefix_caching=kw.pop("prefix_caching", False), **kw)


def _dep(plan_factory: object, **kw: object) -> Deployment:
    plan = plan_factory(**kw)  # type: ignore[operator]
    assert plan.deployment is not None
    return plan.deployment  # type: ignore[no-any-return]


def _pairs(args: list[str]) -> dict[str, str | None]:
    """--flag value / --switch -> mapping (value None for a switch); positional args skipped."""
    out: dict[str, str | None] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and not nxt.startswith("--"):
                out[a] = nxt
                i += 2
                continue
            out[a] = None
        i += 1
    return out


def test_dense_vllm_args_exact(catalog: Catalog) -> None:
    args = args_of(_dep(dense_plan), catalog, prefix_caching=True)
    assert args == [
        "Qwen/Qwen3.5-27B-FP8",
        "--served-model-name", "qwen3.5-27b",
        "--host", "0.0.0.0", "--port", "8000",
        "--tensor-parallel-size", "1",
        "--max-model-len", "32768", "--max-num-seqs", "64", "--max-num-batched-tokens", "8192",
        "--gpu-memory-utilization", "0.9",
        "--kv-cache-dtype", "fp8",
        "--reasoning-parser", "qwen3",
        "--enable-auto-tool-choice", "--tool-call-parser", "qwen3_coder",
        "--speculative-config", '{"method":"mtp","num_speculative_tokens":1}',
        "--language-model-only",
        "--enable-prefix-caching",
        "--shutdown-timeout", "90",
    ]


def test_moe_expert_parallel_and_mtp(catalog: Catalog) -> None:
    flags = _pairs(args_of(_dep(moe_plan), catalog))
    assert flags["--tensor-parallel-size"] == "2"
    assert "--enable-expert-parallel" in flags and flags["--enable-expert-parallel"] is None
    assert json.loads(flags["--speculative-config"] or "") == {"method": "mtp", "num_speculative_tokens": 1}
    assert flags["--kv-cache-dtype"] == "auto"  # bf16 KV -> vLLM's "auto"


def test_multinode_vllm_uses_its_own_launch(catalog: Catalog) -> None:
    """vLLM's multiprocessing multi-node launch (no Ray): rank 0 serves, the other ranks run headless."""
    d = _dep(multinode_plan)
    leader = _pairs(args_of(d, catalog, node_rank="0", leader_address="$(LWS_LEADER_ADDRESS)"))
    worker = _pairs(args_of(d, catalog, node_rank="$(LWS_WORKER_INDEX)", leader_address="$(LWS_LEADER_ADDRESS)"))
    assert leader["--tensor-parallel-size"] == "8" and leader["--pipeline-parallel-size"] == "2"
    assert (leader["--nnodes"], leader["--node-rank"], leader["--master-addr"]) == ("2", "0", "$(LWS_LEADER_ADDRESS)")
    assert "--headless" not in leader and "--headless" in worker
    assert worker["--node-rank"] == "$(LWS_WORKER_INDEX)"
    assert "--distributed-executor-backend" not in leader
    assert "--speculative-config" not in leader and "--language-model-only" not in leader


def test_sglang_mapping(catalog: Catalog) -> None:
    d = _dep(moe_plan, engine="sglang", mtp_tokens=3)
    args = args_of(d, catalog, prefix_caching=True)
    flags = _pairs(args)
    assert args[:2] == ["--model-path", "Qwen/Qwen3.5-122B-A10B-FP8"]
    assert flags["--tp-size"] == "2" and flags["--ep-size"] == "2"
    assert flags["--context-length"] == "65536"
    assert flags["--max-running-requests"] == "128"
    assert flags["--chunked-prefill-size"] == "16384"
    assert flags["--mem-fraction-static"] == "0.9"
    # MTP 3 tokens -> NEXTN with 3 steps, top-k 1, 4 draft tokens (steps + 1)
    assert (flags["--speculative-algorithm"], flags["--speculative-num-steps"]) == ("NEXTN", "3")
    assert (flags["--speculative-eagle-topk"], flags["--speculative-num-draft-tokens"]) == ("1", "4")
    assert "--enable-metrics" in flags
    assert "--enable-auto-tool-choice" not in flags and "--language-model-only" not in flags
    # SGLang keeps its radix cache unless told otherwise and drains on SIGTERM by itself.
    assert "--disable-radix-cache" not in flags and "--shutdown-timeout" not in flags


def test_sglang_multinode_rank_placeholders(catalog: Catalog) -> None:
    d = _dep(multinode_plan, engine="sglang")
    args = args_of(d, catalog, node_rank="$(LWS_WORKER_INDEX)", leader_address="$(LWS_LEADER_ADDRESS)")
    flags = _pairs(args)
    assert flags["--nnodes"] == "2"
    assert flags["--node-rank"] == "$(LWS_WORKER_INDEX)"
    assert flags["--dist-init-addr"] == "$(LWS_LEADER_ADDRESS):20000"


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
@pytest.mark.parametrize("factory", [dense_plan, moe_plan, multinode_plan])
@pytest.mark.parametrize("rank", ["0", "$(LWS_WORKER_INDEX)"])
def test_only_contract_flags_are_emitted(catalog: Catalog, engine: str, factory: object, rank: str) -> None:
    """Every flag, and every value with fixed choices, is one the pinned engine's own parser accepts
    (planner/render/contracts/, derived from the wheel by bench/engine_contract.py)."""
    c = contract(engine)  # type: ignore[arg-type]
    assert c.version == engine_table().engines[engine].version  # type: ignore[index]
    mtp = {"vllm": 1, "sglang": 3}[engine] if factory is not multinode_plan else 0
    for flag, value in _pairs(args_of(_dep(factory, engine=engine, mtp_tokens=mtp), catalog, prefix_caching=True,
                                      node_rank=rank)).items():
        assert contract_problem(engine, flag, value) is None


def contract_problem(engine: str, flag: str, value: str | None) -> str | None:
    c = contract(engine)  # type: ignore[arg-type]
    rule = c.flags.get(flag)
    if rule is None:
        return f"{engine} {c.version} has no {flag}"
    if not rule.takes_value and value is not None:
        return f"{flag} is a switch"
    if rule.takes_value and value is None:
        return f"{flag} needs a value"
    if rule.choices is not None and value not in rule.choices:
        return f"{flag} {value!r} not in {rule.choices}"
    return None


def test_contract_check_catches_mistakes() -> None:
    assert contract_problem("vllm", "--max-num-seq", "8") == "vllm 0.33.0 has no --max-num-seq"
    assert contract_problem("sglang", "--kv-cache-dtype", "fp8") is not None  # SGLang spells it fp8_e4m3
    assert contract_problem("vllm", "--enable-prefix-caching", "1") == "--enable-prefix-caching is a switch"
    assert contract_problem("vllm", "--mamba-cache-mode", "all") is not None


@pytest.mark.parametrize("model_id", ["qwen3.5-27b", "qwen3.5-35b-a3b", "qwen3.5-122b-a10b"])
@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_catalog_engine_flags_agree_with_mapping(catalog: Catalog, model_id: str, engine: str) -> None:
    """The catalog's published parser flags and MTP recipe for each model are what engine_args emits."""
    support = catalog.model(model_id).engines[engine]  # type: ignore[index]
    fp8 = catalog.checkpoints_of(model_id)["fp8"].repo
    assert support.mtp_tokens is not None
    d = _dep(dense_plan, engine=engine, model=model_id, checkpoint=fp8, tp=2, gpus_per_replica=2,
             mtp_tokens=support.mtp_tokens)
    emitted = _pairs(args_of(d, catalog))
    for flags in (support.flags, support.tool_flags):
        for flag, value in _pairs(list(flags)).items():
            assert emitted.get(flag, "missing") == value, (flag, value)
    if engine == "vllm":
        spec = json.loads(emitted["--speculative-config"] or "")
        assert spec == {"method": "mtp", "num_speculative_tokens": support.mtp_tokens}
    else:
        assert emitted["--speculative-algorithm"] == "NEXTN"
        assert emitted["--speculative-num-steps"] == str(support.mtp_tokens)
    min_version = support.min_version
    if min_version is not None:
        pinned = tuple(int(x) for x in engine_table().engines[engine].version.split("."))  # type: ignore[index]
        assert pinned >= tuple(int(x) for x in min_version.split("."))


def test_images_per_gpu_generation(catalog: Catalog) -> None:
    assert engine_image("vllm", catalog.gpu("mi300x")).ref == "vllm/vllm-openai-rocm:v0.33.0"
    assert engine_image("vllm", catalog.gpu("h100-sxm")).ref == "vllm/vllm-openai:v0.33.0-cu129"
    # Blackwell needs the CUDA 13 build (its kernels cover sm_100/sm_103).
    assert engine_image("vllm", catalog.gpu("b300")).ref == "vllm/vllm-openai:v0.33.0"
    assert engine_image("sglang", catalog.gpu("b300")).ref == "lmsysorg/sglang:v0.5.23"
    with pytest.raises(RequestError, match=r"no pinned sglang 0\.5\.23 image for mi300x"):
        engine_image("sglang", catalog.gpu("mi300x"))


def test_inconsistent_parallelism_is_refused(catalog: Catalog) -> None:
    with pytest.raises(RequestError, match=r"gpus_per_replica: 4 != tp×pp×dp = 2×1×1"):
        args_of(_dep(moe_plan, gpus_per_replica=4), catalog)
    with pytest.raises(RequestError, match=r"deployment.ep: vLLM needs ep = tp×dp = 2 or 1, got 4"):
        args_of(_dep(moe_plan, ep=4), catalog)
    with pytest.raises(RequestError, match="16 GPUs per node exceeds a100-40gb's 8"):
        args_of(_dep(multinode_plan, nodes_per_replica=1), catalog)
