"""The benchmark Job written with every plan (issue 10, "A benchmark Job with every plan").

Its command is parsed by vLLM 0.33.0's own `vllm bench serve` parser (the CLI's `bench` subcommand,
vllm/entrypoints/cli/benchmark/main.py, with vllm/benchmarks/serve.py add_cli_args) and goodput
check, run in the engine venv (tests/engines/setup.sh); the pod is checked against the restricted
Pod Security Standard and aimed at the plan's Service with the plan's request shape and load.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_env import ENGINES, VERSIONS, needs_engines
from test_render_fixtures import dense_plan, moe_plan, multinode_plan

from planner.catalog import Catalog
from planner.plan import Plan
from planner.render import RenderOptions, render_files
from planner.render.benchmark import BENCH_COMMAND, SCRIPT_NAME, settings

# Runs in the engine venv. "cases": parse each argv with vLLM's own `vllm bench serve` parser (the CLI
# builds its bench subparsers only when argv names them) and goodput check. "runs": run the real client
# end to end on the rendered argv against a stand-in OpenAI server here (only where it connects, the
# tokenizer, the prompt count and the result folder are replaced), recording what reaches the server.
CHECKER = r"""
import asyncio, contextlib, io, json, os, socket, sys, tempfile, threading
sys.argv = ["vllm", "bench", "serve"]
from vllm import platforms
if platforms.current_platform.is_unspecified():  # what vllm/entrypoints/cli/main.py does for `vllm bench`
    from vllm.platforms.cpu import CpuPlatform
    platforms.current_platform = CpuPlatform()
from vllm.entrypoints.cli.benchmark.main import BenchmarkSubcommand
from vllm.benchmarks.serve import check_goodput_args, compute_result_filename
from vllm.utils.argparse_utils import FlexibleArgumentParser

parser = FlexibleArgumentParser(prog="vllm")
BenchmarkSubcommand().subparser_init(parser.add_subparsers(required=False, dest="subparser"))
FIELDS = ("backend", "host", "port", "endpoint", "model", "served_model_name", "tokenizer", "dataset_name",
          "dataset_path", "random_input_len", "random_output_len", "random_prefix_len", "random_range_ratio",
          "num_prompts", "request_rate", "max_concurrency", "burstiness", "percentile_metrics",
          "metric_percentiles", "goodput", "ready_check_timeout_sec", "disable_tqdm", "label", "metadata",
          "save_result", "result_dir", "result_filename", "bench_type")
payload = json.load(sys.stdin)
for case in payload["cases"]:
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = parser.parse_args(["bench", "serve", *case["argv"]])
    except SystemExit:
        print(json.dumps({"id": case["id"], "ok": False, "error": err.getvalue().strip().splitlines()[-1]}))
        continue
    try:
        goodput = check_goodput_args(args)
        result_dir, args.result_dir = args.result_dir, tempfile.mkdtemp()
        name = os.path.basename(compute_result_filename(args, args.model, args.label, "now"))
        args.result_dir = result_dir
    except Exception as exc:
        print(json.dumps({"id": case["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        continue
    resolved = {k: getattr(args, k) for k in FIELDS}
    resolved["request_rate"] = str(resolved["request_rate"])
    print(json.dumps({"id": case["id"], "ok": True, "resolved": resolved, "goodput": goodput, "file": name}))

if payload["runs"]:
    from aiohttp import web
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok_dir = tempfile.mkdtemp()  # a word-level tokenizer: one prompt word is one token
    vocab = {f"w{i}": i for i in range(2000)} | {"<unk>": 2000}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tk.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tk.save(os.path.join(tok_dir, "tokenizer.json"))
    with open(os.path.join(tok_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "<unk>"}, f)
    seen = []

    async def completions(request):
        body = await request.json()
        seen.append(body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for _ in range(body["max_tokens"]):
            await resp.write(b'data: {"choices": [{"text": " w1", "finish_reason": null}]}\n\n')
        usage = {"prompt_tokens": len(body["prompt"].split()), "completion_tokens": body["max_tokens"]}
        await resp.write(f"data: {json.dumps({'usage': usage})}\n\n".encode() + b"data: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/completions", completions)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    up = threading.Event()

    def serve():
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        up.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    up.wait()
    for run in payload["runs"]:
        argv, out_dir = list(run["argv"]), tempfile.mkdtemp()
        for flag, value in (("--host", "127.0.0.1"), ("--port", str(sock.getsockname()[1])),
                            ("--tokenizer", tok_dir), ("--num-prompts", str(run["prompts"])),
                            ("--result-dir", out_dir), ("--ready-check-timeout-sec", "60")):
            if flag in argv:
                argv[argv.index(flag) + 1] = value
            else:
                argv += [flag, value]
        seen.clear()
        args = parser.parse_args(["bench", "serve", *argv])
        with contextlib.redirect_stdout(sys.stderr):
            args.dispatch_function(args)
        with open(os.path.join(out_dir, args.result_filename)) as f:
            saved = json.load(f)
        print(json.dumps({"id": run["id"], "saved": saved, "requests": list(seen)}))
"""


def _vllm_bench(cases: dict[str, list[str]], runs: dict[str, tuple[list[str], int]],
                home: Path) -> dict[str, dict[str, Any]]:
    src = ENGINES / f"vllm-{VERSIONS['vllm']}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(src), "VLLM_NO_USAGE_STATS": "1", "TMPDIR": str(home)}
    payload = json.dumps({"cases": [{"id": k, "argv": v} for k, v in cases.items()],
                          "runs": [{"id": k, "argv": a, "prompts": n} for k, (a, n) in runs.items()]})
    proc = subprocess.run([str(ENGINES / "venv" / "bin" / "python"), "-c", CHECKER], input=payload, env=env,
                          cwd=home, capture_output=True, text=True, timeout=900, check=False)
    got = {r["id"]: r for r in map(json.loads, (ln for ln in proc.stdout.splitlines() if ln.startswith("{")))}
    assert set(got) == {*cases, *runs}, proc.stderr[-3000:]
    return got


def _with(plan: Plan, **workload: Any) -> Plan:
    return plan.model_copy(update={"workload": plan.workload.model_copy(update=workload)})


def _plans() -> dict[str, Plan]:
    return {
        "vllm-dense-rps": dense_plan(),
        "vllm-dense-prefix": _with(dense_plan(), prefix_hit=0.6),
        "vllm-moe-concurrency": _with(moe_plan(), load="concurrency", arrival_rps=None, concurrency=48),
        "vllm-multinode": multinode_plan(),
        "sglang-dense": dense_plan(engine="sglang", mtp_tokens=3),
        "vllm-no-load": _with(dense_plan(), load="none", arrival_rps=None),
        "vllm-mi300x": moe_plan(gpu="mi300x", tp=1, ep=1, gpus_per_replica=1, mtp_tokens=0),
    }


def _objects(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(files["benchmark/job.yaml"]) if d]
    docs += [yaml.safe_load(files["benchmark/results-reader.yaml"])]
    return {f'{d["kind"]}/{d["metadata"]["name"]}': d for d in docs}


def _job(files: dict[str, bytes]) -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all(files["benchmark/job.yaml"]) if d and d["kind"] == "Job")


def _bench_argv(job: dict[str, Any]) -> list[str]:
    """What follows `vllm bench serve`: the container runs `sh -c SCRIPT NAME ARGS...`."""
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["command"][:2] == ["/bin/sh", "-c"] and c["command"][3] == SCRIPT_NAME
    assert f'{" ".join(BENCH_COMMAND)} "$@"' in c["command"][2]
    return list(c["args"])


def name_of(files: dict[str, bytes]) -> str:
    return str(_job(files)["metadata"]["name"])


def _flag(argv: list[str], flag: str) -> str:
    assert argv.count(flag) == 1, flag
    return argv[argv.index(flag) + 1]


@pytest.fixture(scope="module")
def rendered(catalog: Catalog) -> dict[str, dict[str, bytes]]:
    return {name: render_files(plan, catalog) for name, plan in _plans().items()}


# ---------------------------------------------------------------- the real client's parser


def _small_runs() -> dict[str, Plan]:
    """Short requests for the end-to-end runs (the stand-in server answers instantly)."""
    return {
        "run-rps": _with(dense_plan(), isl=64, osl=16, prefix_hit=0.5),
        "run-concurrency": _with(moe_plan(), isl=48, osl=8, prefix_hit=0.25, load="concurrency",
                                 arrival_rps=None, concurrency=4),
    }


@pytest.fixture(scope="module")
def client(rendered: dict[str, dict[str, bytes]], catalog: Catalog,
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One engine-venv process: every rendered argv parsed, three broken ones, two real runs."""
    cases = {name: _bench_argv(_job(files)) for name, files in rendered.items()}
    # A misspelt flag, a non-numeric value and an unknown goodput metric: the real parser must refuse them.
    good = cases["vllm-dense-rps"]
    cases["bad-flag"] = [a.replace("--random-input-len", "--random-input-length") for a in good]
    rate = good.index("--request-rate")
    cases["bad-value"] = [*good[:rate + 1], "fast", *good[rate + 2:]]
    cases["bad-goodput"] = [a.replace("ttft:", "ttf:") for a in good]
    runs = {name: (_bench_argv(_job(render_files(plan, catalog))), 12) for name, plan in _small_runs().items()}
    return _vllm_bench(cases, runs, tmp_path_factory.mktemp("vllm-bench"))


@needs_engines
def test_a_wrong_flag_or_value_fails_the_real_parser(client: dict[str, dict[str, Any]]) -> None:
    assert not client["bad-flag"]["ok"]
    assert "unrecognized arguments: --random-input-length" in client["bad-flag"]["error"]
    assert not client["bad-value"]["ok"] and "--request-rate" in client["bad-value"]["error"]
    assert not client["bad-goodput"]["ok"] and "Invalid metric name" in client["bad-goodput"]["error"]


@needs_engines
def test_every_rendered_command_parses_with_vllm_bench_serve(rendered: dict[str, dict[str, bytes]],
                                                             client: dict[str, dict[str, Any]]) -> None:
    got = client
    plans = _plans()
    for name, files in rendered.items():
        r = got[name]
        assert r["ok"], (name, r)
        res, w = r["resolved"], plans[name].workload
        service = yaml.safe_load(files["manifests/30-service.yaml"])
        assert res["bench_type"] == "serve" and res["backend"] == "openai" and res["dataset_name"] == "random"
        assert res["host"] == f'{service["metadata"]["name"]}.{service["metadata"]["namespace"]}.svc'
        assert res["port"] == service["spec"]["ports"][0]["port"]
        d = plans[name].recommended.deployment  # type: ignore[union-attr]
        assert (res["model"], res["served_model_name"]) == (d.checkpoint, d.model)
        assert res["random_prefix_len"] + res["random_input_len"] == w.isl
        assert res["random_prefix_len"] == round(w.isl * w.prefix_hit)
        assert res["random_output_len"] == w.osl and res["random_range_ratio"] == "0.0"
        assert r["goodput"] == {"ttft": w.ttft_ms, "tpot": w.tpot_ms}
        assert res["save_result"] and res["result_dir"] == "/results"
        env = {e["name"]: e["value"] for e in _job(files)["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["RESULT_FILE"] == f'/results/{r["file"]}'  # the file the script prints is the one saved
        assert "95" in res["metric_percentiles"].split(",") and "ttft" in res["percentile_metrics"]
    assert got["vllm-dense-prefix"]["resolved"]["random_prefix_len"] == 1229
    conc = got["vllm-moe-concurrency"]["resolved"]
    assert conc["max_concurrency"] == 48 and conc["request_rate"] == "inf"
    assert float(got["vllm-dense-rps"]["resolved"]["request_rate"]) == 4.0
    assert got["vllm-dense-rps"]["resolved"]["max_concurrency"] is None
    # No load in the plan: the client offers the option's capacity.
    assert float(got["vllm-no-load"]["resolved"]["request_rate"]) == plans["vllm-no-load"].recommended.capacity_rps


def _documented_fields(readme: str) -> set[str]:
    """The result fields the README's "Result file" section names, templates expanded."""
    section = readme.split("## Result file", 1)[1]
    bullets = section[section.index("\n- "):]  # the field list, after the prose naming the source
    metrics = ["ttft", "tpot", "itl", "e2el"]
    names = set(re.findall(r"`([a-z0-9_<>]+)`", bullets)) - set(metrics)
    out: set[str] = set()
    for n in names:
        if "<q>" in n:
            out |= {n.replace("<q>", str(q)).replace("<m>", m) for q in settings().percentiles for m in metrics}
        elif "<m>" in n:
            out |= {n.replace("<m>", m) for m in metrics}
        else:
            out.add(n)
    return out


@needs_engines
def test_the_real_client_runs_the_rendered_command(catalog: Catalog, client: dict[str, dict[str, Any]]) -> None:
    """`vllm bench serve` runs the Job's argv end to end; what reaches the server is the plan's shape."""
    for name, plan in _small_runs().items():
        run, w = client[name], plan.workload
        saved, requests = run["saved"], run["requests"]
        assert saved["completed"] == 12 and saved["failed"] == 0, name
        assert len(requests) >= 12
        d = plan.recommended.deployment  # type: ignore[union-attr]
        prefix = round(w.isl * w.prefix_hit)
        for r in requests:
            assert r["model"] == d.model and r["max_tokens"] == w.osl and r["ignore_eos"] is True, name
            assert len(r["prompt"].split()) == w.isl, name
        # The plan's prefix-cache hit: every prompt starts with the same `prefix` tokens, then differs.
        starts = {tuple(r["prompt"].split()[:prefix]) for r in requests}
        assert len(starts) == 1, name
        assert len({tuple(r["prompt"].split()[prefix:]) for r in requests}) > 1, name
        assert saved["total_output_tokens"] == 12 * w.osl
        # Every field the README documents is in the file vLLM wrote (speculative ones need MTP metrics).
        readme = render_files(plan, catalog)["benchmark/README.md"].decode()
        fields = {f for f in _documented_fields(readme) if not f.startswith("spec_decode")}
        assert {"median_ttft_ms", "p95_tpot_ms", "output_throughput"} <= fields
        missing = sorted(f for f in fields - set(saved) if not f.startswith("qwen_plan") and f != "inf")
        assert missing == [], name
        assert saved["qwen_plan_p95_ttft_ms"] == f"{plan.recommended.ttft_ms:.6g}"
    assert client["run-concurrency"]["saved"]["max_concurrency"] == 4
    assert client["run-concurrency"]["saved"]["request_rate"] == "inf"
    assert client["run-rps"]["saved"]["request_rate"] == 4.0  # the plan's arrival rate, as rendered


# ---------------------------------------------------------------- load, length, files


def test_run_lasts_a_few_minutes(rendered: dict[str, dict[str, bytes]]) -> None:
    s = settings()
    for name, files in rendered.items():
        argv = _bench_argv(_job(files))
        prompts = int(_flag(argv, "--num-prompts"))
        assert s.min_prompts <= prompts <= s.max_prompts, name
        if "--request-rate" in argv:
            seconds = prompts / float(_flag(argv, "--request-rate"))
            assert 60 <= seconds <= 600, (name, seconds)
        deadline = _job(files)["spec"]["activeDeadlineSeconds"]
        assert deadline > int(_flag(argv, "--ready-check-timeout-sec")) + 60, name
    # 4 rps for the 180 s target.
    assert _flag(_bench_argv(_job(rendered["vllm-dense-rps"])), "--num-prompts") == "720"


def test_names_follow_the_release_and_output_is_deterministic(catalog: Catalog) -> None:
    files = render_files(dense_plan(), catalog, RenderOptions(name="chat", namespace="llm"))
    assert {"benchmark/job.yaml", "benchmark/README.md", "benchmark/results-reader.yaml"} <= set(files)
    assert {k: v["metadata"]["namespace"] for k, v in _objects(files).items()} == {
        "PersistentVolumeClaim/chat-bench-results": "llm", "NetworkPolicy/chat-bench": "llm",
        "Job/chat-bench": "llm", "Job/chat-bench-reader": "llm"}
    assert _flag(_bench_argv(_job(files)), "--host") == "chat.llm.svc"
    assert render_files(dense_plan(), catalog) == render_files(dense_plan(), catalog)


def test_render_out_writes_the_benchmark(tmp_path: Path, run_qwen_plan: Any) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(dense_plan().model_dump_json())
    out = tmp_path / "out"
    proc = run_qwen_plan("render", "--plan", str(plan_file), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (out / "benchmark").iterdir()) == ["README.md", "job.yaml", "results-reader.yaml"]
    job = _job({"benchmark/job.yaml": (out / "benchmark" / "job.yaml").read_bytes()})
    assert _flag(_bench_argv(job), "--served-model-name") == "qwen3.5-27b"


def test_values_reach_yaml_serialised(catalog: Catalog) -> None:
    """The option label (spaces, ×, parentheses) arrives as one argv word; the README command matches."""
    files = render_files(dense_plan(), catalog)
    argv = _bench_argv(_job(files))
    meta = argv[argv.index("--metadata") + 1:argv.index("--save-result")]
    label = dense_plan().recommended.label
    assert f"qwen_plan_option={label}" in meta
    readme = files["benchmark/README.md"].decode()
    line = next(ln for ln in readme.splitlines() if ln.startswith("vllm bench serve "))
    assert shlex.split(line) == [*BENCH_COMMAND, *argv]


# ---------------------------------------------------------------- the pod


def _writable(spec: dict[str, Any], container: dict[str, Any]) -> list[str]:
    vols = {v["name"]: v for v in spec["volumes"]}
    return [m["mountPath"] for m in container["volumeMounts"]
            if not m.get("readOnly") and ("emptyDir" in vols[m["name"]] or "persistentVolumeClaim" in vols[m["name"]])]


def _pod_problems(job: dict[str, Any], server: dict[str, Any]) -> list[str]:
    """What keeps a benchmark Job from running under restricted Pod Security as the server's client."""
    out: list[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            out.append(what)

    spec = job["spec"]
    need(spec.get("backoffLimit", -1) >= 0 and spec.get("activeDeadlineSeconds", 0) > 0, "job limits")
    need(spec.get("ttlSecondsAfterFinished", 0) > 0, "ttlSecondsAfterFinished")
    pod = spec["template"]["spec"]
    need(pod.get("restartPolicy") == "Never" and pod.get("automountServiceAccountToken") is False, "pod policy")
    psc = pod.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True and psc.get("seccompProfile") == {"type": "RuntimeDefault"}, "pod context")
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    need(sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities") == {"drop": ["ALL"]}, "caps")
    need(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    need(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) >= 10000, "non-root")
    need(not any("hostPath" in v for v in pod["volumes"]), "hostPath")
    res = c.get("resources", {})
    need(bool(res.get("requests", {}).get("cpu") and res.get("limits", {}).get("memory")), "resources")
    need(not any(k.endswith("/gpu") for k in res.get("limits", {})), "the client needs no GPU")
    # Pinned to the vLLM release the plan deploys; on a vLLM plan, the server's own image.
    repo, _, tag = c["image"].rpartition(":")
    need(bool(repo) and tag != "latest" and c.get("imagePullPolicy") == "Always", "image pinned")
    if server["engine"]["name"] == "vllm":
        need((repo, tag) == (server["image"]["repository"], server["image"]["tag"]), "server image")
    # Every writable path the client uses is a writable volume (the root filesystem is read-only).
    env = {e["name"]: e["value"] for e in c.get("env", [])}
    need(bool(env.get("USER")) and bool(env.get("HOME")), "USER and HOME")
    writable = _writable(pod, c)
    need("/tmp" in writable, "/tmp volume")
    for k in ("HOME", "XDG_CACHE_HOME", "HF_HOME", "TMPDIR", "VLLM_CACHE_ROOT"):
        path = env.get(k, "")
        need(any(path == m or path.startswith(m + "/") for m in writable), f"{k} writable")
    # The Hugging Face token: the server's Secret, mounted as a file at the path HF_TOKEN_PATH names.
    secrets = [v for v in pod["volumes"] if "secret" in v]
    need(len(secrets) == 1, "one token secret")
    if secrets:
        secret = secrets[0]["secret"]
        need(secret["secretName"] == server["hfToken"]["secretName"] and secret["optional"] is True, "secret")
        mount = next((m for m in c["volumeMounts"] if m["name"] == secrets[0]["name"]), {"mountPath": "?"})
        need(env.get("HF_TOKEN_PATH") == f'{mount["mountPath"]}/{secret["items"][0]["path"]}', "HF_TOKEN_PATH")
    return out


def test_pods_meet_restricted_pod_security(rendered: dict[str, dict[str, bytes]]) -> None:
    for name, files in rendered.items():
        server = yaml.safe_load(files["chart/values.yaml"])
        objs = _objects(files)
        for key, obj in objs.items():
            if obj["kind"] == "Job":
                assert _pod_problems(obj, server) == [], (name, key)
                claim = next(v["persistentVolumeClaim"]["claimName"] for v in obj["spec"]["template"]["spec"]
                             ["volumes"] if "persistentVolumeClaim" in v)
                assert f"PersistentVolumeClaim/{claim}" in objs


def test_pod_check_catches_what_would_break_the_client(rendered: dict[str, dict[str, bytes]]) -> None:
    files = rendered["vllm-dense-rps"]
    server = yaml.safe_load(files["chart/values.yaml"])

    def broken(change: Any) -> list[str]:
        job = _job(files)
        change(job["spec"]["template"]["spec"]["containers"][0], job["spec"]["template"]["spec"])
        return _pod_problems(job, server)

    def drop_env(name: str) -> Any:
        return lambda c, pod: c.update(env=[e for e in c["env"] if e["name"] != name])

    assert broken(lambda c, pod: None) == []
    assert "USER and HOME" in broken(drop_env("USER"))
    assert "HF_HOME writable" in broken(drop_env("HF_HOME"))
    assert "HF_TOKEN_PATH" in broken(drop_env("HF_TOKEN_PATH"))
    assert "/tmp volume" in broken(lambda c, pod: c.update(
        volumeMounts=[m for m in c["volumeMounts"] if m["name"] != "tmp"]))
    assert "readOnlyRootFilesystem" in broken(lambda c, pod: c["securityContext"].update(
        readOnlyRootFilesystem=False))
    assert "image pinned" in broken(lambda c, pod: c.update(image="vllm/vllm-openai:latest"))
    assert "server image" in broken(lambda c, pod: c.update(image="vllm/vllm-openai:v0.17.1"))


def test_names_and_labels_keep_the_client_out_of_the_service(rendered: dict[str, dict[str, bytes]]) -> None:
    for files in rendered.values():
        service = yaml.safe_load(files["manifests/30-service.yaml"])
        selector = service["spec"]["selector"]
        for key, obj in _objects(files).items():
            n = obj["metadata"]["name"]
            assert len(n) <= 63 and n.replace("-", "").isalnum() and n == n.lower() and n[0].isalpha(), key
            labels = (obj["spec"]["template"] if obj["kind"] == "Job" else obj)["metadata"]["labels"]
            assert not all(labels.get(k) == v for k, v in selector.items()), key
            assert obj["metadata"]["namespace"] == service["metadata"]["namespace"]
            if obj["kind"] == "Job":  # its pods are covered by the benchmark's deny-ingress NetworkPolicy
                policy = _objects(files)[f'NetworkPolicy/{name_of(files)}']["spec"]
                assert policy["policyTypes"] == ["Ingress"] and not policy.get("ingress")
                assert all(labels.get(k) == v for k, v in policy["podSelector"]["matchLabels"].items()), key


# ---------------------------------------------------------------- README


def test_readme_says_how_to_run_and_what_the_plan_predicts(rendered: dict[str, dict[str, bytes]]) -> None:
    files = rendered["vllm-dense-rps"]
    readme = files["benchmark/README.md"].decode()
    opt = dense_plan().recommended
    job = _job(files)
    ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
    assert f"kubectl -n {ns} apply -f benchmark/job.yaml" in readme
    assert f"kubectl -n {ns} wait --for=condition=complete job/{name}" in readme
    assert f"kubectl -n {ns} logs job/{name}" in readme
    assert "kubectl -n" in readme and " cp " in readme and "results-reader.yaml" in readme
    assert f"| `p95_ttft_ms` | {opt.ttft_ms:,.0f} ms" in readme
    assert f"| `p95_tpot_ms` | {opt.tpot_ms:,.0f} ms" in readme
    assert f"capacity is {opt.capacity_rps:,.2f} req/s" in readme
    assert "`output_throughput` | about 2,048 tokens/s" in readme
    assert "egress to huggingface.co" in readme and "--tokenizer" in readme
    for field in ("median_ttft_ms", "output_throughput", "request_throughput", "failed", "completed"):
        assert f"`{field}`" in readme or field in readme
    assert "vllm/benchmarks/serve.py" in readme
    conc = rendered["vllm-moe-concurrency"]["benchmark/README.md"].decode()
    assert "closed loop, `--max-concurrency 48`" in conc
