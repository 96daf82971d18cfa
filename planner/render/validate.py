"""Refuse a plan.json or render option the catalog or Kubernetes would not accept, before rendering.

plan.json may be hand-edited or come from another catalog, so render re-checks what the solver
guarantees: every error is one line naming the plan.json field or CLI option at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from planner.catalog import Catalog
from planner.catalog.schema import Checkpoint, GpuSpec, ModelSpec
from planner.errors import CatalogError, RequestError
from planner.feasibility import Layout, check, mtp_choices
from planner.k8s_names import check_subdomain
from planner.plan import Deployment


@dataclass(frozen=True)
class Checked:
    model: ModelSpec
    gpu: GpuSpec
    checkpoint: Checkpoint
    gpus_per_pod: int


def _model(d: Deployment, catalog: Catalog) -> ModelSpec:
    deployable = ", ".join(sorted(m.id for m in catalog.models.values() if m.open_weights))
    try:
        model = catalog.model(d.model)
    except CatalogError:
        raise RequestError(f"deployment.model: {d.model!r} is not in the catalog; accepted: {deployable}") from None
    if not model.open_weights:
        raise RequestError(f"deployment.model: {model.id} is hosted only, there are no weights to deploy; "
                           f"accepted: {deployable}")
    return model


def _gpu(d: Deployment, catalog: Catalog) -> GpuSpec:
    try:
        return catalog.gpu(d.gpu)
    except CatalogError:
        raise RequestError(
            f"deployment.gpu: {d.gpu!r} is not in the catalog; accepted: {', '.join(sorted(catalog.gpus))}"
        ) from None


def check_deployment(d: Deployment, catalog: Catalog) -> Checked:
    """The Deployment agrees with the catalog (model, GPU, checkpoint) and passes the feasibility rules."""
    model = _model(d, catalog)
    gpu = _gpu(d, catalog)
    # Hugging Face repo ids are case-insensitive.
    ckpt = next((c for c in model.checkpoints if c.repo.lower() == d.checkpoint.lower()), None)
    if ckpt is None:
        repos = ", ".join(sorted(c.repo for c in model.checkpoints))
        raise RequestError(f"deployment.checkpoint: {d.checkpoint!r} is not a {model.id} checkpoint; "
                           f"accepted: {repos}")
    if ckpt.precision != d.precision:
        raise RequestError(f"deployment.precision: {d.precision} does not match checkpoint {ckpt.repo} "
                           f"({ckpt.precision}); accepted: {ckpt.precision}")
    layout = Layout(tp=d.tp, ep=d.ep, pp=d.pp, dp=d.dp, gpus=d.gpus_per_replica, nodes=d.nodes_per_replica)
    problem = check(model, gpu, d.precision, d.engine, layout).problem
    if problem is not None:
        raise RequestError(problem.at("deployment."))
    if d.mtp_tokens and d.mtp_tokens not in mtp_choices(model, d.engine, gpu):
        raise RequestError(f"deployment.mtp_tokens: {d.mtp_tokens}; MTP with {d.engine} on {gpu.id} is published "
                           f"as: accepted: {', '.join(map(str, mtp_choices(model, d.engine, gpu)))}")
    return Checked(model=model, gpu=gpu, checkpoint=ckpt, gpus_per_pod=d.gpus_per_replica // d.nodes_per_replica)


def check_storage_class(value: str | None) -> str:
    """'' = the cluster's default StorageClass."""
    return "" if value is None else check_subdomain(value, "--storage-class")


def check_prometheus(value: str | None, autoscaler: str) -> str | None:
    """KEDA's Prometheus server URL; only the KEDA trigger reads it."""
    if value is None:
        return None
    if autoscaler != "keda":
        raise RequestError(
            f"--prometheus: only the KEDA trigger queries Prometheus, --autoscaler {autoscaler} would ignore "
            "it; pass --autoscaler keda or drop --prometheus"
        )
    parts = urlsplit(value)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or any(
        c.isspace() or not c.isprintable() for c in value
    ):
        raise RequestError(
            f"--prometheus: {value!r} is not an http(s) URL (e.g. http://prometheus-operated.monitoring.svc:9090)"
        )
    return value
