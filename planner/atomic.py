"""Write a folder of files all at once: into a temporary sibling, then renamed into place.

A reader never sees half a folder, a failed write leaves the old folder untouched, and an
existing folder is only replaced when the caller says so (`--force`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from planner.errors import RequestError

# A folder --force may replace: empty, or written by qwen-plan before (it always writes one of these).
OWN_MARKERS = ("plan.json", "procurement.json")


def check_target(out: Path, force: bool) -> None:
    """Fail early (before any work) when `out` may not be written.

    `--force` replaces earlier qwen-plan output only: a folder holding anything else is never deleted.
    """
    here = Path.cwd().resolve()
    target = out.resolve()
    if target == here or target in here.parents or target == Path(target.anchor):
        raise RequestError(f"--out: {out} is the current folder or one of its parents; name a new folder")
    if out.exists() and not out.is_dir():
        raise RequestError(f"--out: {out} exists and is not a folder")
    if out.exists() and not force:
        raise RequestError(f"--out: {out} already exists; pass --force to replace it")
    if out.is_dir() and any(out.iterdir()) and not any((out / m).is_file() for m in OWN_MARKERS):
        raise RequestError(f"--out: {out} is not qwen-plan output (no {' or '.join(OWN_MARKERS)}); "
                           "refusing to replace it even with --force")


def write_folder(
    out: Path, files: Mapping[str, bytes], *, force: bool, executable: Collection[str] = ()
) -> Path:
    out = Path(out)
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old: Path | None = None
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o755 if rel in executable else 0o644)
        tmp.chmod(0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            old.rmdir()
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out
