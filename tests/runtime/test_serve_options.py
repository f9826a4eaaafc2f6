"""`ivrc serve` connection limits: flags checked before start-up, fd-exhaustion logged once per interval."""
from __future__ import annotations

import logging
import resource

import pytest

from ivrc.runtime.server.connections import QuietAcceptErrors, raise_fd_limit


@pytest.mark.parametrize("flag", ["--keep-alive-timeout", "--request-timeout", "--limit-concurrency",
                                  "--graceful-shutdown-timeout"])
def test_a_limit_of_zero_is_refused_with_the_flag_named(ivrc, flag: str) -> None:
    run = ivrc("serve", "examples", flag, "0")
    assert run.code == 2 and f"{flag} must be more than 0" in run.err


@pytest.mark.parametrize("flag,module", [("--http", "httptools"), ("--loop", "uvloop")])
def test_a_fast_parser_or_loop_that_is_not_installed_is_named_with_what_to_install(ivrc, monkeypatch, flag: str,
                                                                                    module: str) -> None:
    import importlib.util

    from ivrctest import serve_env

    for name, value in serve_env().items():
        monkeypatch.setenv(name, value)
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else found(name, *a))
    run = ivrc("serve", "examples", flag, module)
    assert run.code == 2
    assert f"{flag} {module}: {module} is not installed; install it with pip install 'uvicorn[standard]'" in run.err


class FakeLoop:
    def __init__(self) -> None:
        self.passed: list[dict] = []

    def default_exception_handler(self, context: dict) -> None:
        self.passed.append(context)


def test_running_out_of_descriptors_is_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    handler = QuietAcceptErrors(interval=60, clock=lambda: now[0])
    loop = FakeLoop()
    refused = {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many open files")}
    with caplog.at_level(logging.ERROR, logger="ivrc.server"):
        for second in range(120):  # asyncio retries every second, and each attack connection refused logs
            now[0] = float(second)
            for _ in range(50):
                handler(loop, refused)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "(2999 more since the last report)" in lines[1]
    other = {"message": "something else", "exception": RuntimeError("x")}
    handler(loop, other)
    assert loop.passed == [other]  # everything else goes to asyncio's own handler


def test_the_fd_soft_limit_is_raised_to_the_hard_limit() -> None:
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, before[1]), before[1]))
        soft, hard = raise_fd_limit()
        assert (soft, hard) == resource.getrlimit(resource.RLIMIT_NOFILE)
        assert soft == hard or hard == resource.RLIM_INFINITY
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_a_port_in_use_stops_the_start_up_with_a_clear_error(ivrc, monkeypatch) -> None:
    import socket

    import ivrctest

    for name, value in ivrctest.serve_env().items():
        monkeypatch.setenv(name, value)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = ivrc("serve", "examples", "--port", str(port))
    assert run.code == 2, run.err
    assert f"cannot listen on 127.0.0.1:{port}" in run.err and "--port" in run.err
    assert "serving" not in run.err  # stopped before it said it was serving
