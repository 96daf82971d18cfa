"""Reading catalog YAML: strict parsing (duplicate keys refused) and where packaged data lives."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from planner.errors import CatalogError

# The top-level sections a catalog file may hold (list sections plus the `tco` mapping).
SECTION_NAMES = ("models", "gpus", "cloud", "purchase", "api", "tasks", "precision_penalties", "tco")

# libyaml when present: the catalog is parsed on every CLI start.
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """Safe loader that rejects a key given twice in one mapping (PyYAML keeps the last, silently).

    Only mapping construction is Python code; parsing stays in libyaml, so the check is cheap
    enough for the embedded catalog too.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: the base constructor reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}, first on line {first + 1}", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_YAML_LOADER = _UniqueKeyLoader


def data_dir(kind: str) -> Path:
    """Folder of packaged data (`catalogs` or `templates`), wheel or source tree."""
    packaged = Path(str(resources.files("planner"))) / "_data" / kind
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / kind


def display_path(path: Path | None) -> str:
    """Embedded files as `catalogs/...` (the same wherever the package is installed); overlays as given."""
    if path is None:
        return "?"
    try:
        return "catalogs/" + path.resolve().relative_to(data_dir("catalogs").resolve()).as_posix()
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
            "catalog files must be UTF-8 YAML"
        ) from None
    except yaml.reader.ReaderError as exc:  # control characters: no problem_mark, multi-line str
        raise CatalogError(f"{path}: invalid YAML (position {exc.position}: {exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise CatalogError(f"{path}:{where} invalid YAML ({problem})") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: top level must be a mapping of sections {sorted(SECTION_NAMES)}")
    return raw


