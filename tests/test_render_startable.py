"""Every rendered pod is startable: the engine's own code accepts its command, and the pod gives the
engine what it needs under the restricted Pod Security Standard.

The engine checks run the pinned vLLM 0.33.0 and SGLang 0.5.23 Python code (tests/engines/, built by
tests/engines/setup.sh): vLLM's `vllm serve` parser, `validate_parsed_serve_args` and
`EngineArgs.create_engine_config()` (model, cache, parallel, scheduler and speculative configs with
their checks); SGLang's `prepare_server_args`, the `resolve_once` resolution pipeline and
`check_server_args`. A stand-in GPU answers the driver queries (tests/engines/device_shim.py).
vLLM on an MI300X runs the same checks through vLLM's ROCm platform class (amdsmi stood in for).
Not covered by running code: kernel selection, weight loading and memory profiling at start-up (they
need the GPU), so whether the KV pool holds max-model-len is checked with qwen-plan's own memory
model (test_max_model_len_fits_the_kv_pool); SGLang on AMD is never rendered (no pinned image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_env import NEEDS_ENGINES, Case, device, model_folder, run
from test_render_fixtures import dense_plan, moe_plan, multinode_plan

from planner.catalog import Catalog
from planner.errors import RequestError
from planner.plan import Plan
from planner.render.context import WRITABLE_MOUNTS, RenderOptions, build_context
from planner.render.contracts import contract

pytestmark = NEEDS_ENGINES


def _with_prefix(plan: Plan, hit: float) -> Plan:
    return plan.model_copy(update={"workload": plan.workload.model_copy(update={"prefix_hit": hit})})


def _matrix() -> dict[str, Plan]:
    """engine x vendor x single/multi-node, as the solver can produce them (SGLang on AMD cannot be: no image)."""
    out: dict[str, Plan] = {}
    for engine, mtp in (("vllm", 1), ("sglang", 3)):  # each engine's published MTP recipe
        out[f"{engine}-h100-dense-prefix"] = _with_prefix(dense_plan(engine=engine, mtp_tokens=mtp), 0.6)
        out[f"{engine}-h200-moe-ep"] = moe_plan(engine=engine, mtp_tokens=mtp)
        out[f"{engine}-a100-multinode"] = multinode_plan(engine=engine)
    out["vllm-mi300x-moe"] = moe_plan(gpu="mi300x", tp=1, ep=1, gpus_per_replica=1, mtp_tokens=0)
    return out


def _concrete(args: list[str], folder: Path, rank: str) -> list[str]:
    """The pod's args as the container sees them: Kubernetes fills $(VAR) references, the weights are local."""
    subst = {"$(LWS_LEADER_ADDRESS)": "10.0.0.1", "$(LWS_WORKER_INDEX)": rank}
    out = []
    for a in args:
        for k, v in subst.items():
            a = a.replace(k, v)
        out.append(a)
    if out[0] == "--model-path":
        out[1] = str(folder)
    elif not out[0].startswith("--"):
        out[0] = str(folder)
    else:
        i = out.index("--model-path")
        out[i + 1] = str(folder)
    return out


@pytest.fixture(scope="module")
def verdicts(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("engines")
    cases: list[Case] = []
    contexts = {}
    for cid, plan in _matrix().items():
        ctx = build_context(plan, catalog, RenderOptions())
        contexts[cid] = ctx
        d = ctx.deployment
        folder = model_folder(catalog, d.model, d.precision, root / "models")
        dev = device(catalog.gpus[d.gpu])
        v = ctx.values
        cases.append(Case(f"{cid}/leader", d.engine, _concrete(v["args"], folder, "0"), dev))
        if v["multiNode"]["enabled"]:
            cases.append(Case(f"{cid}/worker", d.engine, _concrete(v["multiNode"]["workerArgs"], folder, "1"), dev))
    # Deliberate mistakes, in the same engine runs: each must be refused by the engine's own code.
    h100 = device(catalog.gpus["h100-sxm"])
    good = next(c for c in cases if c.id == "vllm-h100-dense-prefix/leader")
    # Not a prefix of a real flag: argparse accepts unambiguous abbreviations (`--max-num-seq` is taken
    # as --max-num-seqs), so the contract test refuses those and this run proves the parser's verdict.
    cases.append(Case("bad/vllm-flag", "vllm", [*good.argv, "--max-batch-seqs", "8"], h100))
    cases.append(Case("bad/vllm-value", "vllm", [*good.argv, "--kv-cache-dtype", "fp9"], h100))
    sg = next(c for c in cases if c.id == "sglang-h100-dense-prefix/leader")
    cases.append(Case("bad/sglang-value", "sglang", [*sg.argv, "--mamba-radix-cache-strategy", "bogus"], h100))
    cases.append(Case("bad/sglang-context", "sglang", [*sg.argv, "--context-length", "999999999"], h100))
    return {"results": run(cases, root), "contexts": contexts}


def test_engines_accept_every_rendered_command(verdicts: dict[str, Any]) -> None:
    bad = {k: r["error"] for k, r in verdicts["results"].items() if not k.startswith("bad/") and not r["ok"]}
    assert not bad


def test_engines_refuse_deliberate_mistakes(verdicts: dict[str, Any]) -> None:
    results = verdicts["results"]
    for key in ("bad/vllm-flag", "bad/vllm-value", "bad/sglang-value", "bad/sglang-context"):
        assert results[key]["ok"] is False, key
    assert "max-batch-seqs" in results["bad/vllm-flag"]["error"]
    assert "fp9" in results["bad/vllm-value"]["error"]


def test_engine_resolves_what_the_plan_assumes(verdicts: dict[str, Any]) -> None:
    """Parallelism, context, batch, MTP and prefix caching as the engine resolved them, against the plan."""
    for cid, ctx in verdicts["contexts"].items():
        d = ctx.deployment
        r = verdicts["results"][f"{cid}/leader"]["resolved"]
        credits_prefix = ctx.plan.workload.prefix_hit > 0
        if d.engine == "vllm":
            assert r["tensor_parallel_size"] == d.tp and r["pipeline_parallel_size"] == d.pp, cid
            assert r["max_model_len"] == d.max_model_len and r["max_num_seqs"] == d.max_num_seqs, cid
            assert r["num_speculative_tokens"] == (d.mtp_tokens or None), cid
            assert r["nnodes"] == d.nodes_per_replica, cid
            if credits_prefix:
                assert r["enable_prefix_caching"] is True and r["mamba_cache_mode"] == "align", cid
        else:
            assert r["tp_size"] == d.tp and r["context_length"] == d.max_model_len, cid
            assert r["nnodes"] == d.nodes_per_replica, cid
            assert r["speculative_num_steps"] == (d.mtp_tokens or None), cid
            if credits_prefix:
                assert r["disable_radix_cache"] is False, cid


def pod_problems(values: dict[str, Any], vendor: str, engine: str) -> list[str]:
    """What would stop the pod under the restricted PSS: unset or unwritable paths, device groups, drain."""
    problems = []
    env = {e["name"]: e["value"] for e in values["env"]}
    for name in ("HOME", "USER", "LOGNAME", "TMPDIR", *contract(engine).writable_env):
        path = env.get(name)
        if path is None:
            problems.append(f"{name} unset")
        elif name not in ("USER", "LOGNAME") and not any(
                path == m or path.startswith(m + "/") for m in WRITABLE_MOUNTS):
            problems.append(f"{name}={path} not on a writable mount")
    if values["securityContext"]["readOnlyRootFilesystem"] is not True:
        problems.append("root filesystem writable")
    if vendor == "amd" and not values["podSecurityContext"].get("supplementalGroups"):
        problems.append("no video/render supplemental groups for /dev/kfd and /dev/dri")
    grace, pre = values["terminationGracePeriodSeconds"], values["preStopSleepSeconds"]
    if engine == "vllm":
        args = values["args"]
        if "--shutdown-timeout" not in args:
            problems.append("vLLM aborts running requests on SIGTERM (no --shutdown-timeout)")
        elif pre + int(args[args.index("--shutdown-timeout") + 1]) >= grace:
            problems.append("drain outlasts the grace period")
    return problems


def test_every_pod_has_what_the_engine_needs(verdicts: dict[str, Any], catalog: Catalog) -> None:
    for cid, ctx in verdicts["contexts"].items():
        d = ctx.deployment
        assert pod_problems(ctx.values, catalog.gpus[d.gpu].vendor, d.engine) == [], cid
        if catalog.gpus[d.gpu].vendor == "amd":
            assert not any(a.startswith("--speculative") for a in ctx.values["args"]), cid


def test_pod_check_catches_a_missing_variable(verdicts: dict[str, Any]) -> None:
    ctx = verdicts["contexts"]["vllm-h100-dense-prefix"]
    values = {**ctx.values, "env": [e for e in ctx.values["env"] if e["name"] != "TORCHINDUCTOR_CACHE_DIR"]}
    assert pod_problems(values, "nvidia", "vllm") == ["TORCHINDUCTOR_CACHE_DIR unset"]
    values = {**ctx.values, "env": [e if e["name"] != "USER" else {"name": "HOME2", "value": "x"}
                                    for e in ctx.values["env"]]}
    assert pod_problems(values, "nvidia", "vllm") == ["USER unset"]


def test_sglang_on_amd_and_mtp_on_amd_are_refused(catalog: Catalog) -> None:
    with pytest.raises(RequestError, match="sglang"):
        build_context(moe_plan(engine="sglang", gpu="mi300x", tp=1, ep=1, gpus_per_replica=1, mtp_tokens=0),
                      catalog, RenderOptions())
    with pytest.raises(RequestError, match="MTP"):
        build_context(moe_plan(gpu="mi300x", tp=1, ep=1, gpus_per_replica=1, mtp_tokens=1), catalog,
                      RenderOptions())


def test_max_model_len_fits_the_kv_pool(catalog: Catalog) -> None:
    """The one start-up check no CPU can run (vLLM refuses to start when the profiled KV pool cannot
    hold one max-model-len sequence): checked with qwen-plan's memory model on every matrix pod."""
    from planner.perf import Config, Shape, memory

    for cid, plan in _matrix().items():
        d = plan.deployment
        assert d is not None
        # Pipeline stages split weights and KV over GPUs like TP (KV conservatively: TP replicates heads).
        cfg = Config(model=catalog.models[d.model], gpu=catalog.gpus[d.gpu], precision=d.precision,
                     tp=d.tp * d.pp, ep=d.ep, kv_dtype=d.kv_dtype, engine=d.engine, mtp=d.mtp_tokens,
                     language_model_only=d.language_model_only)
        assert memory(cfg, Shape(isl=d.max_model_len - 1, osl=1)).max_concurrency >= 1, cid
