"""Attackers who can reach the webhook, against a real `ivrc serve` over real HTTP on the real clock.

Each way of faking or reusing Sinch's signature is refused with 401 and its reason, no flow
runs for it, and /metrics counts it. Broken HTTP at the socket level gets a 4xx or a closed
connection, never a 5xx, and the server goes on answering.
"""
from __future__ import annotations

import base64
import datetime
import json
import socket
from typing import Any, Callable

import httpx
import pytest
from relykit import EXAMPLES, KEY, OTHER_KEY, OTHER_SECRET, SECRET, SUPPORT, encode

from ivrc.runtime.signing import sign

PATH = "/sinch/callback"


@pytest.fixture(scope="module")
def server(launch_for_module, tmp_path_factory) -> Any:
    return launch_for_module([EXAMPLES], tmp_path_factory.mktemp("machines"))


def now(offset_seconds: float = 0) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)


_serial = iter(range(1, 10**9))


def iso(moment: datetime.datetime) -> str:
    # Unique fractional digits: no two test requests are ever the same signed request.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{next(_serial):07d}Z"


def ice_body(callid: str) -> bytes:
    return encode({"event": "ice", "callid": callid, "cli": "+46701234567", "version": 1,
                   "to": {"type": "number", "endpoint": SUPPORT}})


def signed(body: bytes, *, key: str = KEY, secret: str = SECRET, method: str = "POST", path: str = PATH,
           content_type: str = "application/json", timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or iso(now())
    return {"content-type": content_type, "x-timestamp": timestamp,
            "authorization": sign(key, secret, method, path, content_type, timestamp, body)}


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


def _replace(headers: dict[str, str], **changes: str) -> dict[str, str]:
    return {**headers, **{k.replace("_", "-"): v for k, v in changes.items()}}


# (name, how the request is made from a body, the reason the server must give)
ATTACKS: list[tuple[str, Callable[[bytes], tuple[bytes, dict[str, str]]], str]] = [
    ("forged signature", lambda b: (b, _replace(signed(b), authorization=f"Application {KEY}:"
                                                + base64.b64encode(b"\x00" * 32).decode())), "bad-signature"),
    ("wrong key", lambda b: (b, signed(b, key=OTHER_KEY)), "unknown-key"),
    ("wrong secret", lambda b: (b, signed(b, secret=OTHER_SECRET)), "bad-signature"),
    ("altered body", lambda b: (b.replace(b"+46701234567", b"+46700000666"), signed(b)), "bad-signature"),
    ("altered path", lambda b: (b, signed(b, path="/sinch/callback/ace")), "bad-signature"),
    ("altered method", lambda b: (b, signed(b, method="PUT")), "bad-signature"),
    ("altered content type", lambda b: (b, _replace(signed(b), content_type="application/json; charset=utf-8")),
     "bad-signature"),
    ("altered timestamp", lambda b: (b, _replace(signed(b), x_timestamp=iso(now()))), "bad-signature"),
    ("stale timestamp, past", lambda b: (b, signed(b, timestamp=iso(now(-6 * 60)))), "stale-timestamp"),
    ("stale timestamp, future", lambda b: (b, signed(b, timestamp=iso(now(6 * 60)))), "stale-timestamp"),
    ("stale timestamp, years old", lambda b: (b, signed(b, timestamp="2014-09-24T10:59:41Z")), "stale-timestamp"),
    ("timestamp with an offset", lambda b: (b, signed(b, timestamp=now().strftime("%Y-%m-%dT%H:%M:%S+01:00"))),
     "bad-timestamp"),
    ("timestamp not a time", lambda b: (b, signed(b, timestamp="yesterday")), "bad-timestamp"),
    ("missing authorization", lambda b: (b, _without(signed(b), "authorization")), "missing-authorization"),
    ("missing x-timestamp", lambda b: (b, _without(signed(b), "x-timestamp")), "missing-timestamp"),
    ("missing content-type", lambda b: (b, _without(signed(b), "content-type")), "missing-content-type"),
    ("basic scheme with the secret", lambda b: (b, _replace(signed(b), authorization=f"Basic {KEY}:{SECRET}")),
     "wrong-scheme"),
    ("scheme only", lambda b: (b, _replace(signed(b), authorization="Application")), "malformed-authorization"),
    ("key without signature", lambda b: (b, _replace(signed(b), authorization=f"Application {KEY}:")),
     "malformed-authorization"),
]


def _metric(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _callbacks_run(server) -> float:
    text = httpx.get(server.base + "/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("ivrc_callbacks_total{"))


@pytest.mark.parametrize(("name", "make", "reason"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_a_request_not_signed_by_sinch_is_refused(server, name: str, make, reason: str) -> None:
    before = _callbacks_run(server)
    rejected = _metric(httpx.get(server.base + "/metrics").text, f'ivrc_rejected_requests_total{{reason="{reason}"}}')
    body, headers = make(ice_body(f"attack-{name}"))
    response = httpx.post(server.callback, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "unauthorized" and response.json()["reason"] == reason
    text = httpx.get(server.base + "/metrics").text
    assert _metric(text, f'ivrc_rejected_requests_total{{reason="{reason}"}}') == rejected + 1
    assert _callbacks_run(server) == before  # no flow ran


def test_a_duplicate_delivery_gets_the_first_answer(server) -> None:
    body = ice_body("replay")
    headers = signed(body)
    before = _callbacks_run(server)
    first = httpx.post(server.callback, content=body, headers=headers)
    assert first.status_code == 200 and first.json()["action"]["name"] in ("runMenu", "hangup")
    again = httpx.post(server.callback, content=body, headers=headers)
    assert again.status_code == 200 and again.content == first.content
    # The same signature under another spelling of the scheme is the same request.
    respelt = _replace(headers, authorization=headers["authorization"].replace("Application", "application", 1))
    assert httpx.post(server.callback, content=body, headers=respelt).content == first.content
    assert _callbacks_run(server) == before + 1  # the flow ran once


def test_a_genuine_request_still_passes(server) -> None:
    """The control: the same helpers, unmodified, give an answer."""
    body = ice_body("genuine")
    response = httpx.post(server.callback, content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json()["instructions"][0] == {"name": "answer"}


# -- broken HTTP at the socket ------------------------------------------------------------------

RAW_REQUESTS = {
    "not http": b"GARBAGE\r\n\r\n",
    "negative length": b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "two lengths": b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789",
    "bad chunk": b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n",
    "huge header": b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 200_000 + b"\r\n\r\n",
    "huge declared body": b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 99999999999\r\n\r\n{",
    "body cut short": b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 500\r\n\r\n{\"event\":",
    "nul in path": b"POST /sinch/\x00callback HTTP/1.1\r\nHost: x\r\n\r\n",
    "http/0.9": b"GET /healthz\r\n",
    "options": b"OPTIONS /sinch/callback HTTP/1.1\r\nHost: x\r\n\r\n",
    "head": b"HEAD /sinch/callback HTTP/1.1\r\nHost: x\r\n\r\n",
}


def _raw(server, request: bytes, timeout: float = 5.0) -> int | None:
    """Sends bytes as they are; the status code answered, or None if the server just closed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close before it has read everything, e.g. a huge header
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    if not data.startswith(b"HTTP/"):
        return None
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("name", sorted(RAW_REQUESTS))
def test_broken_http_gets_a_4xx_or_a_closed_connection(server, name: str) -> None:
    status = _raw(server, RAW_REQUESTS[name])
    assert status is None or 400 <= status < 500, status
    assert httpx.get(server.base + "/healthz").json()["status"] == "ok"


def test_nothing_above_gave_a_server_error(server) -> None:
    assert server.process.poll() is None
    assert "Traceback" not in server.stderr()
    for line in server.stdout().splitlines():
        if line.startswith("{"):
            assert json.loads(line)["outcome"] != "error" or json.loads(line)["error"].startswith("routing")
