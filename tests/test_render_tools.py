"""Real tools on the rendered artifacts: helm, kubernetes-validate, checkov; golden files.

Set UPDATE_GOLDEN=1 to rewrite tests/golden/render/ after an intended change (then review the diff).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from test_render_fixtures import GOLDEN

from planner.catalog import Catalog
from planner.render import write_artifacts

TESTS = Path(__file__).resolve().parent
GOLDEN_DIR = TESTS / "golden" / "render"
SCHEMAS = TESTS / "schemas"
K8S_VERSION = "1.35.0"
CRD_SCHEMAS = {
    ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"): "leaderworkerset_v1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor_v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject_v1alpha1.json",
    ("serving.kserve.io/v1beta1", "InferenceService"): "inferenceservice_v1beta1.json",
    ("resource.nvidia.com/v1beta1", "ComputeDomain"): "computedomain_v1beta1.json",
}
# Labels that say which tool applied an object; they differ between Helm and kubectl by design.
TOOL_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("render")
    out: dict[str, Path] = {}
    for name, (factory, autoscaler) in GOLDEN.items():
        out[name] = write_artifacts(factory(), catalog, root / name, autoscaler=autoscaler,
                                    kserve=name.startswith("dense"))
    return out


def _helm() -> str:
    helm = os.environ.get("HELM_BIN") or str(TESTS.parent / ".cache" / "helm" / "helm")
    if not Path(helm).is_file():
        pytest.fail(f"helm not found at {helm}: run tests/run.sh (it installs helm and sets HELM_BIN)")
    return helm


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _manifests(out: Path) -> list[dict[str, Any]]:
    return [obj for f in sorted((out / "manifests").glob("*.yaml")) for obj in _load_all(f)]


def _strip_tool_labels(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_tool_labels(v) for k, v in obj.items()
                if not (k in TOOL_LABELS and isinstance(v, str))}
    if isinstance(obj, list):
        return [_strip_tool_labels(v) for v in obj]
    return obj


# ---------------------------------------------------------------- helm


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_helm_lint_strict(rendered: dict[str, Path], name: str) -> None:
    proc = subprocess.run([_helm(), "lint", "--strict", str(rendered[name] / "chart")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_helm_template_matches_manifests(rendered: dict[str, Path], name: str) -> None:
    out = rendered[name]
    raw = _manifests(out)
    ns = raw[0]["metadata"]["name"]
    release = next(o for o in raw if o["kind"] in ("Deployment", "LeaderWorkerSet"))["metadata"]["name"]
    proc = subprocess.run(
        [_helm(), "template", release, str(out / "chart"), "--namespace", ns,
         "--set", "namespace.create=true"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    from_helm = [d for d in yaml.safe_load_all(proc.stdout) if d]

    def key(o: dict[str, Any]) -> tuple[str, str]:
        return (o["kind"], o["metadata"]["name"])

    helm_by_key = {key(o): _strip_tool_labels(o) for o in from_helm}
    raw_by_key = {key(o): _strip_tool_labels(o) for o in raw}
    assert sorted(helm_by_key) == sorted(raw_by_key)
    for k, obj in raw_by_key.items():
        assert helm_by_key[k] == obj, f"{k} differs between helm template and manifests/"


def test_helm_values_schema_rejects_bad_values(rendered: dict[str, Path]) -> None:
    chart = rendered["dense-27b-fp8-h100"] / "chart"
    proc = subprocess.run([_helm(), "template", "x", str(chart), "--set", "image.tag=latest"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "/image/tag" in proc.stderr
    # The chart holds values to the same rules as `qwen-plan render` (issue #5).
    for setting, path in [("modelCache.storageClassName=Bad Class", "/modelCache/storageClassName"),
                          ("autoscaling.prometheusAddress=not a url", "/autoscaling/prometheusAddress")]:
        proc = subprocess.run([_helm(), "template", "x", str(chart), "--set", setting],
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and path in proc.stderr, (setting, proc.stderr)
    ok = subprocess.run([_helm(), "template", "x", str(chart), "--set", "modelCache.storageClassName=efs.sc",
                         "--set", "autoscaling.prometheusAddress=https://prom.monitoring:9091/p"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr


# ---------------------------------------------------------------- schemas


def _crd_validator(schema_file: str) -> jsonschema.protocols.Validator:
    defs_path = (Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
                 / f"v{K8S_VERSION}-local-strict" / "_definitions.json")
    definitions = json.loads(defs_path.read_text())["$defs"]
    schema = json.loads((SCHEMAS / schema_file).read_text())

    def merge(node: Any) -> None:
        if isinstance(node, dict):
            base = node.pop("x-merge-properties-from", None)
            if base:
                node["properties"] = {**copy.deepcopy(definitions[base]["properties"]), **node["properties"]}
            for v in node.values():
                merge(v)
        elif isinstance(node, list):
            for v in node:
                merge(v)

    merge(schema)
    schema["$defs"] = definitions
    return jsonschema.Draft202012Validator(schema)


def _validate(obj: dict[str, Any]) -> None:
    crd = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if crd is None:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        return
    errors = sorted(_crd_validator(crd).iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_manifest_validates_strictly(rendered: dict[str, Path], name: str) -> None:
    out = rendered[name]
    extra = sorted([*out.glob("kserve/*.yaml"), *out.glob("benchmark/*.yaml")])
    objs = _manifests(out) + [o for f in extra for o in _load_all(f)]
    assert objs
    for obj in objs:
        _validate(obj)


def test_crd_schemas_catch_mistakes(rendered: dict[str, Path]) -> None:
    """The shipped CRD schemas are strict enough to fail a typo (they are not `type: object`)."""
    objs = {o["kind"]: o for o in _manifests(rendered["multinode-122b-bf16-a100"])}
    lws = copy.deepcopy(objs["LeaderWorkerSet"])
    lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    with pytest.raises(AssertionError, match="imagePullPolicy"):
        _validate(lws)
    sm = copy.deepcopy(objs["ServiceMonitor"])
    sm["spec"]["endpoints"][0]["intervl"] = "15s"
    with pytest.raises(AssertionError, match="intervl"):
        _validate(sm)
    so = next(o for o in _manifests(rendered["moe-122b-fp8-h200-ep"]) if o["kind"] == "ScaledObject")
    so = copy.deepcopy(so)
    del so["spec"]["triggers"][0]["type"]
    with pytest.raises(AssertionError, match="type"):
        _validate(so)


# ---------------------------------------------------------------- checkov


def _pods_as_deployments(out: Path, dest: Path) -> None:
    """checkov has no LeaderWorkerSet checks: give it each LWS pod template as a Deployment."""
    for obj in _manifests(out):
        if obj["kind"] != "LeaderWorkerSet":
            continue
        tmpl = obj["spec"]["leaderWorkerTemplate"]
        for role in ("leaderTemplate", "workerTemplate"):
            dep = {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": f"{obj['metadata']['name']}-{role.lower()}",
                             "namespace": obj["metadata"]["namespace"]},
                "spec": {"selector": {"matchLabels": tmpl[role]["metadata"]["labels"]},
                         "template": tmpl[role]},
            }
            (dest / f"lws-{role}.yaml").write_text(yaml.safe_dump(dep))


def _run_checkov(root: Path) -> dict[str, Any]:
    checkov = shutil.which("checkov", path=str(Path(sys.executable).parent)) or "checkov"
    cmd = [checkov, "-d", str(root), "--framework", "kubernetes", "-o", "json", "--quiet", "--compact"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    return report  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def checkov_report(rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One checkov run over every golden output (manifests, KServe, LWS pod templates)."""
    root = tmp_path_factory.mktemp("checkov")
    for name, out in rendered.items():
        dest = root / name
        shutil.copytree(out / "manifests", dest)
        if (out / "kserve").is_dir():
            shutil.copytree(out / "kserve", dest / "kserve")
        shutil.copytree(out / "benchmark", dest / "benchmark")  # the benchmark Jobs (issue 10)
        _pods_as_deployments(out, dest)
    return _run_checkov(root)


def test_checkov_fails_only_listed_exceptions(checkov_report: dict[str, Any]) -> None:
    exceptions = yaml.safe_load((TESTS / "checkov-skips.yaml").read_text())
    assert all(len(e["reason"]) > 40 for e in exceptions.values()), "each exception needs its reason"
    assert checkov_report["summary"]["passed"] > 100  # it really ran the Kubernetes checks

    def excused(f: dict[str, Any]) -> bool:
        e = exceptions.get(f["check_id"])
        return e is not None and (e.get("only") is None or e["only"] in f["resource"])

    unexcused = [(f["check_id"], f["file_path"], f["resource"])
                 for f in checkov_report["results"]["failed_checks"] if not excused(f)]
    assert not unexcused
    # No stale exception: each listed one still fails somewhere.
    assert {f["check_id"] for f in checkov_report["results"]["failed_checks"]} == set(exceptions)


# ---------------------------------------------------------------- golden


def _golden_view(out: Path) -> dict[str, Any]:
    view: dict[str, Any] = {f"manifests/{p.name}": yaml.safe_load(p.read_text())
                            for p in sorted((out / "manifests").glob("*.yaml"))}
    view["chart/values.yaml"] = yaml.safe_load((out / "chart" / "values.yaml").read_text())
    return view


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(rendered: dict[str, Path], name: str) -> None:
    out = rendered[name]
    golden = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        (golden / "manifests").mkdir(parents=True)
        (golden / "chart").mkdir()
        for rel in _golden_view(out):
            shutil.copy(out / rel, golden / rel)
    assert _golden_view(out) == _golden_view(golden)
