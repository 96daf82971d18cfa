"""Turn rows of bench/data/measurements.csv into performance-model cases (shared by accuracy and fit).

A row becomes a case only when the model can express it: a known model and GPU, one replica with TP
(optionally EP) and numeric input/output lengths. Skipped: disaggregated or attention-data-parallel
serving, agentic traces (no fixed lengths), rows without TP or numbers, and throughput/TPOT of bursts
of a variable-length dataset (ShareGPT, sampled lengths: see below). Per-row `notes` are honoured:
throughput columns are already output-only (the notes say which were derived), latencies are used only
from the *median* columns, TTFT is dropped when the note says it includes queueing of a burst, and a
forced (synthetic) MTP acceptance length is used as given.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calib_models import MODELS

from planner.catalog import Catalog, load_catalog
from planner.catalog.schema import Engine, KvDtype, Precision
from planner.perf import Config, Shape

DATA = Path(__file__).resolve().parent / "data" / "measurements.csv"

# substring of the `model` column -> catalog id or bench/calib_models.py id (first match wins)
MODEL_MAP: list[tuple[str, str]] = [
    ("Qwen3.6-27B", "qwen3.5-27b"),
    ("Qwen3.6-35B-A3B", "qwen3.5-35b-a3b"),
    ("Qwen3.5-35B-A3B", "qwen3.5-35b-a3b"),
    ("Qwen3.5-397B", "qwen3.5-397b-a17b"),
    ("Qwen3.5-9B", "qwen3.5-9b"),
    ("Qwen3-Next", "qwen3-next-80b-a3b"),
    ("Qwen3-Coder-Next", "qwen3-next-80b-a3b"),
    ("gpt-oss-120b", "gpt-oss-120b"),
    ("DeepSeek-R1", "deepseek-r1"),
    ("Llama-3.3-70B", "llama-3.3-70b"),
    ("Qwen3-235B", "qwen3-235b-a22b"),
    ("Qwen3-30B-A3B", "qwen3-30b-a3b"),
    ("Qwen3-32B", "qwen3-32b"),
]
GPU_MAP = {"H100": "h100-sxm", "H200": "h200", "B200": "b200", "MI300X": "mi300x", "MI325X": "mi325x",
           "MI355X": "mi355x"}


@dataclass(frozen=True)
class Case:
    row_id: str
    label: str
    cfg: Config
    shape: Shape
    batch: int
    tpot_ms: float | None
    ttft_ms: float | None
    thr: float | None
    """Output tokens/s of one replica."""
    family: str
    source: str
    """The publication the row comes from (repository/page, without commit or run id): the unit of
    leave-one-source-out cross-validation."""


def source_group(source: str) -> str:
    """`github sgl-project/sglang docs/… @abc` -> `github sgl-project/sglang docs/…`; InferenceMAX runs
    of one artifact series count as one source."""
    s = re.split(r" @| \(|, run", source)[0].strip()
    return "InferenceMAX/InferenceX" if "InferenceMAX" in s or "inferencex" in s.lower() else s


def _num(text: str) -> float | None:
    m = re.match(r"^\s*~?\s*([0-9][0-9,]*\.?[0-9]*)", text or "")
    return float(m.group(1).replace(",", "")) if m else None


def _precision(text: str) -> Precision | None:
    t = text.upper()
    if "W4A16" in t:
        # 4-bit weights with 16-bit activations: the GEMMs run at the BF16 rate, which is what the
        # planner's weight-only `int4` precision describes (its scales are 1/32 byte per weight instead
        # of NVFP4's 1/16: 3 % of the expert bytes).
        return "int4"
    if t.startswith("BF16"):
        return "bf16"
    if t.startswith("FP8"):
        return "fp8"
    if t.startswith(("NVFP4", "MXFP4")):
        return "nvfp4"
    return None


def _engine(text: str) -> Engine | None:
    if "SGLang" in text:
        return "sglang"
    if any(s in text for s in ("vLLM", "TensorRT", "NIM", "ATOM")):
        return "vllm"  # TRT-LLM, NIM and ATOM mix prefill chunks into decode steps like vLLM
    return None


def engine_version(engine: str, version: str) -> str | None:
    """The SGLang or vLLM release a row names (`lmsysorg/sglang:v0.5.6-cu129` -> `0.5.6`), so the row is
    evaluated with that release's defaults (planner/perf/engines.yaml `by_version`). None for rows run
    on other engines (TRT-LLM, NIM, ATOM: modelled with vLLM's defaults) or naming no release (`main`,
    nightly images): those get the pinned release's."""
    if not ("SGLang" in engine or engine.startswith(("vLLM", "Dynamo + vLLM"))):
        return None
    m = re.search(r"(?<![\d.])0\.\d+(?:\.\d+)?", version)
    return m.group(0) if m else None


# Launch flags a row's notes quote (SGLang / vLLM spelling) -> the engine settings they replace.
ENGINE_FLAGS: list[tuple[str, tuple[str, ...], type]] = [
    (r"mem-fraction(?:-static)?[ =]([0-9.]+)|--gpu-memory-utilization[ =]([0-9.]+)", ("gpu_memory_utilization",),
     float),
    (r"max-running-requests[ =](\d+)|--max-num-seqs[ =](\d+)", ("max_num_seqs", "small_max_num_seqs"), int),
    (r"chunked-prefill(?:-size)?[ =](\d+)|max-num-batched-tokens[ =](\d+)", ("chunk_tokens", "small_chunk_tokens"),
     int),
    (r"scheduler-recv-interval[ =](\d+)", ("recv_interval",), int),
]


# A benchmark whose prompts and outputs all have the nominal lengths (bench_serving random, range ratio 1).
FIXED_LENGTHS = re.compile(r"range-ratio 1(?:\.0)?(?![.\d])")


def engine_args(notes: str) -> tuple[tuple[str, float], ...]:
    """The engine settings the measured deployment launched with, where its notes say (the model's
    defaults otherwise): `--mem-fraction-static 0.8` -> (("gpu_memory_utilization", 0.8),)."""
    out: list[tuple[str, float]] = []
    for pattern, fields, kind in ENGINE_FLAGS:
        m = re.search(pattern, notes)
        if m:
            value = kind(next(g for g in m.groups() if g).rstrip("."))
            out += [(f, value) for f in fields]
    return tuple(out)


def _batch(text: str, notes: str) -> tuple[int, bool] | None:
    """(concurrency, is_burst) — a burst means every request was sent at once."""
    n = _num(text)
    if n is not None and "offline" not in text:
        return int(n), "queued at once" in notes
    if text.startswith("unbounded"):
        return 1024, True
    if text.startswith("max"):
        return 8192, True
    m = re.search(r"(\d+) prompts at once", text)
    return (int(m.group(1)), True) if m else None


def _mtp(spec: str, notes: str) -> tuple[int, float | None] | None:
    s = spec.lower()
    if s in ("", "none", "not stated"):
        return 0, None
    if "eagle3" in s:
        return None  # separate draft model, not the model's MTP head
    steps = 3 if ("steps=3" in s or "steps 3" in s or "mtp" in s or "nextn" in s) else 1
    # A forced acceptance length (ACC_LEN=, AL=) or the one the source measured and reports.
    m = re.search(r"(?:ACC_LEN=|AL=|[Aa]ccept length )([0-9]+\.?[0-9]*)", spec + " " + notes)
    if m:
        return steps, _acceptance_for(float(m.group(1)), steps)
    return steps, None


def _acceptance_for(accept_len: float, steps: int) -> float:
    """Per-token acceptance a with 1 + a + … + a^steps = accept_len (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if sum(mid**i for i in range(steps + 1)) < accept_len:
            lo = mid
        else:
            hi = mid
    return lo


def load_cases(cat: Catalog | None = None, path: Path = DATA) -> tuple[list[Case], dict[str, str]]:
    """(cases, skipped row id -> reason)."""
    cat = cat or load_catalog()
    cases: list[Case] = []
    skipped: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        rid, notes = r["id"], r["notes"]
        mid = next((m for key, m in MODEL_MAP if key in r["model"]), None)
        if mid is None:
            skipped[rid] = "model not described"
            continue
        model = cat.models.get(mid) or MODELS.get(mid)
        gpu_id = GPU_MAP.get(r["gpu"].strip())
        if model is None or gpu_id is None or gpu_id not in cat.gpus:
            skipped[rid] = "model or GPU not in catalog"
            continue
        dp = r["dp"].lower()
        if any(w in dp for w in ("attention", "disagg", "agg")) or "AgentX" in r["isl"]:
            skipped[rid] = "disaggregated / attention-DP / trace workload"
            continue
        tp, isl, osl = _num(r["tp"]), _num(r["isl"]), _num(r["osl"])
        prec, engine = _precision(r["weights_precision"]), _engine(r["engine"])
        batch = _batch(r["concurrency"], notes)
        mtp = _mtp(r["spec_decode"], notes)
        if None in (tp, isl, osl, prec, engine, batch, mtp) or "/" in r["tp"]:
            skipped[rid] = "missing TP, lengths, precision, engine, concurrency or spec-decode"
            continue
        assert tp and isl and osl and prec and engine and batch and mtp is not None
        ngpu = _num(r["num_gpus"]) or tp
        replicas = max(ngpu / tp, 1.0)
        ep = int(_num(r["ep"]) or 1)
        ep = ep if ep > 1 and int(tp) % ep == 0 else 1
        kv: KvDtype = "fp8" if "FP8" in r["kv_precision"].upper() else "bf16"
        thr = _num(r["output_tok_s_total"])
        tpot = _num(r["tpot_ms_median"]) or _num(r["itl_ms_median"])
        ttft = _num(r["ttft_ms_median"])
        conc, burst = batch
        if burst or "includes queueing" in notes:
            ttft = None  # a burst's median TTFT is queueing for the whole benchmark
        if notes.startswith("Before tuned"):
            skipped[rid] = "the source's untuned-kernel baseline (the planner assumes tuned kernels)"
            continue
        if burst and any(w in notes for w in ("ShareGPT", "sampled")):
            # A whole variable-length dataset released at once: the makespan is set by the few longest
            # outputs decoding at a tiny batch, and short requests' TPOT by the opening prefill storm.
            # Neither is the steady state at one fixed shape that the model describes.
            tpot = thr = None
        if tpot is None and ttft is None and thr is None:
            skipped[rid] = "no steady-state metric (none reported, or a variable-length burst)"
            continue
        cfg = Config(model=model, gpu=cat.gpus[gpu_id], precision=prec, tp=int(tp), ep=ep, kv_dtype=kv,
                     engine=engine, mtp=mtp[0], mtp_acceptance=mtp[1],
                     engine_version=engine_version(r["engine"], r["engine_version"]), engine_args=engine_args(notes))
        label = f"{mid}/{gpu_id}/{prec}/tp{int(tp)}/{engine}"
        # Identical lengths (`--random-range-ratio 1`) and a fixed number of decode steps (no speculative
        # decoding) keep a closed-loop benchmark's clients in lock-step cohorts (planner.perf.Shape.cohort).
        cohort = bool(FIXED_LENGTHS.search(notes + " " + r["prefix_cache"])) and mtp[0] == 0
        cases.append(Case(rid, label, cfg, Shape(isl=int(isl), osl=int(osl), cohort=cohort),
                          max(int(conc / replicas), 1),
                          tpot, ttft, thr / replicas if thr else None, cat.gpus[gpu_id].family,
                          source_group(r["source"])))
    return cases, skipped
