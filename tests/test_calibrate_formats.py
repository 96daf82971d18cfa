"""Result-file readers on real tool output (tests/calibrate/fixtures, see its README) and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.calibrate.formats import read_results
from planner.calibrate.points import Setup, to_point
from planner.catalog import Catalog
from planner.errors import RequestError
from planner.perf.roofline import prepared

FIX = Path(__file__).resolve().parent / "calibrate" / "fixtures"
CSV_HEADER = "model,gpu,precision,tp,engine,isl,osl,concurrency,ttft_ms,tpot_ms,output_tokens_per_s"


def test_aiperf_export_from_the_real_client() -> None:
    (m,) = read_results(FIX / "aiperf_profile_export_aiperf.json")
    assert (m.tool, m.tool_version, m.model) == ("aiperf", "0.13.0", "qwen3.5-27b")
    assert (m.isl, m.osl, m.concurrency) == (256, 48, 4)
    doc = json.loads((FIX / "aiperf_profile_export_aiperf.json").read_text())
    assert m.ttft_ms == doc["time_to_first_token"]["p50"]
    assert m.tpot_ms == doc["inter_token_latency"]["p50"]
    assert m.output_tokens_per_s == doc["output_token_throughput"]["avg"]
    assert m.date and m.date.startswith("2026-12-01")
    assert m.gpu is None  # the client cannot know it: flags or --plan say it


def test_vllm_bench_serve_result_from_the_real_client() -> None:
    (m,) = read_results(FIX / "vllm_bench_serve.json")
    doc = json.loads((FIX / "vllm_bench_serve.json").read_text())
    assert m.tool == "vllm bench serve" and m.engine == "vllm"
    assert m.isl == doc["total_input_tokens"] / doc["completed"]
    assert m.osl == 32 and m.concurrency == 4  # --max-concurrency with an unbounded rate
    assert m.ttft_ms == doc["median_ttft_ms"] and m.tpot_ms == doc["median_tpot_ms"]
    assert (m.gpu, m.tp, m.precision) == ("h100-sxm", 1, "fp8")  # from --metadata
    assert m.date == "2026-12-01T23:37:36"


def test_vllm_open_loop_concurrency_is_littles_law(tmp_path: Path) -> None:
    doc = json.loads((FIX / "vllm_bench_serve.json").read_text())
    doc.update(request_rate=2.0, max_concurrency=None)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    (m,) = read_results(path)
    assert m.concurrency == pytest.approx(doc["request_throughput"] * doc["mean_e2el_ms"] / 1000)


def test_vllm_append_result_is_one_run_per_line(tmp_path: Path) -> None:
    line = (FIX / "vllm_bench_serve.json").read_text().strip()
    path = tmp_path / "r.json"
    path.write_text(line + "\n" + line + "\n")
    runs = read_results(path)
    assert [m.source for m in runs] == [f"{path}#1", f"{path}#2"]


def test_sglang_bench_serving_jsonl_from_the_real_client() -> None:
    runs = read_results(FIX / "sglang_bench_serving.jsonl")
    doc = json.loads((FIX / "sglang_bench_serving.jsonl").read_text().splitlines()[0])
    m = runs[0]
    assert m.tool == "sglang bench_serving"
    assert m.osl == doc["total_output_tokens"] / doc["completed"]
    assert m.ttft_ms == doc["median_ttft_ms"] and m.tpot_ms == doc["median_tpot_ms"]
    assert m.concurrency == pytest.approx(min(doc["concurrency"], doc["max_concurrency"]))


def test_guidellm_report_from_the_real_client() -> None:
    """A concurrency sweep (1 and 4 streams): one Measurement per benchmark."""
    doc = json.loads((FIX / "guidellm_benchmarks.json").read_text())
    runs = read_results(FIX / "guidellm_benchmarks.json")
    assert [m.concurrency for m in runs] == [1, 4]
    for m, b in zip(runs, doc["benchmarks"], strict=True):
        assert (m.tool, m.tool_version, m.model) == ("guidellm", "0.8.1", "qwen3.5-27b")
        assert m.ttft_ms == b["metrics"]["time_to_first_token_ms"]["successful"]["median"]
        assert m.tpot_ms == b["metrics"]["inter_token_latency_ms"]["successful"]["median"]
        assert m.osl == 32 and m.date and m.date.startswith("2026-12-02")


def test_guidellm_report_layout(tmp_path: Path) -> None:
    """GuideLLM's report schema (guidellm/benchmark/schemas/report.py): per benchmark, the strategy and
    StatusDistributionSummary metrics; one Measurement per benchmark of the sweep."""
    def summary(median: float, mean: float) -> dict[str, object]:
        return {"successful": {"median": median, "mean": mean}, "errored": {"median": 0, "mean": 0}}

    bench = {"config": {"strategy": {"type_": "concurrent", "streams": 8}},
             "scheduler_state": {"start_time": 1796167582.0},
             "metrics": {"time_to_first_token_ms": summary(120, 130), "inter_token_latency_ms": summary(21, 22),
                         "prompt_token_count": summary(512, 512), "output_token_count": summary(64, 64),
                         "output_tokens_per_second": summary(300, 310)}}
    doc = {"metadata": {"version": 2, "guidellm_version": "0.8.1"}, "config": {"model": "qwen3.5-27b"},
           "benchmarks": [bench, {**bench, "config": {"strategy": {"type_": "constant", "rate": 2.0}},
                                  "metrics": {**bench["metrics"], "request_concurrency": summary(3, 3.5)}}]}
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(doc))
    a, b = read_results(path)
    assert (a.tool, a.tool_version, a.model) == ("guidellm", "0.8.1", "qwen3.5-27b")
    assert (a.isl, a.osl, a.concurrency, a.ttft_ms, a.tpot_ms) == (512, 64, 8, 120, 21)
    assert b.concurrency == 3.5
    assert a.date and a.date.startswith("2026-12-01")


def test_csv_with_empty_cells_and_optional_columns(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(CSV_HEADER + ",mtp,ep\n"
                    "qwen3.5-27b,h100-sxm,fp8,1,vllm,1024,256,8,,21.5,,0,\n"
                    "qwen3.5-35b-a3b,h200,fp8,2,sglang,2048,128,16,350,,900,,2\n")
    a, b = read_results(path)
    assert (a.ttft_ms, a.tpot_ms, a.output_tokens_per_s) == (None, 21.5, None)
    assert (b.tp, b.ep, b.engine, b.ttft_ms) == (2, 2, "sglang", 350)
    pa, pb = (to_point(m, Setup(), catalog) for m in (a, b))
    assert pa.family == "hopper" and pa.batch == 8 and pa.thr is None
    assert pb.cfg.ep == 2 and pb.thr == 900  # throughput counts where TPOT is missing


def test_a_runs_engine_release_picks_that_releases_defaults(tmp_path: Path, catalog: Catalog) -> None:
    """A run on vLLM 0.17.1 (one state block per request, planner/perf/engines.yaml `by_version`) is
    predicted with that release's memory rule; text naming no release gets the pinned one's."""
    path = tmp_path / "runs.csv"
    rows = "".join(f"qwen3.5-27b,h100-sxm,fp8,1,vllm,8192,256,8,,21.5,,{v}\n" for v in ("0.17.1", "main", ""))
    path.write_text(CSV_HEADER + ",engine_version\n" + rows)
    old, main, none = (to_point(m, Setup(), catalog) for m in read_results(path))
    assert (old.cfg.engine_version, main.cfg.engine_version, none.cfg.engine_version) == ("0.17.1", None, None)
    assert prepared(old.cfg).eng.state_slots == 1 < prepared(none.cfg).eng.state_slots
    assert prepared(old.cfg).max_concurrency(8192 + 256) > prepared(none.cfg).max_concurrency(8192 + 256)


@pytest.mark.parametrize(("content", "needle"), [
    ('{"date": "20261201-000000", "backend": "openai", "completed": 3, "total_input', "invalid JSON"),
    ('{"name": "my-app", "version": "1.0"}', "not a benchmark result"),
    ("", "empty file"),
    ("a,b,c\n1,2,3\n", "CSV without column 'model'"),
    ('{"date": "20261201-000000", "backend": "openai", "completed": 0, "total_input_tokens": 0, '
     '"total_output_tokens": 0}', "no request completed"),
    ('{"date": "20261201-000000", "backend": "openai", "completed": 4, "total_input_tokens": 10, '
     '"total_output_tokens": 10}', "missing"),
    ('{"aiperf_version": "0.13.0", "time_to_first_token": {"p50": 5}}', "input_sequence_length"),
])
def test_bad_files_give_one_line(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(RequestError) as err:
        read_results(path)
    assert needle in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_unmappable_runs_name_the_missing_field(catalog: Catalog) -> None:
    (m,) = read_results(FIX / "aiperf_profile_export_aiperf.json")
    with pytest.raises(RequestError, match=r"gpu: not in the file; give --gpu or --plan"):
        to_point(m, Setup(precision="fp8", tp=1, engine="vllm"), catalog)
    with pytest.raises(RequestError, match=r"unknown model 'llama-9000'"):
        to_point(m, Setup(model="llama-9000", gpu="h100-sxm", precision="fp8", tp=1, engine="vllm"), catalog)
    with pytest.raises(RequestError, match=r"tp"):
        to_point(m, Setup(gpu="h100-sxm", precision="fp8", tp=3, engine="vllm"), catalog)
