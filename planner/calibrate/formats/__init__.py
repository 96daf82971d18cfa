"""Read benchmark result files: detect the tool from the content, return one Measurement per run.

Each reader follows the tool's own writer (the source file is named in its docstring), so a file
is recognised by the keys that writer always puts there, whatever the file is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import planner.calibrate.formats.aiperf as aiperf
import planner.calibrate.formats.csv_table as csv_table
import planner.calibrate.formats.guidellm as guidellm
import planner.calibrate.formats.sglang as sglang
import planner.calibrate.formats.vllm as vllm
from planner.calibrate.measurement import Measurement
from planner.catalog.yaml_io import read_input
from planner.errors import RequestError

FORMATS = "vLLM `bench serve --save-result` JSON, SGLang bench_serving JSONL, GuideLLM report JSON, " \
    "AIPerf/genai-perf profile export JSON, or CSV with columns " + ",".join(csv_table.REQUIRED)

JsonReader = tuple[str, Callable[[dict[str, Any]], bool], Callable[[dict[str, Any], str], Measurement | list[
    Measurement]]]
READERS: list[JsonReader] = [
    ("aiperf", aiperf.recognise, aiperf.read),
    ("guidellm", guidellm.recognise, guidellm.read),
    ("sglang", sglang.recognise, sglang.read),
    ("vllm", vllm.recognise, vllm.read),
]


def read_results(path: Path) -> list[Measurement]:
    """Every run in `path`; one-line RequestError for a file that is none of FORMATS."""
    body = read_input(path, None, RequestError)
    stripped = body.lstrip()
    if not stripped:
        raise RequestError(f"{path}: empty file; expected {FORMATS}")
    if stripped[0] not in "{[":
        return csv_table.read(body, str(path))
    docs = _json_documents(stripped, path)
    out: list[Measurement] = []
    for i, doc in enumerate(docs, start=1):
        where = f"{path}#{i}" if len(docs) > 1 else str(path)
        if not isinstance(doc, dict):
            raise RequestError(f"{where}: expected a JSON object; expected {FORMATS}")
        reader = next((r for _, ok, r in READERS if ok(doc)), None)
        if reader is None:
            keys = ", ".join(sorted(map(str, doc))[:6])
            raise RequestError(f"{where}: not a benchmark result this tool reads (keys: {keys}); expected {FORMATS}")
        got = reader(doc, where)
        out.extend(got if isinstance(got, list) else [got])
    if not out:
        raise RequestError(f"{path}: holds no benchmark run")
    return out


def _json_documents(text: str, path: Path) -> list[Any]:
    """One JSON document, or one per line (SGLang JSONL, vLLM --append-result)."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as whole:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1:
            docs = []
            for n, ln in enumerate(lines, start=1):
                try:
                    docs.append(json.loads(ln))
                except json.JSONDecodeError as exc:
                    raise RequestError(f"{path}: line {n}: invalid JSON ({exc.msg}); truncated or not a "
                                       "result file?") from None
            return docs
        raise RequestError(f"{path}: invalid JSON ({whole.msg} at line {whole.lineno}); truncated or not a "
                           "result file?") from None
    except RecursionError:
        raise RequestError(f"{path}: invalid JSON (nested too deeply)") from None
