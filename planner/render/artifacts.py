"""Write a Plan as deployment artifacts: plan.json, README.md, manifests/, chart/, launch.sh.

Everything is rendered in memory first (`render_files`), then written into a temporary folder
beside the destination and renamed into place, so a reader never sees half a folder.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2

from planner import __version__
from planner.atomic import check_target, write_folder
from planner.catalog import Catalog, data_dir
from planner.errors import RequestError
from planner.fmt import md_cell, num, usd
from planner.plan import Api, Plan
from planner.render.benchmark import render_benchmark
from planner.render.context import Context, RenderOptions, build_context, self_hosted_choices
from planner.render.contracts import contract
from planner.render.engine import drain_seconds, engine_table
from planner.render.manifests import dump_yaml, render_kserve, render_manifests
from planner.render.shell import shell_join

EXECUTABLE = {"launch.sh"}


def _text_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["shquote"] = shlex.quote
    env.filters["tojson"] = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)
    env.filters["md"] = md_cell
    return env


def _doc_vars(ctx: Context, catalog: Catalog, kserve: bool, extra: list[str]) -> dict[str, Any]:
    d = ctx.deployment
    v = ctx.values
    gpu = catalog.gpu(d.gpu)
    opt = ctx.option
    tv = ctx.template_vars()
    multinode = bool(v["multiNode"]["enabled"])
    return {
        "d": d,
        "planner_version": __version__,
        "engine": d.engine,
        "engine_version": v["engine"]["version"],
        "image": tv["image"],
        "gpu_name": gpu.name,
        "gpu_resource": gpu.k8s_resource,
        "gpus_per_pod": d.gpus_per_replica // d.nodes_per_replica,
        "gpus_total": d.gpus_per_replica * d.replicas,
        "node_selector": ", ".join(f"{k}={val}" for k, val in v["nodeSelector"].items()),
        "workload_kind": "LeaderWorkerSet groups" if multinode else "Deployment pods",
        "rollout_ref": f"leaderworkerset/{ctx.name}" if multinode else f"deployment/{ctx.name}",
        "multinode": multinode,
        "ttft": f"{num(opt.ttft_ms, 0)} ms",
        "tpot": f"{num(opt.tpot_ms, 0)} ms",
        "capacity_rps": num(opt.capacity_rps, 2),
        "monthly_cost": usd(opt.monthly_cost_usd),
        "startup_budget_s": ctx.startup_budget_s,
        "weights_gb": f"{ctx.weights_bytes / 1e9:,.1f}",
        "autoscaler": v["autoscaling"]["mode"],
        "min_replicas": v["autoscaling"]["minReplicas"],
        "max_replicas": v["autoscaling"]["maxReplicas"],
        "queue_metric": v["autoscaling"]["metric"],
        "cache_size": v["modelCache"]["size"],
        "cache_mode": v["modelCache"]["accessMode"],
        "max_pods": ctx.max_pods,
        "cache_replicas": ctx.max_pods // d.nodes_per_replica,
        "storage_class": v["modelCache"]["storageClassName"],
        "namespace": ctx.namespace,
        "name": ctx.name,
        "secret_name": v["hfToken"]["secretName"],
        "port": v["port"],
        "kserve": kserve,
        "extra_files": extra,
        "env": sorted(ctx.launch_env.items()),
        "command_line": shell_join(ctx.launch_command),
        "worker_command_line": shell_join(ctx.launch_worker_command),
        "last_rank": d.nodes_per_replica - 1,
    }


def _chart_files(ctx: Context) -> dict[str, bytes]:
    root = data_dir("templates") / "chart"
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix != ".j2":
            files[f"chart/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    d = ctx.deployment
    chart_yaml = _text_env().get_template("chart/Chart.yaml.j2").render(
        description=f"{d.model} ({d.precision}) on {d.gpu} served by {d.engine}, rendered by qwen-plan",
        chart_version=__version__,
        app_version=ctx.values["engine"]["version"],
        engine=d.engine,
        model=d.model,
        gpu=d.gpu,
        source="https://huggingface.co/" + d.checkpoint,
    )
    files["chart/Chart.yaml"] = chart_yaml.encode()
    header = "# Written by qwen-plan from plan.json. Change values here, or with --set, not in templates/.\n"
    files["chart/values.yaml"] = (header + dump_yaml(ctx.values)).encode()
    return files


def render_files(
    plan: Plan,
    catalog: Catalog,
    options: RenderOptions | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """Every artifact as relative path -> bytes. Pure: same plan, same bytes."""
    opts = options or RenderOptions()
    extra = dict(extra_files or {})
    files: dict[str, bytes] = {}
    files["plan.json"] = (json.dumps(plan.model_dump(mode="json"), indent=2, sort_keys=True) + "\n").encode()
    if opts.option == 0 and isinstance(plan.recommended, Api):
        # A hosted-API recommendation: nothing to run, but the plan and the reports still apply.
        api = plan.recommended
        api_readme = _text_env().get_template("artifacts/README-api.md.j2").render(
            option=api, monthly=usd(api.monthly_cost_usd), per_m=usd(api.usd_per_million_tokens, 2),
            self_hosted=[(i, plan.options[i].label) for i in self_hosted_choices(plan)],
            extra_files=sorted(extra), planner_version=__version__,
        )
        files["README.md"] = api_readme.encode()
        return _with_extra(files, extra)
    ctx = build_context(plan, catalog, opts)
    for fname, text in render_manifests(ctx).items():
        files[f"manifests/{fname}"] = text.encode()
    files.update(_chart_files(ctx))
    files.update({rel: text.encode() for rel, text in render_benchmark(ctx, catalog).items()})
    if opts.kserve:
        files["kserve/inferenceservice.yaml"] = render_kserve(ctx).encode()
    env = _text_env()
    doc_vars = _doc_vars(ctx, catalog, opts.kserve, sorted(extra))
    files["launch.sh"] = env.get_template("artifacts/launch.sh.j2").render(**doc_vars).encode()
    files["README.md"] = env.get_template("artifacts/README.md.j2").render(**doc_vars).encode()
    files["deploy/README.md"] = env.get_template("artifacts/deploy-README.md.j2").render(
        **{**doc_vars, **_deploy_vars(ctx, catalog)}).encode()
    return _with_extra(files, extra)


def _deploy_vars(ctx: Context, catalog: Catalog) -> dict[str, object]:
    d, v = ctx.deployment, ctx.values
    gpu = catalog.gpu(d.gpu)
    c = contract(d.engine)
    blackwell = gpu.family == "blackwell"
    spec = engine_table().engines[d.engine]
    if spec.drain == "shutdown_timeout_flag":
        drain = (f"on SIGTERM {d.engine} stops taking requests and lets running ones finish for up to "
                 f"{drain_seconds(d.engine)} s (`--shutdown-timeout`), inside the "
                 f"{v['terminationGracePeriodSeconds']} s grace period.")
    else:
        drain = (f"{d.engine} drains by itself on SIGTERM (health turns unready, running requests finish), "
                 f"bounded by the {v['terminationGracePeriodSeconds']} s grace period.")
    prefix = ("on — the plan credits prefix-cache hits, and the engine keeps its prefix cache on for this "
              "hybrid model" if ctx.plan.workload.prefix_hit > 0 else
              "the plan credits no prefix-cache hits; the engine's default applies")
    return {
        "wheel": c.wheel, "wheel_sha256": c.wheel_sha256, "vendor": gpu.vendor,
        "node_label": f"{gpu.node_label_key}={gpu.node_label_value}",
        "cuda": "CUDA 13" if blackwell else "CUDA 12.9",
        "driver": "R580 or newer" if blackwell else "R575 or newer",
        "amd_gids": v["podSecurityContext"].get("supplementalGroups", []),
        "compute_domain": v["multiNode"]["computeDomain"]["enabled"], "nodes": d.nodes_per_replica,
        "drain": drain, "prefix": prefix,
        "mtp": f"{d.mtp_tokens} token(s), the engine's published recipe" if d.mtp_tokens else "off",
    }


def _with_extra(files: dict[str, bytes], extra: Mapping[str, bytes]) -> dict[str, bytes]:
    for rel, data in extra.items():
        p = PurePosixPath(rel)
        if p.is_absolute() or ".." in p.parts or not p.parts:
            raise RequestError(f"extra_files: {rel!r} must be a relative path inside the output folder")
        if rel in files:
            raise RequestError(f"extra_files: {rel!r} would overwrite a rendered artifact")
        files[rel] = data
    return dict(sorted(files.items()))


def write_artifacts(
    plan: Plan,
    catalog: Catalog,
    out: Path,
    *,
    force: bool = False,
    autoscaler: Literal["hpa", "keda", "none"] = "hpa",
    kserve: bool = False,
    extra_files: Mapping[str, bytes] | None = None,
    options: RenderOptions | None = None,
) -> Path:
    """Render and write atomically into `out`; an existing `out` needs force=True (`--force`)."""
    out = Path(out)
    check_target(out, force)
    base = options or RenderOptions()
    opts = RenderOptions(
        autoscaler=autoscaler, kserve=kserve, name=base.name, namespace=base.namespace,
        node_selector=base.node_selector, storage_class=base.storage_class,
        hf_token_secret=base.hf_token_secret, prometheus_address=base.prometheus_address, option=base.option,
    )
    files = render_files(plan, catalog, opts, extra_files)
    return write_folder(out, files, force=force, executable=EXECUTABLE)
