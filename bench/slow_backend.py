"""Benchmark: callbacks of ordinary calls while 100 other calls wait on a backend that takes 1 s.

Request states are sent asynchronously on one pooled client, so a call waiting on a slow
backend must not delay any other call's answer. A real `ivrc serve` on loopback serves two
flows: `quick` answers its ICE with a menu; `slow` first asks a loopback backend that answers
after 1 s. We measure the p99 latency of signed ICE callbacks to `quick`, first alone, then
while waves of 100 concurrent ICE callbacks to `slow` keep 100 calls waiting on the backend.
Target: p99 under that load at most 1.25 times the p99 without it.

    .venv/bin/python bench/slow_backend.py [--samples 400] [--pin]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DEMO_KEY, DEMO_SECRET, free_port, python, server  # noqa: E402
from ivrc.runtime.signing import sign  # noqa: E402

STATE_KEY = "bench-state-key-local-only-0123456789"
BACKEND = '''
import asyncio, sys
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
import uvicorn

async def slow(request):
    await asyncio.sleep(1.0)
    return JSONResponse({"status": "ok"})

async def health(request):
    return JSONResponse({})

uvicorn.run(Starlette(routes=[Route("/slow", slow), Route("/", health)]), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning", backlog=2048)
'''
QUICK = """ivrc: 1
flow: quick
numbers: ["+46800000001"]
start: menu
states:
  menu:
    menu:
      prompt: "Press 1."
      options: {1: bye}
      no_input: bye
      invalid: bye
      exhausted: bye
  bye: {say: "Bye.", hangup: true}
"""
SLOW = """ivrc: 1
flow: slow
numbers: ["+46800000002"]
start: ask
variables:
  status: {{max_length: 8}}
states:
  ask:
    request:
      url: "http://127.0.0.1:{port}/slow"
      timeout: 3
      save: {{status: status}}
      next: menu
      on_failure: bye
  menu:
    menu:
      prompt: "It is {{{{ status }}}}. Press 1."
      options: {{1: bye}}
      no_input: bye
      invalid: bye
      exhausted: bye
  bye: {{say: "Bye.", hangup: true}}
"""


def _ice(number: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": "ice", "callid": uuid.uuid4().hex, "cli": "+46700000000",
                       "to": {"type": "number", "endpoint": number}, "version": 1,
                       "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    headers = {"content-type": "application/json", "x-timestamp": stamp,
               "authorization": sign(DEMO_KEY, DEMO_SECRET, "POST", "/sinch/callback", "application/json", stamp, body)}
    return body, headers


async def _quick_latencies(client: httpx.AsyncClient, url: str, samples: int, concurrency: int = 8) -> list[float]:
    latencies: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            body, headers = _ice("+46800000001")
            started = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200 and b"runMenu" in response.content, response.text

    await asyncio.gather(*(worker(samples // concurrency) for _ in range(concurrency)))
    return latencies


async def _calls_waiting(client: httpx.AsyncClient, url: str, stop: asyncio.Event, waiting: int) -> int:
    """`waiting` callers, each one ICE after another to the slow flow: `waiting` calls always wait on it."""
    answered = 0
    cut_short: list[int] = _CUT_SHORT

    async def caller(delay: float) -> None:
        nonlocal answered
        await asyncio.sleep(delay)  # spread out, as real calls arrive
        while not stop.is_set():
            body, headers = _ice("+46800000002")
            response = await client.post(url, content=body, headers=headers, timeout=10)
            assert response.status_code == 200, response.text
            # A backend answer later than the budget takes the failure path: counted, not an error here.
            answered += 1
            if b"It is ok" not in response.content:
                cut_short.append(1)

    await asyncio.gather(*(caller(i / waiting) for i in range(waiting)))
    return answered


_CUT_SHORT: list[int] = []


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


async def measure(url: str, samples: int, waiting: int) -> dict:
    # Two clients, as two groups of callers are: the waiting calls never hold the connections the
    # measured calls need (in a shared pool the measurement would time the pool, not the server).
    async with httpx.AsyncClient(timeout=10) as client, \
            httpx.AsyncClient(limits=httpx.Limits(max_connections=waiting, max_keepalive_connections=waiting),
                              timeout=10) as load_client:
        await _quick_latencies(client, url, 80)  # warm-up
        alone = await _quick_latencies(client, url, samples)
        stop = asyncio.Event()
        load = asyncio.create_task(_calls_waiting(load_client, url, stop, waiting))
        await asyncio.sleep(2.0)  # every caller is now waiting on the backend
        loaded = await _quick_latencies(client, url, samples)
        stop.set()
        slow_answered = await load
    return {"p99_alone_ms": p99(alone) * 1000, "p99_loaded_ms": p99(loaded) * 1000,
            "ratio": p99(loaded) / p99(alone), "slow_calls_answered": slow_answered,
            "slow_calls_past_the_budget": len(_CUT_SHORT), "samples": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--pin", action="store_true",
                        help="the server on CPU 0; the backend and the callers (this process) on CPU 1")
    args = parser.parse_args(argv)
    server_cpu: list[str] = []
    if args.pin:
        os.sched_setaffinity(0, {1})
        server_cpu = ["taskset", "-c", "0"]
    backend_port, server_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as folder:
        flows = Path(folder)
        (flows / "quick.yaml").write_text(QUICK)
        (flows / "slow.yaml").write_text(SLOW.format(port=backend_port))
        (flows / "backend.py").write_text(BACKEND)
        env = {"SINCH_APPLICATION_KEY": DEMO_KEY, "SINCH_APPLICATION_SECRET": DEMO_SECRET,
               "IVRC_STATE_KEY": STATE_KEY}
        with server([python(), str(flows / "backend.py"), str(backend_port)], backend_port), \
             server([*server_cpu, python(), "-m", "ivrc", "serve", str(flows / "quick.yaml"), str(flows / "slow.yaml"),
                     "--port", str(server_port), "--log-level", "warning", "--machines-dir", str(flows / "m")],
                    server_port, env=env, health="/healthz"):
            result = asyncio.run(measure(f"http://127.0.0.1:{server_port}/sinch/callback", args.samples,
                                         args.waiting))
    result["pinned"] = args.pin
    result["target"] = "ratio <= 1.25"
    result["met"] = result["ratio"] <= 1.25
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
