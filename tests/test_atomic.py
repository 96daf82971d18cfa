"""Output folders: ownership by manifest, no-replace renames, races, signals, stale temps, modes.

The promise: a folder qwen-plan did not write is never deleted or replaced, whatever the timing;
a failed, interrupted or killed write leaves nothing behind (or, after SIGKILL, nothing the next
run does not clean up); every failure is one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from test_render_fixtures import dense_plan

from planner import atomic
from planner.atomic import MANIFEST, check_target, ownership_problem, write_folder
from planner.errors import EnvironmentFailure, Interrupted, RequestError

FILES = {"plan.json": b'{"x": 1}\n', "launch.sh": b"#!/bin/sh\n", "chart/templates/a.yaml": b"a: 1\n"}
Run = Callable[..., CompletedProcess[str]]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (dotfiles included) -> bytes: what 'intact' is compared against."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_line_error(proc: CompletedProcess[str], code: int, *needles: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "plan.json"
    path.parent.mkdir()
    path.write_text(dense_plan().model_dump_json(), encoding="utf-8")
    return path


# ---------------------------------------------------------------- ownership


def test_manifest_lists_every_file_with_its_hash(tmp_path: Path) -> None:
    out = write_folder(tmp_path / "o", FILES, force=False, executable={"launch.sh"})
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["written_by"] == "qwen-plan"
    assert sorted(manifest["files"]) == sorted(FILES)
    assert ownership_problem(out) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.parametrize("tamper", ["edit", "add", "add_folder", "remove", "symlink", "manifest"])
def test_force_refuses_anything_but_exact_earlier_output(tmp_path: Path, tamper: str) -> None:
    out = write_folder(tmp_path / "o", FILES, force=False)
    if tamper == "edit":
        (out / "chart/templates/a.yaml").write_bytes(b"a: 2  # my change\n")
    elif tamper == "add":
        (out / "notes.txt").write_text("mine")
    elif tamper == "add_folder":
        (out / "mine").mkdir()
    elif tamper == "remove":
        (out / "launch.sh").unlink()
    elif tamper == "symlink":
        (out / "link").symlink_to(tmp_path)
    else:
        (out / MANIFEST).write_text('{"written_by": "qwen-plan", "files": {}}')
    before = tree(out)
    with pytest.raises(RequestError, match="refusing to replace it even with --force"):
        write_folder(out, {"plan.json": b"new"}, force=True)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_force_replaces_earlier_output_and_empty_folders(tmp_path: Path) -> None:
    out = write_folder(tmp_path / "o", FILES, force=False)
    write_folder(out, {"plan.json": b"second"}, force=True)
    assert tree(out)["plan.json"] == b"second" and "launch.sh" not in tree(out)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_folder(empty, FILES, force=True)
    assert tree(empty)["plan.json"] == FILES["plan.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "o"]


def test_cli_force_keeps_a_project_folder_that_only_holds_a_plan_json(
    run_qwen_plan: Run, plan_file: Path, tmp_path: Path
) -> None:
    """Failure 1: `terraform show -json > plan.json` made a project folder look like qwen-plan output."""
    project = tmp_path / "infra"
    project.mkdir()
    (project / "plan.json").write_text('{"format_version": "1.2"}')
    (project / "main.tf").write_text('resource "null_resource" "x" {}\n')
    before = tree(project)
    proc = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(project), "--force")
    one_line_error(proc, 2, "is not qwen-plan output", "refusing")
    assert tree(project) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "infra"]


# ---------------------------------------------------------------- races


def _appear_during_fill(monkeypatch: pytest.MonkeyPatch, out: Path, what: Callable[[Path], None]) -> None:
    real = atomic._fill

    def fill(tmp: Path, files: Mapping[str, bytes], executable: Any) -> None:
        real(tmp, files, executable)
        what(out)  # after the existence check, before the final rename

    monkeypatch.setattr(atomic, "_fill", fill)


def _user_folder(out: Path) -> None:
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "lock-fallback"])
@pytest.mark.parametrize("force", [False, True])
def test_a_folder_appearing_mid_write_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force: bool, renameat2: bool
) -> None:
    """Failure 2: it used to be moved aside and deleted, even without --force."""
    if not renameat2:
        monkeypatch.setattr(atomic, "_libc_renameat2", lambda: None)
    out = tmp_path / "o"
    _appear_during_fill(monkeypatch, out, _user_folder)
    with pytest.raises(RequestError, match=r"appeared while qwen-plan was writing|refusing to replace"):
        write_folder(out, FILES, force=force)
    assert tree(out) == {"thesis.tex": b"years of work"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "lock-fallback"])
def test_force_replaces_output_that_appeared_mid_write_if_it_is_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renameat2: bool
) -> None:
    if not renameat2:
        monkeypatch.setattr(atomic, "_libc_renameat2", lambda: None)
    out = tmp_path / "o"
    fired: list[bool] = []

    def other_run(o: Path) -> None:
        if not fired:
            fired.append(True)
            atomic._write(o, {"plan.json": b"other run"}, False, ())

    _appear_during_fill(monkeypatch, out, other_run)
    write_folder(out, FILES, force=True)
    assert tree(out)["plan.json"] == FILES["plan.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "lock-fallback"])
def test_concurrent_writers_to_one_new_folder_have_one_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renameat2: bool
) -> None:
    """All writers pass the existence check before any renames (a barrier in the middle of the write)."""
    if not renameat2:
        monkeypatch.setattr(atomic, "_libc_renameat2", lambda: None)
    n = 4
    barrier = threading.Barrier(n, timeout=30)
    real = atomic._fill

    def fill(tmp: Path, files: Mapping[str, bytes], executable: Any) -> None:
        real(tmp, files, executable)
        barrier.wait()

    monkeypatch.setattr(atomic, "_fill", fill)
    out = tmp_path / "o"
    results: list[str] = []

    def writer(i: int) -> None:
        try:
            write_folder(out, {"plan.json": f"writer {i}".encode()}, force=False)
            results.append(f"won {i}")
        except RequestError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("won")]
    assert len(winners) == 1, results
    assert all("appeared while qwen-plan was writing" in r for r in results if not r.startswith("won"))
    assert tree(out)["plan.json"] == f"writer {winners[0].split()[1]}".encode()
    assert ownership_problem(out) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_cli_concurrent_writers_one_winner(run_qwen_plan: Run, plan_file: Path, tmp_path: Path) -> None:
    """Four real processes at once (failure 2 gave two successes): one exit 0, the rest exit 2, one line."""
    out = tmp_path / "deploy"
    exe = Path(sys.executable).parent / "qwen-plan"
    args = [str(exe), "render", "--plan", str(plan_file), "--out", str(out)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    done = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert sorted(rc for rc, _, _ in done) == [0, 2, 2, 2], done
    for rc, _, err in done:
        if rc:
            assert len(err.splitlines()) == 1 and "Traceback" not in err
            assert "already exists" in err or "appeared while qwen-plan was writing" in err
    assert ownership_problem(out) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy", "in"]


# ---------------------------------------------------------------- signals and stale temps

# Runs the real CLI entry point, slowed inside the write so a signal lands mid-write.
DRIVER = """
import sys, time
from planner import atomic
from planner.cli import main
real = atomic._write_file
def slow(path, data, mode):
    real(path, data, mode)
    print("writing", flush=True)
    time.sleep(60)
atomic._write_file = slow
main(sys.argv[1:])
"""


def _start_slow_write(plan_file: Path, out: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, "render", "--plan", str(plan_file), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_write_removes_the_temp_folder(plan_file: Path, tmp_path: Path, sig: int) -> None:
    out = tmp_path / "deploy"
    proc = _start_slow_write(plan_file, out)
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the temp folder really was there
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, err
    assert err.splitlines() == [f"error: interrupted by {signal.Signals(sig).name}; nothing was written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_a_stale_temp_from_sigkill_is_removed_by_the_next_run(
    run_qwen_plan: Run, plan_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deploy"
    proc = _start_slow_write(plan_file, out)
    proc.kill()
    proc.communicate(timeout=30)
    stale = sorted(p.name for p in tmp_path.iterdir() if p.name != "in")
    assert [n.rsplit(".", 1)[1] for n in stale] == ["lock", "tmp"], stale
    live = tmp_path / ".deploy.qwen-plan-live.tmp"  # a look-alike without a lock: not ours to delete
    live.mkdir()
    proc2 = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(out))
    assert proc2.returncode == 0, proc2.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "deploy", "in"]
    assert ownership_problem(out) is None


def test_a_live_writers_temp_is_not_swept(tmp_path: Path) -> None:
    out = tmp_path / "o"
    fd, lock = atomic._new_lock(out)
    tmp = atomic._sibling(lock, ".tmp")
    tmp.mkdir()
    try:
        assert atomic.sweep_stale(out) == []
        assert tmp.is_dir()
    finally:
        os.close(fd)
    assert atomic.sweep_stale(out) == [tmp, lock]
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- OS errors: one line naming the path

FAULT = """
import errno, os, sys
from planner import atomic
from planner.cli import main
code = getattr(errno, sys.argv[1])
def fail(*a, **k):
    raise OSError(code, os.strerror(code), sys.argv[2])
setattr(atomic, sys.argv[3], fail)
main(sys.argv[4:])
"""


@pytest.mark.parametrize(("code", "hook", "rc", "needle"), [
    ("ENOSPC", "_write_file", 1, "no space left"),
    ("EACCES", "_new_lock", 1, "permission denied"),
    ("EROFS", "_new_lock", 1, "read-only file system"),
])
def test_environment_failures_are_one_line_exit_1_and_leave_nothing(
    plan_file: Path, tmp_path: Path, code: str, hook: str, rc: int, needle: str
) -> None:
    out = tmp_path / "new" / "deploy"  # the missing parent is created, then removed again
    proc = subprocess.run([sys.executable, "-c", FAULT, code, str(out), hook, "render", "--plan", str(plan_file),
                           "--out", str(out)], capture_output=True, text=True, timeout=120, check=False)
    one_line_error(proc, rc, f"--out: cannot write {out}", needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_bad_out_paths_are_one_line_exit_2(run_qwen_plan: Run, plan_file: Path, tmp_path: Path) -> None:
    """Failure 6 (dangling symlink, 300-char name, parent is a file) and 9 (`x/../y`, a symlink with --force)."""
    (tmp_path / "file").write_text("mine")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    target = write_folder(tmp_path / "target", FILES, force=False)
    (tmp_path / "link").symlink_to(target)
    before = tree(tmp_path)
    cases = [
        (tmp_path / "dangling", ["--force"], "dangling symbolic link"),
        (tmp_path / ("x" * 300), [], "name too long"),
        (tmp_path / "file" / "deploy", [], "is a file, not a folder"),
        (tmp_path / "missing" / ".." / "y", [], "does not exist"),
        (tmp_path / "link", ["--force"], "symbolic link"),
    ]
    for out, extra, needle in cases:
        proc = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(out), *extra)
        one_line_error(proc, 2, needle)
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "file", "in", "link", "target"]


def test_errors_convert_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*a: Any, **k: Any) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "o"))

    monkeypatch.setattr(atomic, "_write_file", full)
    with pytest.raises(EnvironmentFailure, match="no space left"):
        write_folder(tmp_path / "o", FILES, force=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RequestError, match="current folder"):
        check_target(Path("."), force=True)
    assert Interrupted(signal.SIGTERM).exit_code == 143


# ---------------------------------------------------------------- modes


def test_modes_do_not_depend_on_the_umask(run_qwen_plan: Run, plan_file: Path, tmp_path: Path) -> None:
    """Failure 9: under `umask 000` subfolders were world-writable."""
    out = tmp_path / "new" / "deploy"
    exe = Path(sys.executable).parent / "qwen-plan"
    proc = subprocess.run(["sh", "-c", f'umask 000 && exec "{exe}" "$@"', "sh", "render", "--plan", str(plan_file),
                           "--out", str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in tmp_path.rglob("*")
             if p.parts[len(tmp_path.parts)] == "new"}
    assert {m for p, m in modes.items() if (tmp_path / p).is_dir()} == {0o755}
    assert modes["new/deploy/launch.sh"] == 0o755
    assert {m for p, m in modes.items() if (tmp_path / p).is_file() and not p.endswith(".sh")} == {0o644}
