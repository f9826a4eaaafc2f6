"""Benchmark 1: callback throughput and latency of `ivrc serve` against a bare Starlette endpoint.

Both run under uvicorn with one worker and the same settings; the same load generator sends the
same signed requests (a realistic mix recorded from the examples: ICE, PIEs through menus and
digit collection, DiCE) over 32 keep-alive connections on loopback.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import itertools
import json
import os
import shutil
import sys
import tempfile
import uuid

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from bench.common import (
    DEMO_KEY,
    DEMO_SECRET,
    REPO,
    drive,
    free_port,
    http_get,
    http_post,
    python,
    rss_kib,
    server,
    table,
)

PATH = "/sinch/callback"
# The same uvicorn settings for both servers: `ivrc serve` takes uvicorn's --http and --loop too.
STACKS = {"plain": ["--http", "h11", "--loop", "asyncio"], "standard": ["--http", "httptools", "--loop", "uvloop"]}
# What the recorded callers do in each example (the mix of the benchmark): calls that make no request.
SCRIPTS = {
    "+46812345670": ["silence", "3", "#"],  # support: menu timeout, voicemail, finish key (or closed)
    "+46812345690": ["#"],  # voicemail
    "+46812345710": ["2", "1", "1"],  # multilingual: language menu, fused menus
}
# With --with-requests, also a call whose states ask examples/backend.py on loopback: the account
# example verifies an account and PIN, then reads the balance (two requests in five callbacks).
REQUEST_SCRIPTS = {"+46812345700": ["123456#", "1234#", "3"]}
BACKEND = "http://127.0.0.1:8091"  # where the example flows' requests go (literal in the flows)


# What the examples read from the server's environment: stand-ins, never real credentials.
BENCH_ENV = {"VOICEMAIL_S3_CREDENTIALS": "AK:SK:eu-north-1", "BANK_API_TOKEN": "demo-bank-token"}
STATE_KEY = "bench-state-key-local-only-0123456789"


def _fetch(outgoing):  # type: ignore[no-untyped-def]
    """A request state's reply from the example backend, for recording in-process."""
    import httpx

    from ivrc.runtime.engine.requests import Reply

    response = httpx.request(outgoing.method, outgoing.url, params=outgoing.query or None,
                             headers=outgoing.headers, content=outgoing.body, timeout=outgoing.timeout)
    return Reply(status=response.status_code, data=response.json(), json_ok=True, seconds=0.001)


@contextlib.contextmanager
def example_backend():
    """examples/backend.py on its port for the account example's requests (one already there is used)."""
    try:
        if json.loads(http_get(8091, "/health")).get("service") == "ivrc-example-backend":
            yield None
            return
        raise SystemExit("bench: port 8091 is taken by something that is not examples/backend.py")
    except (OSError, ValueError):
        pass
    with server([python(), "examples/backend.py", "--port", "8091"], 8091, dict(BENCH_ENV), health="/health") as proc:
        yield proc


def record_calls(scripts: dict[str, list[str]] | None = None) -> list[list[dict]]:
    """One conversation per script, recorded in-process as the bodies Sinch would send."""
    from ivrc.compiler.project import check_paths
    from ivrc.runtime.emulation.emulator import Call, CallFailed, EngineTransport
    from ivrc.runtime.engine.library import Library
    from ivrc.runtime.engine.sealing import Sealer
    from ivrc.runtime.engine.step import Engine

    library = Library()
    for result in check_paths([str(REPO / "examples")], compile=True):
        library.add(result.machine)
    # Requests are answered by the example backend, as the server under test will answer them.
    # Sealed with the server's key, so the replayed cookies are trusted as a real call's would be.
    engine = Engine(library, env=BENCH_ENV, sealer=Sealer((STATE_KEY.encode(),)), backend=_fetch)
    calls = []
    for number, steps in (scripts or SCRIPTS).items():
        sent: list[dict] = []

        class Recorder(EngineTransport):
            def send(self, body, sent=sent):
                sent.append(json.loads(json.dumps(body)))
                return super().send(body)

        call = Call(Recorder(engine), called=number).start()
        for step in steps:
            if call.ended or call.menu is None:
                break
            try:
                call.silence() if step == "silence" else call.press(step)
            except CallFailed:
                break
        call.hangup()
        calls.append([b for b in sent if b["event"] != "notify"])
    return calls


def _resealed(body: dict, callid: str, sealer) -> dict:
    """The recorded body for another call id: the seal on its cookies covers the call id, so it is made again."""
    from ivrc.compiler.cookies import MAC_KEY

    cookies = body.get("cookies")
    if not cookies:
        return {**body, "callid": callid}
    held = {c["key"]: c["value"] for c in cookies if c["key"] != MAC_KEY}
    return {**body, "callid": callid,
            "cookies": [{"key": k, "value": v} for k, v in held.items()]
            + [{"key": MAC_KEY, "value": sealer.seal(callid, held)}]}


def signed_requests(recorded: list[list[dict]], count: int) -> list[list[bytes]]:
    """`count` calls cycling through the recordings, each with its own call id, seal and signature."""
    from ivrc.runtime.engine.sealing import Sealer
    from ivrc.runtime.signing import sign

    sealer = Sealer((STATE_KEY.encode(),))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    batch = uuid.uuid4().hex[:8]  # ids never repeat across runs, or the replay guard would refuse them
    calls = []
    for n, template in zip(range(count), itertools.cycle(recorded)):
        requests = []
        for body in template:
            raw = json.dumps(_resealed(body, f"bench-{batch}-{n}", sealer), separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "x-timestamp": stamp,
                       "Authorization": sign(DEMO_KEY, DEMO_SECRET, "POST", PATH, "application/json", stamp, raw)}
            requests.append(http_post(PATH, raw, headers))
        calls.append(requests)
    return calls


# What must stay at zero in ivrc's /metrics for a run to count: a refused signature or seal, or the
# error path, would time a cheaper (or dearer) answer than the recorded conversation.
NOT_THE_MIX = ("ivrc_rejected_requests_total{", "ivrc_errors_total{")


def measure(argv: list[str], calls: list[list[bytes]], warmup: list[list[bytes]], env: dict | None = None):
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    with server(argv, port, env, health="/healthz") as proc:
        drive(port, warmup)
        before = rss_kib(proc.pid)
        result = drive(port, calls)
        after = rss_kib(proc.pid)
        metrics = http_get(port, "/metrics").decode()
    off = [line for line in metrics.splitlines() if line.startswith(NOT_THE_MIX) and not line.endswith(" 0.0")]
    return result, before, after, off


def _can_pin() -> bool:
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1500, help="calls per run (default 1500)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per server; the best is reported")
    parser.add_argument("--quick", action="store_true", help="a few calls, to check the script runs")
    parser.add_argument("--stack", choices=STACKS, default="plain",
                        help="plain: h11 and asyncio (uvicorn alone); standard: httptools and uvloop "
                             "(uvicorn[standard], which must be installed); both servers alike (default plain)")
    parser.add_argument("--with-requests", action="store_true",
                        help="add the account example's calls, whose requests examples/backend.py answers on loopback")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=_can_pin(),
                        help="server on CPU 0, the load generator on CPU 1 (default when taskset and two CPUs exist)")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 40, 1
    stack = STACKS[args.stack]
    missing = [module for module in stack[1::2] if importlib.util.find_spec(module) is None and module != "asyncio"]
    if missing:
        print(f"--stack {args.stack} needs {', '.join(missing)}: pip install 'uvicorn[standard]'", file=sys.stderr)
        return 2
    if args.pin:
        os.sched_setaffinity(0, {1})  # the load generator (and the example backend) on CPU 1
    with contextlib.ExitStack() as running:
        if args.with_requests:
            running.enter_context(example_backend())
        return _run(args, stack)


def _run(args: argparse.Namespace, stack: list[str]) -> int:
    recorded = record_calls({**SCRIPTS, **REQUEST_SCRIPTS} if args.with_requests else SCRIPTS)
    per_call = sum(len(c) for c in recorded) / len(recorded)
    server_cpu = ["taskset", "-c", "0"] if args.pin else []
    machines = tempfile.mkdtemp(prefix="ivrc-bench-")
    common = ["--port", "{port}", "--host", "127.0.0.1", *stack]
    servers = {
        "baseline (bare Starlette)": ([*server_cpu, python(), "-m", "uvicorn", "bench.baseline_app:app", "--no-access-log",
                                       "--log-level", "warning", "--workers", "1"] + common, {}),
        # The default log level: one JSON line per callback is part of ivrc's work.
        "ivrc serve": ([*server_cpu, python(), "-m", "ivrc", "serve", "examples", "--machines-dir", machines, "--workers", "1"]
                       + common,
                       {"SINCH_APPLICATION_KEY": DEMO_KEY, "SINCH_APPLICATION_SECRET": DEMO_SECRET,
                        "IVRC_STATE_KEY": STATE_KEY, **BENCH_ENV}),
    }
    best = {}
    for _round in range(args.rounds):
        for name, (cmd, env) in servers.items():
            # Fresh requests every run: the server refuses a replayed signature.
            warmup = signed_requests(recorded, max(10, args.calls // 10))
            calls = signed_requests(recorded, args.calls)
            result, before, after, off = measure(cmd, calls, warmup, env)
            if result.errors:
                print(f"{name}: {result.errors} requests failed", file=sys.stderr)
                return 1
            if name == "ivrc serve" and off:
                print(f"{name}: answered other than as recorded:\n" + "\n".join(off), file=sys.stderr)
                return 1
            if name not in best or result.rate > best[name][0].rate:
                best[name] = (result, before, after)
    rows = []
    for name, (result, before, after) in best.items():
        rows.append([name, result.requests, f"{result.rate:,.0f}", f"{result.percentile(0.5):.2f}",
                     f"{result.percentile(0.99):.2f}", f"{before / 1024:.1f} -> {after / 1024:.1f}"])
    print(f"Callback benchmark: {args.calls} calls of {per_call:.1f} callbacks on average, 32 connections, "
          f"best of {args.rounds} run(s) per server, {args.stack} uvicorn ({' '.join(stack)})"
          + (", server pinned to CPU 0" if args.pin else "")
          + (", with the account example's requests to examples/backend.py" if args.with_requests else ""))
    print(table(["server", "requests", "req/s", "p50 ms", "p99 ms", "RSS MiB"], rows))
    base, ivrc = best["baseline (bare Starlette)"][0], best["ivrc serve"][0]
    throughput = ivrc.rate / base.rate
    tail = ivrc.percentile(0.99) / base.percentile(0.99)
    print(f"\nthroughput ratio ivrc/baseline: {throughput:.2f} (target >= 0.80) "
          f"{'MET' if throughput >= 0.8 else 'MISSED'}")
    print(f"p99 latency ratio ivrc/baseline: {tail:.2f} (target <= 1.25) {'MET' if tail <= 1.25 else 'MISSED'}")
    per_callback_ms = 1000 / ivrc.rate - 1000 / base.rate
    print(f"ivrc's own work per callback: about {per_callback_ms:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
