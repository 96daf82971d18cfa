"""`qwen-plan estimate`: memory, latency and throughput of one replica (or of each line of --cases)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from planner.catalog import Catalog
from planner.catalog.schema import ENGINES, PRECISIONS
from planner.catalog.yaml_io import open_input
from planner.cli.common import catalog_option, get_catalog
from planner.errors import PlannerError, RequestError
from planner.feasibility import Layout, check
from planner.perf import Bands, Config, Estimate, Shape, bands, calibration_caveat, estimate, max_batch

KV_DTYPES = ("bf16", "fp8")
REQUIRED = ("model", "gpu", "precision", "tp", "isl", "osl")
VISUAL_FIELDS = ("images", "image_pixels", "video_frames", "frame_pixels")
CASE_FIELDS = {"model", "gpu", "precision", "tp", "batch", "isl", "osl", "ep", "kv_dtype", "engine", "mtp",
               "prefix_hit", "language_model_only", *VISUAL_FIELDS}

# flat Estimate.breakdown key -> (group, name) in the JSON output
GROUPS: dict[str, tuple[str, str]] = {
    "weights_gb": ("memory_gb", "weights"),
    "kv_cache_gb": ("memory_gb", "kv_cache"),
    "recurrent_state_gb": ("memory_gb", "recurrent_state"),
    "reserve_gb": ("memory_gb", "activations_workspace"),
    "budget_gb": ("memory_gb", "budget"),
    "shortfall_gb": ("memory_gb", "shortfall"),
    "decode_memory_ms": ("decode_ms", "memory"),
    "decode_compute_ms": ("decode_ms", "compute"),
    "decode_comm_ms": ("decode_ms", "communication"),
    "step_overhead_ms": ("decode_ms", "engine_overhead"),
    "step_sequences_ms": ("decode_ms", "per_request"),
    "draft_ms": ("decode_ms", "mtp_draft"),
    "prefill_share_ms": ("decode_ms", "interleaved_prefill"),
    "step_ms": ("decode_ms", "step"),
    "ttft_prefill_memory_ms": ("prefill_ms", "memory"),
    "ttft_prefill_compute_ms": ("prefill_ms", "compute"),
    "ttft_prefill_comm_ms": ("prefill_ms", "communication"),
    "ttft_prefill_ms": ("prefill_ms", "total"),
    "ttft_vision_ms": ("prefill_ms", "vision_encoder"),
    "ttft_wait_ms": ("prefill_ms", "wait_for_step"),
    "ttft_queue_ms": ("prefill_ms", "queue_for_memory"),
    "ttft_request_overhead_ms": ("prefill_ms", "request_overhead"),
}


def _num(v: float) -> float | None:
    return round(v, 3) if math.isfinite(v) else None


def to_json(e: Estimate) -> dict[str, Any]:
    breakdown: dict[str, Any] = {}
    for key, value in sorted(e.breakdown.items()):
        group, name = GROUPS.get(key, ("other", key))
        breakdown.setdefault(group, {})[name] = _num(value)
    return {
        "fits": e.fits,
        "batch": e.batch,
        "effective_batch": e.effective_batch,
        "memory_per_gpu_gb": _num(e.memory_per_gpu_gb),
        "max_concurrency": e.max_concurrency,
        "ttft_ms": _num(e.ttft_ms),
        "tpot_ms": _num(e.tpot_ms),
        "output_tokens_per_s": _num(e.output_tokens_per_s),
        "output_tokens_per_s_per_gpu": _num(e.output_tokens_per_s_per_gpu),
        "breakdown": breakdown,
    }


# Upper bounds by meaning, far past any real replica, so no computation overflows or loops.
LIMITS: dict[str, int] = {"tp": 1024, "ep": 1024, "mtp": 16, "batch": 1_000_000, "isl": 10_000_000,
                          "osl": 1_000_000, "image_pixels": 100_000_000, "frame_pixels": 100_000_000}
VISUAL_COUNT_MAX = 100_000  # images or frames per request
LINE_MAX_BYTES = 1 << 20  # one --cases line


def _int(name: str, v: Any, minimum: int) -> int:
    top = LIMITS[name]
    if isinstance(v, bool) or not isinstance(v, int) or not minimum <= v <= top:
        raise RequestError(f"{name}: must be an integer in {minimum}..{top:,} (got {_short(v)})")
    return v


def _short(v: Any) -> str:
    """repr, cut short: a 400-digit number or a long string does not belong in a one-line error."""
    text = repr(v) if not isinstance(v, int) or abs(v) < 10**30 else f"a {len(str(abs(v)))}-digit number"
    return text if len(text) <= 60 else text[:57] + "..."


def _flag(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise RequestError(f"{name}: must be true or false (got {_short(v)})")
    return v


def _count(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= VISUAL_COUNT_MAX:
        raise RequestError(f"{name}: must be a number in 0..{VISUAL_COUNT_MAX:,} (got {_short(v)})")
    return float(v)


def _choice(name: str, v: Any, accepted: tuple[str, ...]) -> Any:
    if isinstance(v, str) and v.lower() in accepted:  # FP8, BF16, vLLM as benchmarks write them
        return v.lower()
    if v not in accepted:
        raise RequestError(f"{name}: {_short(v)} is not one of {', '.join(accepted)}")
    return v


def run_case(cat: Catalog, case: dict[str, Any]) -> dict[str, Any]:
    """One estimate from a mapping of the command's fields; bad values raise PlannerError."""
    unknown = sorted(map(str, set(case) - CASE_FIELDS))
    if unknown:
        raise RequestError(f"{_short(unknown[0])}: unknown field; accepted: {', '.join(sorted(CASE_FIELDS))}")
    missing = [f for f in REQUIRED if case.get(f) is None]
    if missing:
        raise RequestError(f"{missing[0]}: required")
    model = cat.model(str(case["model"]))
    gpu = cat.gpu(str(case["gpu"]))
    named = [c for c in model.checkpoints if c.repo.lower() == str(case["model"]).lower()]
    if named and str(case.get("precision", "")).lower() != named[0].precision:
        raise RequestError(f"precision: {case['model']} is the {named[0].precision} checkpoint, "
                           f"not {case.get('precision')}")
    hit = case.get("prefix_hit", 0.0)
    if isinstance(hit, bool) or not isinstance(hit, int | float) or not 0.0 <= hit <= 1.0:
        raise RequestError(f"prefix_hit: must be a number within 0..1 (got {_short(hit)})")
    cfg = Config(
        model=model,
        gpu=gpu,
        precision=_choice("precision", case["precision"], PRECISIONS),
        tp=_int("tp", case["tp"], 1),
        ep=_int("ep", case.get("ep", 1), 1),
        kv_dtype=_choice("kv_dtype", case.get("kv_dtype", "bf16"), KV_DTYPES),
        engine=_choice("engine", case.get("engine", "vllm"), ENGINES),
        mtp=_int("mtp", case.get("mtp", 0), 0),
        language_model_only=_flag("language_model_only", case.get("language_model_only", False)),
    )
    verdict = check(model, gpu, cfg.precision, cfg.engine, Layout(tp=cfg.tp, ep=cfg.ep), hypothetical=True)
    if verdict.problem is not None:
        raise RequestError(verdict.problem.at())
    visual = {f: float(_int(f, case.get(f) or 0, 0)) if f in LIMITS else _count(f, case.get(f) or 0)
              for f in VISUAL_FIELDS}
    for count, size in (("images", "image_pixels"), ("video_frames", "frame_pixels")):
        if (visual[count] > 0) != (visual[size] > 0):
            raise RequestError(f"{count}/{size}: give both (how many, and pixels each) or neither")
    if cfg.language_model_only and (visual["images"] or visual["video_frames"]):
        raise RequestError("language_model_only: a text-only deployment cannot take images or video")
    shape = Shape(isl=_int("isl", case["isl"], 1), osl=_int("osl", case["osl"], 1), prefix_hit=float(hit),
                  images=visual["images"], image_pixels=int(visual["image_pixels"]),
                  video_frames=visual["video_frames"], frame_pixels=int(visual["frame_pixels"]))
    batch = case.get("batch")
    if batch is None:
        batch = max(max_batch(cfg, shape), 1)
    est = estimate(cfg, shape, _int("batch", batch, 1))
    out = to_json(est)
    caveats = list(verdict.caveats)
    band = bands(cfg, shape, est)
    if band is not None:
        out["bands"] = band_json(band)
        if band.outside:
            caveats.append(f"outside the measured range ({'; '.join(band.outside)}): "
                           f"error band widened {band.widen:.1f}x")
    uncalibrated = calibration_caveat(gpu)
    if uncalibrated:
        caveats.append(uncalibrated)
    if caveats:
        out["warnings"] = caveats
    return out


def band_json(b: Bands) -> dict[str, Any]:
    """p10–p90 of each metric, the regime it comes from and why it was widened."""
    return {
        "ttft_ms": {"p10": _num(b.ttft_ms.low), "p90": _num(b.ttft_ms.high)},
        "tpot_ms": {"p10": _num(b.tpot_ms.low), "p90": _num(b.tpot_ms.high)},
        "output_tokens_per_s": {"p10": _num(b.output_tokens_per_s.low), "p90": _num(b.output_tokens_per_s.high)},
        "regime": f"{b.regime} concurrency",
        "widened": round(b.widen, 3),
        "outside_measured_range": list(b.outside),
    }


def _table(d: dict[str, Any]) -> str:
    lines = [f"{k:<30} {v}" for k, v in d.items() if k not in ("breakdown", "bands")]
    if "bands" in d:
        lines.append("p10-p90 (cross-validated error of the regime):")
        lines.extend(f"  {k:<28} {v['p10']} .. {v['p90']}" for k, v in d["bands"].items() if isinstance(v, dict))
    for group, values in d["breakdown"].items():
        lines.append(f"{group}:")
        lines.extend(f"  {k:<28} {v}" for k, v in values.items())
    return "\n".join(lines)


def _lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) split on \\n only (form feeds and U+2028 are inside a line); None: too long."""
    fd = open_input(path, "--cases", RequestError)
    with os.fdopen(fd, "rb") as f:
        n = 0
        while True:
            raw = f.readline(LINE_MAX_BYTES + 1)
            if not raw:
                return
            n += 1
            if len(raw) > LINE_MAX_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of it, whatever its length
                    raw = f.readline(LINE_MAX_BYTES)
                yield n, None
                continue
            yield n, raw.removesuffix(b"\n").removesuffix(b"\r")


def _case_line(cat: Catalog, raw: bytes | None) -> dict[str, Any] | str:
    """The estimate for one --cases line, or why there is none."""
    if raw is None:
        return f"line longer than {LINE_MAX_BYTES:,} bytes"
    try:
        case = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return f"invalid JSON ({exc.msg})"
    except RecursionError:
        return "invalid JSON (nested too deeply)"
    except ValueError as exc:  # an integer of more than 4300 digits
        return f"invalid JSON ({str(exc).split(';')[0]})"
    if not isinstance(case, dict):
        return "line must be a JSON object"
    try:
        return run_case(cat, case)
    except PlannerError as exc:
        return str(exc)


def _cases(cat: Catalog, path: Path) -> None:
    for n, raw in _lines(path):
        # Blank lines too get an output line, so results stay aligned with their cases.
        out = "blank line" if raw is not None and not raw.strip() else _case_line(cat, raw)
        if isinstance(out, str):
            out = {"error": {"line": n, "message": out}}
        click.echo(json.dumps(out, sort_keys=True))


@click.command("estimate")
@click.option("--model", help="Model id from the catalog, e.g. qwen3.5-35b-a3b (names and HF repo ids work too).")
@click.option("--gpu", help="GPU id from the catalog, e.g. h200 (aliases such as H100 work too).")
@click.option("--precision", type=click.Choice(PRECISIONS, case_sensitive=False),
              help="Weight precision of the checkpoint.")
@click.option("--tp", type=click.IntRange(1, LIMITS["tp"]), help="Tensor-parallel GPUs in the replica.")
@click.option("--ep", type=click.IntRange(1, LIMITS["ep"]), default=1, show_default=True,
              help="Expert-parallel group size (divides --tp).")
@click.option("--kv-dtype", type=click.Choice(KV_DTYPES, case_sensitive=False), default="bf16", show_default=True)
@click.option("--batch", type=click.IntRange(1, LIMITS["batch"]),
              help="Concurrent sequences (default: as many as fit).")
@click.option("--isl", type=click.IntRange(1, LIMITS["isl"]), help="Input tokens per request.")
@click.option("--osl", type=click.IntRange(1, LIMITS["osl"]), help="Output tokens per request.")
@click.option("--engine", type=click.Choice(ENGINES, case_sensitive=False), default="vllm", show_default=True)
@click.option("--mtp", type=click.IntRange(0, LIMITS["mtp"]), default=0, show_default=True,
              help="MTP speculative tokens per step (0 = off).")
@click.option("--prefix-hit", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Fraction of the prompt served from the prefix cache.")
@click.option("--language-model-only", is_flag=True,
              help="Text-only deployment: the vision encoder's weights are not loaded.")
@click.option("--images", type=float, default=0.0, help="Images (or document pages) per request.")
@click.option("--image-pixels", type=int, default=0, help="Pixels per image after resizing, e.g. 1310720.")
@click.option("--video-frames", type=float, default=0.0, help="Video frames per request.")
@click.option("--frame-pixels", type=int, default=0, help="Pixels per video frame.")
@click.option("--cases", "cases_file", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON lines with the same fields; writes one JSON object per line.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@catalog_option
def command(model: str | None, gpu: str | None, precision: str | None, tp: int | None, ep: int, kv_dtype: str,
            batch: int | None, isl: int | None, osl: int | None, engine: str, mtp: int, prefix_hit: float,
            language_model_only: bool, images: float, image_pixels: int, video_frames: float, frame_pixels: int,
            cases_file: Path | None, fmt: str, catalog_dir: Path | None) -> None:
    """Memory fit, TTFT, TPOT and throughput of one replica at a concurrency."""
    cat = get_catalog(catalog_dir)
    if cases_file is not None:
        _cases(cat, cases_file)
        return
    case = {"model": model, "gpu": gpu, "precision": precision, "tp": tp, "ep": ep, "kv_dtype": kv_dtype,
            "batch": batch, "isl": isl, "osl": osl, "engine": engine, "mtp": mtp, "prefix_hit": prefix_hit,
            "images": images, "image_pixels": image_pixels, "video_frames": video_frames,
            "frame_pixels": frame_pixels, "language_model_only": language_model_only}
    missing = [f for f in REQUIRED if case[f] is None]
    if missing:
        raise RequestError(f"--{missing[0]}: required (or give --cases FILE)")
    out = run_case(cat, case)
    click.echo(json.dumps(out, indent=2, sort_keys=True) if fmt == "json" else _table(out))
