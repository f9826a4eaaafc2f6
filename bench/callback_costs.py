"""Where a callback's CPU goes at HTTP level: the benchmark's requests through uvicorn's protocol, in-process.

`bench/callbacks.py` measures throughput over real sockets, where the machine's other work moves
the figures by tens of percent between runs. This script feeds the same signed requests (the same
mix, each call its own id and seal) as raw HTTP bytes into uvicorn's HTTP protocol (h11, or
httptools with --stack standard) and the app behind it, one request at a time, and counts the
process's CPU time per request: uvicorn's parsing and writing, the app, and everything they call,
with only the socket system calls left out. It does so for the bare Starlette baseline, for
`ivrc serve`'s app, and for that app with one part taken out at a time, so the difference says
what that part costs with everything else around it (a part timed alone in a loop costs less).

    .venv/bin/python bench/callback_costs.py [--calls 3000] [--rounds 3] [--stack plain|standard] [--profile]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import itertools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.callbacks import BENCH_ENV, SCRIPTS, STATE_KEY, record_calls, signed_requests  # noqa: E402
from bench.common import DEMO_KEY, DEMO_SECRET, REPO, table  # noqa: E402

PROTOCOLS = {"plain": "h11", "standard": "httptools"}
BASELINE = "baseline (bare Starlette)"


class _Transport:
    """What uvicorn's protocol writes to, in place of a socket: the answers are kept for checking."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _protocol_class(stack: str, guarded: bool) -> type:
    """uvicorn's protocol for the stack; `ivrc serve`'s subclass (with its request deadline) when guarded."""
    if guarded:
        if stack == "standard":
            from ivrc.runtime.server.fast_http import GuardedHttpToolsProtocol
            return GuardedHttpToolsProtocol
        from ivrc.runtime.server.connections import GuardedH11Protocol
        return GuardedH11Protocol
    if stack == "standard":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        return HttpToolsProtocol
    from uvicorn.protocols.http.h11_impl import H11Protocol
    return H11Protocol


async def _replay(protocol: Any, transport: _Transport, requests: list[bytes]) -> None:
    """Each request in turn, answered in full (status and body written) before the next is sent."""
    for raw in requests:
        protocol.data_received(raw)
        while protocol.cycle is not None and not protocol.cycle.response_complete:
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # the turn after the answer, where ivrc writes its log lines
        if not transport.written or b" 200 " not in transport.written[0]:
            raise SystemExit(f"bench: a request was not answered with 200: {transport.written[:1]!r}")
        transport.written.clear()


def cpu_per_request(app: Any, protocol_class: type, stack: str, calls: int, recorded: list[list[dict]],
                    replay: bool = True) -> float:
    """CPU time per request over a run of `calls` calls, each with fresh signatures, after a warm-up.

    With replay=False the requests are made but never sent: what counting instructions subtracts."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def run() -> float:
        config = Config(app=app, http=PROTOCOLS[stack], loop="asyncio", access_log=False, log_level="warning")
        config.load()
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={},
                                  _loop=asyncio.get_running_loop())
        transport = _Transport()
        protocol.connection_made(transport)
        warm_up = [r for call in signed_requests(recorded, 100) for r in call]
        if replay:
            await _replay(protocol, transport, warm_up)
        requests = [r for call in signed_requests(recorded, calls) for r in call]
        started = time.process_time()
        if replay:
            await _replay(protocol, transport, requests)
        spent = time.process_time() - started
        protocol.connection_lost(None)
        return spent / len(requests)

    return asyncio.run(run())


def ivrc_app() -> Any:
    """`ivrc serve examples`'s app as its worker builds it, its log lines going nowhere (as in the benchmark)."""
    from ivrc.runtime.server import startup

    os.environ.update({"SINCH_APPLICATION_KEY": DEMO_KEY, "SINCH_APPLICATION_SECRET": DEMO_SECRET,
                       "IVRC_STATE_KEY": STATE_KEY, **BENCH_ENV})
    options = startup.ServeOptions(paths=[str(REPO / "examples")], machines_dir=tempfile.mkdtemp(prefix="ivrc-bench-"))
    os.environ[startup._CONFIG_ENV] = json.dumps(dataclasses.asdict(options))
    app = startup.build_app()
    for name in ("ivrc", "ivrc.callbacks"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (kept open for the process)
    return app


class _Nothing:
    """A metric that counts nothing."""

    def inc(self, *args: Any, **labels: Any) -> None:
        pass

    def observe(self, *args: Any, **labels: Any) -> None:
        pass


@contextlib.contextmanager
def _without_log_line() -> Iterator[None]:
    from ivrc.runtime.server import app as app_module

    kept = app_module.log_answer
    app_module.log_answer = lambda *args, **fields: ""  # type: ignore[assignment]
    try:
        yield
    finally:
        app_module.log_answer = kept


@contextlib.contextmanager
def _without_signature_check() -> Iterator[None]:
    from ivrc.runtime.server import app as app_module
    from ivrc.runtime.signing import Verdict

    kept, numbers = app_module.verify, itertools.count()
    now = datetime.datetime.now(datetime.timezone.utc)
    # Accepted, with a signature of its own so the replay guard still remembers each answer.
    app_module.verify = lambda *args: Verdict(True, signature=str(next(numbers)), timestamp=now)  # type: ignore[assignment]
    try:
        yield
    finally:
        app_module.verify = kept


def _without_metrics(app: Any) -> None:
    metrics = app.state.metrics
    metrics.step_seconds = metrics.callbacks = _Nothing()


def fixed_answer_app() -> Any:
    """The floor under every app: uvicorn's protocol and an ASGI app that reads the body and answers the
    baseline's fixed SVAML, with no framework and no checks."""
    from bench.baseline_app import BODY

    head = {"type": "http.response.start", "status": 200,
            "headers": [(b"content-length", str(len(BODY)).encode()), (b"content-type", b"application/json")]}

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send(head)
        await send({"type": "http.response.body", "body": BODY})

    return app


def checked_answer_app() -> Any:
    """The least any server may do for a Sinch callback that moves a call's sealed state on, with ivrc's own
    signature and seal: check the signature, read the body's call id and cookies (orjson, no other checks),
    check the seal, seal the next state and write it into a fixed answer. No flow, no log line, no metrics,
    no replay guard."""
    import orjson

    from bench.baseline_app import BODY
    from ivrc.compiler import cookies as layout
    from ivrc.runtime.engine.sealing import Sealer
    from ivrc.runtime.server.app import _headers, _read_body, signed_path
    from ivrc.runtime.signing import Credentials, verify

    credentials, sealer = Credentials(DEMO_KEY, DEMO_SECRET), Sealer((STATE_KEY.encode(),))
    answer = orjson.loads(BODY)

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        headers = _headers(scope)
        body = await _read_body(receive, headers, 64 * 1024)
        assert body is not None
        verdict = verify(headers, body, signed_path(scope), scope["method"], credentials,
                         datetime.datetime.now(datetime.timezone.utc))
        assert verdict, verdict.reason
        data = orjson.loads(body)
        callid, cookies = data["callid"], {c["key"]: c["value"] for c in data.get("cookies") or ()}
        if cookies:
            assert sealer.verify(callid, cookies), "the benchmark's cookies carry ivrc's seal"
        seal = sealer.seal(callid, {**cookies, "ivrc": "support|80fb38cf2a5c|main_menu|0|en-US"})
        out = orjson.dumps({**answer, "instructions": [*answer["instructions"],
                                                       {"name": "setCookie", "key": layout.MAC_KEY, "value": seal}]})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(out)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})

    return app


FIXED = "uvicorn alone (an ASGI app, a fixed answer)"
CHECKED = "  plus signature, parse, seal check and seal"

# Each variant: (name, uses ivrc's protocol subclass, what to do to the app, context around the run)
Variant = tuple[str, bool, Callable[[Any], None], Callable[[], contextlib.AbstractContextManager]]
VARIANTS: list[Variant] = [
    ("ivrc serve", True, lambda app: None, contextlib.nullcontext),
    ("  without the log line", True, lambda app: None, _without_log_line),
    ("  without metrics", True, _without_metrics, contextlib.nullcontext),
    ("  without the signature check", True, lambda app: None, _without_signature_check),
    ("  without the request deadline", False, lambda app: None, contextlib.nullcontext),
]


# What cachegrind prints at the end of a run, per counter (a process's whole run).
_COUNTERS = {"instructions": "I   refs:", "L1 instruction misses": "I1  misses:", "data reads and writes": "D   refs:",
             "L1 data misses": "D1  misses:"}


def _counted(which: str, calls: int, stack: str) -> tuple[dict[str, int], int]:
    """cachegrind's counters for one process that replays `calls` calls to `which` (or only makes them: none)."""
    argv = ["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--cachegrind-out-file=/dev/null",
            sys.executable, str(Path(__file__)), "--replay", which, "--calls", str(calls), "--stack", stack]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    counts = {}
    for name, label in _COUNTERS.items():
        found = re.search(re.escape(label) + r"\s+([0-9,]+)", done.stderr)
        if found is None:
            raise SystemExit(f"bench: cachegrind printed no {label!r}")
        counts[name] = int(found.group(1).replace(",", ""))
    requests = re.search(r"requests: (\d+)", done.stderr)
    assert requests is not None  # printed by every replay
    return counts, int(requests.group(1))


def count_instructions(stack: str, small: int, large: int) -> None:
    """Machine instructions and cache misses per request, from cachegrind: the same on a busy machine as on
    a quiet one. Two runs per server (small and large) leave out start-up; a run that only makes the
    requests leaves out the load generator's own work."""
    if shutil.which("valgrind") is None:
        raise SystemExit("bench: --instructions needs valgrind (apt-get install valgrind)")
    per_request: dict[str, dict[str, float]] = {}
    made = {size: _counted("none", size, stack)[0] for size in (small, large)}
    for which in ("baseline", "ivrc"):
        (few, few_requests), (many, many_requests) = (_counted(which, size, stack) for size in (small, large))
        per_request[which] = {name: ((many[name] - few[name]) - (made[large][name] - made[small][name]))
                              / (many_requests - few_requests) for name in _COUNTERS}
    rows = [[name, *(f"{per_request[w][name]:,.0f}" for w in ("baseline", "ivrc")),
             f"{per_request['ivrc'][name] - per_request['baseline'][name]:,.0f}"] for name in _COUNTERS]
    print(f"\nPer request through uvicorn's {PROTOCOLS[stack]} protocol and the app, counted by cachegrind "
          f"(its simulated caches), {large - small} calls")
    print(table(["counter", "baseline", "ivrc serve", "ivrc's own"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per run (about 3 requests each)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per variant; the least CPU is reported")
    parser.add_argument("--stack", choices=PROTOCOLS, default="plain",
                        help="plain: uvicorn's h11 protocol; standard: its httptools protocol (must be installed)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions for ivrc serve")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions and cache misses per request with valgrind's cachegrind "
                             "(repeatable on a busy machine; takes minutes)")
    parser.add_argument("--replay", choices=("none", "baseline", "ivrc"), help=argparse.SUPPRESS)  # --instructions' runs
    parser.add_argument("--quick", action="store_true", help="a few calls, to check the script runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 20, 1
    recorded = record_calls(SCRIPTS)
    if args.replay is not None:
        from bench.baseline_app import app as baseline_app

        app = baseline_app if args.replay != "ivrc" else ivrc_app()
        cpu_per_request(app, _protocol_class(args.stack, args.replay == "ivrc"), args.stack, args.calls, recorded,
                        replay=args.replay != "none")
        print(f"requests: {sum(len(recorded[n % len(recorded)]) for n in range(args.calls))}", file=sys.stderr)
        return 0
    from bench.baseline_app import app as baseline

    # name -> (app, protocol class, context around each run); every run of every variant in turn,
    # round after round, so a change in the machine's other load falls on all of them alike.
    plain = _protocol_class(args.stack, False)
    runs: dict[str, tuple[Any, type, Callable[[], contextlib.AbstractContextManager]]] = {
        BASELINE: (baseline, plain, contextlib.nullcontext), FIXED: (fixed_answer_app(), plain, contextlib.nullcontext),
        CHECKED: (checked_answer_app(), plain, contextlib.nullcontext)}
    for name, guarded, change, around in VARIANTS:
        app = ivrc_app()
        change(app)
        runs[name] = (app, _protocol_class(args.stack, guarded), around)
    costs = {name: float("inf") for name in runs}
    for _ in range(args.rounds):
        for name, (app, protocol_class, around) in runs.items():
            with around():
                costs[name] = min(costs[name], cpu_per_request(app, protocol_class, args.stack, args.calls, recorded))
    full, base = costs["ivrc serve"], costs[BASELINE]
    floor, checked = costs[FIXED], costs[CHECKED]
    rows = [[name, f"{cost * 1e6:.1f}", "" if name in (BASELINE, "ivrc serve", FIXED) else
             f"{(checked - floor) * 1e6:.1f}" if name == CHECKED else f"{(full - cost) * 1e6:.1f}"]
            for name, cost in costs.items()]
    print(f"CPU per request through uvicorn's {PROTOCOLS[args.stack]} protocol, in-process, one request at a "
          f"time, {args.calls} calls of the benchmark mix, least of {args.rounds} run(s)")
    print(table(["server", "us per request", "us that part costs"], rows))
    print(f"\nivrc's own work: {(full - base) * 1e6:.1f} us per request; throughput this would allow, "
          f"ivrc/baseline: {base / full:.2f}")
    # The ceiling: at 0.80 of the baseline, everything an app does must fit in baseline/0.8 less the floor.
    budget, checks = base / 0.8 - floor, checked - floor
    print(f"An app answering at 0.80 of the baseline may spend {budget * 1e6:.1f} us per request beyond uvicorn "
          f"alone; ivrc's app spends {(full - floor) * 1e6:.1f}. The checks any signed, sealed answer needs take "
          f"{checks * 1e6:.1f} of it (alone, {base / checked:.2f} of the baseline), leaving "
          f"{(budget - checks) * 1e6:.1f} us for the flow's step and answer, the log line, metrics and the replay guard")
    if args.profile:
        _profile(args, recorded)
    if args.instructions:
        count_instructions(args.stack, small=40 if args.quick else 100, large=80 if args.quick else 400)
    return 0


def _profile(args: argparse.Namespace, recorded: list[list[dict]]) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    app = ivrc_app()
    profiler.enable()
    cpu_per_request(app, _protocol_class(args.stack, True), args.stack, args.calls, recorded)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    sys.exit(main())
