"""Wheel build hook: ship the embedded catalog pre-validated (planner/catalog/snapshot.py).

Runs the package's own catalog loader on `catalogs/` and adds its snapshot to the wheel beside the
packaged YAML, and the package's own YAML files (planner/**/*.yaml) pre-parsed, so an installed
qwen-plan starts without parsing YAML (planner/catalog/snapshot.py). Editable installs
read the YAML (the snapshot would go stale with every edit).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogSnapshotHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        sys.path.insert(0, self.root)
        try:
            from planner.catalog.overlay import embedded_snapshot
            from planner.catalog.snapshot import PARSED_FILE, parsed_packaged_yaml
        finally:
            sys.path.remove(self.root)
        root = Path(self.root)
        self._tmp = tempfile.mkdtemp(prefix="qwen-plan-build-")
        artifacts = {
            "catalog.pickle": embedded_snapshot(root / "catalogs"),
            # The package's own data files (performance constants, engine flags), read at every start.
            PARSED_FILE: parsed_packaged_yaml(sorted((root / "planner").rglob("*.yaml"))),
        }
        for name, data in artifacts.items():
            out = Path(self._tmp) / name
            out.write_bytes(data)
            build_data["force_include"][str(out)] = f"planner/_data/{name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_tmp", None):
            shutil.rmtree(self._tmp, ignore_errors=True)
