"""User overlays: good ones add or replace entries; broken ones fail with one line naming file and field."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from planner.catalog import Catalog, load_catalog
from planner.errors import CatalogError

RunQwenPlan = Callable[..., subprocess.CompletedProcess[str]]

GPU = """\
gpus:
  - id: {id}
    name: Private accelerator
    vendor: nvidia
    family: hopper
    memory_gb: {memory}
    memory_gib_usable: 80
    bandwidth_tb_s: 3.35
    tflops: {{bf16: 989, fp8: 1979}}
    native_precisions: [bf16, fp8, int4]
    interconnect: nvlink
    interconnect_gb_s: 900
    gpus_per_node: 8
    nvlink_domain: 8
    tdp_w: 700
    year: 2024
    k8s_resource: nvidia.com/gpu
    node_label_key: nvidia.com/gpu.product
    node_label_value: NVIDIA-H100-80GB-HBM3
    source: our datasheet
    as_of: 2026-11-01
"""

OFFER = """\
cloud:
  - id: {id}
    provider: acme
    instance_type: acme-8x
    gpu: {gpu}
    gpus: 8
    region: eu-west
    usd_per_hour: {price}
    usd_per_hour_1y: null
    usd_per_hour_3y: null
    source: contract 2026-11
    as_of: {as_of}
    unknown: {{usd_per_hour_1y: no commitment, usd_per_hour_3y: no commitment}}
"""


def _overlay(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "overlay"
    root.mkdir()
    for name, text in files.items():
        (root / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def _error(overlay: Path) -> str:
    with pytest.raises(CatalogError) as exc:
        load_catalog(overlay)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_private_gpu_cloud_and_negotiated_price(tmp_path: Path) -> None:
    negotiated = OFFER.format(id="aws-p5.48xlarge", gpu="h100-sxm", price=30.0, as_of="2026-11-01")
    private = GPU.format(id="acme-h100", memory=80) + OFFER.format(
        id="acme-8x", gpu="acme-h100", price=20.0, as_of="2026-11-01"
    )
    cat = load_catalog(_overlay(tmp_path, negotiated=negotiated, private=private))
    assert cat.cloud["aws-p5.48xlarge"].usd_per_hour == 30.0  # replaced, not duplicated
    assert cat.cloud["aws-p5.48xlarge"].provider == "acme"
    assert [o.id for o in cat.offers_for("acme-h100")] == ["acme-8x"]
    assert cat.origin[("gpus", "acme-h100")].name == "private.yaml"
    assert len(cat.gpus) == len(load_catalog().gpus) + 1


def test_overlay_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = _overlay(tmp_path, gpu=GPU.format(id="acme-h100", memory=80))
    monkeypatch.setenv("QWEN_PLAN_CATALOG", str(overlay))
    assert "acme-h100" in load_catalog().gpus


def test_partial_tco_override_keeps_other_defaults(tmp_path: Path) -> None:
    tco = "tco:\n  power_usd_per_kwh: 0.15\n  source: our utility bill\n  as_of: 2026-10-01\n"
    overlay = _overlay(tmp_path, tco=tco)
    cat, base = load_catalog(overlay), load_catalog()
    assert cat.tco.power_usd_per_kwh == 0.15 and cat.tco.pue == base.tco.pue
    assert cat.tco.source == "our utility bill"


def test_partial_tco_override_needs_a_source(tmp_path: Path) -> None:
    message = _error(_overlay(tmp_path, tco="tco:\n  pue: 1.1\n"))
    assert message.endswith("tco.yaml: tco.source: required when an overlay changes tco")


def test_bad_yaml(tmp_path: Path) -> None:
    message = _error(_overlay(tmp_path, broken="gpus:\n  - id: x\n    name: [unclosed\n"))
    assert "broken.yaml" in message and "invalid YAML" in message and "line" in message


def test_unknown_field(tmp_path: Path) -> None:
    text = GPU.format(id="acme-h100", memory=80).replace("memory_gb:", "memroy_gb:")
    message = _error(_overlay(tmp_path, gpu=text))
    assert message.endswith(
        "gpu.yaml: gpus[0] (acme-h100).memroy_gb: Extra inputs are not permitted; did you mean 'memory_gb'?"
    )


def test_unknown_nested_field(tmp_path: Path) -> None:
    text = GPU.format(id="acme-h100", memory=80).replace("fp8: 1979", "fp16: 1979")
    message = _error(_overlay(tmp_path, gpu=text))
    assert message.endswith(
        "gpus[0] (acme-h100).tflops.fp16: Extra inputs are not permitted; did you mean 'bf16'?"
    )


def test_wrong_type(tmp_path: Path) -> None:
    message = _error(_overlay(tmp_path, gpu=GPU.format(id="acme-h100", memory="lots")))
    assert "gpu.yaml: gpus[0] (acme-h100).memory_gb:" in message and "'lots'" in message


def test_dangling_gpu_id(tmp_path: Path) -> None:
    offer = OFFER.format(id="acme-8x", gpu="h900", price=20.0, as_of="2026-11-01")
    message = _error(_overlay(tmp_path, offer=offer))
    assert message.endswith("offer.yaml: cloud (acme-8x).gpu: unknown gpu 'h900'")


def test_negative_price(tmp_path: Path) -> None:
    offer = OFFER.format(id="acme-8x", gpu="h100-sxm", price=-3.0, as_of="2026-11-01")
    message = _error(_overlay(tmp_path, offer=offer))
    assert "offer.yaml: cloud[0] (acme-8x).usd_per_hour: Input should be greater than 0 (got -3.0)" in message


def test_duplicate_id_within_the_overlay(tmp_path: Path) -> None:
    one = OFFER.format(id="acme-8x", gpu="h100-sxm", price=20.0, as_of="2026-11-01")
    message = _error(_overlay(tmp_path, a=one, b=one))
    assert "b.yaml: cloud[0].id: duplicate id 'acme-8x'" in message and "a.yaml" in message


def test_null_number_needs_a_reason(tmp_path: Path) -> None:
    offer = OFFER.format(id="acme-8x", gpu="h100-sxm", price=20.0, as_of="2026-11-01").replace(
        "    unknown: {usd_per_hour_1y: no commitment, usd_per_hour_3y: no commitment}\n", ""
    )
    message = _error(_overlay(tmp_path, offer=offer))
    assert "usd_per_hour_1y is null: add `unknown: {usd_per_hour_1y: <reason>}`" in message


def test_cli_reports_a_broken_overlay_in_one_line(tmp_path: Path, run_qwen_plan: RunQwenPlan) -> None:
    offer = OFFER.format(id="acme-8x", gpu="h100-sxm", price=-3.0, as_of="2026-11-01")
    overlay = _overlay(tmp_path, offer=offer)
    result = run_qwen_plan("catalog", "list", "gpus", "--catalog", str(overlay))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "offer.yaml" in lines[0]
    assert "usd_per_hour" in lines[0]


def test_validate_lists_every_error(tmp_path: Path, run_qwen_plan: RunQwenPlan) -> None:
    overlay = _overlay(
        tmp_path,
        broken="gpus: [\n",
        gpu=GPU.format(id="acme-h100", memory=0),
        offer=OFFER.format(id="acme-8x", gpu="h900", price=20.0, as_of="2026-11-01"),
    )
    result = run_qwen_plan("catalog", "validate", str(overlay))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3
    assert any("broken.yaml" in e and "invalid YAML" in e for e in errors)
    assert any("gpu.yaml: gpus[0] (acme-h100).memory_gb: Input should be greater than 0" in e for e in errors)
    assert any("offer.yaml: cloud (acme-8x).gpu: unknown gpu 'h900'" in e for e in errors)
    assert "catalog invalid: 3 error(s)" in result.stderr


def test_validate_flags_stale_prices_but_passes(tmp_path: Path, run_qwen_plan: RunQwenPlan) -> None:
    old = OFFER.format(id="acme-8x", gpu="h100-sxm", price=20.0, as_of="2024-01-01")
    overlay = _overlay(tmp_path, offer=old)
    result = run_qwen_plan("catalog", "validate", str(overlay))
    assert result.returncode == 0, result.stderr
    assert any("cloud (acme-8x): price as_of 2024-01-01" in line for line in result.stderr.splitlines())
    assert result.stdout.startswith("catalog ok: 0 error(s)")


def test_the_overlay_examples_in_the_docs_load(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "catalog.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    cat = load_catalog(_overlay(tmp_path, negotiated=blocks[0], private=blocks[1]))
    assert cat.cloud["aws-p5.48xlarge"].usd_per_hour == 38.5
    assert [o.id for o in cat.offers_for("acme-h200-nvl")] == ["acme-h200-nvl-4x"]
    assert cat.tco.power_usd_per_kwh == 0.14


def test_lookups_accept_names_aliases_and_repo_ids(catalog: Catalog) -> None:
    assert catalog.gpu("H100").id == "h100-sxm"
    assert catalog.gpu("mi300x").id == "mi300x"
    assert catalog.gpu("NVIDIA H200 SXM").id == "h200"
    assert catalog.model("Qwen/Qwen3.5-27B-FP8").id == "qwen3.5-27b"
    assert catalog.model("Qwen3.5-122B-A10B").id == "qwen3.5-122b-a10b"
    with pytest.raises(CatalogError, match="unknown gpu 'tpu-v5'"):
        catalog.gpu("tpu-v5")


# ---------------------------------------------------------------- QA pass (issue #2)


def _gpu(**fields: str) -> str:
    """The GPU template with some fields replaced (values as YAML text)."""
    text = GPU.format(id="acme-h100", memory=141)
    for name, value in fields.items():
        text = re.sub(rf"(?m)^    {name}: .*$", f"    {name}: {value}", text)
    return text


NON_FINITE = [
    ("offer", OFFER.format(id="acme-8x", gpu="h100-sxm", price=".inf", as_of="2026-11-01"),
     "offer.yaml: cloud[0] (acme-8x).usd_per_hour: Input should be a finite number (got inf)"),
    ("gpu", _gpu(bandwidth_tb_s=".inf"),
     "gpu.yaml: gpus[0] (acme-h100).bandwidth_tb_s: Input should be a finite number (got inf)"),
    ("gpu", _gpu(tflops="{bf16: 989, fp8: .nan}"),
     "gpu.yaml: gpus[0] (acme-h100).tflops.fp8: Input should be a finite number (got nan)"),
    ("tco", "tco:\n  pue: -.inf\n  source: our bill\n  as_of: 2026-10-01\n",
     "tco.yaml: tco.pue: Input should be a finite number (got -inf)"),
]


@pytest.mark.parametrize(("name", "text", "expected"), NON_FINITE, ids=["price", "bandwidth", "tflops", "tco"])
def test_non_finite_numbers_are_rejected(tmp_path: Path, name: str, text: str, expected: str) -> None:
    assert _error(_overlay(tmp_path, **{name: text})).endswith(expected)


def _float_leaves(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _float_leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _float_leaves(v, (*path, i))]
    return [path] if isinstance(node, float) else []


def _replaced(node: Any, path: tuple[str | int, ...], value: float) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _replaced(node[head], rest, value)}
    return [_replaced(v, rest, value) if i == head else v for i, v in enumerate(node)]


def test_every_float_field_of_every_section_rejects_inf_and_nan(catalog: Catalog) -> None:
    samples: list[BaseModel] = [
        *(next(iter(getattr(catalog, attr).values()))
          for attr in ("models", "gpus", "cloud", "purchase", "api", "tasks", "penalties")),
        catalog.tco,
    ]
    checked = 0
    for entry in samples:
        data = entry.model_dump()
        for path in _float_leaves(data):
            for bad in (math.inf, math.nan):
                with pytest.raises(ValidationError) as exc:
                    type(entry).model_validate(_replaced(data, path, bad))
                assert [e["type"] for e in exc.value.errors()] == ["finite_number"], path
            checked += 1
    assert checked > 30  # bandwidth, memory, TFLOPS, prices, TCO factors, scores, weights...


def test_usable_memory_cannot_exceed_the_nameplate(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    message = _error(_overlay(tmp_path / "bad", gpu=_gpu(memory_gib_usable="900")))
    assert message.endswith(
        "gpu.yaml: gpus[0] (acme-h100).memory_gib_usable: exceeds the nameplate memory_gb (141); "
        "give what the driver reports, at most the nameplate number (got 900)"
    )
    # Equal is fine (HBM stacks are GiB-sized: H200 141 GB reports 141 GiB).
    assert load_catalog(_overlay(tmp_path, gpu=_gpu(memory_gib_usable="141"))).gpus["acme-h100"]


def test_embedded_gpus_report_at_most_their_nameplate(catalog: Catalog) -> None:
    # The rule above is only safe because every real entry satisfies it; H200 sits exactly on it.
    assert all(g.memory_gib_usable <= g.memory_gb for g in catalog.gpus.values())
    assert catalog.gpus["h200"].memory_gib_usable == catalog.gpus["h200"].memory_gb == 141


K8S_NAMES = [
    ("k8s_resource", '"not a resource"', "not an extended resource name <domain>/<name> like nvidia.com/gpu: no '/'"),
    ("k8s_resource", "NVIDIA.com/gpu", "domain 'NVIDIA.com' is not a DNS subdomain"),
    ("k8s_resource", "kubernetes.io/gpu", "extended resources must use a domain outside kubernetes.io"),
    ("node_label_key", '"nvidia.com/gpu product"', "not a label key [<domain>/]<name>: name 'gpu product' is not"),
    ("node_label_value", '"NVIDIA H100"', "not a label value: must be 1-63 characters of [A-Za-z0-9-_.]"),
    ("node_label_value", '""', "not a label value: must be 1-63 characters"),
]


@pytest.mark.parametrize(("field", "value", "expected"), K8S_NAMES)
def test_kubernetes_names_are_checked_at_load(tmp_path: Path, field: str, value: str, expected: str) -> None:
    message = _error(_overlay(tmp_path, gpu=_gpu(**{field: value})))
    assert f"gpu.yaml: gpus[0] (acme-h100).{field}: " in message and expected in message


def test_valid_kubernetes_names_pass(tmp_path: Path) -> None:
    text = _gpu(k8s_resource="amd.com/gpu", node_label_key="gpu-type", node_label_value="MI300X_OAM.v2")
    assert load_catalog(_overlay(tmp_path, gpu=text)).gpus["acme-h100"].k8s_resource == "amd.com/gpu"


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path)
    (overlay / "blob.yaml").write_bytes(b"gpus:\n  - id: \xff\xfe\n")
    message = _error(overlay)
    assert message.endswith("blob.yaml: not UTF-8 text (byte 14: b'\\xff'); catalog files must be UTF-8 YAML")


def test_control_characters_give_one_line(tmp_path: Path) -> None:
    message = _error(_overlay(tmp_path, ctl="gpus:\n  - id: x\x00\n"))
    assert message.endswith("ctl.yaml: invalid YAML (position 15: control characters are not allowed)")


def test_a_file_instead_of_a_folder(tmp_path: Path) -> None:
    file = tmp_path / "offer.yaml"
    file.write_text(OFFER.format(id="acme-8x", gpu="h100-sxm", price=20.0, as_of="2026-11-01"), encoding="utf-8")
    assert _error(file).endswith(f"{file}: is a file; the catalog must be a folder of YAML files")


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    offer = OFFER.format(id="acme-8x", gpu="h100-sxm", price=20.0, as_of="2026-11-01")
    offer = offer.replace("    usd_per_hour: 20.0\n", "    usd_per_hour: 20.0\n    usd_per_hour: 2.0\n")
    message = _error(_overlay(tmp_path, offer=offer))
    # usd_per_hour is line 8 of the template; the repeat is line 9.
    assert message.endswith("offer.yaml: line 9 invalid YAML (duplicate key 'usd_per_hour', first on line 8)")


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    # `<<: *base` then a key is YAML's own override syntax, not a duplicate.
    text = GPU.format(id="acme-h100", memory=80).replace("  - id: acme-h100\n", "  - &base\n    id: acme-h100\n")
    text += "  - <<: *base\n    id: acme-h100-b\n    memory_gib_usable: 79\n"
    cat = load_catalog(_overlay(tmp_path, gpu=text))
    assert cat.gpus["acme-h100-b"].memory_gib_usable == 79 and cat.gpus["acme-h100-b"].tdp_w == 700


def test_cli_reports_each_new_defect_in_one_line(tmp_path: Path, run_qwen_plan: RunQwenPlan) -> None:
    dup = OFFER.format(id="acme-8x", gpu="h100-sxm", price=20.0, as_of="2026-11-01").replace(
        "    gpus: 8\n", "    gpus: 8\n    gpus: 4\n")
    overlay = _overlay(
        tmp_path,
        inf=OFFER.format(id="acme-inf", gpu="h100-sxm", price=".inf", as_of="2026-11-01"),
        mem=_gpu(memory_gib_usable="900"),
        k8s=_gpu(k8s_resource='"not a resource"').replace("acme-h100", "acme-k8s"),
        dup=dup,
    )
    (overlay / "blob.yaml").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = run_qwen_plan("catalog", "validate", str(overlay))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = sorted(line for line in result.stderr.splitlines() if line.startswith("error: "))
    expected = [
        "blob.yaml: not UTF-8 text",
        "dup.yaml: line 7 invalid YAML (duplicate key 'gpus'",
        "inf.yaml: cloud[0] (acme-inf).usd_per_hour: Input should be a finite number",
        "k8s.yaml: gpus[0] (acme-k8s).k8s_resource: not an extended resource name",
        "mem.yaml: gpus[0] (acme-h100).memory_gib_usable: exceeds the nameplate",
    ]
    assert len(errors) == len(expected)
    for line, part in zip(errors, expected, strict=True):
        assert part in line, (line, part)

    # Any other command stops at the first problem, also in one line (the binary file sorts first).
    listed = run_qwen_plan("catalog", "list", "gpus", "--catalog", str(overlay))
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert listed.stderr.strip().splitlines() == [f"error: {overlay / 'blob.yaml'}: not UTF-8 text (byte 0: "
                                                  "b'\\x89'); catalog files must be UTF-8 YAML"]

    as_file = run_qwen_plan("catalog", "validate", str(overlay / "inf.yaml"))
    assert as_file.returncode == 2 and "Traceback" not in as_file.stderr
    assert as_file.stderr.strip().splitlines() == [
        f"error: catalog validate: {overlay / 'inf.yaml'}: is a file; DIR must be a folder of catalog YAML files"
    ]
