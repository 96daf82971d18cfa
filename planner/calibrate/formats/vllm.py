"""`vllm bench serve --save-result` JSON (vllm/benchmarks/serve.py, `main_async`: `result_json`).

The writer puts the run's setup (`date` as YYYYmmdd-HHMMSS, `backend`, `model_id`, `num_prompts`,
`request_rate`, `max_concurrency`, every `--metadata KEY=VALUE`) beside the results (`completed`,
`total_input_tokens`, `total_output_tokens`, `output_throughput`, `request_throughput`, and per
`--percentile-metrics` metric `median_<m>_ms`). Input and output lengths are the totals over the
completed requests. qwen-plan's benchmark Job adds `qwen_plan_*` metadata (planner/render/benchmark.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from planner.calibrate.measurement import Measurement, integer, number, text
from planner.errors import RequestError


def recognise(doc: dict[str, Any]) -> bool:
    return "date" in doc and "backend" in doc and "completed" in doc and "server_info" not in doc


def _date(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return dt.datetime.strptime(raw, "%Y%m%d-%H%M%S").isoformat()
    except ValueError:
        return None


def read(doc: dict[str, Any], where: str) -> Measurement:
    completed = number(doc, "completed", where, required=True)
    if not completed:
        raise RequestError(f"{where}: completed: no request completed; nothing to calibrate on")
    ttft, tpot = number(doc, "median_ttft_ms", where), number(doc, "median_tpot_ms", where)
    if tpot is None:
        tpot = number(doc, "median_itl_ms", where)
    thr = number(doc, "output_throughput", where)
    if ttft is None and tpot is None and thr is None:
        raise RequestError(f"{where}: median_ttft_ms, median_tpot_ms, output_throughput: missing; "
                           "not a vLLM serving benchmark result")
    total_in = number(doc, "total_input_tokens", where, required=True)
    total_out = number(doc, "total_output_tokens", where, required=True)
    assert total_in is not None and total_out is not None
    return Measurement(
        source=where, tool="vllm bench serve", tool_version=text(doc, "vllm_version"), date=_date(text(doc, "date")),
        model=text(doc, "model_id"), isl=total_in / completed, osl=total_out / completed,
        concurrency=_concurrency(doc, where), ttft_ms=ttft, tpot_ms=tpot, output_tokens_per_s=thr,
        qwen_plan_option=text(doc, "qwen_plan_option"),
        gpu=text(doc, "gpu"), precision=text(doc, "precision"), tp=integer(doc, "tp", where),
        engine="vllm" if str(doc.get("backend", "")).startswith(("vllm", "openai")) else None,
    )


def _concurrency(doc: dict[str, Any], where: str) -> float | None:
    """The closed-loop limit when the rate is unbounded; otherwise the mean in flight (Little's law:
    requests per second times mean end-to-end latency), capped by the limit."""
    limit = number(doc, "max_concurrency", where)
    rate = doc.get("request_rate")
    unbounded = rate in ("inf", None) or (isinstance(rate, float) and rate == float("inf"))
    if limit is not None and unbounded:
        return limit
    rps, e2e = number(doc, "request_throughput", where), number(doc, "mean_e2el_ms", where)
    if rps is None or e2e is None:
        return limit
    mean = rps * e2e / 1000.0
    return min(mean, limit) if limit is not None else mean
