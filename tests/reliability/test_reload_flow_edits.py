"""`ivrc serve --reload` in a default install: a saved flow is served, a broken one keeps the last good version."""
from __future__ import annotations

import time
from pathlib import Path

import ivrctest
import pytest

from ivrc.runtime.emulation.emulator import Call, HttpTransport

pytestmark = pytest.mark.slow  # a real server for seconds: run by `make test-slow`

DEADLINE = 60  # seconds; polled
FLOW = """\
ivrc: 1
flow: hello
numbers: ["+46812345688"]
start: greet
states:
  greet:
    say: "{words}"
    hangup: true
"""


def _heard(server: ivrctest.Server) -> str:
    call = Call(HttpTransport(server.callback, ivrctest.KEY, ivrctest.SECRET, timeout=10), called="+46812345688")
    return call.start().heard()[-1]


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_reload_serves_flow_edits_and_survives_a_broken_save(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    flow = flows / "hello.yaml"
    flow.write_text(FLOW.format(words="First words."))
    server = ivrctest.start_serve(tmp_path, flows, extra=("--reload",))
    try:
        assert _heard(server) == "First words."
        flow.write_text(FLOW.format(words="Second words."))
        _until(lambda: _heard(server) == "Second words.", "the edited flow was never served")
        flow.write_text(FLOW.format(words="Broken").replace("hangup: true", "hangup: true\n    next: nowhere"))
        _until(lambda: "still serving the last good version" in server.stderr.read_text(),
               "the broken flow's diagnostics were never logged")
        assert server.process.poll() is None, "the development server went down"
        assert _heard(server) == "Second words."
        assert "hello.yaml:" in server.stderr.read_text()  # the diagnostics, with file:line:col
        flow.write_text(FLOW.format(words="Fixed words."))
        _until(lambda: _heard(server) == "Fixed words.", "the fixed flow was never served")
    finally:
        server.stop()
