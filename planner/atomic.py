"""Write a folder of files all at once, and never replace a folder qwen-plan does not own.

The files go into a temporary sibling first, then one rename puts the folder in place: a reader
never sees half a folder, and a failed or interrupted write leaves nothing behind.

Ownership is a manifest (`.qwen-plan-manifest.json`: every file's name and SHA-256) written into
each output folder. `--force` replaces a folder only when its contents are exactly what its
manifest lists (or it is empty), so a project folder that merely holds a `plan.json` survives.

The final step never replaces what it did not check: `renameat2(RENAME_NOREPLACE)` for a new
folder, `RENAME_EXCHANGE` and a re-check of what was swapped out for `--force`. Where the kernel
or file system lacks those, a lock on the parent folder plus a re-check right before the rename
stands in. Concurrent writers to one new `--out`: exactly one wins, the others fail.

A SIGKILLed run leaves `.NAME.qwen-plan-XXXX.{lock,tmp}`; the lock file is held (flock) while
its run lives, so the next run to the same folder can tell a stale temp from a live one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

from planner.errors import Interrupted, PlannerError, RequestError, os_failure

MANIFEST = ".qwen-plan-manifest.json"
FILE_MODE, EXEC_MODE, DIR_MODE = 0o644, 0o755, 0o755
_TAG = ".qwen-plan-"
_STEM_BYTES = 80  # of the target's name kept in temp names, so they stay under NAME_MAX (255 bytes)
_NAME_MAX = 255
_MANIFEST_MAX_BYTES = 4 * 2**20


# ---------------------------------------------------------------- ownership


def manifest_bytes(files: Mapping[str, bytes]) -> bytes:
    """The manifest qwen-plan writes beside `files`: names and SHA-256 of every file it wrote."""
    listing = {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(files.items())}
    doc = {"written_by": "qwen-plan", "format": 1, "files": listing}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_manifest(root: Path) -> dict[str, str] | None:
    path = root / MANIFEST
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MANIFEST_MAX_BYTES:
            return None
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    listing = doc.get("files") if isinstance(doc, dict) and doc.get("written_by") == "qwen-plan" else None
    if not isinstance(listing, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in listing.items()):
        return None
    return listing


def _foreign_entry(root: Path, listing: Mapping[str, str]) -> str | None:
    """The first entry under root that the manifest does not account for, described; None if none."""
    wanted = {*listing, MANIFEST}
    folders = {p.as_posix() for rel in listing for p in PurePosixPath(rel).parents if p.parts}
    seen: set[str] = set()
    stack = [(root, PurePosixPath())]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as entries:
            for e in entries:
                sub = (rel / e.name).as_posix()
                if e.is_symlink():
                    return f"holds a symbolic link {sub}"
                if e.is_dir(follow_symlinks=False):
                    if sub not in folders:
                        return f"is not only qwen-plan output (folder {sub} was not written by qwen-plan)"
                    stack.append((Path(e.path), rel / e.name))
                elif not e.is_file(follow_symlinks=False):
                    return f"holds {sub}, which is not a regular file"
                elif sub not in wanted:
                    return f"is not only qwen-plan output ({sub} was not written by qwen-plan)"
                else:
                    seen.add(sub)
    missing = sorted(wanted - seen)
    return f"is not the qwen-plan output its manifest lists ({missing[0]} is missing)" if missing else None


def ownership_problem(root: Path) -> str | None:
    """None when `root` is empty or exactly an earlier qwen-plan output; otherwise why it is not."""
    with os.scandir(root) as entries:
        if next(entries, None) is None:
            return None
    listing = _read_manifest(root)
    if listing is None:
        return f"is not qwen-plan output (no valid {MANIFEST})"
    problem = _foreign_entry(root, listing)
    if problem:
        return problem
    for rel, digest in sorted(listing.items()):
        if _sha256(root / rel) != digest:
            return f"was changed after qwen-plan wrote it ({rel} differs from the manifest)"
    return None


# ---------------------------------------------------------------- checks before any work


def _check_name(out: Path) -> None:
    name = out.name
    if not name or name in (".", ".."):
        raise RequestError(f"--out: {out} does not name a folder; give a path such as ./deploy")
    if len(os.fsencode(name)) > _NAME_MAX:
        raise RequestError(f"--out: name too long ({len(os.fsencode(name))} bytes; at most {_NAME_MAX})")


def _parent_problem(out: Path) -> str | None:
    """Why the folders above `out` cannot hold it, checked up to the first one that exists."""
    parent = out.parent
    if ".." in out.parts and not parent.is_dir():
        # `x/../y` with no `x` would create an empty `x` only to step out of it.
        return f"parent folder {parent} does not exist"
    for p in [parent, *parent.parents]:
        try:
            st = p.stat()
        except FileNotFoundError:
            if p.is_symlink():
                return f"{p} is a dangling symbolic link"
            continue
        if not stat.S_ISDIR(st.st_mode):
            return f"{p} is a file, not a folder"
        return None
    return None


def check_target(out: Path, force: bool) -> None:
    """Fail early (before any work) when `out` may not be written.

    `--force` replaces earlier qwen-plan output only: a folder holding anything else is never deleted.
    """
    out = Path(out)
    try:
        here = Path.cwd().resolve()
        target = out.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        raise RequestError(f"--out: {out} cannot be resolved ({exc})") from None
    if target == here or target in here.parents or target == Path(target.anchor):
        raise RequestError(f"--out: {out} is the current folder or one of its parents; name a new folder")
    _check_name(out)
    if out.is_symlink():
        dangling = "" if out.exists() else "dangling "
        raise RequestError(f"--out: {out} is a {dangling}symbolic link; name the folder itself")
    problem = _parent_problem(out)
    if problem:
        raise RequestError(f"--out: {problem}")
    try:
        st = out.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise os_failure(exc, "--out") from None
    if not stat.S_ISDIR(st.st_mode):
        raise RequestError(f"--out: {out} exists and is not a folder")
    if not force:
        raise RequestError(f"--out: {out} already exists; pass --force to replace it")
    try:
        problem = ownership_problem(out)
    except OSError as exc:
        raise os_failure(exc, "--out") from None
    if problem:
        raise RequestError(f"--out: {out} {problem}; refusing to replace it even with --force")


# ---------------------------------------------------------------- renames that never clobber

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_UNSUPPORTED = (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP)


@functools.cache
def _libc_renameat2() -> Any:
    # ctypes is loaded only when something is written (--out): a plan printed to stdout never needs it.
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not glibc >= 2.28, or not Linux
        return None


def _rename2(src: Path, dst: Path, flags: int) -> int:
    """renameat2(src, dst, flags): 0, or the errno (ENOSYS/EINVAL where unsupported)."""
    renameat2 = _libc_renameat2()
    if renameat2 is None:
        return errno.ENOSYS
    import ctypes

    rc = renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags)
    return 0 if rc == 0 else ctypes.get_errno()


def _raise_errno(err: int, path: Path) -> None:
    raise OSError(err, os.strerror(err), str(path))


@contextlib.contextmanager
def _parent_lock(folder: Path) -> Iterator[None]:
    """Exclusive flock on the parent folder: serialises qwen-plan writers where renameat2 is missing."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _place_new(tmp: Path, out: Path) -> bool:
    """Rename tmp to out unless something is at out (then False)."""
    err = _rename2(tmp, out, _RENAME_NOREPLACE)
    if err in (0, errno.EEXIST):
        return err == 0
    if err not in _UNSUPPORTED:
        _raise_errno(err, out)
    with _parent_lock(out.parent):
        if os.path.lexists(out):
            return False
        try:
            os.rename(tmp, out)  # only an empty folder created since the re-check can be replaced
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                return False
            raise
    return True


def _not_owned(path: Path) -> str | None:
    if path.is_symlink() or not path.is_dir():
        return "is no longer a folder"
    return ownership_problem(path)


def _refuse(out: Path, problem: str) -> RequestError:
    return RequestError(f"--out: {out} {problem}; refusing to replace it even with --force")


class _Temp:
    """The temp folder's path and whether it holds this run's files (only then may it be deleted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ours = True


def _replace_owned(tmp: _Temp, old: Path, out: Path) -> None:
    """Put tmp at out, moving what was there to `old`, but only if that is still qwen-plan output."""
    with _signals_blocked():
        err = _rename2(tmp.path, out, _RENAME_EXCHANGE)
        if err == 0:
            tmp.ours = False  # tmp.path now holds what was at out
            try:
                problem = _not_owned(tmp.path)
            except BaseException:  # cannot tell: put the folder back as it was
                if _rename2(tmp.path, out, _RENAME_EXCHANGE) == 0:
                    tmp.ours = True
                raise
            if problem:
                if _rename2(tmp.path, out, _RENAME_EXCHANGE) == 0:  # swap back: the user's folder returns
                    tmp.ours = True
                raise _refuse(out, problem)
            os.rename(tmp.path, old)
            return
        if err not in _UNSUPPORTED:
            _raise_errno(err, out)
        with _parent_lock(out.parent):
            problem = _not_owned(out)
            if problem:
                raise _refuse(out, problem)
            os.rename(out, old)
            try:
                os.rename(tmp.path, out)
            except BaseException:
                os.rename(old, out)
                raise


# ---------------------------------------------------------------- temp names, stale temps, signals


def _prefix(out: Path) -> str:
    short = os.fsencode(out.name)[:_STEM_BYTES].decode("utf-8", errors="ignore")
    return f".{short}{_TAG}"


def _new_lock(out: Path) -> tuple[int, Path]:
    """A fresh `.NAME.qwen-plan-XXXX.lock`, flocked for as long as this run lives."""
    while True:
        fd, name = tempfile.mkstemp(prefix=_prefix(out), suffix=".lock", dir=out.parent)
        # Blocking: a concurrent sweep may have taken the fresh lock for a stale one; once it lets go,
        # the file is gone and we start again, so a sweep never removes a live run's temp folder.
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, Path(name)):
            return fd, Path(name)
        os.close(fd)


def _sibling(lock: Path, suffix: str) -> Path:
    """`.NAME.qwen-plan-XXXX.lock` -> `.NAME.qwen-plan-XXXX<suffix>` (the temp folder, the old one)."""
    return lock.with_name(lock.name.removesuffix(".lock") + suffix)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def sweep_stale(out: Path) -> list[Path]:
    """Remove the temps of earlier runs to `out` that died (SIGKILL, power loss); returns what went."""
    removed: list[Path] = []
    prefix = _prefix(out)
    try:
        names = sorted(n for n in os.listdir(out.parent) if n.startswith(prefix) and n.endswith(".lock"))
    except OSError:
        return removed
    for name in names:
        lock = out.parent / name
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its run is alive
            os.close(fd)
            continue
        if not _same_file(fd, lock):  # another sweep removed it meanwhile
            os.close(fd)
            continue
        try:
            for leftover in (_sibling(lock, ".tmp"), _sibling(lock, ".old")):
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                    removed.append(leftover)
            lock.unlink(missing_ok=True)
            removed.append(lock)
        finally:
            os.close(fd)
    return removed


_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM/SIGHUP/SIGINT while writing raise Interrupted, so the temp folder goes on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for s in _SIGNALS:  # one is enough: let the cleanup finish
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    before = {s: signal.signal(s, handler) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Held during a swap, so an interrupt cannot land between moving a folder and checking it."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


# ---------------------------------------------------------------- writing


def _check_rel(rel: str) -> None:
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or ".." in p.parts or rel == MANIFEST:
        raise RequestError(f"output file {rel!r} must be a relative path inside the output folder")


def _make_parents(folder: Path) -> list[Path]:
    """mkdir -p with explicit modes (whatever the umask); returns the folders created, outermost first."""
    missing = []
    for p in [folder, *folder.parents]:
        if p.is_dir():
            break
        missing.append(p)
    created = []
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        created.append(p)
        p.chmod(DIR_MODE)
    return created


def _write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask does not decide who may read the output
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _fill(tmp: Path, files: Mapping[str, bytes], executable: Collection[str]) -> None:
    for rel, data in sorted(files.items()):
        for d in reversed(PurePosixPath(rel).parents[:-1]):
            sub = tmp / d
            if not sub.is_dir():
                sub.mkdir()
                sub.chmod(DIR_MODE)
        _write_file(tmp / rel, data, EXEC_MODE if rel in executable else FILE_MODE)
    _write_file(tmp / MANIFEST, manifest_bytes(files), FILE_MODE)
    tmp.chmod(DIR_MODE)


def write_folder(
    out: Path, files: Mapping[str, bytes], *, force: bool, executable: Collection[str] = ()
) -> Path:
    """Write `files` (relative path -> bytes) as the folder `out`, all or nothing."""
    out = Path(out)
    for rel in files:
        _check_rel(rel)
    check_target(out, force)
    try:
        with _signals_raise():
            _write(out, files, force, executable)
    except PlannerError:
        raise
    except OSError as exc:
        raise os_failure(exc, "--out") from None
    return out


def _write(out: Path, files: Mapping[str, bytes], force: bool, executable: Collection[str]) -> None:
    created: list[Path] = []
    lock_fd: int | None = None
    lock: Path | None = None
    tmp: _Temp | None = None
    try:
        created = _make_parents(out.parent)
        sweep_stale(out)
        lock_fd, lock = _new_lock(out)
        tmp, old = _Temp(_sibling(lock, ".tmp")), _sibling(lock, ".old")
        os.mkdir(tmp.path, 0o700)
        _fill(tmp.path, files, executable)
        if not _place_new(tmp.path, out):
            if not force:
                raise RequestError(f"--out: {out} appeared while qwen-plan was writing; left it untouched")
            _replace_owned(tmp, old, out)
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if tmp is not None and tmp.ours:
            shutil.rmtree(tmp.path, ignore_errors=True)
        if lock is not None:
            lock.unlink(missing_ok=True)
            lock = None
        for p in reversed(created):
            with contextlib.suppress(OSError):
                p.rmdir()
        raise
    finally:
        if lock is not None:
            lock.unlink(missing_ok=True)
        if lock_fd is not None:
            os.close(lock_fd)
