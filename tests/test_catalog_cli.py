"""`qwen-plan catalog list|show|validate` output."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from planner.catalog import Catalog
from planner.errors import CatalogError

Invoke = Callable[..., Result]


def test_list_models_json(invoke: Invoke, catalog: Catalog) -> None:
    data = json.loads(invoke("catalog", "list", "models", "--format", "json").output)
    assert list(data) == ["models"]
    assert [m["id"] for m in data["models"]] == sorted(catalog.models)
    m122 = next(m for m in data["models"] if m["id"] == "qwen3.5-122b-a10b")
    assert m122["params"]["total"] == 125_086_497_008
    assert m122["architecture"]["num_experts"] == 256


def test_list_offers_yaml_has_all_offer_kinds(invoke: Invoke, catalog: Catalog) -> None:
    data = yaml.safe_load(invoke("catalog", "list", "offers", "--format", "yaml").output)
    assert sorted(data) == ["api", "cloud", "purchase", "tco"]
    assert len(data["cloud"]) == len(catalog.cloud)
    assert data["tco"]["power_usd_per_kwh"] == catalog.tco.power_usd_per_kwh


def test_list_everything_json_is_deterministic(invoke: Invoke) -> None:
    first = invoke("catalog", "list", "--format", "json").output
    assert first == invoke("catalog", "list", "--format", "json").output
    assert sorted(json.loads(first)) == [
        "api", "cloud", "gpus", "models", "precision_penalties", "purchase", "tasks", "tco",
    ]


def test_list_gpus_table(invoke: Invoke, catalog: Catalog) -> None:
    out = invoke("catalog", "list", "gpus").output
    lines = out.splitlines()
    for gpu_id in catalog.gpus:
        assert any(line.startswith(f"│ {gpu_id} ") for line in lines), gpu_id
    h100 = next(line for line in lines if line.startswith("│ h100-sxm "))
    cells = [c.strip() for c in h100.strip("│").split("│")]
    # mem, BF16, FP8 and the cheapest on-demand $/GPU-h (RunPod community, $2.69).
    assert cells[2] == "80" and cells[5] == "989" and cells[6] == "1,979" and cells[-1] == "2.69"


def test_list_tasks_table(invoke: Invoke) -> None:
    out = invoke("catalog", "list", "tasks").output
    docs = next(line for line in out.splitlines() if line.startswith("│ docs "))
    assert "OmniDocBench 1.5 0.3" in docs and "4 img × 1,310,720 px" in docs


def test_list_offers_table_marks_stale_prices(invoke: Invoke) -> None:
    out = invoke("catalog", "list", "offers").output
    row = next(line for line in out.splitlines() if line.startswith("│ h20-gpu "))
    assert "2023-11-01 ⚠ stale" in row


def test_show_gpu_json(invoke: Invoke) -> None:
    data = json.loads(invoke("catalog", "show", "h200", "--format", "json").output)
    assert data["node_label_value"] == "NVIDIA-H200"
    assert data["k8s_resource"] == "nvidia.com/gpu"
    assert data["memory_gb"] == 141


def test_show_gpu_table_lists_its_offers(invoke: Invoke) -> None:
    out = invoke("catalog", "show", "mi300x").output
    assert "│ node_label_value  │ AMD_Instinct_MI300X_OAM" in out
    assert "cloud offers" in out and "azure-nd96is-mi300x-v5" in out
    assert "purchase offers" in out and "mi300x-gpu" in out
    assert out.rstrip().endswith("gpus/amd.yaml")


def test_show_model_table(invoke: Invoke) -> None:
    out = invoke("catalog", "show", "qwen3.5-27b").output
    assert "│ architecture.num_kv_heads" in out
    assert "Qwen/Qwen3.5-27B-GPTQ-Int4" in out
    assert "API offers" in out and "openrouter-qwen3.5-27b" in out


def test_show_tco_and_penalty(invoke: Invoke, catalog: Catalog) -> None:
    assert json.loads(invoke("catalog", "show", "tco", "--format", "json").output)["pue"] == catalog.tco.pue
    assert yaml.safe_load(invoke("catalog", "show", "int4", "--format", "yaml").output)["points"] == 1.0


@pytest.mark.parametrize(
    ("name", "entry_id"),
    [("H100", "h100-sxm"), ("h100", "h100-sxm"), ("A100", "a100-80gb"), ("MI300X", "mi300x"),
     ("NVIDIA H200 SXM", "h200"), ("Qwen/Qwen3.5-27B-FP8", "qwen3.5-27b"), ("Qwen3.5-27B", "qwen3.5-27b"),
     ("qwen/qwen3.5-122b-a10b-fp8", "qwen3.5-122b-a10b"), ("AWS-P5.48XLARGE", "aws-p5.48xlarge"),
     ("Docs", "docs"), ("INT4", "int4")],
)
def test_show_accepts_what_the_lookups_accept(invoke: Invoke, catalog: Catalog, name: str, entry_id: str) -> None:
    data = json.loads(invoke("catalog", "show", name, "--format", "json").output)
    assert data.get("id", data.get("precision")) == entry_id
    if entry_id in catalog.gpus:
        assert catalog.gpu(name).id == entry_id  # same answer as the Python API


def test_show_by_alias_titles_and_relates_the_resolved_entry(invoke: Invoke) -> None:
    out = invoke("catalog", "show", "H100").output
    assert "gpus: h100-sxm" in out and "aws-p5.48xlarge" in out  # its offers, found by the real id
    assert out.rstrip().endswith("gpus/nvidia.yaml")


def test_show_unknown_id_suggests_close_matches_in_one_line(invoke: Invoke, catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as exc:
        invoke("catalog", "show", "h900")
    assert str(exc.value) == "unknown id 'h900'; did you mean h200, h100-sxm? (`qwen-plan catalog list` shows every id)"
    with pytest.raises(CatalogError) as exc:
        invoke("catalog", "show", "tpu-v5e")
    assert str(exc.value).startswith("unknown id 'tpu-v5e'; no close match")
    assert len(catalog.cloud) > 50  # the old message listed every one of them


def test_show_an_ambiguous_name_lists_the_candidates(invoke: Invoke, catalog: Catalog, tmp_path: Path) -> None:
    twin = {**catalog.gpus["h100-sxm"].model_dump(mode="json"), "id": "acme-h100"}  # keeps alias "H100"
    (tmp_path / "gpu.yaml").write_text(yaml.safe_dump({"gpus": [twin]}), encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        invoke("catalog", "show", "H100", "--catalog", str(tmp_path))
    assert str(exc.value) == "'H100' matches several entries (gpus:acme-h100, gpus:h100-sxm); give the id or --kind"
    assert "gpus: acme-h100" in invoke("catalog", "show", "acme-h100", "--catalog", str(tmp_path)).output


def test_show_with_kind_restricts_the_search(invoke: Invoke) -> None:
    with pytest.raises(CatalogError, match="unknown id 'h200'"):
        invoke("catalog", "show", "h200", "--kind", "models")


def test_validate_embedded_catalog(run_qwen_plan: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = run_qwen_plan("catalog", "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("catalog ok: 0 error(s)")
    assert "Traceback" not in result.stderr


def test_validate_standalone_dir_without_tco(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("catalog", "validate", str(tmp_path), "--standalone")
    assert result.exit_code == 2
    assert "catalog has no `tco` section" in result.output


def test_help_texts(invoke: Invoke) -> None:
    assert "list" in invoke("catalog", "--help").output
    assert "--format [table|json|yaml]" in invoke("catalog", "list", "--help").output
    assert "--catalog DIRECTORY" in invoke("catalog", "show", "--help").output
    assert "Exit 0 when there are no errors" in invoke("catalog", "validate", "--help").output
