"""The pre-validated catalog snapshot (planner/catalog/snapshot.py) and the wheel that ships it.

The snapshot must give exactly what parsing the YAML gives, be used only when built from exactly
those files, and the wheel built by `pip install .` must carry one that its own install accepts.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from planner.catalog import data_dir, load_catalog, overlay, snapshot, yaml_io
from planner.catalog.lookup import Catalog

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("models", "gpus", "cloud", "purchase", "api", "tasks", "penalties")


def _copy_catalog(dest: Path) -> Path:
    root = dest / "catalogs"
    shutil.copytree(data_dir("catalogs"), root)
    return root


def _write_snapshot(root: Path) -> None:
    snapshot.location(root).write_bytes(overlay.embedded_snapshot(root))


def _same(a: Catalog, b: Catalog, root_a: Path, root_b: Path) -> None:
    for section in SECTIONS:
        assert getattr(a, section) == getattr(b, section), section
    assert a.tco == b.tco
    assert {k: p.relative_to(root_a) for k, p in a.origin.items()} == \
        {k: p.relative_to(root_b) for k, p in b.origin.items()}


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> dict[str, object]:
        raise AssertionError(f"parsed {path} although a valid snapshot was there")
    monkeypatch.setattr(overlay, "read_yaml", refuse)


def test_snapshot_gives_what_the_yaml_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed_root = _copy_catalog(tmp_path / "parsed")
    snap_root = _copy_catalog(tmp_path / "snap")
    _write_snapshot(snap_root)
    parsed = load_catalog(embedded=parsed_root)
    _no_yaml(monkeypatch)
    from_snapshot = load_catalog(embedded=snap_root)
    _same(from_snapshot, parsed, snap_root, parsed_root)


def test_overlay_applies_on_top_of_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy_catalog(tmp_path)
    _write_snapshot(root)
    gpu_id = "H100-SXM"
    base = load_catalog(embedded=root).gpu(gpu_id)
    extra = tmp_path / "overlay"
    extra.mkdir()
    entry = base.model_dump(mode="json", exclude_none=True)
    entry["memory_gib_usable"] = round(base.memory_gib_usable - 1.0, 3)
    import yaml
    (extra / "gpus.yaml").write_text(yaml.safe_dump({"gpus": [entry]}), encoding="utf-8")
    cat = load_catalog(extra, embedded=root)
    assert cat.gpu(gpu_id).memory_gib_usable == pytest.approx(base.memory_gib_usable - 1.0)
    assert cat.origin[("gpus", base.id)] == extra / "gpus.yaml"


def test_edited_yaml_is_read_again(tmp_path: Path) -> None:
    """A snapshot built before an edit is stale: the edit wins, whatever the snapshot says."""
    root = _copy_catalog(tmp_path)
    _write_snapshot(root)
    path = root / "tasks" / "tasks.yaml"
    text = path.read_text(encoding="utf-8")
    before = load_catalog(embedded=root)
    task = next(iter(before.tasks.values()))
    path.write_text(text.replace(task.description, task.description + " (edited)", 1), encoding="utf-8")
    assert snapshot.load(root) is None
    assert load_catalog(embedded=root).task(task.id).description == task.description + " (edited)"


def test_added_file_makes_the_snapshot_stale(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    _write_snapshot(root)
    assert snapshot.load(root) is not None
    (root / "extra.yaml").write_text("{}\n", encoding="utf-8")
    assert snapshot.load(root) is None


@pytest.mark.parametrize("damage", ["foreign key", "truncated body", "empty"])
def test_damaged_snapshot_falls_back_to_yaml(tmp_path: Path, damage: str) -> None:
    root = _copy_catalog(tmp_path)
    _write_snapshot(root)
    path = snapshot.location(root)
    data = path.read_bytes()
    key, _, body = data.partition(b"\n")
    path.write_bytes({"foreign key": b"0" * len(key) + b"\n" + body, "truncated body": key + b"\n" + body[:100],
                      "empty": b""}[damage])
    assert snapshot.load(root) is None
    reference = _copy_catalog(tmp_path / "ref")
    _same(load_catalog(embedded=root), load_catalog(embedded=reference), root, reference)


PACKAGED_YAML = sorted(yaml_io.PACKAGE.rglob("*.yaml"))  # the files the build hook pre-parses


def test_packaged_yaml_preparsed_equals_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = {p: yaml_io.parse_yaml(p.read_text(encoding="utf-8"), str(p)) for p in PACKAGED_YAML}
    cache = pickle.loads(snapshot.parsed_packaged_yaml(PACKAGED_YAML))
    monkeypatch.setattr(snapshot, "_parsed", lambda: cache)
    monkeypatch.setattr(snapshot, "parse_yaml", lambda *a: pytest.fail("parsed although pre-parsed"))
    for path, value in parsed.items():
        assert snapshot.packaged_yaml(path) == value
        first = snapshot.packaged_yaml(path)
        first.clear()  # a caller changing its copy changes nobody else's
        assert snapshot.packaged_yaml(path) == value


def test_packaged_yaml_edited_is_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    path = yaml_io.PACKAGE / "perf" / "engines.yaml"
    cache = pickle.loads(snapshot.parsed_packaged_yaml([path]))
    rel = path.relative_to(yaml_io.PACKAGE).as_posix()
    cache[rel] = (cache[rel][0], pickle.dumps({"stale": True}))
    monkeypatch.setattr(snapshot, "_parsed", lambda: cache)
    assert snapshot.packaged_yaml(path) == {"stale": True}  # same text: the pre-parsed value
    cache[rel] = ("0" * 64, cache[rel][1])  # the file changed since the wheel was built
    assert snapshot.packaged_yaml(path) == yaml_io.parse_yaml(path.read_text(encoding="utf-8"), str(path))


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` builds, installed (without dependencies) into a fresh folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = tmp.glob("qwen_plan-*.whl")
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return wheel


def test_wheel_ships_catalogs_templates_and_a_valid_snapshot(installed_wheel: Path) -> None:
    names = set(zipfile.ZipFile(installed_wheel).namelist())
    assert "planner/_data/catalogs/gpus/nvidia.yaml" in names
    assert "planner/_data/catalogs/models/hf-configs/Qwen3.5-27B.config.json" in names
    assert "planner/_data/templates/chart/values.schema.json" in names
    assert any(n.startswith("planner/_data/templates/k8s/") for n in names)
    assert "planner/perf/efficiency.yaml" in names
    assert "planner/_data/catalog.pickle" in names
    assert "planner/_data/parsed-yaml.pickle" in names
    site = installed_wheel.parent / "site"
    # The installed package accepts its own snapshot (same files, same Python and pydantic), and a plan
    # from it parses no YAML at all.
    probe = ("import sys; from planner.catalog import data_dir, snapshot; "
             "print(snapshot.load(data_dir('catalogs')) is not None, sorted(snapshot._parsed())); "
             "from planner.cli import main; sys.argv = ['qwen-plan', '--budget', '20000', '--task', 'docs']; "
             "import contextlib, io\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    try: main()\n"
             "    except SystemExit: pass\n"
             "print('yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=site.parent, env={**os.environ, "PYTHONPATH": str(site)})
    lines = out.stdout.splitlines()
    assert lines[0].startswith("True ") and "'perf/engines.yaml'" in lines[0]
    assert lines[-1] == "False"


def test_wheel_plans_exactly_like_the_source_tree(installed_wheel: Path, tmp_path: Path) -> None:
    site = installed_wheel.parent / "site"
    args = ["--budget", "20000", "--task", "docs", "--format", "json"]
    env = {**os.environ, "QWEN_PLAN_TODAY": "2026-12-01"}
    env.pop("QWEN_PLAN_CATALOG", None)
    run = [sys.executable, "-c", "from planner.cli import main; main()", *args]
    wheel = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, env={**env, "PYTHONPATH": str(site)},
                           timeout=120)
    source = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                            timeout=120)
    assert wheel.returncode == source.returncode == 0, wheel.stderr + source.stderr
    assert wheel.stdout == source.stdout
