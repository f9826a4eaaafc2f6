"""The server's requests to backends: bounded by timeout, budget and size; no redirects; only the flows' hosts.

Every test here talks to a real server on loopback (tests/support/loopback_http.py); the client's own
handling of HTTP (chunks, keep-alive, stale connections, TLS) is tested in test_http_client.py.
"""
from __future__ import annotations

import asyncio
import json

import pytest
from loopback_http import Answer, LoopbackServer, answer_with, json_answer

from ivrc.runtime.engine.requests import MAX_ANSWER_BYTES, Outgoing, Reply
from ivrc.runtime.server.backend import Backend

ORIGIN = "http://127.0.0.1:{port}"  # the flow's literal origin, once the server has a port


def outgoing(origin: str, path: str = "/v1/verify", timeout: float = 2.0, url: str | None = None) -> Outgoing:
    return Outgoing("verify", "POST", url or origin + path, origin, {}, {"content-type": "application/json"},
                    frozenset(), b'{"pin": "1234"}', timeout)


def send(answer: Answer, *requests, budget: float = 3.0, allowed: bool = True) -> tuple[list[Reply], LoopbackServer]:
    """Each request (an Outgoing, or a function of the server's origin giving one) in turn, in one callback."""
    async def run() -> tuple[list[Reply], LoopbackServer]:
        async with LoopbackServer(answer) as server:
            backend = Backend([server.origin] if allowed else None)
            try:
                fetch = backend.for_callback(budget)
                replies = [await fetch(r(server.origin) if callable(r) else r) for r in requests or (outgoing,)]
            finally:
                await backend.aclose()
            return replies, server

    return asyncio.run(run())


def test_a_json_answer_is_parsed() -> None:
    [reply], server = send(answer_with(json_answer()))
    assert (reply.status, reply.data, reply.json_ok, reply.error) == (200, {"verified": True}, True, None)
    [seen] = server.seen
    assert seen.method == "POST" and seen.target == "/v1/verify" and json.loads(seen.body) == {"pin": "1234"}


def test_the_backend_sees_the_headers_httpx_sent() -> None:
    """Host with the port, the body's type and length, what the state accepts (engine/requests.py)."""
    def verify(origin: str) -> Outgoing:
        return Outgoing("verify", "POST", origin + "/v1/verify", origin, {},
                        {"content-type": "application/json", "accept": "application/json", "X-Trace": "a b"},
                        frozenset(), b'{"pin":"1234"}', 2.0)

    [reply], server = send(answer_with(json_answer()), verify)
    headers = {k.lower(): v for k, v in server.seen[0].headers}
    assert reply.status == 200
    assert headers["host"] == f"127.0.0.1:{server.port}" and headers["content-length"] == "14"
    assert headers["content-type"] == headers["accept"] == "application/json" and headers["x-trace"] == "a b"
    assert "cookie" not in headers and "accept-encoding" not in headers  # answers come uncompressed


def test_a_post_without_a_body_says_so() -> None:
    def empty(origin: str) -> Outgoing:
        return Outgoing("verify", "POST", origin + "/v1/verify", origin, {}, {}, frozenset(), None, 2.0)

    [reply], server = send(answer_with(json_answer()), empty)
    assert reply.status == 200 and server.seen[0].header("content-length") == "0"


def test_a_redirect_is_not_followed() -> None:
    [reply], server = send(answer_with(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/steal\r\n"
                                       b"Content-Length: 0\r\n\r\n"))
    assert (reply.status, reply.error) == (302, "redirect") and len(server.seen) == 1


def test_a_3xx_without_a_location_is_an_ordinary_answer() -> None:
    [reply], _ = send(answer_with(json_answer(b'{"cached": 1}', "304 Not Modified")))
    assert (reply.status, reply.error) == (304, None)


def test_an_answer_over_the_size_limit_is_refused() -> None:
    big = b"[" + b"1," * MAX_ANSWER_BYTES + b"1]"
    [reply], _ = send(answer_with(json_answer(big)))
    assert (reply.status, reply.error) == (200, "too-large")


def test_an_answer_that_is_not_json_is_marked() -> None:
    [reply], _ = send(answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 24\r\n\r\n<html>maintenance</html>"))
    assert reply.status == 200 and not reply.json_ok and reply.error is None


def test_a_host_no_flow_names_is_never_contacted() -> None:
    [reply], server = send(answer_with(json_answer()), lambda origin: outgoing(origin, url="http://127.0.0.2:9/v1/x"))
    assert reply.error == "host-not-allowed" and server.seen == [] and server.connections == 0


def test_a_refused_connection_is_a_failure() -> None:
    async def run() -> Reply:
        # A port nobody listens on: bound, never listening.
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            origin = f"http://127.0.0.1:{s.getsockname()[1]}"
            backend = Backend([origin])
            try:
                return await backend.for_callback(3.0)(outgoing(origin))
            finally:
                await backend.aclose()

    assert asyncio.run(run()).error == "connection"


async def _never(seen, writer) -> None:
    await asyncio.Event().wait()  # cancelled when the server closes, long after the client gave up


def test_a_slow_backend_is_cut_at_the_states_timeout() -> None:
    [reply], server = send(_never, lambda origin: outgoing(origin, timeout=0.2))
    assert reply.error == "timeout" and len(server.seen) == 1


def test_a_slow_backend_is_cut_when_the_callbacks_budget_runs_out() -> None:
    [reply], _ = send(_never, lambda origin: outgoing(origin, timeout=5.0), budget=0.2)
    assert reply.error == "budget"


def test_a_spent_budget_sends_nothing() -> None:
    [reply], server = send(answer_with(json_answer()), budget=0)
    assert reply.error == "budget" and server.connections == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1.evil.example/x", "http://127.0.0.1:{port}@evil.example/x"])
def test_a_url_that_only_looks_like_the_flows_host_is_refused(url: str) -> None:
    def request(origin: str) -> Outgoing:
        return outgoing(origin, url=url.replace("http://127.0.0.1:{port}", origin))

    [reply], server = send(answer_with(json_answer()), request)
    assert reply.error == "host-not-allowed" and server.connections == 0


def test_without_a_list_only_the_states_own_origin_is_contacted() -> None:
    """As `ivrc serve` runs it (flows may be reloaded): a request goes only where its state says."""
    def elsewhere(origin: str) -> Outgoing:
        return Outgoing("verify", "POST", "http://127.0.0.2:9/v1/verify", origin, {}, {}, frozenset(), None, 2.0)

    (other, own), server = send(answer_with(json_answer(b"{}")), elsewhere, outgoing, allowed=False)
    assert other.error == "host-not-allowed" and own.status == 200
    assert [seen.target for seen in server.seen] == ["/v1/verify"]


def test_a_query_written_in_the_url_is_kept_beside_the_states_query() -> None:
    """The server sends both, as flow tests record them (runtime/emulation/stubs.py merges the two)."""
    def lookup(origin: str) -> Outgoing:
        return Outgoing("verify", "GET", origin + "/v1/verify?x=1", origin,
                        {"caller": "+46701234567", "amp": "a&b=c"}, {}, frozenset(), None, 2.0)

    [reply], server = send(answer_with(json_answer(b"{}")), lookup)
    assert reply.status == 200
    assert server.seen[0].target == "/v1/verify?x=1&caller=%2B46701234567&amp=a%26b%3Dc"


REDIRECTING = """\
    ivrc: 1
    flow: moved
    numbers: ["+46812340903"]
    start: fetch
    states:
      fetch:
        request:
          url: "https://crm.example.com/profile"
          next: done
          on_status: {302: moved}
          on_failure: failed
      done: {say: "Done.", hangup: true}
      moved: {say: "Moved.", hangup: true}
      failed: {say: "Failed.", hangup: true}
"""


def test_a_redirect_that_on_status_names_goes_there_as_in_flow_tests() -> None:
    from callkit import compile_flow

    from ivrc.compiler.compiled import Machine
    from ivrc.runtime.engine.requests import outcome

    machine = Machine.load(compile_flow(REDIRECTING))
    state = machine.states["fetch"]
    [reply], _ = send(answer_with(b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example.com/\r\n"
                                  b"Content-Length: 0\r\n\r\n"), lambda origin: outgoing(origin, "/profile"))
    assert reply.error == "redirect" and reply.status == 302
    target, _, made = outcome(state, reply, machine)
    assert (target, made.outcome, made.status) == ("moved", "status", 302)
    # A redirect the flow does not name is a failure, as before.
    target, _, made = outcome(state, Reply(status=301, error="redirect"), machine)
    assert (target, made.outcome, made.error) == ("failed", "failure", "redirect")


def test_a_cookie_one_backend_answer_sets_never_goes_out_with_another_request() -> None:
    """The client is shared by every call: a session cookie from one caller's lookup must not reach the next."""
    _, server = send(answer_with(json_answer(b"{}", extra=b"Set-Cookie: session=caller-one; Path=/\r\n")),
                     outgoing, outgoing)
    assert [seen.header("cookie") for seen in server.seen] == [None, None]
