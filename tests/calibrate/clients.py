"""Run a real benchmark client (AIPerf, from PyPI: tests/calibrate/setup.sh) against the stand-in server.

Everything stays on the loopback interface, every process has a time limit, and the server stops by
itself. The client's token counts come from the server (`--use-server-token-count`), and its prompts
are made with a word-level stand-in tokenizer written here (no tokenizer can be fetched).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".cache" / "clients" / "venv"
AIPERF = VENV / "bin" / "aiperf"
SERVER = Path(__file__).resolve().parent / "sim_server.py"


def available() -> bool:
    return (VENV / ".done").exists() and AIPERF.exists()


# tests/run.sh installs the client in the background, runs `-m "not clients"`, then `-m clients` with
# QWEN_PLAN_REQUIRE_CLIENTS set, so CI never skips these; a developer without .cache/clients does.
REQUIRED = bool(os.environ.get("QWEN_PLAN_REQUIRE_CLIENTS"))
NEEDS_CLIENTS = [pytest.mark.clients,
                 pytest.mark.skipif(not available() and not REQUIRED, reason="run tests/calibrate/setup.sh")]


def tokenizer(folder: Path) -> Path:
    """A word-level tokenizer: every word is one token, as the stand-in server counts them."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"[UNK]": 0, "<|endoftext|>": 1, "<|im_end|>": 2}
    tok = {"version": "1.0", "truncation": None, "padding": None, "normalizer": None,
           "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": True} for t, i in vocab.items() if t != "[UNK]"],
           "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
           "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}}
    (folder / "tokenizer.json").write_text(json.dumps(tok), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "unk_token": "[UNK]", "model_max_length": 262144}), encoding="utf-8")
    return folder


class Server:
    """The stand-in server in its own process, on 127.0.0.1 and an ephemeral port."""

    def __init__(self, work: Path, seconds: float) -> None:
        port_file = work / "port"
        self.proc = subprocess.Popen([sys.executable, str(SERVER), "--port-file", str(port_file),
                                      "--seconds", str(seconds)], cwd=work, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                self.stop()
                raise RuntimeError(f"stand-in server did not start: {err[-2000:]}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text(encoding='utf-8')}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass(frozen=True)
class Run:
    """One benchmark: prompt and output tokens, and the closed-loop concurrency."""

    isl: int
    osl: int
    concurrency: int
    requests: int

    @property
    def name(self) -> str:
        return f"isl{self.isl}-osl{self.osl}-c{self.concurrency}"


def aiperf_command(run: Run, url: str, tok: Path, out: Path) -> list[str]:
    return [str(AIPERF), "profile", "--model", "qwen3.5-27b", "--url", url, "--endpoint-type", "chat",
            "--streaming", "--tokenizer", str(tok), "--use-server-token-count",
            "--synthetic-input-tokens-mean", str(run.isl), "--synthetic-input-tokens-stddev", "0",
            "--output-tokens-mean", str(run.osl), "--output-tokens-stddev", "0",
            "--concurrency", str(run.concurrency), "--request-count", str(run.requests),
            "--artifact-dir", str(out), "--ui-type", "none", "--random-seed", "7",
            # Fewer helper processes: no GPU or server metrics to collect here, one worker is plenty.
            "--no-server-metrics", "--no-gpu-telemetry", "--record-processors", "1", "--workers-max", "1"]


def run_all(runs: list[Run], work: Path, parallel: int = 2, timeout: float = 240) -> dict[str, Path]:
    """Each run against its own server (its in-flight count is the run's concurrency); `parallel` at a time.
    Returns run name -> the client's profile_export_aiperf.json."""
    tok = tokenizer(work / "tokenizer")
    out: dict[str, Path] = {}
    pending = list(runs)
    while pending:
        batch, pending = pending[:parallel], pending[parallel:]
        started = []
        for run in batch:
            folder = work / run.name
            folder.mkdir()
            server = Server(folder, seconds=timeout + 30)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "HF_HUB_OFFLINE": "",
                   "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
            proc = subprocess.Popen(aiperf_command(run, server.url, tok, folder / "artifacts"), cwd=folder, env=env,
                                    stdout=(folder / "client.log").open("wb"), stderr=subprocess.STDOUT)
            started.append((run, folder, server, proc))
        for run, folder, server, proc in started:
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = -9
            finally:
                server.stop()
            result = folder / "artifacts" / "profile_export_aiperf.json"
            if rc != 0 or not result.exists():
                log = (folder / "client.log").read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"aiperf {run.name} failed (exit {rc}): {log[-3000:]}")
            out[run.name] = result
    return out
