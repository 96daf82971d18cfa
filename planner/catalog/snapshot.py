"""The embedded catalog, validated once at build time and shipped beside the YAML (`catalog.pickle`).

Parsing and validating ~170 KB of YAML costs every CLI start about 0.2 s (PyYAML constructs
Python objects one scalar at a time; pydantic builds the catalog schemas first). The wheel's build
hook (hatch_build.py) runs the same loader once and pickles what it built; a start then reads
the pickle in a few milliseconds.

The YAML stays the only source. A snapshot is used only when its fingerprint matches the YAML
files next to it byte for byte (and the Python, pydantic and qwen-plan versions that read it), so
an edited catalog is parsed again, never served stale. The file is the package's own build
output, as trusted as its code; it is never looked for anywhere a user can point.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

import planner

FILE_NAME = "catalog.pickle"
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
