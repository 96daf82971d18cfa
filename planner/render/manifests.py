"""Render templates/k8s/*.j2 from a Context: one Kubernetes object per file."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2
import yaml

from planner.catalog import data_dir
from planner.render.context import Context


def _tojson(value: Any) -> str:
    # JSON is valid YAML: every value reaches the manifest serialised, never interpolated raw.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def environment(folder: str = "k8s") -> jinja2.Environment:
    """Templates under templates/<folder> that print YAML: every value goes through `tojson`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates") / folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = _tojson
    env.policies["json.dumps_function"] = _tojson
    return env


class _Dumper(yaml.SafeDumper):
    """Block style with readable multi-line strings; no aliases (each object stands alone)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1_000_000,
                     allow_unicode=True)


def render_object(template: str, ctx: Context) -> dict[str, Any]:
    text = environment().get_template(template).render(**ctx.template_vars())
    obj = yaml.safe_load(text)
    if not isinstance(obj, dict):
        raise TypeError(f"{template} did not render one mapping")
    return obj


def manifest_templates(ctx: Context, *, kserve: bool = False) -> list[str]:
    """Which objects this plan needs, in apply order."""
    v = ctx.values
    names = ["00-namespace.yaml.j2", "10-persistentvolumeclaim.yaml.j2"]
    if v["multiNode"]["computeDomain"]["enabled"]:
        names.append("15-computedomain.yaml.j2")
    names.append("20-leaderworkerset.yaml.j2" if v["multiNode"]["enabled"] else "20-deployment.yaml.j2")
    names.append("30-service.yaml.j2")
    if v["pdb"]["enabled"]:
        names.append("40-poddisruptionbudget.yaml.j2")
    mode = v["autoscaling"]["mode"]
    if mode == "hpa":
        names.append("50-horizontalpodautoscaler.yaml.j2")
    elif mode == "keda":
        names.append("50-scaledobject.yaml.j2")
    if v["serviceMonitor"]["enabled"]:
        names.append("60-servicemonitor.yaml.j2")
    if v["networkPolicy"]["enabled"]:
        names.append("70-networkpolicy.yaml.j2")
    return names


def render_manifests(ctx: Context) -> dict[str, str]:
    """File name (e.g. `20-deployment.yaml`) -> YAML text of one object."""
    return {
        t.removesuffix(".j2"): dump_yaml(render_object(t, ctx)) for t in manifest_templates(ctx)
    }


def render_kserve(ctx: Context) -> str:
    return dump_yaml(render_object("inferenceservice.yaml.j2", ctx))
