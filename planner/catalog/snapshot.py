"""What the wheel ships pre-built, so a start parses no YAML: the embedded catalog validated
(`catalog.pickle`), and the package's own YAML files parsed (`parsed-yaml.pickle`).

Parsing and validating ~170 KB of YAML costs every CLI start about 0.2 s (PyYAML constructs
Python objects one scalar at a time; pydantic builds the catalog schemas first). The wheel's build
hook (hatch_build.py) runs the same loader once and pickles what it built; a start then reads
the pickle in a few milliseconds.

The YAML stays the only source. A snapshot is used only when its fingerprint matches the YAML
files next to it byte for byte (and the Python, pydantic and qwen-plan versions that read it), so
an edited catalog is parsed again, never served stale. The file is the package's own build
output, as trusted as its code; it is never looked for anywhere a user can point. The package's
own YAML (performance constants, engine flags) is keyed file by file on its SHA-256 likewise.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import planner
from planner.catalog.yaml_io import PACKAGE, parse_yaml

FILE_NAME = "catalog.pickle"
PARSED_FILE = "parsed-yaml.pickle"  # in planner/_data/, beside the catalog
_FORMAT = 1  # bump when the pickled layout changes


@dataclass(frozen=True)
class Snapshot:
    """What the embedded catalog's files produce: validated entries by section, where each came from."""

    entries: dict[str, dict[str, BaseModel]]
    origin: dict[tuple[str, str], Path]
    tco: BaseModel | None


def catalog_files(root: Path) -> list[Path]:
    """The YAML files of a catalog folder, in the order they are read (the loader's order too)."""
    return sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")])


def location(root: Path) -> Path:
    """Where the snapshot of the catalog folder `root` lives: beside it."""
    return root.parent / FILE_NAME


def fingerprint(root: Path) -> str:
    import pydantic  # already imported by the schemas; only its version is read

    h = hashlib.sha256(f"{_FORMAT} {sys.version_info[:2]} {pydantic.VERSION} {planner.__version__}".encode())
    for path in catalog_files(root):
        h.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def dump(snap: Snapshot, root: Path) -> bytes:
    """The snapshot of the catalog folder `root`, origins stored relative to it."""
    origin = {key: path.relative_to(root).as_posix() for key, path in snap.origin.items()}
    # The fingerprint leads, in plain text, so a stale or foreign snapshot is refused before unpickling.
    return fingerprint(root).encode() + b"\n" + pickle.dumps((snap.entries, origin, snap.tco), protocol=5)


def load(root: Path) -> Snapshot | None:
    """The snapshot beside `root` when it was built from exactly these files; None otherwise."""
    path = location(root)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    key, _, body = data.partition(b"\n")
    if key != fingerprint(root).encode():
        return None
    try:
        entries, origin, tco = pickle.loads(body)
    except Exception:  # damaged: the YAML is the source anyway
        return None
    return Snapshot(entries, {k: root / rel for k, rel in origin.items()}, tco)


def packaged_yaml(path: Path) -> Any:
    """A YAML file shipped inside the package (e.g. planner/perf/engines.yaml), parsed strictly.

    The wheel carries each one pre-parsed under the SHA-256 of its text (hatch_build.py), so a start
    need not import or run a YAML parser; an edited or unknown file is parsed as usual."""
    data = path.read_bytes()
    hit = _parsed().get(path.resolve().relative_to(PACKAGE).as_posix())
    if hit is not None and hit[0] == hashlib.sha256(data).hexdigest():
        return pickle.loads(hit[1])  # a fresh copy per call: callers may change what they get
    return parse_yaml(data.decode("utf-8"), str(path))


def parsed_packaged_yaml(paths: list[Path]) -> bytes:
    """What packaged_yaml reads: each file's hash and parsed value (written by the wheel's build hook)."""
    out = {}
    for path in paths:
        text = path.read_bytes()
        out[path.resolve().relative_to(PACKAGE).as_posix()] = (
            hashlib.sha256(text).hexdigest(), pickle.dumps(parse_yaml(text.decode("utf-8"), str(path)), protocol=5))
    return pickle.dumps(out, protocol=5)


@functools.cache
def _parsed() -> dict[str, tuple[str, bytes]]:
    try:
        found = pickle.loads((PACKAGE / "_data" / PARSED_FILE).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        return {}
    return found if isinstance(found, dict) else {}
