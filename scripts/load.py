#!/usr/bin/env python3
"""Load test: many concurrent emulated calls through a real `ivrc serve` on loopback, with latency and memory.

Starts `ivrc serve examples` on 127.0.0.1 (or uses --url, which must be a loopback address),
then places calls from a pool of threads. Each call is a scripted caller from the examples
(account PIN, voicemail, parking, an outbound reminder, the support menu, the multilingual
line), played by the Sinch emulator: signed callbacks, cookies echoed, every answer checked
against Sinch's rules. A call counts as completed when its script ran to the end and every
answer was valid SVAML; anything else is an error, counted by kind.

Bounded twice: no more than --calls calls are placed, and none is started after --seconds.
Every request has a timeout, so the script always ends.

    python scripts/load.py                              # 2,000 calls, 32 at a time, at most 120 s
    python scripts/load.py --calls 200 --concurrency 8 --seconds 30 --json
    python scripts/load.py --workers 2                  # uvicorn with two worker processes

Reported: calls completed and failed, callbacks per second, callback latency (p50, p90, p99,
max) as the caller side sees it, the server's resident memory (VmRSS from /proc, summed over
worker processes) after start-up and after the load, and its peak (VmHWM).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))

from ivrc.runtime.emulation.emulator import Call, HttpTransport  # noqa: E402

# The public test vector of Sinch's signing docs (reference section 6.3): fine on loopback, never in production.
DEMO_KEY = "669E367E-6BBA-48AB-AF15-266871C28135"
DEMO_SECRET = "BeIukql3pTKJ8RGL5zo0DA=="
PLACEHOLDER_S3 = "AKIAEXAMPLE:example-secret-key:eu-north-1"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

SUPPORT, VOICEMAIL, ACCOUNT_PIN, MULTILINGUAL, PARTNER_LINE = (
    "+46812345670", "+46812345690", "+46812345700", "+46812345710", "+46812345711")


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found.extend(int(p) for p in fh.read().split())
    except OSError:
        pass
    return found


def _status_kib(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_kib(pid: int, field_name: str = "VmRSS") -> int:
    """VmRSS (or VmHWM) of a process and all its descendants, in KiB; 0 where /proc is missing."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _status_kib(current, field_name)
        todo.extend(_children(current))
    return total


@dataclass
class ServerProcess:
    """One `ivrc serve` process on 127.0.0.1. Stop it with stop() (SIGTERM) or kill() (SIGKILL)."""

    paths: list[str]
    machines_dir: str
    port: int = 0
    workers: int = 1
    env: dict[str, str] | None = None
    log_dir: str | None = None
    extra: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    stdout_path: str = ""
    stderr_path: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def callback(self) -> str:
        return self.base + "/sinch/callback"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        import httpx

        self.port = self.port or free_port()
        log_dir = self.log_dir or tempfile.mkdtemp(prefix="ivrc-serve-")
        stamp = f"{self.port}-{time.monotonic_ns()}"
        self.stdout_path = os.path.join(log_dir, f"stdout-{stamp}.log")
        self.stderr_path = os.path.join(log_dir, f"stderr-{stamp}.log")
        env = dict(os.environ) if self.env is None else dict(self.env)
        env.setdefault("SINCH_APPLICATION_KEY", DEMO_KEY)
        env.setdefault("IVRC_STATE_KEY", "load-test-state-key-local-only")  # seals call state
        env.setdefault("BANK_API_TOKEN", "demo-bank-token")  # what examples/backend.py expects
        env.setdefault("SINCH_APPLICATION_SECRET", DEMO_SECRET)
        env.setdefault("VOICEMAIL_S3_CREDENTIALS", PLACEHOLDER_S3)
        env["PYTHONUNBUFFERED"] = "1"
        args = [sys.executable, "-m", "ivrc", "serve", *self.paths, "--host", "127.0.0.1", "--port", str(self.port),
                "--machines-dir", self.machines_dir, "--workers", str(self.workers), *self.extra]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"ivrc serve exited with {self.process.returncode}:\n{self.stderr()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"ivrc serve did not answer /healthz within {timeout:.0f} s:\n{self.stderr()}")
            time.sleep(0.05)

    def stdout(self) -> str:
        return Path(self.stdout_path).read_text(errors="replace") if self.stdout_path else ""

    def stderr(self) -> str:
        return Path(self.stderr_path).read_text(errors="replace") if self.stderr_path else ""

    def rss_kib(self) -> int:
        return memory_kib(self.pid)

    def peak_kib(self) -> int:
        return memory_kib(self.pid, "VmHWM")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not gone after `timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything (a crash, an OOM kill)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait(timeout=10)


# -- the callers --------------------------------------------------------------------------------


class ScenarioFailed(Exception):
    """The call went somewhere its script did not expect."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def account_business(transport) -> Call:
    c = Call(transport, called=ACCOUNT_PIN).start().press("9123456#").press("9876#")
    _expect(bool(c.transferred) and c.transferred["target"] == "business-desk@pbx.granitebank.example",
            "account-pin: business account was not put through to the business desk")
    return c.hangup()


def account_block_card(transport) -> Call:
    c = Call(transport, called=ACCOUNT_PIN).start().press("0123#").press("123456#").press("1234#").press("1")
    _expect(bool(c.transferred) and c.transferred["target"] == "+46812345701", "account-pin: card block not reached")
    return c.hangup()


def voicemail(transport) -> Call:
    c = Call(transport, called=VOICEMAIL).start().press("#")
    _expect(c.ended and c.heard()[-1].startswith("Thank you. We will call you back"), "voicemail: no goodbye")
    return c


def partner_line(transport) -> Call:
    c = Call(transport, called=PARTNER_LINE).start()
    _expect(c.parked, "multilingual: the partner line was not parked")
    return c.hangup()


def reminder(transport) -> Call:
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "Smile Dental", "appointment_time": "on Friday at 9"}})
    c = Call(transport, outbound=True, custom=custom, amd="human").start().press("2").press("1")
    _expect(c.ended and c.cookies.get("v.answer") == "cancelled", "reminder: the appointment was not cancelled")
    return c


def support(transport) -> Call:
    c = Call(transport, called=SUPPORT).start()
    if not c.ended:  # office hours: the menu, then technical support
        c.press("9").press("2")
        _expect(bool(c.transferred), "support: not transferred to technical support")
    return c.hangup()


def multilingual(transport) -> Call:
    c = Call(transport, called=MULTILINGUAL).start().silence().press("2")
    _expect(bool(c.transferred) and c.transferred["kind"] == "conference", "multilingual: product advice not reached")
    return c.hangup()


SCENARIOS: dict[str, Callable[[Any], Call]] = {
    "account-business": account_business, "account-block-card": account_block_card, "voicemail": voicemail,
    "partner-line": partner_line, "reminder": reminder, "support": support, "multilingual": multilingual,
}


class TimedTransport:
    """An HttpTransport that records how long each callback took to answer."""

    def __init__(self, inner: HttpTransport, sink: list[float]) -> None:
        self.inner, self.sink = inner, sink

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        started = time.perf_counter()
        try:
            return self.inner.send(body)
        finally:
            self.sink.append(time.perf_counter() - started)


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Report:
    calls_started: int = 0
    calls_completed: int = 0
    errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    callbacks: int = 0
    seconds: float = 0.0
    callbacks_per_second: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    call_ms: dict[str, float] = field(default_factory=dict)
    by_scenario: dict[str, int] = field(default_factory=dict)
    server_rss_before_kib: int = 0
    server_rss_after_kib: int = 0
    server_peak_kib: int = 0
    server_errors_total: float = 0.0
    server_rejected_total: float = 0.0
    concurrency: int = 0
    workers: int = 1


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max in milliseconds (nearest-rank), or {} for no values."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(-(-p * len(ordered) // 100)) - 1))] * 1000

    return {"p50": round(rank(50), 2), "p90": round(rank(90), 2), "p99": round(rank(99), 2),
            "max": round(ordered[-1] * 1000, 2)}


def _metric_total(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def run_load(url: str, *, calls: int, concurrency: int, seconds: float, key: str, secret: str,
             scenarios: dict[str, Callable[[Any], Call]] = SCENARIOS, timeout: float = 10.0) -> Report:
    """Places up to `calls` calls, `concurrency` at a time, starting none after `seconds`."""
    import httpx

    report = Report(concurrency=concurrency)
    latencies: list[float] = []  # list.append is atomic under the GIL
    durations: list[float] = []
    lock = threading.Lock()
    local = threading.local()
    names = list(scenarios)
    started = time.monotonic()
    deadline = started + seconds
    counter = iter(range(calls))
    clients: list[Any] = []

    def transport() -> TimedTransport:
        if not hasattr(local, "transport"):
            client = httpx.Client(timeout=timeout)
            with lock:
                clients.append(client)
            local.transport = TimedTransport(HttpTransport(url, key, secret, client=client), latencies)
        return local.transport

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
                if index is None:
                    return
                report.calls_started += 1
            name = names[index % len(names)]
            began = time.perf_counter()
            try:
                scenarios[name](transport())
            except Exception as err:  # CallFailed, ScenarioFailed or worse: counted, and the run goes on
                kind = type(err).__name__
                with lock:
                    report.errors += 1
                    report.errors_by_kind[kind] = report.errors_by_kind.get(kind, 0) + 1
                    if len(report.first_errors) < 5:
                        report.first_errors.append(f"{name}: {kind}: {str(err)[:300]}")
                continue
            durations.append(time.perf_counter() - began)
            with lock:
                report.calls_completed += 1
                report.by_scenario[name] = report.by_scenario.get(name, 0) + 1

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(worker) for _ in range(concurrency)]:
                future.result()
    finally:
        for client in clients:
            client.close()
    report.seconds = round(time.monotonic() - started, 2)
    report.callbacks = len(latencies)
    report.callbacks_per_second = round(report.callbacks / report.seconds, 1) if report.seconds else 0.0
    report.latency_ms = percentiles(latencies)
    report.call_ms = percentiles(durations)
    try:
        parts = urlsplit(url)
        metrics = httpx.get(f"{parts.scheme}://{parts.netloc}/metrics", timeout=timeout).text
        report.server_errors_total = _metric_total(metrics, "ivrc_errors_total")
        report.server_rejected_total = _metric_total(metrics, "ivrc_rejected_requests_total")
    except httpx.HTTPError:
        pass
    return report


def table(report: Report) -> str:
    mib = lambda kib: f"{kib / 1024:.1f} MiB" if kib else "n/a"  # noqa: E731
    lat, dur = report.latency_ms, report.call_ms
    rows = [
        ("calls placed", f"{report.calls_started}"),
        ("calls completed", f"{report.calls_completed}"),
        ("errors", f"{report.errors}" + (f"  {report.errors_by_kind}" if report.errors_by_kind else "")),
        ("concurrency / workers", f"{report.concurrency} / {report.workers}"),
        ("duration", f"{report.seconds:.1f} s"),
        ("callbacks", f"{report.callbacks}  ({report.callbacks_per_second}/s)"),
        ("callback latency p50/p90/p99/max",
         f"{lat.get('p50', 0)} / {lat.get('p90', 0)} / {lat.get('p99', 0)} / {lat.get('max', 0)} ms"),
        ("call duration p50/p99", f"{dur.get('p50', 0)} / {dur.get('p99', 0)} ms"),
        ("server RSS before / after", f"{mib(report.server_rss_before_kib)} / {mib(report.server_rss_after_kib)}"),
        ("server peak RSS (VmHWM)", mib(report.server_peak_kib)),
        ("server error paths / rejected", f"{report.server_errors_total:.0f} / {report.server_rejected_total:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    lines += [f"  {name}: {count}" for name, count in sorted(report.by_scenario.items())]
    lines += [f"  error: {text}" for text in report.first_errors]
    return "\n".join(lines) + "\n"


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in LOOPBACK or host.startswith("127.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls to place at most (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in progress at once (default 32)")
    parser.add_argument("--seconds", type=float, default=120.0, help="start no call after this (default 120)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the server (default 1)")
    parser.add_argument("--flows", default=str(REPO / "examples"), help="flows to serve (the scenarios need the examples)")
    parser.add_argument("--url", help="use a running server's callback URL instead (loopback only)")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, to read its memory")
    parser.add_argument("--json", action="store_true", help="print the report as JSON after the table")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.concurrency < 1 or args.seconds <= 0:
        parser.error("--calls, --concurrency and --seconds must be positive")
    key = os.environ.get("SINCH_APPLICATION_KEY", DEMO_KEY)
    secret = os.environ.get("SINCH_APPLICATION_SECRET", DEMO_SECRET)

    server = None
    machines = None
    if args.url:
        if not _loopback(args.url):
            parser.error("--url must be a loopback address (127.0.0.1, ::1 or localhost): this script only loads your own machine")
        url, pid = args.url, args.pid
    else:
        machines = tempfile.mkdtemp(prefix="ivrc-load-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("IVRC_")}
        env.update({"SINCH_APPLICATION_KEY": key, "SINCH_APPLICATION_SECRET": secret})
        server = ServerProcess([args.flows], os.path.join(machines, "machines"), workers=args.workers, env=env,
                               log_dir=machines).start()
        url, pid = server.callback, server.pid
    try:
        before = memory_kib(pid) if pid else 0
        report = run_load(url, calls=args.calls, concurrency=args.concurrency, seconds=args.seconds, key=key,
                          secret=secret)
        report.workers = args.workers
        report.server_rss_before_kib = before
        report.server_rss_after_kib = memory_kib(pid) if pid else 0
        report.server_peak_kib = memory_kib(pid, "VmHWM") if pid else 0
    finally:
        if server is not None:
            server.stop()
        if machines is not None:
            shutil.rmtree(machines, ignore_errors=True)
    sys.stdout.write(table(report))
    if args.json:
        sys.stdout.write(json.dumps(asdict(report)) + "\n")
    return 0 if report.errors == 0 and report.calls_completed == report.calls_started else 1


if __name__ == "__main__":
    sys.exit(main())
