"""What many test folders need: the repository, the test-vector credentials, `ivrc` in-process, real servers."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
# The example flows (not their scenario files): tests that count what a folder holds count these.
EXAMPLE_FLOWS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".test.yaml"))
# The verified test vector of Sinch's signing docs (reference section 6.3): public, for tests only.
KEY = "669E367E-6BBA-48AB-AF15-266871C28135"
SECRET = "BeIukql3pTKJ8RGL5zo0DA=="
# What the voicemail examples read from the server's environment, as a stand-in.
S3_CREDENTIALS = "AKIAEXAMPLE:example-secret:eu-north-1"
# What account_pin.yaml sends the example backend (examples/backend.py), and the key that signs call state.
BANK_TOKEN = "demo-bank-token"
STATE_KEY = "test-state-key-0123456789abcdef"
BACKEND_PORT = 8091  # where the example flows find examples/backend.py
STARTUP_SECONDS = 20.0


@dataclass
class Run:
    """What one `ivrc` invocation did."""

    code: int
    out: str
    err: str


def ivrc_runner(capsys, monkeypatch) -> Callable[..., Run]:
    """`ivrc ARGS...` through ivrc.cli.main, from the repository root, without colour.

    `stdin` (text or bytes) feeds both `ivrc lint -` (bytes) and interactive commands (lines);
    `tty` says whether stdin looks like a terminal."""
    from ivrc.cli import main

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv, stdin: str | bytes | None = None, tty: bool = False) -> Run:
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        feed = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
        feed.isatty = lambda: tty  # type: ignore[method-assign]
        monkeypatch.setattr(sys, "stdin", feed)
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(**changes: str | None) -> dict[str, str]:
    """The environment a test server runs with: test-vector credentials; None removes a variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SINCH_", "IVRC_"))}
    env.update({"SINCH_APPLICATION_KEY": KEY, "SINCH_APPLICATION_SECRET": SECRET,
                "VOICEMAIL_S3_CREDENTIALS": S3_CREDENTIALS, "BANK_API_TOKEN": BANK_TOKEN,
                "IVRC_STATE_KEY": STATE_KEY, "PYTHONUNBUFFERED": "1"})
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass
class Server:
    """A running `ivrc serve` process and where to reach it."""

    process: subprocess.Popen
    base: str
    stdout: Path
    stderr: Path

    @property
    def callback(self) -> str:
        return self.base + "/sinch/callback"

    def stop(self) -> None:
        stop(self.process)


def start_serve(folder: Path, *paths: str | Path, machines_dir: Path | None = None, env: dict | None = None,
                extra: tuple[str, ...] = (), port: int | None = None, preexec_fn=None) -> Server:
    """Starts `ivrc serve PATHS` on a free loopback port and waits for /healthz; logs go to `folder`.

    Raises RuntimeError (with the server's stderr) if it exits or does not answer in time; the
    caller stops it (Server.stop) in a finally block or fixture teardown."""
    port = port or free_port()
    stdout, stderr = folder / "stdout.log", folder / "stderr.log"
    argv = [sys.executable, "-m", "ivrc", "serve", *map(str, paths or (EXAMPLES,)), "--host", "127.0.0.1",
            "--port", str(port), "--machines-dir", str(machines_dir or folder / "machines"), *extra]
    # Files, not pipes: a full pipe would stall the server.
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(argv, cwd=REPO, env=env or serve_env(), stdout=out, stderr=err, preexec_fn=preexec_fn)
    server = Server(process, f"http://127.0.0.1:{port}", stdout, stderr)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"ivrc serve exited with {process.returncode}:\n{stderr.read_text()}")
        try:
            if httpx.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"ivrc serve did not answer /healthz within {STARTUP_SECONDS} s:\n{stderr.read_text()}")
        time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def backend_users() -> Path:
    """Where the test runs using the example backend register (a file per PID): the backend a run
    starts stays up while any of them is alive, so runs side by side never stop each other's."""
    return Path(tempfile.gettempdir()) / f"ivrc-example-backend-{BACKEND_PORT}-users"


def use_example_backend(folder: Path) -> subprocess.Popen | None:
    """Registers this run as a user of the example backend, then starts one if none answers."""
    users = backend_users()
    users.mkdir(exist_ok=True)
    (users / str(os.getpid())).touch()
    return start_example_backend(folder, users)


def leave_example_backend() -> None:
    """This run is done with the backend; it stops by itself when no run uses it."""
    (backend_users() / str(os.getpid())).unlink(missing_ok=True)


def start_example_backend(folder: Path, users: Path | None = None) -> subprocess.Popen | None:
    """Starts examples/backend.py on its port for the example flows' requests; None if one already answers there.

    With `users`, it keeps running while a process registered there is alive (use_example_backend).
    Raises RuntimeError when the port is taken by something else, or the backend does not come up."""
    health = f"http://127.0.0.1:{BACKEND_PORT}/health"
    try:
        if httpx.get(health, timeout=1).json().get("service") == "ivrc-example-backend":
            return None  # a developer's `make serve` is running one: the same data, so use it
        raise RuntimeError(f"port {BACKEND_PORT} is taken by something that is not the example backend")
    except (httpx.HTTPError, ValueError):
        pass
    log = folder / "backend.log"
    with log.open("wb") as out:
        extra = ["--exit-with-users", str(users)] if users is not None else []
        process = subprocess.Popen([sys.executable, str(EXAMPLES / "backend.py"), "--port", str(BACKEND_PORT), *extra],
                                   cwd=REPO, env=serve_env(), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=users is not None)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the example backend exited:\n{log.read_text()}")
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"the example backend did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def backend_fetch(outgoing):  # type: ignore[no-untyped-def]
    """A request state's reply from the example backend over real HTTP, for engines run in the test process."""
    from ivrc.runtime.engine.requests import Reply

    started = time.monotonic()
    try:
        response = httpx.request(outgoing.method, outgoing.url, params=outgoing.query or None,
                                 headers=outgoing.headers, content=outgoing.body, timeout=outgoing.timeout)
    except httpx.TimeoutException:
        return Reply(error="timeout", seconds=time.monotonic() - started)
    except httpx.HTTPError:
        return Reply(error="connection", seconds=time.monotonic() - started)
    try:
        return Reply(status=response.status_code, data=response.json(), json_ok=True,
                     seconds=time.monotonic() - started)
    except ValueError:
        return Reply(status=response.status_code, seconds=time.monotonic() - started)
