"""engine_args: the neutral Deployment mapped to vLLM / SGLang flags, and the flag contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_render_fixtures import dense_plan, moe_plan, multinode_plan

from planner.catalog import Catalog
from planner.errors import RequestError
from planner.plan import Deployment
from planner.render import engine_args, engine_image
from planner.render.engine import engine_table

ACCEPTED = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "planner" / "render" / "accepted_flags.yaml").read_text()
)


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
    args = engine_args(_dep(dense_plan), catalog)
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
    ]


def test_moe_expert_parallel_and_mtp(catalog: Catalog) -> None:
    flags = _pairs(engine_args(_dep(moe_plan), catalog))
    assert flags["--tensor-parallel-size"] == "2"
    assert "--enable-expert-parallel" in flags and flags["--enable-expert-parallel"] is None
    assert json.loads(flags["--speculative-config"] or "") == {"method": "mtp", "num_speculative_tokens": 3}
    assert flags["--kv-cache-dtype"] == "auto"  # bf16 KV -> vLLM's "auto"


def test_multinode_vllm_uses_ray_and_pp(catalog: Catalog) -> None:
    flags = _pairs(engine_args(_dep(multinode_plan), catalog))
    assert flags["--tensor-parallel-size"] == "8"
    assert flags["--pipeline-parallel-size"] == "2"
    assert flags["--distributed-executor-backend"] == "ray"
    assert "--speculative-config" not in flags and "--language-model-only" not in flags


def test_sglang_mapping(catalog: Catalog) -> None:
    d = _dep(moe_plan, engine="sglang")
    args = engine_args(d, catalog)
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


def test_sglang_multinode_rank_placeholders(catalog: Catalog) -> None:
    d = _dep(multinode_plan, engine="sglang")
    args = engine_args(d, catalog, node_rank="$(LWS_WORKER_INDEX)", leader_address="$(LWS_LEADER_ADDRESS)")
    flags = _pairs(args)
    assert flags["--nnodes"] == "2"
    assert flags["--node-rank"] == "$(LWS_WORKER_INDEX)"
    assert flags["--dist-init-addr"] == "$(LWS_LEADER_ADDRESS):20000"


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
@pytest.mark.parametrize("factory", [dense_plan, moe_plan, multinode_plan])
def test_only_accepted_flags_are_emitted(catalog: Catalog, engine: str, factory: object) -> None:
    """Contract: every flag (and every enumerated value) is one the pinned version accepts."""
    accepted = ACCEPTED[engine]
    assert accepted["version"] == engine_table().engines[engine].version  # type: ignore[index]
    flags = _pairs(engine_args(_dep(factory, engine=engine), catalog))
    for flag, value in flags.items():
        assert flag in accepted["flags"], f"{engine} {accepted['version']} has no {flag}"
        rule = accepted["flags"][flag]
        if rule == "switch":
            assert value is None, f"{flag} is a switch"
        elif isinstance(rule, list):
            assert value in rule, f"{flag} {value!r} not in {rule}"
        else:
            assert value is not None, f"{flag} needs a value"


@pytest.mark.parametrize("model_id", ["qwen3.5-27b", "qwen3.5-35b-a3b", "qwen3.5-122b-a10b"])
@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_catalog_engine_flags_agree_with_mapping(catalog: Catalog, model_id: str, engine: str) -> None:
    """The catalog's published parser/MTP flags for each model are what engine_args emits."""
    support = catalog.model(model_id).engines[engine]  # type: ignore[index]
    fp8 = catalog.checkpoints_of(model_id)["fp8"].repo
    d = _dep(dense_plan, engine=engine, model=model_id, checkpoint=fp8, tp=2, gpus_per_replica=2)
    emitted = _pairs(engine_args(d, catalog))
    for flags in (support.flags, support.tool_flags):
        for flag, value in _pairs(list(flags)).items():
            assert emitted.get(flag, "missing") == value, (flag, value)
    mtp = _pairs(list(support.mtp_flags))
    if engine == "vllm":
        method = json.loads(mtp["--speculative-config"] or "")["method"]
        assert json.loads(emitted["--speculative-config"] or "")["method"] == method
    else:
        assert emitted["--speculative-algorithm"] == mtp["--speculative-algorithm"]
    min_version = support.min_version
    if min_version is not None:
        pinned = tuple(int(x) for x in engine_table().engines[engine].version.split("."))  # type: ignore[index]
        assert pinned >= tuple(int(x) for x in min_version.split("."))


def test_amd_gets_rocm_images(catalog: Catalog) -> None:
    mi300x = catalog.gpu("mi300x")
    assert engine_image("vllm", mi300x).ref == "vllm/vllm-openai-rocm:v0.17.1"
    assert engine_image("sglang", mi300x).ref == "lmsysorg/sglang:v0.5.10-rocm720-mi30x"
    assert engine_image("vllm", catalog.gpu("h100-sxm")).ref == "vllm/vllm-openai:v0.17.1"


def test_inconsistent_parallelism_is_refused(catalog: Catalog) -> None:
    with pytest.raises(RequestError, match=r"gpus_per_replica: 4 != tp×pp×dp = 2×1×1"):
        engine_args(_dep(moe_plan, gpus_per_replica=4), catalog)
    with pytest.raises(RequestError, match=r"deployment.ep: vLLM needs ep = tp×dp = 2 or 1, got 4"):
        engine_args(_dep(moe_plan, ep=4), catalog)
    with pytest.raises(RequestError, match="16 GPUs per node exceeds a100-40gb's 8"):
        engine_args(_dep(multinode_plan, nodes_per_replica=1), catalog)
