"""User overlays: good ones add or replace entries; broken ones fail with one line naming file and field."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.catalog.loader import Catalog, load_catalog
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
