"""`qwen-plan render`: write deployment artifacts for an existing plan.json."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click
from pydantic import ValidationError

from planner.atomic import check_target
from planner.catalog.yaml_io import read_input
from planner.cli.common import catalog_option, get_catalog, not_empty
from planner.errors import RequestError
from planner.plan import Plan
from planner.render import RenderOptions, write_artifacts


def _node_selector(pairs: tuple[str, ...]) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RequestError(f"--node-selector: {pair!r} is not KEY=VALUE")
        out[key] = value
    return out


def load_plan(path: Path) -> Plan:
    text = read_input(path, "--plan", RequestError, hint=" (plan.json expected)")
    try:
        # strict: a hand-edited `replicas: true` or `"4"` is refused, not read as 1 or 4.
        return Plan.model_validate_json(text, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        where = f"{loc}: " if loc else ""
        raise RequestError(f"--plan: {path}: {where}{err['msg']}") from None


@click.command("render")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="plan.json written by `qwen-plan plan --out` or `--format json`.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder to write (atomically).")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@click.option("--autoscaler", type=click.Choice(["hpa", "keda", "none"]), default="hpa", show_default=True,
              help="Scale on the engine's waiting-requests metric with an HPA or a KEDA ScaledObject.")
@click.option("--format", "fmt", type=click.Choice(["k8s", "kserve"]), default="k8s", show_default=True,
              help="kserve also writes kserve/inferenceservice.yaml.")
@click.option("--node-selector", multiple=True, metavar="KEY=VALUE",
              help="Replace the catalog GPU label as node selector (repeatable).")
@click.option("--name", default=None, callback=not_empty, help="Release and object name (default: from the model id).")
@click.option("--namespace", default=None, callback=not_empty, help="Namespace (default: the name).")
@click.option("--storage-class", default=None, callback=not_empty,
              help="StorageClass of the model-cache PVC (default: cluster default).")
@click.option("--hf-token-secret", default="hf-token", show_default=True, callback=not_empty,
              help="Secret holding the Hugging Face token under key `token` (optional at run time).")
@click.option("--prometheus", "prometheus_address", default=None, callback=not_empty,
              help="Prometheus URL for the KEDA trigger.")
@click.option("--option", "option", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which option of the plan to deploy: 0 = the recommendation, N = row N of the plan's table.")
@catalog_option
def command(
    plan_path: Path, out: Path, force: bool, autoscaler: str, fmt: str, node_selector: tuple[str, ...],
    name: str | None, namespace: str | None, storage_class: str | None, hf_token_secret: str,
    prometheus_address: str | None, option: int, catalog_dir: Path | None,
) -> None:
    """Write Kubernetes manifests, a Helm chart and launch.sh for one option of PLAN into OUT."""
    check_target(out, force)  # a bad --out fails before the catalog and the render, not after
    plan = load_plan(plan_path)
    catalog = get_catalog(catalog_dir)
    scaler = cast(Literal["hpa", "keda", "none"], autoscaler)
    options = RenderOptions(
        autoscaler=scaler, kserve=fmt == "kserve", name=name, namespace=namespace,
        node_selector=_node_selector(node_selector), storage_class=storage_class,
        hf_token_secret=hf_token_secret, prometheus_address=prometheus_address, option=option,
    )
    written = write_artifacts(plan, catalog, out, force=force, autoscaler=scaler, kserve=fmt == "kserve",
                              options=options)
    click.echo(f"wrote {written}; see {written / 'README.md'} to install and verify")
