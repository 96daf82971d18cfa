"""The fleet's --out folder: one rendered folder per deployment, the routing, the fleet plan and reports.

Each deployment's folder is exactly what `plan --out` writes for its Plan (planner/render and
planner/report, called as they are), under deployments/NAME/, all in one namespace so one
Gateway API HTTPRoute per workload can send `/<workload>/...` to its deployment's Service.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml

from planner.atomic import check_target, write_folder
from planner.catalog import Catalog
from planner.fleet import FleetResult
from planner.fleet.model import FleetPlan, fleet_json
from planner.fleet.workbook import fleet_xlsx
from planner.fmt import usd
from planner.k8s_names import check_name
from planner.plan import SelfHosted
from planner.render import RenderOptions, build_context, render_files
from planner.render.artifacts import EXECUTABLE
from planner.report import report_files
from planner.report.csv_out import csv_cell

ROUTE_API = "gateway.networking.k8s.io/v1"
TOTAL_COLUMNS = ("deployment", "workloads", "kind", "where", "gpus", "capex_usd", "monthly_usd")


def routes(result: FleetResult, namespace: str, gateway: str,
           services: Mapping[str, tuple[str, int]]) -> list[dict[str, object]]:
    """One HTTPRoute per self-hosted workload: `/<workload>/` to its deployment's Service, the prefix
    rewritten to `/` so the engine sees its own OpenAI paths (`/v1/chat/completions`)."""
    out: list[dict[str, object]] = []
    for w in result.plan.workloads:
        if w.deployment not in services:
            continue  # a hosted API: called at the provider, nothing to route in the cluster
        service, port = services[w.deployment]
        out.append({
            "apiVersion": ROUTE_API,
            "kind": "HTTPRoute",
            "metadata": {"name": f"{w.name}"[:63], "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "qwen-plan", "qwen-plan/workload": w.name,
                                    "qwen-plan/deployment": w.deployment}},
            "spec": {
                "parentRefs": [{"name": gateway}],
                "rules": [{
                    "matches": [{"path": {"type": "PathPrefix", "value": f"/{w.name}/"}}],
                    "filters": [{"type": "URLRewrite",
                                 "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                    "backendRefs": [{"name": service, "port": port}],
                }],
            },
        })
    return out


def _totals_csv(plan: FleetPlan) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TOTAL_COLUMNS)
    for d in plan.deployments:
        w.writerow(csv_cell(v) for v in (d.name, " ".join(d.workloads), d.kind, d.option.where, d.gpus,
                                         f"{d.capex_usd:.2f}", f"{d.monthly_cost_usd:.2f}"))
    w.writerow(csv_cell(v) for v in ("TOTAL", "", "", "", sum(d.gpus for d in plan.deployments),
                                     f"{plan.capex_usd:.2f}", f"{plan.monthly_cost_usd:.2f}"))
    return buf.getvalue()


def _totals_html(plan: FleetPlan) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(d.name)}</td><td>{e(', '.join(d.workloads))}</td><td>{e(d.kind)}</td><td>{e(d.summary)}</td>"
        f"<td>{d.gpus}</td><td>{e(usd(d.capex_usd))}</td><td>{e(usd(d.monthly_cost_usd))}</td></tr>"
        for d in plan.deployments)
    served = "".join(
        f"<tr><td>{e(w.name)}</td><td>{e(w.deployment)}</td><td>{e(usd(w.share_monthly_usd))}</td>"
        f"<td>{e(usd(w.alone_monthly_usd)) if w.alone_monthly_usd is not None else '—'}</td><td>{e(w.why)}</td></tr>"
        for w in plan.workloads)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>qwen-plan fleet</title></head><body>\n"
        f"<h1>Fleet: {e(usd(plan.monthly_cost_usd))}/month</h1>\n"
        f"<p>Planned alone: {e(usd(plan.alone_monthly_usd))}/month; saving {e(usd(plan.saving_usd))} "
        f"({plan.saving_pct:.1f} %). Capex {e(usd(plan.capex_usd))}.</p>\n"
        "<table><tr><th>deployment</th><th>workloads</th><th>kind</th><th>what</th><th>GPUs</th><th>capex</th>"
        f"<th>$/month</th></tr>{rows}<tr><th>total</th><td></td><td></td><td></td>"
        f"<td>{sum(d.gpus for d in plan.deployments)}</td><td>{e(usd(plan.capex_usd))}</td>"
        f"<td>{e(usd(plan.monthly_cost_usd))}</td></tr></table>\n"
        "<h2>Workloads</h2><table><tr><th>workload</th><th>deployment</th><th>share $/month</th>"
        f"<th>alone $/month</th><th>why</th></tr>{served}</table>\n</body></html>\n"
    )


def _readme(plan: FleetPlan, namespace: str, gateway: str) -> str:
    lines = [f"# qwen-plan fleet ({len(plan.workloads)} workloads, {len(plan.deployments)} deployments)", "",
             f"Monthly cost {usd(plan.monthly_cost_usd)} (alone: {usd(plan.alone_monthly_usd)}), capex "
             f"{usd(plan.capex_usd)}.", "",
             f"Apply each `deployments/NAME/manifests/` (all in namespace `{namespace}`), then "
             f"`routing/httproutes.yaml`, which attaches to the Gateway `{gateway}` (create it first). A client "
             "of workload W calls `https://GATEWAY/W/v1/chat/completions` with the model name its deployment "
             "serves:", "", "| workload | deployment | model name |", "|---|---|---|"]
    by = {d.name: d for d in plan.deployments}
    for w in plan.workloads:
        d = by[w.deployment]
        lines.append(f"| {w.name} | {w.deployment} | {d.option.model}"
                     + (" (hosted API: call the provider)" if d.kind == "api" else "") + " |")
    lines += ["", "Reports: `procurement/` (the fleet in total) and each deployment's own "
              "`procurement.*` and `report.html`.", ""]
    return "\n".join(lines)


def fleet_files(result: FleetResult, catalog: Catalog, *, namespace: str, gateway: str,
                autoscaler: Literal["hpa", "keda", "none"]) -> tuple[dict[str, bytes], set[str]]:
    check_name(namespace, "--namespace")
    files: dict[str, bytes] = {}
    executable: set[str] = set()
    services: dict[str, tuple[str, int]] = {}
    for name, plan in result.deployments.items():
        opts = RenderOptions(autoscaler=autoscaler, name=name, namespace=namespace)
        if isinstance(plan.recommended, SelfHosted):
            ctx = build_context(plan, catalog, opts)
            services[name] = (ctx.name, int(ctx.values["port"]))
        for rel, data in render_files(plan, catalog, opts, report_files(plan)).items():
            files[f"deployments/{name}/{rel}"] = data
            if rel in EXECUTABLE:
                executable.add(f"deployments/{name}/{rel}")
    docs = routes(result, namespace, gateway, services)
    files["routing/httproutes.yaml"] = yaml.safe_dump_all(docs, sort_keys=False).encode() if docs else b""
    files["plan.json"] = fleet_json(result.plan).encode()
    files["procurement/fleet.csv"] = _totals_csv(result.plan).encode()
    fp = result.plan
    totals = {"deployments": [{"name": d.name, "workloads": d.workloads, "kind": d.kind, "gpus": d.gpus,
                               "capex_usd": d.capex_usd, "monthly_usd": d.monthly_cost_usd} for d in fp.deployments],
              "total": {"gpus": sum(d.gpus for d in fp.deployments), "capex_usd": fp.capex_usd,
                        "monthly_usd": fp.monthly_cost_usd}}
    files["procurement/fleet.json"] = (json.dumps(totals, indent=2) + "\n").encode()
    files["procurement/fleet.html"] = _totals_html(result.plan).encode()
    files["procurement/fleet.xlsx"] = fleet_xlsx(result.plan)
    files["README.md"] = _readme(result.plan, namespace, gateway).encode()
    return files, executable


def write_fleet(result: FleetResult, catalog: Catalog, out: Path, *, force: bool, namespace: str, gateway: str,
                autoscaler: Literal["hpa", "keda", "none"]) -> Path:
    check_target(out, force)  # before rendering, not after
    files, executable = fleet_files(result, catalog, namespace=namespace, gateway=gateway, autoscaler=autoscaler)
    return write_folder(out, files, force=force, executable=executable)
