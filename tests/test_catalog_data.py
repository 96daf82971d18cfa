"""The embedded catalog: every number sourced and dated, ids consistent, required entries present."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.catalog import Catalog, data_dir
from planner.catalog.integrity import check_references
from planner.catalog.overlay import validate_catalog
from planner.cost.staleness import stale_entries

CATALOG = data_dir("catalogs")
YAML_FILES = sorted(CATALOG.rglob("*.yaml"))
PROVENANCE = ("source", "quality_source")


def _numbers(node: Any, path: str, sourced: bool) -> Iterator[tuple[str, bool]]:
    """(path, has provenance) for every number, provenance = source + as_of here or above."""
    if isinstance(node, dict):
        here = any(k in node for k in PROVENANCE) and "as_of" in node
        for k, v in node.items():
            yield from _numbers(v, f"{path}.{k}", sourced or here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numbers(v, f"{path}[{i}]", sourced)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path, sourced


def test_the_walker_catches_an_unsourced_number() -> None:
    doc: dict[str, list[dict[str, Any]]] = {"gpus": [{"id": "x", "tflops": {"bf16": 1}, "source": "s"}]}
    assert [p for p, ok in _numbers(doc, "f", False) if not ok] == ["f.gpus[0].tflops.bf16"]
    doc["gpus"][0]["as_of"] = dt.date(2026, 1, 1)
    assert all(ok for _, ok in _numbers(doc, "f", False))


def test_catalog_has_the_expected_files() -> None:
    names = {p.relative_to(CATALOG).as_posix() for p in YAML_FILES}
    assert {
        "models/qwen3.5-27b.yaml", "models/qwen3.5-35b-a3b.yaml", "models/qwen3.5-122b-a10b.yaml",
        "models/qwen3.5-flash.yaml", "gpus/nvidia.yaml", "gpus/amd.yaml", "offers/cloud.yaml",
        "offers/purchase.yaml", "offers/api.yaml", "offers/tco.yaml", "tasks/tasks.yaml",
        "tasks/precision_penalties.yaml",
    } <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(CATALOG).as_posix())
def test_every_number_has_a_source_and_an_as_of(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    results = list(_numbers(doc, path.name, False))
    assert results, "no numbers at all: the walker is not looking at this file"
    unsourced = [p for p, ok in results if not ok]
    assert unsourced == []


def test_ids_and_references(catalog: Catalog) -> None:
    assert check_references(catalog) == []
    assert set(catalog.models) == {"qwen3.5-27b", "qwen3.5-35b-a3b", "qwen3.5-122b-a10b", "qwen3.5-flash"}
    assert {
        "a10g", "l4", "l40s", "a100-40gb", "a100-80gb", "h100-pcie", "h100-sxm", "h200", "h20", "b200",
        "b300", "gb200", "rtx-pro-6000", "mi300x", "mi325x", "mi355x",
    } <= set(catalog.gpus)
    assert set(catalog.tasks) == {"docs", "chat", "coding", "math", "agentic", "vision", "video"}
    assert {a.model for a in catalog.api.values()} == set(catalog.models)


def test_embedded_catalog_validates_clean() -> None:
    cat, report = validate_catalog(None, embedded=CATALOG)
    assert report.errors == [] and cat is not None
    # The old purchase quotes are the only stale prices at the catalog date.
    stale = sorted(w.split("(")[1].split(")")[0] for w in stale_entries(cat, dt.date(2026, 11, 29)))
    assert stale == ["a100-40gb-gpu", "a100-80gb-gpu", "h20-gpu", "mi300x-gpu"]


def test_every_task_benchmark_is_published_by_every_model(catalog: Catalog) -> None:
    for task in catalog.tasks.values():
        for model in catalog.models.values():
            published = {b.benchmark for b in model.benchmarks}
            assert {w.benchmark for w in task.quality} <= published, (task.id, model.id)


def test_flash_is_hosted_35b_with_stand_in_scores(catalog: Catalog) -> None:
    flash, twin = catalog.model("qwen3.5-flash"), catalog.model("qwen3.5-35b-a3b")
    assert not flash.open_weights and flash.hosted_twin_of == twin.id and flash.checkpoints == []
    assert all(b.stand_in_for == twin.id for b in flash.benchmarks)
    scores = {(b.benchmark, b.score) for b in flash.benchmarks}
    assert scores == {(b.benchmark, b.score) for b in twin.benchmarks}
    assert all(b.stand_in_for is None for b in twin.benchmarks)


def test_card_scores_spot_check(catalog: Catalog) -> None:
    # Values copied by hand from the model-card tables.
    score = {(m.id, b.benchmark): b.score for m in catalog.models.values() for b in m.benchmarks}
    assert score[("qwen3.5-122b-a10b", "MMLU-Pro")] == 86.7
    assert score[("qwen3.5-27b", "SWE-bench Verified")] == 72.4
    assert score[("qwen3.5-35b-a3b", "OmniDocBench 1.5")] == 89.3
    assert score[("qwen3.5-27b", "BabyVision (with CI)")] == 44.6
    assert score[("qwen3.5-27b", "BabyVision (without CI)")] == 34.8


def test_checkpoints_only_official_nvfp4(catalog: Catalog) -> None:
    nvfp4 = {m: c.repo for m in catalog.models for p, c in catalog.checkpoints_of(m).items() if p == "nvfp4"}
    assert nvfp4 == {"qwen3.5-122b-a10b": "nvidia/Qwen3.5-122B-A10B-NVFP4"}
    assert catalog.checkpoints_of("qwen3.5-27b")["int4"].repo == "Qwen/Qwen3.5-27B-GPTQ-Int4"
    # Published sizes are not marked computed; the quantised ones are.
    bf16 = catalog.checkpoints_of("qwen3.5-122b-a10b")["bf16"]
    assert bf16.disk_bytes == 250_173_250_864 and not bf16.disk_bytes_computed
    assert catalog.checkpoints_of("qwen3.5-122b-a10b")["fp8"].disk_bytes_computed


def test_published_minimums_fit_in_the_gpus_they_name(catalog: Catalog) -> None:
    for m in catalog.models.values():
        for md in m.published_minimums:
            gpu = catalog.gpu(md.gpu)
            if md.min_vram_gb is not None:
                assert gpu.memory_gb * md.count >= md.min_vram_gb, (m.id, md)
            assert md.precision in gpu.native_precisions, (m.id, md)


def test_cloud_instance_prices_are_per_instance(catalog: Catalog) -> None:
    # p5.48xlarge: 8 × H100 at $55.04/h = $6.88 per GPU-hour; 3y per GPU 2.972 → instance 23.776.
    p5 = catalog.cloud["aws-p5.48xlarge"]
    assert (p5.gpus, p5.usd_per_hour, p5.usd_per_hour_3y) == (8, 55.04, 23.776)
    assert p5.usd_per_hour_1y is None and "usd_per_hour_1y" in p5.unknown
    # Per-GPU quote × GPUs, marked derived: OCI B200 $14.00/GPU-h × 8.
    oci = catalog.cloud["oci-bm.gpu.b200.8"]
    assert oci.usd_per_hour == 112.0 and "(d)" in oci.source


def test_penalties_are_ordered_by_precision(catalog: Catalog) -> None:
    assert catalog.penalty("bf16") == 0 == catalog.penalty("fp8")
    assert 0 < catalog.penalty("nvfp4") <= catalog.penalty("int4")
