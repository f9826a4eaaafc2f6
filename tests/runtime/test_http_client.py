"""The request states' HTTP/1.1 client against real loopback servers: framing, the pool, stale connections, TLS."""
from __future__ import annotations

import asyncio
import shutil
import ssl
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loopback_http import Answer, LoopbackServer, Seen, answer_with, json_answer, self_signed, serving_tls

from ivrc.runtime.server.backend import Backend
from ivrc.runtime.server.http_client import Answer as HttpAnswer
from ivrc.runtime.server.http_client import HttpClient, HttpError, _target

LIMIT = 1000  # bytes of answer the client under test accepts


def exchange(answer: Answer, count: int = 1, *, headers: dict[str, str] | None = None, method: str = "GET",
             body: bytes | None = None, tls: ssl.SSLContext | None = None, trust: ssl.SSLContext | None = None,
             max_connections: int = 200, concurrent: bool = False) -> tuple[list[HttpAnswer | Exception], LoopbackServer]:
    """`count` requests to a loopback server answering with `answer`, one after another (or all at once)."""
    async def run() -> tuple[list[HttpAnswer | Exception], LoopbackServer]:
        async with LoopbackServer(answer, tls=tls) as server:
            client = HttpClient(max_connections=max_connections, max_answer_bytes=LIMIT, tls=trust)

            async def one(i: int) -> HttpAnswer | Exception:
                try:
                    async with asyncio.timeout(5):
                        return await client.request(method, f"{server.origin}/r/{i}", origin=server.origin, query={},
                                                    headers=headers or {}, body=body)
                except (HttpError, OSError) as err:
                    return err

            try:
                if concurrent:
                    answers = list(await asyncio.gather(*(one(i) for i in range(count))))
                else:
                    answers = [await one(i) for i in range(count)]
            finally:
                await client.aclose()
            return answers, server

    return asyncio.run(run())


def test_a_content_length_answer_is_read_whole() -> None:
    [answer], _ = exchange(answer_with(json_answer(b'{"balance": 12}')))
    assert answer == HttpAnswer(200, b'{"balance": 12}')


def test_a_chunked_answer_is_put_together() -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4;ext=1\r\n{\"a\"\r\nB\r\n: [1, 2, 3]\r\n1\r\n}\r\n0\r\nX-Trailer: yes\r\n\r\n")
    answers, server = exchange(answer_with(raw), 2)
    assert answers == [HttpAnswer(200, b'{"a": [1, 2, 3]}')] * 2
    assert server.connections == 1  # the chunked answer was read to its end, so the connection was kept


def test_connections_are_kept_alive_and_reused() -> None:
    answers, server = exchange(answer_with(json_answer()), 3)
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200, 200]
    assert [seen.connection for seen in server.seen] == [1, 1, 1]


def test_an_answer_with_connection_close_is_not_reused() -> None:
    answers, server = exchange(answer_with(json_answer(extra=b"Connection: close\r\n")), 2)
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200]
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_an_answer_without_a_length_runs_to_the_close() -> None:
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[1, ")
        await writer.drain()
        writer.write(b"2]")
        writer.close()

    answers, server = exchange(answer, 2)
    assert answers == [HttpAnswer(200, b"[1, 2]")] * 2 and server.connections == 2


def test_a_stale_idle_connection_is_retried_once_on_a_new_one() -> None:
    """The server drops the kept connection as the next request arrives, before any byte of the answer."""
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        if seen.target == "/r/1" and seen.connection == 1:
            writer.close()
            return
        writer.write(json_answer())

    answers, server = exchange(answer, 2)
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200]
    assert [(seen.connection, seen.target) for seen in server.seen] == [(1, "/r/0"), (1, "/r/1"), (2, "/r/1")]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_request_that_is_not_idempotent_is_never_sent_twice(method: str) -> None:
    """The backend may have acted on the request before the kept connection dropped: a POST that took a
    payment must not take it again, so the failure goes to the flow (its on_failure) instead."""
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        if seen.target == "/r/1" and seen.connection == 1:
            writer.close()
            return
        writer.write(json_answer())

    answers, server = exchange(answer, 2, method=method, body=b"{}")
    assert isinstance(answers[0], HttpAnswer) and isinstance(answers[1], HttpError)
    assert [(seen.connection, seen.target) for seen in server.seen] == [(1, "/r/0"), (1, "/r/1")]


def test_a_switch_of_protocols_is_a_failure() -> None:
    [failure], _ = exchange(answer_with(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n" + json_answer()))
    assert isinstance(failure, HttpError)


@pytest.mark.parametrize("value", [b"a\x00b", b"a\rb"])
def test_an_answer_header_value_with_a_nul_or_cr_is_a_failure(value: bytes) -> None:
    [failure], _ = exchange(answer_with(b"HTTP/1.1 200 OK\r\nX-Odd: " + value + b"\r\nContent-Length: 2\r\n\r\n{}"))
    assert isinstance(failure, HttpError)


def test_a_new_connection_closed_before_the_answer_is_a_failure_not_retried() -> None:
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        writer.close()

    [failure], server = exchange(answer)
    assert isinstance(failure, HttpError) and len(server.seen) == 1


def test_an_answer_cut_off_midway_is_a_failure() -> None:
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\": ")
        writer.close()

    [failure], _ = exchange(answer)
    assert isinstance(failure, HttpError)


@pytest.mark.parametrize("raw", [
    json_answer(b"x" * (LIMIT + 1)),  # refused from its content-length, before it is read
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + (b"1F4\r\n" + b"x" * 500 + b"\r\n") * 3,
    b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (LIMIT + 500),
])
def test_an_answer_over_the_limit_is_refused_while_reading(raw: bytes) -> None:
    answers, server = exchange(answer_with(raw), 2)
    assert answers == [HttpAnswer(200, too_large=True)] * 2
    assert server.connections == 2  # the rest of that answer is never read: its connection is dropped


def test_an_answer_exactly_at_the_limit_is_kept() -> None:
    [answer], _ = exchange(answer_with(json_answer(b"x" * LIMIT)))
    assert answer == HttpAnswer(200, b"x" * LIMIT)


def test_a_redirect_is_reported_and_its_connection_dropped() -> None:
    raw = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 5\r\n\r\nmoved"
    answers, server = exchange(answer_with(raw), 2)
    assert answers == [HttpAnswer(307, redirect=True)] * 2
    assert [seen.target for seen in server.seen] == ["/r/0", "/r/1"] and server.connections == 2


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 2\n\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\nContent-Length: 2\r\n\n{}",
    b"HTTP/1.1 103 Early Hints\nLink: </a>\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\n{}",
])
def test_an_answer_with_bare_lf_line_ends_is_read_as_h11_under_httpx_read_it(raw: bytes) -> None:
    answers, server = exchange(answer_with(raw), 2)
    assert answers == [HttpAnswer(200, b"{}")] * 2
    assert server.connections == 1  # read to its end, so the connection was kept for the next request
    # The same answers through httpx (h11), which request states used before this client.
    async def through_httpx() -> httpx.Response:
        async with LoopbackServer(answer_with(raw)) as loopback, httpx.AsyncClient() as client:
            return await client.get(f"{loopback.origin}/r/0")
    response = asyncio.run(through_httpx())
    assert (response.status_code, response.content) == (200, b"{}")


def test_an_answer_whose_head_is_too_long_over_many_lines_is_a_failure() -> None:
    filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"  # each line well under the limit; 70 of them over it
    [failure], _ = exchange(answer_with(b"HTTP/1.1 200 OK\r\n" + filler * 70 + b"Content-Length: 2\r\n\r\n{}"))
    assert isinstance(failure, HttpError) and "too long" in str(failure)


def test_an_interim_answer_is_skipped() -> None:
    [answer], _ = exchange(answer_with(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + json_answer(b"{}")))
    assert answer == HttpAnswer(200, b"{}")


@pytest.mark.parametrize("raw", [
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded: line\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",
])
def test_an_answer_that_is_not_http_is_a_failure(raw: bytes) -> None:
    [failure], _ = exchange(answer_with(raw))
    assert isinstance(failure, HttpError)


@pytest.mark.parametrize("headers", [
    {"x-note": "one\r\nX-Injected: two"}, {"x-note": "one\ntwo"}, {"x-note": " padded"}, {"x-note": "nul\x00"},
    {"x-note": "caf\u00e9"}, {"bad name": "v"}, {"x:y": "v"}, {"": "v"},
])
def test_a_header_that_is_not_valid_http_is_refused_before_sending(headers: dict[str, str]) -> None:
    [failure], server = exchange(answer_with(json_answer()), headers=headers)
    assert isinstance(failure, HttpError) and server.connections == 0


def test_the_client_frames_the_body_itself_and_names_the_urls_host() -> None:
    """A flow's own content-length or connection header cannot desynchronise the connection, and its Host
    (which call data could fill) never replaces the host the client connects to (lint refuses all: IVR148)."""
    answers, server = exchange(answer_with(json_answer()), 2, method="POST", body=b'{"a":1}',
                               headers={"Content-Length": "1", "connection": "close", "Host": "api.example.com"})
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200]
    assert server.seen[0].body == b'{"a":1}' and server.seen[0].header("host") == server.origin.split("//")[1]
    assert [name.lower() for name, _ in server.seen[0].headers].count("host") == 1
    assert server.seen[0].header("accept") == "*/*" and server.seen[0].header("user-agent") == "ivrc"
    assert [seen.connection for seen in server.seen] == [1, 1]


def test_a_full_pool_makes_requests_wait_for_a_free_connection() -> None:
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0)  # all three requests are in flight together
        writer.write(json_answer())

    answers, server = exchange(answer, 3, max_connections=1, concurrent=True)
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200, 200]
    assert server.connections == 1


def test_a_request_waiting_for_a_connection_is_cut_by_its_timeout() -> None:
    async def run() -> tuple[str | None, str | None]:
        async def hold(seen: Seen, writer: asyncio.StreamWriter) -> None:
            await asyncio.Event().wait()

        async with LoopbackServer(hold) as server:
            backend = Backend([server.origin], max_connections=1)
            from ivrc.runtime.engine.requests import Outgoing

            def request(timeout: float) -> Outgoing:
                return Outgoing("s", "GET", server.origin + "/", server.origin, {}, {}, frozenset(), None, timeout)

            try:
                first, second = await asyncio.gather(backend.for_callback(3.0)(request(0.5)),
                                                     backend.for_callback(3.0)(request(0.2)))
                third = await backend.for_callback(3.0)(request(0.2))  # the pool is usable again
            finally:
                await backend.aclose()
            assert server.connections == 2  # the first was dropped at its timeout; the third opened a new one
            return first.error, second.error if third.error == "timeout" else "pool stuck"

    assert asyncio.run(run()) == ("timeout", "timeout")


def _openssl_certificate(folder: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    if shutil.which("openssl") is None:  # never skipped: without it TLS verification goes untested
        pytest.fail("openssl is needed to make the test certificate (apt-get install openssl)")
    return self_signed(folder, name)


def test_a_self_signed_certificate_is_refused(tmp_path: Path) -> None:
    cert, key = _openssl_certificate(tmp_path)
    [failure], server = exchange(answer_with(json_answer()), tls=serving_tls(cert, key))
    assert isinstance(failure, ssl.SSLCertVerificationError) and server.seen == []


def test_a_trusted_certificate_is_accepted_for_its_own_name_only(tmp_path: Path) -> None:
    cert, key = _openssl_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    answers, server = exchange(answer_with(json_answer()), 2, tls=serving_tls(cert, key), trust=trust)
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200] and server.connections == 1
    (tmp_path / "other").mkdir()
    other, other_key = _openssl_certificate(tmp_path / "other", "localhost")
    [failure], _ = exchange(answer_with(json_answer()), tls=serving_tls(other, other_key),
                            trust=ssl.create_default_context(cafile=str(other)))
    assert isinstance(failure, ssl.SSLCertVerificationError)  # trusted, but made out to localhost, not 127.0.0.1


def test_the_backend_refuses_a_self_signed_certificate_as_a_connection_failure(tmp_path: Path) -> None:
    cert, key = _openssl_certificate(tmp_path)

    async def run() -> str | None:
        from ivrc.runtime.engine.requests import Outgoing

        async with LoopbackServer(answer_with(json_answer()), tls=serving_tls(cert, key)) as server:
            backend = Backend([server.origin])
            try:
                reply = await backend.for_callback(3.0)(Outgoing("s", "GET", server.origin + "/", server.origin, {},
                                                                 {}, frozenset(), None, 2.0))
            finally:
                await backend.aclose()
            return reply.error

    assert asyncio.run(run()) == "connection"


_URL_TEXT = st.lists(st.sampled_from([*"ab/.?&=%#+ ~-_!*'();:@$,[]{}|^`\"<>AF09", "\u00e9", "%41", "%zz", "..", "/./"]),
                     max_size=12).map("".join)


@settings(max_examples=300)
@given(_URL_TEXT, st.dictionaries(_URL_TEXT, _URL_TEXT, max_size=3))
def test_the_request_target_is_the_one_httpx_sent(rest: str, query: dict[str, str]) -> None:
    """Path and query percent-encoded, dot segments resolved and the state's query merged exactly as
    httpx did (runtime/emulation/stubs.py and flow tests read the same URLs)."""
    rest = rest if rest.startswith(("/", "?", "#")) else "/" + rest
    url = httpx.URL("http://api.example.com" + rest)
    assert _target(rest, query) == (url.copy_merge_params(query) if query else url).raw_path


@pytest.mark.parametrize("origin, host", [("http://127.0.0.1:80", b"127.0.0.1"), ("https://API.example.com:443", b"api.example.com"),
                                          ("http://[::1]:8091", b"[::1]:8091"), ("https://b\u00fccher.example:444", b"xn--bcher-kva.example:444")])
def test_the_host_header_is_the_one_httpx_sent(origin: str, host: bytes) -> None:
    assert HttpClient(max_answer_bytes=1)._origin(origin).host_header == host == httpx.URL(origin).netloc


def test_a_full_pool_closes_an_idle_connection_to_another_origin_to_make_room() -> None:
    async def run() -> tuple[int, int, list[int]]:
        async with LoopbackServer(answer_with(json_answer())) as bank, LoopbackServer(answer_with(json_answer())) as shop:
            client = HttpClient(max_connections=1, max_answer_bytes=LIMIT)
            try:
                statuses = []
                for server in (bank, shop, bank):
                    async with asyncio.timeout(5):
                        answer = await client.request("GET", server.origin + "/", origin=server.origin, query={},
                                                      headers={}, body=None)
                    statuses.append(answer.status)
            finally:
                await client.aclose()
            return bank.connections, shop.connections, statuses

    # The bank's idle connection made room for the shop's, so the bank's second request needed a new one.
    assert asyncio.run(run()) == (2, 1, [200, 200, 200])


def test_bytes_a_server_sent_unasked_on_an_idle_connection_are_never_taken_for_an_answer() -> None:
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        unasked = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n" if seen.connection == 1 else b""
        writer.write(json_answer() + unasked)

    answers, server = exchange(answer, 2)
    assert [a.status for a in answers if isinstance(a, HttpAnswer)] == [200, 200] and server.connections == 2


def test_a_failed_retry_gives_its_place_in_the_pool_back_once() -> None:
    """The stale connection is dropped, the new one cannot be opened: afterwards the pool still
    holds at most max_connections (one here), as two requests at once to another server show."""
    async def run() -> tuple[bool, int, list[int]]:
        async def closing(seen: Seen, writer: asyncio.StreamWriter) -> None:
            if seen.target == "/r/1":
                bank.stop_listening()
                writer.close()
                return
            writer.write(json_answer())

        async def slow(seen: Seen, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(0.05)
            writer.write(json_answer())

        async with LoopbackServer(closing) as bank, LoopbackServer(slow) as shop:
            client = HttpClient(max_connections=1, max_answer_bytes=LIMIT)

            async def get(server: LoopbackServer, path: str) -> HttpAnswer:
                async with asyncio.timeout(5):
                    return await client.request("GET", server.origin + path, origin=server.origin, query={},
                                                headers={}, body=None)

            try:
                await get(bank, "/r/0")
                try:
                    await get(bank, "/r/1")
                    refused = False
                except OSError:
                    refused = True
                answers = await asyncio.gather(get(shop, "/a"), get(shop, "/b"))
            finally:
                await client.aclose()
            return refused, shop.connections, [a.status for a in answers]

    assert asyncio.run(run()) == (True, 1, [200, 200])


def _held(release: asyncio.Event) -> Answer:
    """A backend that answers only once `release` is set (one that has stopped answering until then)."""
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.write(json_answer())

    return answer


async def _get(client: HttpClient, server: LoopbackServer, path: str = "/") -> HttpAnswer:
    async with asyncio.timeout(5):
        return await client.request("GET", server.origin + path, origin=server.origin, query={}, headers={}, body=None)


def test_a_backend_that_stops_answering_holds_only_its_share_of_the_pool() -> None:
    """With a cap per origin, a hung backend's requests wait for its own connections, and another
    backend's requests still get theirs (without it they would wait for the hung one's timeouts)."""
    async def run() -> tuple[int, int, int, list[int]]:
        release = asyncio.Event()
        async with LoopbackServer(_held(release)) as hung, LoopbackServer(answer_with(json_answer())) as bank:
            client = HttpClient(max_connections=4, max_per_origin=2, max_answer_bytes=LIMIT)
            try:
                held = [asyncio.create_task(_get(client, hung, f"/r/{i}")) for i in range(3)]
                async with asyncio.timeout(5):  # until the hung backend holds its two (no fixed sleep to outrun)
                    while len(hung.seen) < 2:
                        await asyncio.sleep(0.01)
                answered = await _get(client, bank)  # while all three requests to the hung backend wait
                connections_while_hung = hung.connections
                release.set()
                statuses = [answer.status for answer in await asyncio.gather(*held)]
            finally:
                await client.aclose()
            return answered.status, connections_while_hung, hung.connections, statuses

    # The third request to the hung backend waited for one of its two connections and then reused it.
    assert asyncio.run(run()) == (200, 2, 2, [200, 200, 200])


def test_a_freed_connection_wakes_a_request_it_can_serve_not_only_the_oldest() -> None:
    """A pool of two, one per origin. A (hung) and C (answers late) fill it; then a second request to A
    waits (A has its one) and so does one to B (the pool is full). When C's connection goes idle, B's
    request takes its place at once, though A's second request has waited longer."""
    async def run() -> tuple[int, bool]:
        release_a, release_c = asyncio.Event(), asyncio.Event()
        async with LoopbackServer(_held(release_a)) as a, LoopbackServer(_held(release_c)) as c, \
                LoopbackServer(answer_with(json_answer())) as b:
            client = HttpClient(max_connections=2, max_per_origin=1, max_answer_bytes=LIMIT)
            try:
                first_a = asyncio.create_task(_get(client, a))
                first_c = asyncio.create_task(_get(client, c))
                await asyncio.sleep(0.05)
                second_a = asyncio.create_task(_get(client, a, "/second"))
                await asyncio.sleep(0.05)
                to_b = asyncio.create_task(_get(client, b))
                await asyncio.sleep(0.05)
                release_c.set()
                answer = await to_b
                a_still_waiting = not first_a.done() and not second_a.done()
                release_a.set()
                await asyncio.gather(first_a, first_c, second_a)
            finally:
                await client.aclose()
            return answer.status, a_still_waiting

    assert asyncio.run(run()) == (200, True)


def test_the_servers_backend_gives_one_origin_half_the_pool() -> None:
    backend = Backend(max_connections=200)
    backend.open()
    try:
        assert backend._client is not None and backend._client.max_per_origin == 100
    finally:
        asyncio.run(backend.aclose())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_pool_keeps_its_bounds_and_answers_every_request_under_mixed_load(seed: int) -> None:
    """Many requests at once to three backends (one slow, one that sometimes drops the connection),
    through a small pool with a cap per origin: every request ends (an answer or a failure), the
    pool never holds more than its bounds, and afterwards its counts match what is open."""
    import random

    rng = random.Random(seed)

    async def run() -> None:
        async def slow(seen: Seen, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(rng.uniform(0, 0.03))
            writer.write(json_answer())

        async def flaky(seen: Seen, writer: asyncio.StreamWriter) -> None:
            if rng.random() < 0.3:
                writer.close()
                return
            writer.write(json_answer())

        async with LoopbackServer(slow) as late, LoopbackServer(flaky) as dropping, \
                LoopbackServer(answer_with(json_answer())) as steady:
            client = HttpClient(max_connections=5, max_per_origin=3, max_answer_bytes=LIMIT)
            worst: list[tuple[int, dict]] = []

            async def watch() -> None:
                while True:
                    worst.append((client._open, dict(client._open_to)))
                    await asyncio.sleep(0.001)

            async def request(server: LoopbackServer, i: int) -> HttpAnswer | Exception:
                await asyncio.sleep(rng.uniform(0, 0.02))
                try:
                    return await _get(client, server, f"/r/{i}")
                except HttpError as err:
                    return err

            watcher = asyncio.create_task(watch())
            try:
                servers = [rng.choice((late, dropping, steady)) for _ in range(60)]
                results = await asyncio.gather(*(request(server, i) for i, server in enumerate(servers)))
            finally:
                watcher.cancel()
                open_after, by_origin, waiting = client._open, dict(client._open_to), len(client._waiters)
                await client.aclose()
            assert all(isinstance(r, (HttpAnswer, HttpError)) for r in results)
            assert sum(isinstance(r, HttpAnswer) for r in results) >= servers.count(late) + servers.count(steady)
            assert all(total <= 5 and all(n <= 3 for n in per.values()) for total, per in worst)
            assert waiting == 0 and open_after == sum(by_origin.values()) and client._open == 0

    asyncio.run(run())
