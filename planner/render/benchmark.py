"""A benchmark Job with every plan: `vllm bench serve` against the plan's Service, at the plan's load.

The client sends the plan's request shape (text input and output tokens, the shared prefix the plan
credits to the prefix cache) at the plan's load (open-loop arrival rate, or closed-loop concurrency),
and saves vLLM's own result JSON on a PersistentVolumeClaim and in the logs. The README states what
the plan predicts for the same numbers. Sizing constants live in templates/benchmark/settings.yaml.
"""

from __future__ import annotations

import math
import shlex
from functools import cache
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from planner import __version__
from planner.catalog import Catalog, data_dir
from planner.fmt import num
from planner.render.context import HOME, TOKEN_DIR, Context, writable_env
from planner.render.engine import engine_image, engine_table
from planner.render.manifests import dump_yaml, environment

BENCH_COMMAND = ["vllm", "bench", "serve"]
RESULT_DIR = "/results"
# `sh -c SCRIPT NAME ARGS...`: the arguments reach vllm as "$@", one word each, never re-parsed
# by the shell; the script only prints the saved JSON to the logs afterwards.
SCRIPT = (
    'set -e\n'
    f'{" ".join(BENCH_COMMAND)} "$@"\n'
    'echo "=== qwen-plan benchmark result $RESULT_FILE ==="\n'
    'cat "$RESULT_FILE"\n'
    'echo\n'
)
SCRIPT_NAME = "vllm-bench-serve"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target_seconds: int = Field(gt=0)
    min_prompts: int = Field(gt=0)
    max_prompts: int = Field(gt=0)
    max_seconds: int = Field(gt=0)
    min_prompts_slow: int = Field(gt=0)
    percentiles: list[int]
    percentile_metrics: list[str]
    setup_seconds: int = Field(gt=0)
    backoff_limit: int = Field(ge=0)
    ttl_seconds_after_finished: int = Field(gt=0)
    results_size: str
    reader_seconds: int = Field(gt=60)
    resources: dict[str, dict[str, str]]
    home_size: str
    tmp_size: str


@cache
def settings() -> Settings:
    path = data_dir("templates") / "benchmark" / "settings.yaml"
    return Settings.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _number(x: float) -> str:
    return f"{x:.6g}"


def load(ctx: Context) -> dict[str, Any]:
    """The offered load: what the plan was sized for, and how many prompts make a run of a few minutes."""
    s = settings()
    w = ctx.plan.workload
    opt = ctx.option
    if w.load == "concurrency" and w.concurrency:
        # Closed loop: each user waits for its answer; requests per second follow from the latency.
        e2e_s = (opt.ttft_ms + w.osl * opt.tpot_ms) / 1000
        rps = w.concurrency / e2e_s
        kind, floor = "concurrency", max(s.min_prompts, w.concurrency)
    else:
        # Open loop at the arrival rate; a plan without a load (budget-only) runs at its capacity.
        rps = w.arrival_rps if w.load == "arrival_rate" and w.arrival_rps else opt.capacity_rps
        kind, floor = "arrival_rate", s.min_prompts
    prompts = min(s.max_prompts, max(floor, math.ceil(rps * s.target_seconds)))
    # A very low rate: fewer prompts rather than an hour-long run.
    prompts = min(prompts, max(s.min_prompts_slow, math.floor(rps * s.max_seconds)))
    return {"kind": kind, "rps": rps, "concurrency": w.concurrency if kind == "concurrency" else None,
            "prompts": prompts, "duration_s": math.ceil(prompts / rps)}


def request_shape(ctx: Context) -> dict[str, int]:
    """Text tokens per request: a prefix shared by every request (the plan's prefix-cache hit) + the rest."""
    w = ctx.plan.workload
    prefix = min(round(w.isl * w.prefix_hit), w.isl - 1)
    return {"prefix": prefix, "input": w.isl - prefix, "output": w.osl}


def result_filename(ctx: Context) -> str:
    return f"{ctx.name}-bench.json"


def benchmark_args(ctx: Context) -> list[str]:
    """Everything after `vllm bench serve` (vllm/benchmarks/serve.py add_cli_args, vLLM's own parser)."""
    s = settings()
    d = ctx.deployment
    w = ctx.plan.workload
    shape = request_shape(ctx)
    ld = load(ctx)
    args = [
        "--backend", "openai",
        "--host", f"{ctx.name}.{ctx.namespace}.svc",
        "--port", str(ctx.values["port"]),
        "--endpoint", "/v1/completions",
        # --model names the tokenizer (a Hugging Face repo); requests carry the served name.
        "--model", d.checkpoint,
        "--served-model-name", d.model,
        "--dataset-name", "random",
        "--random-input-len", str(shape["input"]),
        "--random-output-len", str(shape["output"]),
        "--random-prefix-len", str(shape["prefix"]),
        "--num-prompts", str(ld["prompts"]),
    ]
    if ld["kind"] == "concurrency":
        args += ["--max-concurrency", str(ld["concurrency"])]
    else:
        args += ["--request-rate", _number(ld["rps"])]
    args += [
        "--percentile-metrics", ",".join(s.percentile_metrics),
        "--metric-percentiles", ",".join(map(str, s.percentiles)),
        "--goodput", f"ttft:{_number(w.ttft_ms)}", f"tpot:{_number(w.tpot_ms)}",
        # The client waits for the server as long as the server's own start-up budget.
        "--ready-check-timeout-sec", str(ctx.startup_budget_s),
        "--disable-tqdm",
        "--label", "qwen-plan",
        "--metadata", *[f"{k}={v}" for k, v in predictions(ctx).items()],
        "--save-result",
        "--result-dir", RESULT_DIR,
        "--result-filename", result_filename(ctx),
    ]
    return args


def predictions(ctx: Context) -> dict[str, str]:
    """What the plan predicts, stored in the result JSON beside what was measured (`--metadata`)."""
    opt = ctx.option
    return {
        "qwen_plan_version": __version__,
        "qwen_plan_option": opt.label,
        "qwen_plan_p95_ttft_ms": _number(opt.ttft_ms),
        "qwen_plan_p95_tpot_ms": _number(opt.tpot_ms),
        "qwen_plan_capacity_rps": _number(opt.capacity_rps),
    }


def _vars(ctx: Context, catalog: Catalog) -> dict[str, Any]:
    s = settings()
    v = ctx.values
    d = ctx.deployment
    tv = ctx.template_vars()
    ld = load(ctx)
    job = f"{ctx.name}-bench"
    # The Service selects name + instance: a different instance keeps the client out of it.
    labels = {**tv["labels"], "app.kubernetes.io/instance": job, "app.kubernetes.io/component": "benchmark"}
    security = {**v["securityContext"], "readOnlyRootFilesystem": True}
    result_file = f"{RESULT_DIR}/{result_filename(ctx)}"
    # The server's writable-path environment (no passwd entry, read-only root), the tokenizer under HOME.
    env = {
        **writable_env(),
        "HF_HOME": f"{HOME}/.cache/huggingface",
        "HF_TOKEN_PATH": f"{TOKEN_DIR}/token",
        "VLLM_NO_USAGE_STATS": "1",
        "PYTHONUNBUFFERED": "1",
        "RESULT_FILE": result_file,
    }
    # The server's own start-up, vLLM's import and the tokenizer download, then the run with slack.
    deadline = ctx.startup_budget_s + s.setup_seconds + 2 * ld["duration_s"]
    return {
        "job": job,
        "reader": f"{ctx.name}-bench-reader",
        "claim": f"{ctx.name}-bench-results",
        "container": "vllm-bench",
        "labels": labels,
        "selector": {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")},
        "image": engine_image("vllm", catalog.gpu(d.gpu)).ref,
        "pull_policy": v["image"]["pullPolicy"],
        "command": ["/bin/sh", "-c", SCRIPT, SCRIPT_NAME],
        "args": benchmark_args(ctx),
        "env": [{"name": k, "value": env[k]} for k in sorted(env)],
        "resources": s.resources,
        "pod_security": v["podSecurityContext"],
        "security": security,
        "home": HOME,
        "home_size": s.home_size,
        "tmp_size": s.tmp_size,
        "result_dir": RESULT_DIR,
        "result_file": result_file,
        "token_dir": TOKEN_DIR,
        "secret_name": v["hfToken"]["secretName"],
        "secret_key": v["hfToken"]["key"],
        "results_size": s.results_size,
        "backoff_limit": s.backoff_limit,
        "deadline_s": math.ceil(deadline / 60) * 60,
        "ttl_s": s.ttl_seconds_after_finished,
        "reader_s": s.reader_seconds,
        "reader_sleep": str(s.reader_seconds - 60),
    }


def _object(template: str, ctx: Context, b: dict[str, Any]) -> dict[str, Any]:
    text = environment("benchmark").get_template(template).render(
        b=b, namespace=ctx.namespace, storage_class=ctx.values["modelCache"]["storageClassName"])
    obj = yaml.safe_load(text)
    if not isinstance(obj, dict):
        raise TypeError(f"{template} did not render one mapping")
    return obj


def render_benchmark(ctx: Context, catalog: Catalog) -> dict[str, str]:
    """`benchmark/job.yaml` (results PVC, NetworkPolicy, Job), `results-reader.yaml` and `README.md`."""
    b = _vars(ctx, catalog)
    parts = ("pvc.yaml.j2", "networkpolicy.yaml.j2", "job.yaml.j2")
    job = "---\n".join(dump_yaml(_object(tmpl, ctx, b)) for tmpl in parts)
    reader = dump_yaml(_object("results-reader.yaml.j2", ctx, b))
    return {
        "benchmark/job.yaml": job,
        "benchmark/results-reader.yaml": reader,
        "benchmark/README.md": _readme(ctx, b),
    }


def _readme(ctx: Context, b: dict[str, Any]) -> str:
    opt = ctx.option
    w = ctx.plan.workload
    ld = load(ctx)
    shape = request_shape(ctx)
    return environment("benchmark").get_template("README.md.j2").render(
        b=b, namespace=ctx.namespace, name=ctx.name, d=ctx.deployment, w=w, ld=ld, shape=shape,
        vllm_version=engine_table().engines["vllm"].version,
        command_line=shlex.join([*BENCH_COMMAND, *b["args"]]),
        ttft=num(opt.ttft_ms, 0), tpot=num(opt.tpot_ms, 0), capacity_rps=num(opt.capacity_rps, 2),
        rps=num(ld["rps"], 2), output_tps=num(ld["rps"] * w.osl, 0),
        e2e_s=num((opt.ttft_ms + w.osl * opt.tpot_ms) / 1000, 1),
        target_ttft=num(w.ttft_ms, 0), target_tpot=num(w.tpot_ms, 0),
        label=opt.label, percentiles=settings().percentiles,
    )
