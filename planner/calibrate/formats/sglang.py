"""SGLang `bench_serving` JSONL (sglang/benchmark/serving.py, `benchmark`: one `result` per line).

Each line: `backend`, `dataset_name`, `request_rate`, `max_concurrency`, `server_info` (the server's
`/server_info`: its arguments such as `model_path`, `tp_size`, `ep_size`, `quantization`, and
`version`; null when the server is not SGLang), `completed`, `total_input_tokens`,
`total_output_tokens`, `output_throughput`, `median_ttft_ms`, `median_tpot_ms`, `median_itl_ms` and
`concurrency` (the mean in flight). It carries no date.
"""

from __future__ import annotations

from typing import Any

from planner.calibrate.measurement import Measurement, number, text
from planner.errors import RequestError


def recognise(doc: dict[str, Any]) -> bool:
    return "server_info" in doc and "dataset_name" in doc and "completed" in doc


def read(doc: dict[str, Any], where: str) -> Measurement:
    completed = number(doc, "completed", where, required=True)
    if not completed:
        raise RequestError(f"{where}: completed: no request completed; nothing to calibrate on")
    total_in = number(doc, "total_input_tokens", where, required=True)
    total_out = number(doc, "total_output_tokens", where, required=True)
    assert total_in is not None and total_out is not None
    info = doc.get("server_info") if isinstance(doc.get("server_info"), dict) else {}
    assert isinstance(info, dict)
    sglang_server = "tp_size" in info
    limit = number(doc, "max_concurrency", where)
    mean = number(doc, "concurrency", where)
    conc = min(mean, limit) if mean is not None and limit is not None else (mean or limit)
    tp = info.get("tp_size")
    ep = info.get("ep_size")
    steps = info.get("speculative_num_steps") if info.get("speculative_algorithm") else None
    return Measurement(
        source=where, tool="sglang bench_serving", date=None,
        model=text(info, "served_model_name") or text(info, "model_path"),
        engine="sglang" if sglang_server or doc.get("backend") == "sglang" else None,
        engine_version=text(info, "version"),
        tp=int(tp) if isinstance(tp, int) and tp > 0 else None,
        ep=int(ep) if isinstance(ep, int) and ep > 0 else None,
        precision=text(info, "quantization"),
        mtp=int(steps) if isinstance(steps, int) else None,
        isl=total_in / completed, osl=total_out / completed, concurrency=conc,
        ttft_ms=number(doc, "median_ttft_ms", where),
        tpot_ms=number(doc, "median_tpot_ms", where) or number(doc, "median_itl_ms", where),
        output_tokens_per_s=number(doc, "output_throughput", where),
    )
