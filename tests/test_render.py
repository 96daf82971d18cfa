"""Rendered objects: correct by construction, atomic writes, determinism."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_render_fixtures import amd_plan, dense_plan, gb200_plan, moe_plan, multinode_plan

from planner.catalog import Catalog
from planner.errors import RequestError
from planner.plan import Api, SelfHosted
from planner.render import RenderOptions, render_files, write_artifacts
from planner.request import Request
from planner.solver import solve


def _objects(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {
        k.removeprefix("manifests/"): yaml.safe_load(v)
        for k, v in files.items() if k.startswith("manifests/")
    }


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "LeaderWorkerSet":
        return obj["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]  # type: ignore[no-any-return]
    return obj["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_dense_single_gpu_deployment(catalog: Catalog) -> None:
    objs = _objects(render_files(dense_plan(), catalog))
    assert sorted(objs) == [
        "00-namespace.yaml", "10-persistentvolumeclaim.yaml", "20-deployment.yaml", "30-service.yaml",
        "50-horizontalpodautoscaler.yaml", "60-servicemonitor.yaml", "70-networkpolicy.yaml",
    ]  # no PDB for a single replica
    dep = objs["20-deployment.yaml"]
    pod = _pod_spec(dep)
    c = pod["containers"][0]
    assert c["image"] == "vllm/vllm-openai:v0.33.0-cu129"
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert c["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert pod["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    # Startup budget: 600 s warm-up + 31,218,244,704 B / 200 MB/s = 157 s -> 757 s -> 76 probes of 10 s
    assert c["startupProbe"] == {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10,
                                 "timeoutSeconds": 5, "failureThreshold": 76}
    assert c["readinessProbe"]["httpGet"]["path"] == c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["lifecycle"] == {"preStop": {"sleep": {"seconds": 15}}}
    assert pod["terminationGracePeriodSeconds"] == 120
    assert dep["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "qwen3-5-27b", "app.kubernetes.io/name": "qwen3.5-27b"}
    shm = next(v for v in pod["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    # PVC = 31.2 GB x 1.25 = 36.3 GiB -> 37Gi; one replica, but the HPA may add a second pod
    # (max 1 x 2) on another node -> ReadWriteMany (test_render_checks covers --autoscaler none).
    pvc = objs["10-persistentvolumeclaim.yaml"]["spec"]
    assert pvc["resources"]["requests"]["storage"] == "37Gi"
    assert pvc["accessModes"] == ["ReadWriteMany"]


def test_restricted_pod_security(catalog: Catalog) -> None:
    for plan in (dense_plan(), moe_plan(), multinode_plan()):
        objs = _objects(render_files(plan, catalog))
        ns = objs["00-namespace.yaml"]["metadata"]["labels"]
        assert ns["pod-security.kubernetes.io/enforce"] == "restricted"
        workload = next(o for o in objs.values() if o["kind"] in ("Deployment", "LeaderWorkerSet"))
        templates = [_pod_spec(workload)]
        if workload["kind"] == "LeaderWorkerSet":
            templates.append(workload["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"])
        for pod in templates:
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["runAsUser"] == 10001
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
            assert pod["automountServiceAccountToken"] is False
            assert all("hostPath" not in v for v in pod["volumes"])
            for c in pod["containers"]:
                sc = c["securityContext"]
                assert sc["allowPrivilegeEscalation"] is False
                assert sc["capabilities"] == {"drop": ["ALL"]}
                assert ":" in c["image"] and not c["image"].endswith(":latest")
                mounts = {m["mountPath"] for m in c["volumeMounts"]}
                assert {"/home/app", "/tmp", "/dev/shm", "/models/cache"} <= mounts
                # The HF token is a file from an optional Secret, never a literal env value.
                assert all("TOKEN" not in e["name"] or e["name"] == "HF_TOKEN_PATH" for e in c["env"])


def test_moe_multi_gpu_replicas(catalog: Catalog) -> None:
    objs = _objects(render_files(moe_plan(), catalog, RenderOptions(autoscaler="keda")))
    pod = _pod_spec(objs["20-deployment.yaml"])
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"  # TP2 x PP1 x DP1
    assert objs["20-deployment.yaml"]["spec"]["replicas"] == 3
    assert objs["40-poddisruptionbudget.yaml"]["spec"]["maxUnavailable"] == 1
    so = objs["50-scaledobject.yaml"]["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (3, 6)
    trig = so["triggers"][0]["metadata"]
    assert trig["query"] == (
        'sum(vllm:num_requests_waiting{namespace="qwen3-5-122b-a10b",service="qwen3-5-122b-a10b"})')
    assert "50-horizontalpodautoscaler.yaml" not in objs
    # 3 replicas share the cache -> ReadWriteMany
    assert objs["10-persistentvolumeclaim.yaml"]["spec"]["accessModes"] == ["ReadWriteMany"]


def test_multinode_uses_leaderworkerset(catalog: Catalog) -> None:
    objs = _objects(render_files(multinode_plan(), catalog))
    assert "20-deployment.yaml" not in objs
    lws = objs["20-leaderworkerset.yaml"]
    assert lws["spec"]["replicas"] == 2
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    leader = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]
    worker = lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0]
    assert leader["resources"]["limits"]["nvidia.com/gpu"] == "8"  # 16 GPUs over 2 nodes
    # vLLM's own multi-node launch: the same `vllm serve` on every pod, rank 0 serving the API.
    assert leader["command"] == worker["command"] == ["vllm", "serve"]
    la, wa = leader["args"], worker["args"]
    assert la[la.index("--pipeline-parallel-size") + 1] == "2" and la[la.index("--nnodes") + 1] == "2"
    assert la[la.index("--node-rank") + 1] == "0" and "--headless" not in la
    assert wa[wa.index("--node-rank") + 1] == "$(LWS_WORKER_INDEX)" and "--headless" in wa
    assert la[la.index("--master-addr") + 1] == wa[wa.index("--master-addr") + 1] == "$(LWS_LEADER_ADDRESS)"
    assert "readinessProbe" not in worker
    assert "15-computedomain.yaml" not in objs  # A100 nodes: no multi-node NVLink
    svc = objs["30-service.yaml"]["spec"]["selector"]
    assert svc["leaderworkerset.sigs.k8s.io/worker-index"] == "0"
    hpa = objs["50-horizontalpodautoscaler.yaml"]["spec"]["scaleTargetRef"]
    assert hpa == {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
                   "name": "qwen3-5-122b-a10b"}


def test_amd_plan_gets_rocm_and_amd_gpu(catalog: Catalog) -> None:
    plan = dense_plan(gpu="mi300x", mtp_tokens=0)
    pod = _pod_spec(_objects(render_files(plan, catalog))["20-deployment.yaml"])
    c = pod["containers"][0]
    assert c["image"] == "vllm/vllm-openai-rocm:v0.33.0"
    assert pod["securityContext"]["supplementalGroups"] == [44, 106]  # video, render: /dev/kfd, /dev/dri
    assert c["resources"]["limits"]["amd.com/gpu"] == "1"
    assert "nvidia.com/gpu" not in c["resources"]["limits"]
    gpu = catalog.gpu("mi300x")
    assert pod["nodeSelector"] == {gpu.node_label_key: gpu.node_label_value}
    assert pod["tolerations"][0]["key"] == "amd.com/gpu"


def test_node_selector_override_and_names(catalog: Catalog) -> None:
    opts = RenderOptions(node_selector={"pool": "gpu-a"}, name="chat", namespace="llm")
    objs = _objects(render_files(dense_plan(), catalog, opts))
    dep = objs["20-deployment.yaml"]
    assert _pod_spec(dep)["nodeSelector"] == {"pool": "gpu-a"}
    assert (dep["metadata"]["name"], dep["metadata"]["namespace"]) == ("chat", "llm")
    with pytest.raises(RequestError, match="--name: 'Bad_Name' is not a DNS-1123 label"):
        render_files(dense_plan(), catalog, RenderOptions(name="Bad_Name"))
    with pytest.raises(RequestError, match="--node-selector key"):
        render_files(dense_plan(), catalog, RenderOptions(node_selector={"-bad": "x"}))


def test_api_plan_has_nothing_to_deploy_but_any_self_hosted_option_renders(catalog: Catalog) -> None:
    plan = solve(Request(task="chat", rps=0.01), catalog)
    assert isinstance(plan.recommended, Api)
    files = render_files(plan, catalog, extra_files={"report.html": b"<html></html>"})
    assert sorted(files) == ["README.md", "plan.json", "report.html"]
    readme = files["README.md"].decode()
    assert "nothing to deploy" in readme
    hosted = [i for i, o in enumerate(plan.options) if isinstance(o, SelfHosted)]
    assert hosted, "the plan shows self-hosted alternatives"
    for i in hosted:  # the README offers each by the number the plan's table shows
        assert f"--option {i} " in readme
    pick = plan.options[hosted[0]]
    assert isinstance(pick, SelfHosted)
    deployed = _objects(render_files(plan, catalog, RenderOptions(option=hosted[0])))["20-deployment.yaml"]
    args = _pod_spec(deployed)["containers"][0]["args"]
    assert pick.deployment.checkpoint in args and deployed["spec"]["replicas"] == pick.replicas
    apis = [i for i, o in enumerate(plan.options) if isinstance(o, Api) and i > 0]
    for i in apis:
        with pytest.raises(RequestError, match=rf"^--option: option {i} is the hosted API .*self-hosted options: "):
            render_files(plan, catalog, RenderOptions(option=i))
    with pytest.raises(RequestError, match=r"^--option: 99 is not in the plan"):
        render_files(plan, catalog, RenderOptions(option=99))


def test_launch_script_is_the_same_server(catalog: Catalog) -> None:
    files = render_files(dense_plan(), catalog)
    script = files["launch.sh"].decode()
    assert script.startswith("#!/usr/bin/env bash\n")
    last = script.strip().splitlines()[-1]
    assert last.startswith("exec vllm serve Qwen/Qwen3.5-27B-FP8 ")
    assert "'{\"method\":\"mtp\",\"num_speculative_tokens\":1}'" in last  # shell-quoted JSON
    sg = render_files(dense_plan(engine="sglang", mtp_tokens=3), catalog)["launch.sh"].decode()
    assert sg.strip().splitlines()[-1].startswith("exec python3 -m sglang.launch_server --model-path ")


def test_readme_says_what_how_and_verify(catalog: Catalog) -> None:
    readme = render_files(moe_plan(), catalog)["README.md"].decode()
    assert "helm install qwen3-5-122b-a10b ./chart --namespace qwen3-5-122b-a10b" in readme
    assert "/v1/chat/completions" in readme
    assert "TP 2 × PP 1 × DP 1, expert parallel 2 = 2 GPUs" in readme
    assert "vllm/vllm-openai:v0.33.0-cu129" in readme


def test_gb200_multinode_gets_a_compute_domain(catalog: Catalog) -> None:
    """Two GB200 trays of one NVL72 rack: an IMEX channel per pod and one NVLink clique per group."""
    objs = _objects(render_files(gb200_plan(), catalog))
    cd = objs["15-computedomain.yaml"]
    assert cd["kind"] == "ComputeDomain" and cd["spec"]["numNodes"] == 0
    template = cd["spec"]["channel"]["resourceClaimTemplate"]["name"]
    lws = objs["20-leaderworkerset.yaml"]["spec"]["leaderWorkerTemplate"]
    for side in ("leaderTemplate", "workerTemplate"):
        pod = lws[side]["spec"]
        assert pod["resourceClaims"] == [{"name": "nvlink-channel", "resourceClaimTemplateName": template}]
        assert pod["containers"][0]["resources"]["claims"] == [{"name": "nvlink-channel"}]
        term = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
        assert term["topologyKey"] == "nvidia.com/gpu.clique"
        assert term["matchLabelKeys"] == ["leaderworkerset.sigs.k8s.io/group-key"]
    deploy = render_files(gb200_plan(), catalog)["deploy/README.md"].decode()
    assert "computedomains.resource.nvidia.com" in deploy and "vllm 0.33.0" in deploy


def test_deploy_readme_lists_what_the_cluster_needs(catalog: Catalog) -> None:
    text = render_files(multinode_plan(), catalog)["deploy/README.md"].decode()
    for need in ("leaderworkersets.leaderworkerset.x-k8s.io", "ReadWriteMany", "servicemonitors.monitoring.coreos.com",
                 "GPUDirect RDMA", "R575", "--shutdown-timeout"):
        assert need in text, need
    amd = render_files(amd_plan(), catalog)["deploy/README.md"].decode()
    assert "stat -c %g /dev/kfd" in amd and "44, 106" in amd


def test_write_is_atomic_and_needs_force(catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    write_artifacts(dense_plan(), catalog, out, extra_files={"procurement/summary.md": b"# costs\n"})
    assert (out / "procurement" / "summary.md").read_bytes() == b"# costs\n"
    assert os.access(out / "launch.sh", os.X_OK)
    with pytest.raises(RequestError, match="--force"):
        write_artifacts(moe_plan(), catalog, out)
    assert "qwen3.5-27b" in (out / "plan.json").read_text()  # untouched
    # A failing render leaves the old folder in place and no temp folders behind.
    with pytest.raises(RequestError):
        write_artifacts(dense_plan(gpus_per_replica=3), catalog, out, force=True)
    assert "qwen3.5-27b" in (out / "plan.json").read_text()
    write_artifacts(moe_plan(), catalog, out, force=True)
    assert "qwen3.5-122b-a10b" in (out / "plan.json").read_text()
    assert not (out / "procurement").exists()  # replaced whole, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy"]


def test_extra_files_cannot_escape_or_overwrite(catalog: Catalog) -> None:
    with pytest.raises(RequestError, match="relative path"):
        render_files(dense_plan(), catalog, extra_files={"../x": b""})
    with pytest.raises(RequestError, match="overwrite"):
        render_files(dense_plan(), catalog, extra_files={"plan.json": b""})


def test_same_plan_same_bytes(catalog: Catalog, tmp_path: Path) -> None:
    a = write_artifacts(multinode_plan(), catalog, tmp_path / "a", kserve=False)
    b = write_artifacts(multinode_plan(), catalog, tmp_path / "b")
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_cli_render(tmp_path: Path, run_qwen_plan: Any) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(moe_plan().model_dump_json())
    out = tmp_path / "out"
    args = ["render", "--plan", str(plan_file), "--out", str(out), "--autoscaler", "keda",
            "--format", "kserve", "--node-selector", "pool=h200", "--storage-class", "nfs-rwx"]
    proc = run_qwen_plan(*args)
    assert proc.returncode == 0, proc.stderr
    assert (out / "manifests" / "50-scaledobject.yaml").is_file()
    assert (out / "kserve" / "inferenceservice.yaml").is_file()
    dep = yaml.safe_load((out / "manifests" / "20-deployment.yaml").read_text())
    assert _pod_spec(dep)["nodeSelector"] == {"pool": "h200"}
    pvc = yaml.safe_load((out / "manifests" / "10-persistentvolumeclaim.yaml").read_text())
    assert pvc["spec"]["storageClassName"] == "nfs-rwx"
    again = run_qwen_plan(*args)
    assert again.returncode == 2
    expected = f"error: --out: {out} already exists; pass --force to replace it"
    assert again.stderr.strip().splitlines() == [expected]
    assert run_qwen_plan(*args, "--force").returncode == 0
    bad = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(tmp_path / "o2"),
                        "--node-selector", "x")
    assert bad.returncode == 2 and "--node-selector: 'x' is not KEY=VALUE" in bad.stderr
