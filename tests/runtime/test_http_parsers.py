"""`ivrc serve --http h11|httptools`: both parsers answer callbacks alike and close a request that never finishes."""
from __future__ import annotations

import datetime
import json
import socket
import time
from pathlib import Path

import httpx
import ivrctest
import pytest

from ivrc.runtime.signing import sign

pytestmark = pytest.mark.slow  # real servers: run by `make test-slow`

DEADLINE = 30  # seconds; polled, never slept


def _signed_ice(base: str) -> httpx.Response:
    body = json.dumps({"event": "ice", "callid": f"parser-{time.monotonic()}", "cli": "+46701234567",
                       "to": {"type": "number", "endpoint": "+46812345700"}}).encode()  # a collect at any hour
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    headers = {"content-type": "application/json", "x-timestamp": stamp,
               "authorization": sign(ivrctest.KEY, ivrctest.SECRET, "POST", "/sinch/callback", "application/json",
                                     stamp, body)}
    return httpx.post(base + "/sinch/callback", content=body, headers=headers, timeout=10)


@pytest.mark.parametrize("parser", ["h11", "httptools"])
def test_each_parser_answers_and_closes_a_request_that_never_finishes(tmp_path: Path, parser: str) -> None:
    server = ivrctest.start_serve(tmp_path, extra=("--http", parser, "--loop", "asyncio", "--request-timeout", "1"))
    try:
        answer = _signed_ice(server.base)
        assert answer.status_code == 200 and answer.json()["action"]["name"] == "runMenu"
        assert answer.headers["content-type"] == "application/json"
        slow = socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])))
        slow.settimeout(DEADLINE)
        try:
            slow.sendall(b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ev")
            assert slow.recv(1024) == b"", "the half-sent request was answered instead of closed"
        finally:
            slow.close()
    finally:
        server.stop()
    assert f"HTTP: {parser}, event loop: asyncio" in server.stderr.read_text()

