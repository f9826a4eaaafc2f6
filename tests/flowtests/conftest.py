"""Shared helpers for the emulator and flow-test tests: the repo, `ivrc` in-process, servers on loopback."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
# The verified test vector of Sinch's signing docs (reference section 6.3): public, for tests only.
KEY = "669E367E-6BBA-48AB-AF15-266871C28135"
SECRET = "BeIukql3pTKJ8RGL5zo0DA=="


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def ivrc(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Runs `ivrc ARGS...` through ivrc.cli.main from the repository root; `stdin` feeds it text."""
    from ivrc.cli import main

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv: str, stdin: str | None = None) -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The environment `ivrc call` and `ivrc test --url` sign with, set to the test-vector pair."""
    monkeypatch.setenv("SINCH_APPLICATION_KEY", KEY)
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", SECRET)
    return KEY, SECRET


@dataclass
class Served:
    base: str
    callback: str
    process: subprocess.Popen


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real `ivrc serve examples` process on a free loopback port, signed with the test-vector pair."""
    port = free_port()
    machines = tmp_path_factory.mktemp("machines")
    log = machines / "serve.log"
    env = {**os.environ, "SINCH_APPLICATION_KEY": KEY, "SINCH_APPLICATION_SECRET": SECRET,
           "VOICEMAIL_S3_CREDENTIALS": "AKIAEXAMPLE:example-secret:eu-north-1"}
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [sys.executable, "-m", "ivrc", "serve", "examples", "--port", str(port), "--machines-dir",
             str(machines), "--log-level", "warning"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base + "/healthz", process, log)
        yield Served(base, base + "/sinch/callback", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[..., Path]:
    """A folder with copies of example flows; write(name, text) adds a file and returns its path."""
    def write(name: str, text: str | None = None) -> Path:
        path = tmp_path / name
        if text is None:  # an example flow, copied
            text = (EXAMPLES / name).read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        return path

    return write
