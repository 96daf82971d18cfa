"""Reading user files safely, and catalog YAML strictly; where packaged data lives.

Every file a user names (request, plan, cases, catalog overlay) is read through `read_input`: a
regular file (a FIFO would block forever, /dev/zero would fill memory) of bounded size. YAML is
parsed with duplicate keys refused, and the result is walked under a node budget and a depth
limit before anyone looks at it, so an alias bomb or a recursive alias is one line, not a hang.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from planner.errors import CatalogError, PlannerError

MAX_INPUT_BYTES = 16 * 2**20  # far above any request, plan or catalog file; below trouble
MAX_DEPTH = 40  # the catalog nests 6 deep; a plan.json about 8
MAX_NODES = 1_000_000  # values after alias expansion; the embedded catalog has about 30 000

# The top-level sections a catalog file may hold (list sections plus the `tco` mapping).
SECTION_NAMES = ("models", "gpus", "cloud", "purchase", "api", "tasks", "precision_penalties", "tco")

PACKAGE = Path(__file__).resolve().parents[1]  # the installed `planner` folder (the wheel installs files)


def data_dir(kind: str) -> Path:
    """Folder of packaged data (`catalogs` or `templates`), wheel or source tree."""
    packaged = PACKAGE / "_data" / kind
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


def _label(path: Path, what: str | None) -> str:
    return f"{what}: {path}" if what else str(path)


def open_input(path: Path, what: str | None = None, error: type[PlannerError] = CatalogError) -> int:
    """An open descriptor of `path` after checking it is a regular file of bounded size; the caller closes it.

    `what` names the flag in messages (`--request: FILE: ...`); without it they start with the path.
    """
    label = _label(path, what)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise error(f"{label}: cannot read ({_os_reason(exc)})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{label}: is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{label}: not a regular file (a FIFO, device or socket); give a file")
        if st.st_size > MAX_INPUT_BYTES:
            raise error(f"{label}: {st.st_size / 2**20:,.0f} MiB is too large (at most {MAX_INPUT_BYTES // 2**20} MiB)")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _os_reason(exc: OSError) -> str:
    if exc.filename is not None and os.path.islink(exc.filename) and not os.path.exists(exc.filename):
        return "a dangling symbolic link"
    return (exc.strerror or str(exc)).lower()


def read_input(
    path: Path, what: str | None = None, error: type[PlannerError] = CatalogError, hint: str = ""
) -> str:
    """The UTF-8 text of a regular file of at most MAX_INPUT_BYTES; one-line `error` otherwise."""
    label = _label(path, what)
    fd = open_input(path, what, error)
    try:
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise error(f"{label}: cannot read ({_os_reason(exc)})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_INPUT_BYTES:  # it grew while being read
        raise error(f"{label}: too large (at most {MAX_INPUT_BYTES // 2**20} MiB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{label}: not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}){hint}") from None


def check_size(value: Any, where: str, error: type[PlannerError] = CatalogError) -> None:
    """Refuse a parsed document nested deeper than MAX_DEPTH or larger than MAX_NODES once aliases expand.

    Shared (aliased) values are counted every time they are reached, which is exactly the work any
    later reader (validation, an error message) would do.
    """
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise error(f"{where}: too large (over {MAX_NODES:,} values once YAML aliases are expanded)")
        if depth > MAX_DEPTH:
            raise error(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node if isinstance(k, tuple))
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1) for v in node)


def parse_yaml(text: str, where: str, error: type[PlannerError] = CatalogError) -> Any:
    """YAML text to Python values, strictly (duplicate keys refused) and bounded (see check_size)."""
    import yaml  # only when something is parsed: the wheel ships its own YAML pre-parsed

    from planner.catalog.yaml_loader import StrictLoader

    try:
        raw = yaml.load(text, Loader=StrictLoader)
    except yaml.reader.ReaderError as exc:  # control characters: no problem_mark, multi-line str
        raise error(f"{where}: invalid YAML (position {exc.position}: {exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise error(f"{where}:{line} invalid YAML ({problem})") from None
    except RecursionError:
        raise error(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    check_size(raw, where, error)
    return raw


def read_yaml(path: Path) -> dict[str, Any]:
    raw = parse_yaml(read_input(path, hint="; catalog files must be UTF-8 YAML"), str(path))
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: top level must be a mapping of sections {sorted(SECTION_NAMES)}")
    return raw


