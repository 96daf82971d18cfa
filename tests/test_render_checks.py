"""QA defects (issue #5): launch.sh expansion, model-cache access mode, option and plan.json checks."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_render_fixtures import dense_plan, moe_plan, multinode_plan

from planner.catalog import Catalog
from planner.errors import RequestError
from planner.plan import Plan
from planner.render import RenderOptions, render_files
from planner.render.shell import shell_join

# ---------------------------------------------------------------- launch.sh


def _echo_stub(bin_dir: Path, name: str, log: Path) -> None:
    """A fake executable that appends its name and argv, one per line, to `log`."""
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / name
    exe.write_text(f'#!/bin/sh\n{{ echo "== {name}"; for a in "$@"; do echo "$a"; done; }} >> "{log}"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def _run_launch(plan: Plan, catalog: Catalog, tmp_path: Path, stubs: list[str],
                env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    script = tmp_path / "launch.sh"
    script.write_bytes(render_files(plan, catalog)["launch.sh"])
    log = tmp_path / "argv.log"
    for name in stubs:
        _echo_stub(tmp_path / "bin", name, log)
    base = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(["bash", str(script)], env={**base, **env}, capture_output=True, text=True,
                          timeout=30, check=False)
    return proc, log.read_text().splitlines() if log.exists() else []


def _flag(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_sglang_multinode_launch_expands_rank_and_leader(catalog: Catalog, tmp_path: Path) -> None:
    plan = multinode_plan(engine="sglang")
    proc, argv = _run_launch(plan, catalog, tmp_path, ["python3"],
                             {"NODE_RANK": "1", "LEADER_ADDRESS": "10.0.0.7"})
    assert proc.returncode == 0, proc.stderr
    assert argv[:4] == ["== python3", "-m", "sglang.launch_server", "--model-path"]
    assert _flag(argv, "--nnodes") == "2"
    assert _flag(argv, "--node-rank") == "1"
    assert _flag(argv, "--dist-init-addr") == "10.0.0.7:20000"
    # Everything else still arrives as one literal word each.
    assert _flag(argv, "--served-model-name") == "qwen3.5-122b-a10b"


def test_sglang_multinode_launch_refuses_unset_rank(catalog: Catalog, tmp_path: Path) -> None:
    proc, argv = _run_launch(multinode_plan(engine="sglang"), catalog, tmp_path, ["python3"],
                             {"LEADER_ADDRESS": "10.0.0.7"})
    assert proc.returncode != 0 and "set NODE_RANK" in proc.stderr
    assert argv == []


def test_vllm_multinode_launch_rank0_serves_others_headless(catalog: Catalog, tmp_path: Path) -> None:
    for rank, headless in (("0", False), ("1", True)):
        (tmp_path / rank).mkdir()
        proc, argv = _run_launch(multinode_plan(), catalog, tmp_path / rank, ["vllm"],
                                 {"NODE_RANK": rank, "LEADER_ADDRESS": "10.0.0.7"})
        assert proc.returncode == 0, proc.stderr
        assert argv[:3] == ["== vllm", "serve", "Qwen/Qwen3.5-122B-A10B"]
        assert _flag(argv, "--node-rank") == rank and _flag(argv, "--master-addr") == "10.0.0.7"
        assert _flag(argv, "--pipeline-parallel-size") == "2" and _flag(argv, "--nnodes") == "2"
        assert ("--headless" in argv) is headless
        assert not any("$" in a for a in argv)


def test_single_node_launch_keeps_json_literal(catalog: Catalog, tmp_path: Path) -> None:
    proc, argv = _run_launch(dense_plan(), catalog, tmp_path, ["vllm"], {})
    assert proc.returncode == 0, proc.stderr
    assert _flag(argv, "--speculative-config") == '{"method":"mtp","num_speculative_tokens":1}'


def test_shell_join_expands_only_the_rank_variables(tmp_path: Path) -> None:
    args = ["$NODE_RANK", "${LEADER_ADDRESS}:20000", 'a "q" `x` \\ $HOME $NODE_RANK', "$NODE_RANKS", "it's"]
    line = shell_join(args)
    out = subprocess.run(["bash", "-c", f'printf "%s\\n" {line}'], capture_output=True, text=True,
                         env={"NODE_RANK": "3", "LEADER_ADDRESS": "h", "HOME": "/h", "NODE_RANKS": "no"},
                         check=True).stdout.splitlines()
    assert out == ["3", "h:20000", 'a "q" `x` \\ $HOME 3', "$NODE_RANKS", "it's"]


# ---------------------------------------------------------------- model cache access mode


def _pvc(plan: Plan, catalog: Catalog, **opts: Any) -> tuple[list[str], str]:
    files = render_files(plan, catalog, RenderOptions(**opts))
    pvc = yaml.safe_load(files["manifests/10-persistentvolumeclaim.yaml"])
    values = yaml.safe_load(files["chart/values.yaml"])
    assert values["modelCache"]["accessMode"] == pvc["spec"]["accessModes"][0]
    return pvc["spec"]["accessModes"], files["README.md"].decode()


def test_cache_is_rwx_when_the_autoscaler_can_add_a_pod(catalog: Catalog) -> None:
    # 1 replica, HPA/KEDA max = 1 x 2 = 2 pods, likely on two nodes: RWO would Multi-Attach.
    for scaler in ("hpa", "keda"):
        modes, readme = _pvc(dense_plan(), catalog, autoscaler=scaler)
        assert modes == ["ReadWriteMany"]
        assert "Up to 2 pods (2 replica(s) × 1 pod(s), the autoscaler's maximum)" in readme
        assert "`--autoscaler none`" in readme
    modes, readme = _pvc(dense_plan(), catalog, autoscaler="none")
    assert modes == ["ReadWriteOnce"]
    assert "ReadWriteMany" not in readme


def test_cache_is_rwx_for_several_replicas_or_nodes_even_without_autoscaler(catalog: Catalog) -> None:
    assert _pvc(moe_plan(), catalog, autoscaler="none")[0] == ["ReadWriteMany"]  # 3 replicas
    one_group = multinode_plan(replicas=1)
    modes, readme = _pvc(one_group, catalog, autoscaler="none")
    assert modes == ["ReadWriteMany"]  # leader + worker pod on two nodes
    assert "Up to 2 pods (1 replica(s) × 2 pod(s))" in readme
    modes, readme = _pvc(multinode_plan(), catalog, storage_class="cephfs")
    assert "Up to 8 pods (4 replica(s) × 2 pod(s), the autoscaler's maximum)" in readme
    assert "StorageClass `cephfs`" in readme


# ---------------------------------------------------------------- render options


@pytest.mark.parametrize("bad", ["Bad Class", "UPPER", "-lead", "trail.", "a..b", "x" * 254, "", "nfs\n"])
def test_storage_class_must_be_dns1123_subdomain(catalog: Catalog, bad: str) -> None:
    with pytest.raises(RequestError, match=r"^--storage-class: .* is not a DNS-1123 subdomain"):
        render_files(dense_plan(), catalog, RenderOptions(storage_class=bad))


def test_names_with_a_trailing_newline_are_refused(catalog: Catalog) -> None:
    # `$` in a Python regex matches before a final newline; the checks must not.
    with pytest.raises(RequestError, match=r"^--name: 'chat\\n' is not a DNS-1123 label"):
        render_files(dense_plan(), catalog, RenderOptions(name="chat\n"))
    with pytest.raises(RequestError, match=r"^--node-selector value"):
        render_files(dense_plan(), catalog, RenderOptions(node_selector={"pool": "a\n"}))


def test_storage_class_accepts_dotted_names(catalog: Catalog) -> None:
    files = render_files(dense_plan(), catalog, RenderOptions(storage_class="efs.csi.aws-1"))
    pvc = yaml.safe_load(files["manifests/10-persistentvolumeclaim.yaml"])
    assert pvc["spec"]["storageClassName"] == "efs.csi.aws-1"


@pytest.mark.parametrize("bad", ["not a url", "prometheus:9090", "ftp://p:9090", "http://", "http://p:99999",
                                 "http://p:9090/ x"])
def test_prometheus_must_be_http_url(catalog: Catalog, bad: str) -> None:
    with pytest.raises(RequestError, match=r"^--prometheus: .* is not an http\(s\) URL"):
        render_files(dense_plan(), catalog, RenderOptions(autoscaler="keda", prometheus_address=bad))


def test_prometheus_reaches_keda_and_is_refused_without_it(catalog: Catalog) -> None:
    url = "https://prom.monitoring.svc:9091/prefix"
    files = render_files(dense_plan(), catalog, RenderOptions(autoscaler="keda", prometheus_address=url))
    so = yaml.safe_load(files["manifests/50-scaledobject.yaml"])
    assert so["spec"]["triggers"][0]["metadata"]["serverAddress"] == url
    for scaler in ("hpa", "none"):
        with pytest.raises(RequestError, match=rf"^--prometheus: .* --autoscaler {scaler} would ignore it"):
            render_files(dense_plan(), catalog, RenderOptions(autoscaler=scaler, prometheus_address=url))


def test_cli_option_errors_are_one_line(tmp_path: Path, run_qwen_plan: Any) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(dense_plan().model_dump_json())
    cases = [
        (["--storage-class", "Bad Class"], "error: --storage-class: 'Bad Class' is not a DNS-1123 subdomain"),
        (["--autoscaler", "keda", "--prometheus", "not a url"], "error: --prometheus: 'not a url' is not"),
        (["--prometheus", "http://prom:9090"], "error: --prometheus: only the KEDA trigger queries Prometheus"),
    ]
    for extra, start in cases:
        out = tmp_path / "o"
        proc = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(out), *extra)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(start), proc.stderr
        assert not out.exists()


# ---------------------------------------------------------------- plan.json against the catalog


@pytest.mark.parametrize(("overrides", "message"), [
    ({"model": "qwen9-1t"}, r"^deployment\.model: 'qwen9-1t' is not in the catalog; accepted: .*qwen3\.5-27b"),
    ({"model": "qwen3.5-flash"}, r"^deployment\.model: qwen3\.5-flash is hosted only"),
    ({"gpu": "tpu-v5"}, r"^deployment\.gpu: 'tpu-v5' is not in the catalog; accepted: .*h100-sxm"),
    ({"checkpoint": "someone/Qwen3.5-27B-AWQ"},
     r"^deployment\.checkpoint: 'someone/Qwen3\.5-27B-AWQ' is not a qwen3\.5-27b checkpoint; "
     r"accepted: Qwen/Qwen3\.5-27B, Qwen/Qwen3\.5-27B-FP8, Qwen/Qwen3\.5-27B-GPTQ-Int4"),
    ({"checkpoint": "Qwen/Qwen3.5-122B-A10B-FP8"}, r"^deployment\.checkpoint: .* is not a qwen3\.5-27b checkpoint"),
    ({"precision": "bf16"},
     r"^deployment\.precision: bf16 does not match checkpoint Qwen/Qwen3\.5-27B-FP8 \(fp8\); accepted: fp8"),
    ({"tp": 2}, r"^deployment\.gpus_per_replica: 1 != tp×pp×dp = 2×1×1"),
])
def test_plan_must_agree_with_catalog(catalog: Catalog, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestError, match=message):
        render_files(dense_plan(**overrides), catalog)


def test_precision_must_run_natively_on_the_gpu(catalog: Catalog) -> None:
    # The QA case: an NVFP4 deployment on L40S (Ada has no FP4 tensor cores), with a GPTQ-Int4 repo.
    nvfp4 = moe_plan(precision="nvfp4", checkpoint="nvidia/Qwen3.5-122B-A10B-NVFP4", gpu="l40s", tp=4, ep=4,
                     gpus_per_replica=4)
    native = ", ".join(catalog.gpu("l40s").native_precisions)
    with pytest.raises(RequestError, match=rf"^deployment\.precision: nvfp4 does not run natively on l40s; "
                                           rf"accepted: {native}$"):
        render_files(nvfp4, catalog)
    mislabelled = moe_plan(precision="nvfp4", checkpoint="Qwen/Qwen3.5-122B-A10B-GPTQ-Int4", gpu="l40s", tp=4,
                           ep=4, gpus_per_replica=4)
    with pytest.raises(RequestError, match=r"^deployment\.precision: nvfp4 does not match checkpoint "
                                           r"Qwen/Qwen3\.5-122B-A10B-GPTQ-Int4 \(int4\); accepted: int4$"):
        render_files(mislabelled, catalog)
    # The same shape with its matching checkpoint and a native precision renders.
    ok = moe_plan(precision="int4", checkpoint="Qwen/Qwen3.5-122B-A10B-GPTQ-Int4", gpu="l40s", tp=4, ep=4,
                  gpus_per_replica=4)
    assert "manifests/20-deployment.yaml" in render_files(ok, catalog)


def test_cli_bad_plan_is_one_line(tmp_path: Path, run_qwen_plan: Any) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(dense_plan(precision="nvfp4", gpu="l40s").model_dump_json())
    proc = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: deployment.precision: nvfp4 does not match checkpoint Qwen/Qwen3.5-27B-FP8 (fp8); accepted: fp8"]
    assert not (tmp_path / "o").exists()
    assert os.listdir(tmp_path) == ["plan.json"]
