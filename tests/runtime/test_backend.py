"""The server's requests to backends: bounded by timeout, budget and size; no redirects; only the flows' hosts."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from ivrc.runtime.engine.requests import MAX_ANSWER_BYTES, Outgoing
from ivrc.runtime.server.backend import Backend

ORIGIN = "https://bank.example.com"


def outgoing(url: str = ORIGIN + "/v1/verify", timeout: float = 2.0) -> Outgoing:
    return Outgoing("verify", "POST", url, ORIGIN, {}, {"content-type": "application/json"}, frozenset(),
                    b'{"pin": "1234"}', timeout)


def send(handler, request: Outgoing | None = None, budget: float = 3.0):
    async def run():
        backend = Backend([ORIGIN], transport=httpx.MockTransport(handler))
        try:
            return await backend.for_callback(budget)(request or outgoing())
        finally:
            await backend.aclose()

    return asyncio.run(run())


def test_a_json_answer_is_parsed() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"verified": True})

    reply = send(handler)
    assert (reply.status, reply.data, reply.json_ok, reply.error) == (200, {"verified": True}, True, None)
    assert seen[0].method == "POST" and json.loads(seen[0].content) == {"pin": "1234"}


def test_a_redirect_is_not_followed() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url)
        return httpx.Response(302, headers={"location": "https://evil.example.com/steal"})

    reply = send(handler)
    assert reply.error == "redirect" and len(calls) == 1


def test_an_answer_over_the_size_limit_is_refused() -> None:
    reply = send(lambda request: httpx.Response(200, content=b"[" + b"1," * MAX_ANSWER_BYTES + b"1]"))
    assert reply.error == "too-large"


def test_an_answer_that_is_not_json_is_marked() -> None:
    reply = send(lambda request: httpx.Response(200, content=b"<html>maintenance</html>"))
    assert reply.status == 200 and not reply.json_ok and reply.error is None


def test_a_host_no_flow_names_is_never_contacted() -> None:
    contacted = []
    reply = send(lambda request: contacted.append(request) or httpx.Response(200),
                 outgoing("https://elsewhere.example.com/v1/verify"))
    assert reply.error == "host-not-allowed" and contacted == []


def test_a_connection_error_is_a_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert send(handler).error == "connection"


def test_a_slow_backend_is_cut_at_the_states_timeout() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)  # cancelled at the timeout, long before this
        return httpx.Response(200, json={})

    reply = send(handler, outgoing(timeout=0.2))
    assert reply.error == "timeout"  # the 30 s answer was never waited for


def test_a_spent_budget_sends_nothing() -> None:
    contacted = []
    reply = send(lambda request: contacted.append(request) or httpx.Response(200), budget=0)
    assert reply.error == "budget" and contacted == []


@pytest.mark.parametrize("url", ["https://bank.example.com.evil.example/x", "https://bank.example.com@evil.example/x"])
def test_a_url_that_only_looks_like_the_flows_host_is_refused(url: str) -> None:
    contacted = []
    reply = send(lambda request: contacted.append(request) or httpx.Response(200), outgoing(url))
    assert reply.error == "host-not-allowed" and contacted == []


def test_without_a_list_only_the_states_own_origin_is_contacted() -> None:
    """As `ivrc serve` runs it (flows may be reloaded): a request goes only where its state says."""
    contacted = []

    async def run():
        backend = Backend(transport=httpx.MockTransport(lambda r: contacted.append(r) or httpx.Response(200, json={})))
        try:
            fetch = backend.for_callback(3.0)
            return await fetch(outgoing("https://evil.example.com/v1/verify")), await fetch(outgoing())
        finally:
            await backend.aclose()

    elsewhere, own = asyncio.run(run())
    assert elsewhere.error == "host-not-allowed" and own.status == 200
    assert [str(r.url) for r in contacted] == [ORIGIN + "/v1/verify"]


def test_a_query_written_in_the_url_is_kept_beside_the_states_query() -> None:
    """The server sends both, as flow tests record them (runtime/emulation/stubs.py merges the two)."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={})

    request = outgoing(ORIGIN + "/v1/verify?x=1")
    request = Outgoing(request.state, "GET", request.url, ORIGIN, {"caller": "+46701234567", "amp": "a&b=c"},
                       {}, frozenset(), None, 2.0)
    assert send(handler, request).status == 200
    assert dict(seen[0].params) == {"x": "1", "caller": "+46701234567", "amp": "a&b=c"}
    assert seen[0].path == "/v1/verify"


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
    from ivrc.runtime.engine.requests import Reply, outcome

    machine = Machine.load(compile_flow(REDIRECTING))
    state = machine.states["fetch"]
    reply = send(lambda request: httpx.Response(302, headers={"location": "https://elsewhere.example.com/"}),
                 outgoing(ORIGIN + "/profile"))
    assert reply.error == "redirect" and reply.status == 302
    target, _, made = outcome(state, reply, machine)
    assert (target, made.outcome, made.status) == ("moved", "status", 302)
    # A redirect the flow does not name is a failure, as before.
    target, _, made = outcome(state, Reply(status=301, error="redirect"), machine)
    assert (target, made.outcome, made.error) == ("failed", "failure", "redirect")


def test_a_cookie_one_backend_answer_sets_never_goes_out_with_another_request() -> None:
    """The client is shared by every call: a session cookie from one caller's lookup must not reach the next."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"set-cookie": "session=caller-one; Path=/"})

    async def run():
        backend = Backend([ORIGIN], transport=httpx.MockTransport(handler))
        try:
            for _ in range(2):
                await backend.for_callback(3.0)(outgoing())
        finally:
            await backend.aclose()

    asyncio.run(run())
    assert seen == [None, None]
