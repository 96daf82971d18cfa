"""Build the fully resolved render context from a Plan. Templates only print it.

The context is two things: `values` (written verbatim as the Helm chart's values.yaml, so the
chart and the raw manifests read the same numbers) and `release` (name, namespace, labels), which
Helm takes from `helm install NAME -n NAMESPACE`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from planner.catalog import Catalog
from planner.catalog.params import estimate_checkpoint_bytes
from planner.catalog.schema import Checkpoint, GpuSpec, ModelSpec
from planner.errors import RequestError
from planner.k8s_names import check_label_key, check_label_value, check_name, slug
from planner.plan import Deployment, Plan, SelfHosted
from planner.render.engine import engine_args, engine_command, engine_image, engine_table
from planner.render.validate import check_deployment, check_prometheus, check_storage_class

Autoscaler = Literal["hpa", "keda", "none"]
GIB = 1024**3
PART_OF = "qwen-plan"
COMPONENT = "inference-server"
HOME = "/home/app"
CACHE_MOUNT = "/models/cache"
TOKEN_DIR = "/var/run/secrets/huggingface"
LWS_LEADER_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"


@dataclass(frozen=True)
class RenderOptions:
    autoscaler: Autoscaler = "hpa"
    kserve: bool = False
    name: str | None = None
    namespace: str | None = None
    node_selector: Mapping[str, str] | None = None
    storage_class: str | None = None
    hf_token_secret: str = "hf-token"
    prometheus_address: str | None = None
    option: int = 0  # which of the plan's options (0 = recommended, N = the table's row N)


@dataclass(frozen=True)
class Context:
    name: str
    namespace: str
    values: dict[str, Any]
    deployment: Deployment
    plan: Plan
    option: SelfHosted
    launch_command: list[str]
    launch_worker_command: list[str]  # ranks > 0 of a multi-node replica; empty on one node
    launch_env: dict[str, str]
    weights_bytes: int
    startup_budget_s: int
    max_pods: int  # the most pods mounting the model cache at once (autoscaler included)

    def template_vars(self) -> dict[str, Any]:
        """What Jinja templates see: only printed, never computed on."""
        v = self.values
        labels = {
            "app.kubernetes.io/name": v["nameLabel"],
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/version": v["appVersion"],
            "app.kubernetes.io/component": COMPONENT,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": PART_OF,
        }
        selector = {"app.kubernetes.io/name": v["nameLabel"], "app.kubernetes.io/instance": self.name}
        service_selector = dict(selector)
        if v["multiNode"]["enabled"]:
            # Only the group leader serves HTTP; LWS labels it worker-index "0".
            service_selector[LWS_LEADER_LABEL] = "0"
        if v["multiNode"]["enabled"]:
            target_ref = {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
                          "name": self.name}
        else:
            target_ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name}
        image = f'{v["image"]["repository"]}:{v["image"]["tag"]}'
        if v["image"]["digest"]:
            image += f'@{v["image"]["digest"]}'
        return {
            "name": self.name,
            "namespace": self.namespace,
            "cache_claim": f"{self.name}-model-cache",
            "image": image,
            "target_ref": target_ref,
            "labels": labels,
            "selector": selector,
            "service_selector": service_selector,
            "v": v,
        }


def cron_windows(replicas_by_hour: Sequence[int], floor: int) -> list[dict[str, str]]:
    """KEDA cron triggers (keda pkg/scalers/cron_scaler.go: timezone, start, end, desiredReplicas as a
    string) for the hours that need more than `floor` replicas; consecutive hours at one level share
    a window. The schedule already starts each scale-up an hour early (start-up and weight loading)."""
    out: list[dict[str, str]] = []
    h = 0
    while h < len(replicas_by_hour):
        level, end = replicas_by_hour[h], h + 1
        while end < len(replicas_by_hour) and replicas_by_hour[end] == level:
            end += 1
        if level > floor:
            out.append({"timezone": "Etc/UTC", "start": f"0 {h} * * *", "end": f"0 {end % 24} * * *",
                        "desiredReplicas": str(level)})
        h = end
    return out


def writable_env() -> dict[str, str]:
    """Where the engines and their libraries write, all under the pod's two writable emptyDirs.

    The pod runs as a UID with no passwd entry: USER/LOGNAME let getpass.getuser() answer
    (torch inductor's cache path calls it), and every cache that defaults to ~ or the temp folder
    is named explicitly (the list is derived from the pinned engines' sources in
    planner/render/contracts/, and tests/test_render_startable.py checks every one is set).
    """
    cache, config, tmp = f"{HOME}/.cache", f"{HOME}/.config", "/tmp"
    return {
        "HOME": HOME, "USER": "app", "LOGNAME": "app", "TMPDIR": tmp,
        "XDG_CACHE_HOME": cache, "XDG_CONFIG_HOME": config,
        "VLLM_CACHE_ROOT": f"{cache}/vllm", "VLLM_CONFIG_ROOT": f"{config}/vllm",
        "VLLM_ASSETS_CACHE": f"{cache}/vllm/assets", "VLLM_RPC_BASE_PATH": tmp,
        "VLLM_XLA_CACHE_PATH": f"{cache}/vllm/xla_cache",
        "SGLANG_CACHE_DIR": f"{cache}/sglang",
        "TORCHINDUCTOR_CACHE_DIR": f"{cache}/torchinductor", "TRITON_CACHE_DIR": f"{cache}/triton",
        "FLASHINFER_WORKSPACE_BASE": HOME, "CUDA_CACHE_PATH": f"{cache}/nv",
        "NUMBA_CACHE_DIR": f"{cache}/numba", "OUTLINES_CACHE_DIR": f"{cache}/outlines",
        "MIOPEN_USER_DB_PATH": f"{config}/miopen", "MIOPEN_CUSTOM_CACHE_DIR": f"{cache}/miopen",
    }


WRITABLE_MOUNTS = (HOME, "/tmp", "/dev/shm", CACHE_MOUNT)


def _weights_bytes(model: ModelSpec, ckpt: Checkpoint) -> int:
    if ckpt.disk_bytes:
        return ckpt.disk_bytes
    if model.architecture is None:
        raise RequestError(f"deployment.checkpoint: no size known for {ckpt.repo}")
    return estimate_checkpoint_bytes(model.architecture, ckpt.precision)


def _gib(n: float) -> str:
    return f"{math.ceil(n)}Gi"


def _node_selector(gpu: GpuSpec, override: Mapping[str, str] | None) -> dict[str, str]:
    chosen = dict(override) if override else {gpu.node_label_key: gpu.node_label_value}
    for k, val in chosen.items():
        check_label_key(k, "--node-selector key")
        check_label_value(val, "--node-selector value")
    return dict(sorted(chosen.items()))


def self_hosted_choices(plan: Plan) -> list[int]:
    return [i for i, o in enumerate(plan.options) if isinstance(o, SelfHosted)]


def chosen_option(plan: Plan, index: int) -> SelfHosted:
    """The option `--option N` names, refusing an API (nothing to deploy) or a number not in the plan."""
    deployable = ", ".join(map(str, self_hosted_choices(plan))) or "none"
    if not 0 <= index < len(plan.options):
        raise RequestError(f"--option: {index} is not in the plan (options 0-{len(plan.options) - 1}; "
                           f"self-hosted: {deployable})")
    o = plan.options[index]
    if not isinstance(o, SelfHosted):
        which = "the recommendation" if index == 0 else f"option {index}"
        raise RequestError(f"--option: {which} is the hosted API {o.label}, there is nothing to deploy; "
                           f"self-hosted options: {deployable}")
    return o


def build_context(plan: Plan, catalog: Catalog, options: RenderOptions | None = None) -> Context:
    opts = options or RenderOptions()
    chosen = chosen_option(plan, opts.option)
    d = chosen.deployment
    if opts.autoscaler not in ("hpa", "keda", "none"):
        raise RequestError(f"--autoscaler: {opts.autoscaler!r}; accepted: hpa, keda, none")
    checked = check_deployment(d, catalog)
    model, gpu, gpus_per_pod = checked.model, checked.gpu, checked.gpus_per_pod
    storage_class = check_storage_class(opts.storage_class)
    prometheus = check_prometheus(opts.prometheus_address, opts.autoscaler)
    table = engine_table()
    spec = table.engines[d.engine]
    sz = table.sizing
    multinode = d.nodes_per_replica > 1
    if opts.kserve and multinode:
        raise RequestError(
            f"--format kserve: this plan spans {d.nodes_per_replica} nodes per replica; "
            "the KServe output supports single-node replicas only (use --format k8s)"
        )

    name = check_name(opts.name or slug(d.model), "--name")
    namespace = check_name(opts.namespace or name, "--namespace")
    name_label = check_label_value(d.model, "deployment.model")

    image = engine_image(d.engine, gpu)
    weights = _weights_bytes(model, checked.checkpoint)
    # Every pod downloads the full snapshot (HF snapshot_download is per process), then loads it.
    budget = spec.startup_overhead_s + math.ceil(weights / sz.load_bandwidth_bytes_per_s)
    startup_failures = math.ceil(budget / sz.probe_period_s)

    weights_gib_per_pod = weights / GIB / d.nodes_per_replica
    host_mem = max(sz.host_memory_min_gib, math.ceil(weights_gib_per_pod * sz.host_memory_per_weight_gib))
    shm = min(sz.shm_gib_max, max(sz.shm_gib_min, sz.shm_gib_per_gpu * gpus_per_pod))
    gpu_count = str(gpus_per_pod)
    resources: dict[str, Any] = {
        "requests": {"cpu": str(sz.cpu_request_per_gpu * gpus_per_pod), "memory": f"{host_mem}Gi",
                     gpu.k8s_resource: gpu_count},
        "limits": {"cpu": str(sz.cpu_limit_per_gpu * gpus_per_pod), "memory": f"{host_mem}Gi",
                   gpu.k8s_resource: gpu_count},
    }

    # The plan's prefix-hit credit and the engine's prefix cache are one decision.
    prefix_caching = plan.workload.prefix_hit > 0
    command = engine_command(d.engine)
    # A multi-node replica uses the engine's own launch: the leader is rank 0 and serves the API;
    # workers join it by the LeaderWorkerSet leader address (vLLM workers run --headless).
    args = engine_args(d, catalog, prefix_caching=prefix_caching, node_rank="0",
                       leader_address="$(LWS_LEADER_ADDRESS)")
    worker_command, worker_args = (
        (command, engine_args(d, catalog, prefix_caching=prefix_caching, node_rank="$(LWS_WORKER_INDEX)",
                              leader_address="$(LWS_LEADER_ADDRESS)"))
        if multinode else ([], [])
    )

    env = {**writable_env(), "HF_HOME": f"{CACHE_MOUNT}/huggingface", "HF_TOKEN_PATH": f"{TOKEN_DIR}/token",
           **spec.env}
    uid = sz.uid
    if d.replicas_by_hour:
        # A load profile: the peak hour's replicas are the most, the quietest hour's the fewest.
        min_replicas, max_replicas = d.min_replicas, d.replicas
    else:
        min_replicas, max_replicas = d.replicas, d.replicas * sz.autoscale_max_factor
    # The most pods that can mount the model cache at once: an autoscaler may add replicas.
    max_pods = (max_replicas if opts.autoscaler != "none" else d.replicas) * d.nodes_per_replica
    # GB200/GB300 racks: a replica spanning trays talks over multi-node NVLink only through an IMEX
    # channel of an NVIDIA DRA ComputeDomain, with every pod of the group in one NVLink clique.
    nvlink_domain = multinode and gpu.nvlink_domain > gpu.gpus_per_node
    compute_domain = {
        "enabled": nvlink_domain,
        "name": f"{name}-nvlink",
        "claimTemplate": f"{name}-imex-channel",
        "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"leaderworkerset.sigs.k8s.io/name": name}},
            "matchLabelKeys": ["leaderworkerset.sigs.k8s.io/group-key"],
            "topologyKey": "nvidia.com/gpu.clique",
        }]}},
    }
    if nvlink_domain:
        resources["claims"] = [{"name": "nvlink-channel"}]
    prom = prometheus or sz.prometheus_address
    query = f'sum({spec.queue_metric}{{namespace="{namespace}",service="{name}"}})'

    values: dict[str, Any] = {
        "nameLabel": name_label,
        "appVersion": spec.version,
        "namespace": {"create": False},
        "plan": {
            "model": d.model,
            "checkpoint": d.checkpoint,
            "precision": d.precision,
            "gpu": d.gpu,
            "gpusPerReplica": d.gpus_per_replica,
            "nodesPerReplica": d.nodes_per_replica,
            "tp": d.tp, "pp": d.pp, "dp": d.dp, "ep": d.ep,
        },
        "engine": {"name": d.engine, "version": spec.version},
        "image": {"repository": image.repository, "tag": image.tag, "digest": image.digest or "",
                  "pullPolicy": "Always"},
        "command": command,
        "args": args,
        "multiNode": {"enabled": multinode, "size": d.nodes_per_replica,
                      "workerCommand": worker_command, "workerArgs": worker_args,
                      "computeDomain": compute_domain},
        "replicas": d.replicas,
        "port": spec.port,
        "healthPath": spec.health_path,
        "metricsPath": spec.metrics_path,
        "env": [{"name": k, "value": env[k]} for k in sorted(env)],
        "resources": resources,
        "nodeSelector": _node_selector(gpu, opts.node_selector),
        "tolerations": [{"key": gpu.k8s_resource, "operator": "Exists", "effect": "NoSchedule"}],
        "podSecurityContext": {
            "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"},
            # /dev/kfd and /dev/dri/renderD* are group-owned on AMD nodes: a non-root process
            # opens them only as a member of those groups (ROCm/k8s-device-plugin#39).
            **({"supplementalGroups": list(sz.amd_device_gids)} if gpu.vendor == "amd" else {}),
        },
        "securityContext": {
            "allowPrivilegeEscalation": False, "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            # Every path the engines write (caches, JIT kernels, sockets) is redirected by
            # writable_env() into the home and /tmp emptyDirs.
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "probes": {
            "startup": {"periodSeconds": sz.probe_period_s, "timeoutSeconds": 5,
                        "failureThreshold": startup_failures},
            "readiness": {"periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
            "liveness": {"periodSeconds": 30, "timeoutSeconds": 10, "failureThreshold": 5},
        },
        "terminationGracePeriodSeconds": sz.termination_grace_s,
        "preStopSleepSeconds": sz.prestop_sleep_s,
        "shmSizeLimit": f"{shm}Gi",
        "modelCache": {
            "size": _gib(weights * sz.cache_headroom / GIB),
            # One pod can own the cache; several pods (on several nodes) must share it, or the
            # second one waits on a Multi-Attach error forever.
            "accessMode": "ReadWriteMany" if max_pods > 1 else "ReadWriteOnce",
            "storageClassName": storage_class,
        },
        "hfToken": {"secretName": check_name(opts.hf_token_secret, "--hf-token-secret"), "key": "token"},
        "autoscaling": {
            "mode": opts.autoscaler,
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metric": spec.queue_metric,
            "target": str(sz.autoscale_queue_target),
            "prometheusAddress": prom,
            "query": query,
            "schedule": cron_windows(d.replicas_by_hour, min_replicas) if d.replicas_by_hour else [],
        },
        "pdb": {"enabled": d.replicas > 1, "maxUnavailable": 1},
        "serviceMonitor": {"enabled": True, "interval": "15s"},
        "networkPolicy": {"enabled": True},
    }
    launch = [*command, *engine_args(d, catalog, prefix_caching=prefix_caching, node_rank="0")]
    launch_worker = [*command, *engine_args(d, catalog, prefix_caching=prefix_caching)] if multinode else []
    return Context(
        name=name,
        namespace=namespace,
        values=values,
        deployment=d,
        plan=plan,
        option=chosen,
        launch_command=launch,
        launch_worker_command=launch_worker,
        launch_env=dict(spec.env),
        weights_bytes=weights,
        startup_budget_s=budget,
        max_pods=max_pods,
    )
