"""A stand-in inference server for the calibration end-to-end test: OpenAI-compatible and streaming,
loopback only, with latencies that follow the performance model under a known "true" set of constants.

    python tests/calibrate/sim_server.py --port-file PATH [--seconds 120]

Each request's TTFT and TPOT are the model's at the number of requests in flight when it arrives, with
the true constants (TRUE below, unlike the shipped ones): a GPU this far from the shipped fit is what
calibration is for. Tokens are words; usage reports the counts, so a client that takes the server's
token counts sees the same lengths the latencies were computed for. The server exits by itself after
`--seconds`, so a failed test never leaves it running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from planner.catalog import load_catalog
from planner.perf import Config, Shape, estimate
from planner.perf.constants import Constants, calibrated, shipped

MODEL, GPU, PRECISION, TP, ENGINE = "qwen3.5-27b", "h100-sxm", "fp8", 1, "vllm"
# The truth, relative to the shipped hopper constants (so it stays this far off whenever they are refit):
# 17 % less bandwidth, 19 % less compute, 40 % more per-step and 45 % more per-request overhead.
TRUE_FACTORS = {"bandwidth": 0.83, "compute": 0.81, "step_overhead_ms": 1.4}
TRUE_REQUEST_FACTOR = 1.45
_SHIPPED = shipped()
TRUE_HOPPER = {k: getattr(_SHIPPED.families["hopper"], k) * f for k, f in TRUE_FACTORS.items()}
TRUE_REQUEST_OVERHEAD_MS = _SHIPPED.request_overhead_ms[ENGINE] * TRUE_REQUEST_FACTOR


def true_constants() -> Constants:
    base = shipped()
    h = dataclasses.replace(base.families["hopper"], **TRUE_HOPPER,
                            request_overhead_ms={ENGINE: TRUE_REQUEST_OVERHEAD_MS})
    return dataclasses.replace(base, families={**base.families, "hopper": h})


class Truth:
    def __init__(self) -> None:
        cat = load_catalog()
        self.cfg = Config(model=cat.model(MODEL), gpu=cat.gpu(GPU), precision=PRECISION, tp=TP, engine=ENGINE)
        self.consts = true_constants()

    def latency(self, isl: int, osl: int, batch: int) -> tuple[float, float]:
        """(ttft_s, tpot_s) of the model under the true constants."""
        with calibrated(self.consts):
            e = estimate(self.cfg, Shape(isl=max(isl, 1), osl=max(osl, 1)), max(batch, 1))
        return e.ttft_ms / 1e3, e.tpot_ms / 1e3


class Server:
    def __init__(self, truth: Truth) -> None:
        self.truth = truth
        self.in_flight = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                keep = await self.route(method, path.split("?")[0], body, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def route(self, method: str, path: str, body: bytes, w: asyncio.StreamWriter) -> bool:
        if method == "GET" and path in ("/health", "/v1/models"):
            doc = {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "sim"}]}
            await self.send_json(w, 200, doc if path == "/v1/models" else {"status": "ok"})
            return True
        if method == "POST" and path in ("/v1/chat/completions", "/v1/completions"):
            await self.generate(json.loads(body or b"{}"), path.endswith("chat/completions"), w)
            return True
        await self.send_json(w, 404, {"error": f"no route {method} {path}"})
        return True

    async def send_json(self, w: asyncio.StreamWriter, status: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        w.write(f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
                .encode() + data)
        await w.drain()

    async def generate(self, req: dict[str, Any], chat: bool, w: asyncio.StreamWriter) -> None:
        if chat:
            prompt = " ".join(str(m.get("content", "")) for m in req.get("messages", []) if isinstance(m, dict))
        else:
            prompt = str(req.get("prompt", ""))
        isl = max(len(prompt.split()), 1)
        osl = int(req.get("max_completion_tokens") or req.get("max_tokens") or 16)
        self.in_flight += 1
        try:
            ttft, tpot = self.truth.latency(isl, osl, self.in_flight)
            start = time.monotonic()
            rid = f"sim-{id(req)}-{start}"
            usage = {"prompt_tokens": isl, "completion_tokens": osl, "total_tokens": isl + osl}
            if not req.get("stream"):
                await asyncio.sleep(ttft + (osl - 1) * tpot)
                text = " ".join("tok" for _ in range(osl))
                choice = {"index": 0, "finish_reason": "length",
                          **({"message": {"role": "assistant", "content": text}} if chat else {"text": text})}
                await self.send_json(w, 200, {"id": rid, "object": "chat.completion" if chat else "text_completion",
                                              "created": int(time.time()), "model": MODEL, "choices": [choice],
                                              "usage": usage})
                return
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
            obj = "chat.completion.chunk" if chat else "text_completion"
            for k in range(osl):
                delay = start + ttft + k * tpot - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                piece = "tok "
                choice = {"index": 0, "finish_reason": "length" if k == osl - 1 else None,
                          **({"delta": {"content": piece}} if chat else {"text": piece})}
                await self.chunk(w, {"id": rid, "object": obj, "created": int(time.time()), "model": MODEL,
                                     "choices": [choice]})
            if (req.get("stream_options") or {}).get("include_usage"):  # as OpenAI's API: only when asked
                await self.chunk(w, {"id": rid, "object": obj, "created": int(time.time()), "model": MODEL,
                                     "choices": [], "usage": usage})
            data = b"data: [DONE]\n\n"
            w.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
            await w.drain()
        finally:
            self.in_flight -= 1

    async def chunk(self, w: asyncio.StreamWriter, doc: dict[str, Any]) -> None:
        data = f"data: {json.dumps(doc)}\n\n".encode()
        w.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await w.drain()


async def serve(port_file: Path, seconds: float) -> None:
    server = Server(Truth())
    srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port), encoding="utf-8")
    os.replace(tmp, port_file)
    async with srv:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(srv.serve_forever(), timeout=seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=120.0)
    args = ap.parse_args()
    asyncio.run(serve(args.port_file, args.seconds))
    sys.exit(0)


if __name__ == "__main__":
    main()
