"""AIPerf `profile` export `profile_export_aiperf.json` (aiperf/exporters: one summary per run), and
genai-perf's `profile_export_genai_perf.json`, its predecessor with the same metric layout.

Each metric is `{"unit", "avg", "p50", ...}`: `time_to_first_token`, `inter_token_latency` (TPOT
without the first token), `output_token_throughput` (`avg` only), `input_sequence_length`,
`output_sequence_length`; `effective_concurrency` is the mean in flight. `input_config` holds what
was asked: `models.items[].name`, the profiling phase's `concurrency` or `request_rate`.
"""

from __future__ import annotations

from typing import Any

from planner.calibrate.measurement import Measurement, number, text
from planner.errors import RequestError


def recognise(doc: dict[str, Any]) -> bool:
    return "time_to_first_token" in doc and ("aiperf_version" in doc or "input_config" in doc)


def _stat(doc: dict[str, Any], key: str, where: str, stat: str = "p50") -> float | None:
    m = doc.get(key)
    if m is None:
        return None
    if not isinstance(m, dict):
        raise RequestError(f"{where}: {key}: expected an object with {stat} (got {type(m).__name__})")
    return number(m, stat, f"{where}: {key}") if stat in m else number(m, "avg", f"{where}: {key}")


def _model(cfg: dict[str, Any]) -> str | None:
    models = cfg.get("models")
    if isinstance(models, dict):
        items = models.get("items") or []
        if items and isinstance(items[0], dict):
            return text(items[0], "name")
    if isinstance(models, list) and models:
        return str(models[0])
    model = cfg.get("model")  # genai-perf: a list of names
    if isinstance(model, list) and model:
        return str(model[0])
    return str(model) if isinstance(model, str) else None


def _asked_concurrency(cfg: dict[str, Any]) -> float | None:
    for phase in cfg.get("phases") or []:
        if isinstance(phase, dict) and phase.get("kind", "profiling") == "profiling":
            c = phase.get("concurrency")
            if isinstance(c, int | float) and not isinstance(c, bool) and phase.get("type") == "concurrency":
                return float(c)
    c = cfg.get("concurrency")  # genai-perf
    return float(c) if isinstance(c, int | float) and not isinstance(c, bool) and c > 0 else None


def read(doc: dict[str, Any], where: str) -> Measurement:
    cfg = doc.get("input_config") if isinstance(doc.get("input_config"), dict) else {}
    assert isinstance(cfg, dict)
    if doc.get("was_cancelled") is True:
        raise RequestError(f"{where}: was_cancelled: the run was cancelled; its medians are not a steady state")
    ttft = _stat(doc, "time_to_first_token", where)
    tpot = _stat(doc, "inter_token_latency", where)
    thr = _stat(doc, "output_token_throughput", where, "avg")
    if ttft is None and tpot is None and thr is None:
        raise RequestError(f"{where}: time_to_first_token, inter_token_latency: missing; no latency measured")
    isl = _stat(doc, "input_sequence_length", where, "avg")
    osl = _stat(doc, "output_sequence_length", where, "avg")
    if isl is None or osl is None:
        raise RequestError(f"{where}: input_sequence_length/output_sequence_length: missing; the lengths the "
                           "latencies belong to are unknown")
    conc = _asked_concurrency(cfg) or _stat(doc, "effective_concurrency", where, "avg")
    start = text(doc, "start_time")
    return Measurement(
        source=where, tool="aiperf" if "aiperf_version" in doc else "genai-perf",
        tool_version=text(doc, "aiperf_version"), date=start, model=_model(cfg),
        isl=isl, osl=osl, concurrency=conc, ttft_ms=ttft, tpot_ms=tpot, output_tokens_per_s=thr,
    )
