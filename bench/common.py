"""What the benchmarks share: starting servers on loopback, a fast HTTP load generator, process timing."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_KEY = "669E367E-6BBA-48AB-AF15-266871C28135"
DEMO_SECRET = "BeIukql3pTKJ8RGL5zo0DA=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, path: str = "/", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(16).startswith(b"HTTP/1.1"):
                    return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


@contextlib.contextmanager
def server(argv: list[str], port: int, env: dict | None = None, health: str = "/"):
    """Runs a server process for the duration of the block; always stops it."""
    proc = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_up(port, health)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def http_get(port: int, path: str) -> bytes:
    """The body of GET path on loopback (one request, connection closed after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).partition(b"\r\n\r\n")[2]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def _connection(port: int, calls: list[list[bytes]], results: list, errors: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for call in calls:
            for request in call:
                started = time.perf_counter()
                status, _ = await exchange(reader, writer, request)
                results.append(time.perf_counter() - started)
                if not status.startswith(b"HTTP/1.1 200"):
                    errors.append(status)
    finally:
        writer.close()


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[bytes, bytes]:
    """One request on a keep-alive connection: its status line and body (Content-Length framing only)."""
    writer.write(request)
    status = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, (await reader.readexactly(length) if length else b"")


def drive(port: int, calls: list[list[bytes]], connections: int = 32) -> LoadResult:
    """Sends each call's requests in order on one of `connections` keep-alive connections, as fast as answered."""
    shares = [calls[i::connections] for i in range(connections)]
    results: list[float] = []
    errors: list = []

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, share, results, errors) for share in shares if share))
        return time.perf_counter() - started

    seconds = asyncio.run(run())
    return LoadResult(len(results), seconds, results, len(errors))


def http_post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def timed_process(argv: list[str], repeat: int = 5, env: dict | None = None) -> tuple[float, float, int]:
    """Best and median wall time (s) of a whole process, and its peak memory (KiB), over `repeat` runs."""
    times, peak = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - started)
        peak = max(peak, usage.ru_maxrss)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
    return min(times), statistics.median(times), peak


def table(headers: list[str], rows: list[list]) -> str:
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells[1:]]
    return "\n".join(out)


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable
