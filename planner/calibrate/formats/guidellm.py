"""GuideLLM benchmark report JSON (guidellm/benchmark/schemas/report.py `GenerativeBenchmarksReport`).

`metadata.guidellm_version`; `config` (the scenario: `spec.backend.model`, ...); `benchmarks[]`, one per
rate or concurrency of the profile, each with `config.strategy` (`type_` `concurrent` with `streams`,
or a rate), `scheduler_state.start_time` (Unix seconds) and `metrics`, whose entries are
`StatusDistributionSummary`s: `{successful: {mean, median, percentiles, ...}, errored: ..., ...}`.
TPOT is `inter_token_latency_ms` (without the first token, as vLLM's); lengths are the successful
requests' `prompt_token_count` and `output_token_count`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from planner.calibrate.measurement import Measurement, number, text
from planner.errors import RequestError


def recognise(doc: dict[str, Any]) -> bool:
    meta = doc.get("metadata")
    return isinstance(doc.get("benchmarks"), list) and (
        (isinstance(meta, dict) and "guidellm_version" in meta) or doc.get("type_") == "generative_benchmarks_report")


def _summary(metrics: dict[str, Any], key: str, stat: str, where: str) -> float | None:
    m = metrics.get(key)
    if m is None:
        return None
    ok = m.get("successful") if isinstance(m, dict) else None
    if not isinstance(ok, dict):
        raise RequestError(f"{where}: metrics.{key}.successful: missing")
    return number(ok, stat, f"{where}: metrics.{key}.successful")


def _model(scenario: dict[str, Any]) -> str | None:
    """`config.spec.backend.model` (a scenario), or `config.model` (older reports)."""
    spec = scenario.get("spec")
    backend = spec.get("backend") if isinstance(spec, dict) else None
    if isinstance(backend, dict) and backend.get("model"):
        return text(backend, "model")
    return text(scenario, "model")


def read(doc: dict[str, Any], where: str) -> list[Measurement]:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    scenario = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    assert isinstance(meta, dict) and isinstance(scenario, dict)
    benches = doc["benchmarks"]
    if not benches:
        raise RequestError(f"{where}: benchmarks: empty; the run recorded no benchmark")
    out = []
    for i, b in enumerate(benches, start=1):
        here = f"{where}#{i}" if len(benches) > 1 else where
        metrics = b.get("metrics") if isinstance(b, dict) else None
        if not isinstance(metrics, dict):
            raise RequestError(f"{here}: metrics: missing")
        isl = _summary(metrics, "prompt_token_count", "mean", here)
        osl = _summary(metrics, "output_token_count", "mean", here)
        if not isl or not osl:
            raise RequestError(f"{here}: metrics.prompt_token_count/output_token_count: missing; the lengths the "
                               "latencies belong to are unknown")
        cfg = b.get("config") if isinstance(b.get("config"), dict) else {}
        strategy = cfg.get("strategy") if isinstance(cfg, dict) and isinstance(cfg.get("strategy"), dict) else {}
        assert isinstance(strategy, dict)
        streams = strategy.get("streams") if strategy.get("type_") == "concurrent" else None
        conc = float(streams) if isinstance(streams, int) else _summary(metrics, "request_concurrency", "mean", here)
        state = b.get("scheduler_state") if isinstance(b.get("scheduler_state"), dict) else {}
        start = state.get("start_time") if isinstance(state, dict) else None
        date = dt.datetime.fromtimestamp(start, dt.UTC).isoformat() if isinstance(start, int | float) else None
        out.append(Measurement(
            source=here, tool="guidellm", tool_version=text(meta, "guidellm_version"), date=date,
            model=_model(scenario), isl=isl, osl=osl, concurrency=conc,
            ttft_ms=_summary(metrics, "time_to_first_token_ms", "median", here),
            tpot_ms=_summary(metrics, "inter_token_latency_ms", "median", here),
            output_tokens_per_s=_summary(metrics, "output_tokens_per_second", "mean", here),
        ))
    return out
