"""What one benchmark run measured, as read from a result file, before it is mapped to a configuration."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from planner.errors import RequestError


@dataclass(frozen=True, kw_only=True)
class Deployed:
    """The benchmarked deployment as far as a result file or the flags say (None: not said): what a
    file may leave out and flags or the benchmarked plan.json fill in."""

    model: str | None = None
    gpu: str | None = None
    precision: str | None = None
    tp: int | None = None
    ep: int | None = None
    engine: str | None = None
    mtp: int | None = None
    prefix_hit: float | None = None
    replicas: int | None = None


@dataclass(frozen=True, kw_only=True)
class Measurement(Deployed):
    """Medians of one run (a file, a line of a JSONL file, a row of a CSV, one benchmark of a sweep)."""

    source: str
    """The file, with `#N` for the N-th run in it (1-based) when it holds several."""
    tool: str
    """`vllm bench serve`, `sglang bench_serving`, `aiperf`, `guidellm`, `csv`."""
    tool_version: str | None = None
    date: str | None = None
    """When the run happened (ISO), as the file says; None when it does not."""
    engine_version: str | None = None
    isl: float | None = None
    osl: float | None = None
    concurrency: float | None = None
    """Requests in flight across the whole service: the closed-loop limit, or the mean of an open loop."""
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    output_tokens_per_s: float | None = None
    """Output tokens/s of the whole service."""
    qwen_plan_option: str | None = None
    """The plan option the run benchmarked, when qwen-plan's benchmark Job wrote it."""

    def with_setup(self, **given: Any) -> Measurement:
        """Fill the setup fields the file left empty."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for k, v in given.items():
            if data.get(k) is None and v is not None:
                data[k] = v
        return Measurement(**data)


def number(doc: dict[str, Any], key: str, where: str, *, required: bool = False) -> float | None:
    """A finite, non-negative number at `key`, or None when absent (an error when required)."""
    v = doc.get(key)
    if v is None or v == "":
        if required:
            raise RequestError(f"{where}: {key}: missing")
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise RequestError(f"{where}: {key}: expected a number (got {type(v).__name__})")
    try:
        x = float(v)
    except ValueError:
        raise RequestError(f"{where}: {key}: expected a number (got {str(v)[:40]!r})") from None
    if not math.isfinite(x) or x < 0:
        raise RequestError(f"{where}: {key}: expected a finite number >= 0 (got {str(v)[:40]})")
    return x


def integer(doc: dict[str, Any], key: str, where: str) -> int | None:
    x = number(doc, key, where)
    if x is None:
        return None
    if x != int(x) or x < 1:
        raise RequestError(f"{where}: {key}: expected a whole number >= 1 (got {doc[key]})")
    return int(x)


def text(doc: dict[str, Any], key: str) -> str | None:
    v = doc.get(key)
    return str(v).strip() or None if v is not None else None
