"""The plain CSV: one run per row, medians, empty cells allowed (the issue's column list).

    model,gpu,precision,tp,engine,isl,osl,concurrency,ttft_ms,tpot_ms,output_tokens_per_s[,mtp,prefix_hit,ep]

Optional `replicas` (throughput and concurrency are then of the whole service), `date` and
`engine_version` (the release that ran, e.g. 0.5.23: predicted with that release's defaults).
"""

from __future__ import annotations

import csv
import io

from planner.calibrate.measurement import Measurement, integer, number, text
from planner.errors import RequestError

REQUIRED = ("model", "gpu", "precision", "tp", "engine", "isl", "osl", "concurrency", "ttft_ms", "tpot_ms",
            "output_tokens_per_s")
OPTIONAL = ("mtp", "prefix_hit", "ep", "replicas", "date", "engine_version")


def read(body: str, path: str) -> list[Measurement]:
    reader = csv.DictReader(io.StringIO(body))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RequestError(f"{path}: not a result file this tool reads: CSV without column "
                           f"{missing[0]!r} (needs {','.join(REQUIRED)})")
    unknown = [c for c in header if c not in (*REQUIRED, *OPTIONAL)]
    if unknown:
        raise RequestError(f"{path}: column {unknown[0]!r}: unknown; accepted: {', '.join((*REQUIRED, *OPTIONAL))}")
    out = []
    for n, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            raise RequestError(f"{path}: line {n}: more cells than columns")
        if not any(row.values()):
            continue
        where = f"{path}:{n}"
        mtp = number(row, "mtp", where)
        out.append(Measurement(
            source=where, tool="csv", date=text(row, "date"), model=text(row, "model"), gpu=text(row, "gpu"),
            precision=text(row, "precision"), tp=integer(row, "tp", where), ep=integer(row, "ep", where),
            engine=text(row, "engine"), engine_version=text(row, "engine_version"),
            mtp=int(mtp) if mtp is not None else None,
            prefix_hit=number(row, "prefix_hit", where), replicas=integer(row, "replicas", where),
            isl=number(row, "isl", where), osl=number(row, "osl", where),
            concurrency=number(row, "concurrency", where), ttft_ms=number(row, "ttft_ms", where),
            tpot_ms=number(row, "tpot_ms", where), output_tokens_per_s=number(row, "output_tokens_per_s", where),
        ))
    if not out:
        raise RequestError(f"{path}: CSV has a header but no rows")
    return out
