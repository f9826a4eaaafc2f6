"""Call events out: signed POSTs to a real receiver on loopback, retried, dropped and counted, never in a callback's way."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import threading
from typing import Any

import httpx
import pytest
from callkit import KEY, REPO, SECRET, TestClient
from receiver import WAIT_SECONDS, Receiver
from standardwebhooks import Webhook, WebhookVerificationError

from ivrc.runtime.emulation.emulator import Call, HttpTransport
from ivrc.runtime.server import events_out
from ivrc.runtime.server.app import Settings, StartupError, create_app
from ivrc.runtime.server.events_out import EVENTS_SECRET_ENV, EventsConfig, EventSender, event_id
from ivrc.runtime.server.metrics import RuntimeMetrics
from ivrc.runtime.server.startup import events_from_env
from ivrc.runtime.signing import Credentials

KEY_BYTES = bytes(range(32))
WHSEC = "whsec_" + base64.b64encode(KEY_BYTES).decode()
ENDED = {"type": "call.ended", "callid": "call-1", "flow": "reminder", "version": "abc123", "state": "confirmed",
         "result": "answered", "reason": "callerhangup", "duration": 30, "variables": {"answer": "confirmed"}}
FAST = {"first_backoff": 0.01, "max_backoff": 0.02, "retry_for": 60.0, "drain_seconds": 30.0}


def config(url: str, **changes: Any) -> EventsConfig:
    return EventsConfig(url=url, secret=KEY_BYTES, **{**FAST, **changes})


def send(cfg: EventsConfig, *reports: dict[str, Any], metrics: RuntimeMetrics | None = None) -> RuntimeMetrics:
    """Starts a sender, submits the reports at once (no await between them), and stops it: stop drains."""
    metrics = metrics or RuntimeMetrics()

    async def main() -> None:
        sender = EventSender(cfg, metrics)
        await sender.start()
        for report in reports:
            sender.submit(report)
        await sender.stop()

    asyncio.run(main())
    return metrics


def counts(metrics: RuntimeMetrics) -> dict[str, float]:
    found = {}
    for line in metrics.render().splitlines():
        if line.startswith("ivrc_events_"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def docs_verify():
    """The receiver's verification snippet from docs/serving.md, run as written."""
    text = (REPO / "docs/serving.md").read_text()
    section = text[text.index("## Call events"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/serving.md", "exec"), scope)
    return scope["verify"]


def dropped_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ivrc.events" and "dropped" in r.getMessage()]


# -- what a receiver gets -------------------------------------------------------------------------------------------


def test_an_event_is_posted_signed_the_standard_webhooks_way() -> None:
    with Receiver() as receiver:
        metrics = send(config(receiver.url), ENDED)
        (delivery,) = receiver.wait_for(1)
    assert delivery.headers["content-type"] == "application/json"
    # The reference implementation of the scheme accepts it, and so does the snippet in the docs.
    event = Webhook(WHSEC).verify(delivery.body, delivery.headers)
    assert docs_verify()(WHSEC, delivery.headers, delivery.body) == event
    assert event == {"id": event_id(ENDED), "timestamp": event["timestamp"], **ENDED}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["timestamp"])
    assert delivery.headers["webhook-id"] == event["id"] and event["id"].startswith("evt_")
    assert counts(metrics) == {'ivrc_events_sent_total{type="call.ended"}': 1.0}


def test_a_tampered_event_or_another_secret_fails_verification() -> None:
    with Receiver() as receiver:
        send(config(receiver.url), ENDED)
        (delivery,) = receiver.wait_for(1)
    tampered = delivery.body.replace(b'"confirmed"', b'"cancelled"')
    other = "whsec_" + base64.b64encode(bytes(32)).decode()
    for secret, body in ((WHSEC, tampered), (other, delivery.body)):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, delivery.headers)
        with pytest.raises(ValueError):
            docs_verify()(secret, delivery.headers, body)


def test_the_same_event_always_has_the_same_id() -> None:
    ready = {"type": "recording.ready", "callid": "call-1", "notification": "recording_finished",
             "destination": "s3://bucket/call-1.mp3"}
    assert event_id(dict(ENDED)) == event_id(dict(ENDED, duration=31))  # a repeated DiCE is the same event
    assert len({event_id(ENDED), event_id(dict(ENDED, callid="call-2")), event_id(ready),
                event_id(dict(ready, type="transcript.ready"))}) == 4


# -- retries, and what is dropped ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [(503,), (500, 429), (502, 408, 503)])
def test_a_failing_receiver_gets_the_event_again_until_it_accepts(failures: tuple[int, ...]) -> None:
    with Receiver(statuses=failures) as receiver:
        metrics = send(config(receiver.url), ENDED)
        deliveries = receiver.wait_for(len(failures) + 1)
    assert len(deliveries) == len(failures) + 1
    assert {d.headers["webhook-id"] for d in deliveries} == {event_id(ENDED)}
    for delivery in deliveries:  # each attempt is signed afresh, and every one verifies
        assert Webhook(WHSEC).verify(delivery.body, delivery.headers)["callid"] == "call-1"
    assert counts(metrics) == {'ivrc_events_sent_total{type="call.ended"}': 1.0,
                               'ivrc_events_retried_total{type="call.ended"}': float(len(failures))}


@pytest.mark.parametrize("header, wait", [("7", 7.0), ("600", 30.0), ("Wed, 21 Oct 2026 07:28:00 GMT", 0.0),
                                          (None, 0.0)])
def test_a_retry_after_in_seconds_is_honoured_up_to_the_longest_backoff(header: str | None, wait: float) -> None:
    sender = EventSender(EventsConfig(url="https://x.example/in", max_backoff=30.0), RuntimeMetrics())
    response = httpx.Response(503, headers={"retry-after": header} if header else {})
    assert sender._retry_after(response) == wait


def test_connection_errors_are_retried_then_given_up_logged_once(caplog) -> None:
    caplog.set_level(logging.DEBUG, "ivrc.events")
    with Receiver() as receiver:
        url = receiver.url  # a port that was just free, and is closed once the receiver stops
    metrics = send(config(url, max_attempts=3), ENDED)
    assert counts(metrics) == {'ivrc_events_retried_total{type="call.ended"}': 2.0,
                               'ivrc_events_dropped_total{reason="gave-up",type="call.ended"}': 1.0}
    (line,) = dropped_lines(caplog)
    assert event_id(ENDED) in line and "gave-up" in line and "ConnectError after 3 attempt(s)" in line


def test_retries_stop_when_the_time_for_them_is_up() -> None:
    with Receiver(default=503) as receiver:
        metrics = send(config(receiver.url, retry_for=0.0), ENDED)
        assert len(receiver.wait_for(1)) == 1
    assert counts(metrics) == {'ivrc_events_dropped_total{reason="gave-up",type="call.ended"}': 1.0}


@pytest.mark.parametrize("status", [400, 401, 404, 410, 307, 301])
def test_a_refusal_or_redirect_is_not_retried_nor_followed(status: int, caplog) -> None:
    with Receiver(statuses=(status,)) as receiver:
        metrics = send(config(receiver.url), ENDED)
        deliveries = receiver.wait_for(1)
    assert [d.path for d in deliveries] == ["/events"]  # /elsewhere, the redirect's target, never asked
    assert counts(metrics) == {'ivrc_events_dropped_total{reason="rejected",type="call.ended"}': 1.0}
    (line,) = dropped_lines(caplog)
    assert f"HTTP {status}" in line
    assert "confirmed" not in line and "/events" not in line  # neither the body nor the URL


def test_a_full_queue_drops_and_counts_without_waiting(caplog) -> None:
    reports = [dict(ENDED, callid=f"call-{n}", variables={"answer": f"+4670123456{n}"}) for n in range(5)]
    with Receiver() as receiver:
        metrics = send(config(receiver.url, queue_size=2, senders=1), *reports)
        delivered = receiver.wait_for(2)
    assert [json.loads(d.body)["callid"] for d in delivered] == ["call-0", "call-1"]
    assert counts(metrics) == {'ivrc_events_sent_total{type="call.ended"}': 2.0,
                               'ivrc_events_dropped_total{reason="queue-full",type="call.ended"}': 3.0}
    lines = dropped_lines(caplog)
    assert len(lines) == 3 and all("queue-full" in line for line in lines)
    assert not any("4670123456" in line for line in lines)


def test_shutdown_waits_a_bounded_time_then_counts_what_is_left() -> None:
    metrics = RuntimeMetrics()
    with Receiver(hang=True) as receiver:
        async def main() -> None:
            sender = EventSender(config(receiver.url, senders=1, attempt_timeout=300.0, drain_seconds=0.2), metrics)
            await sender.start()
            sender.submit(ENDED)
            sender.submit(dict(ENDED, callid="call-2"))
            await asyncio.to_thread(receiver.wait_for, 1)  # the first is in flight, held by the receiver
            await sender.stop()  # returns although the receiver never answers
            sender.submit(dict(ENDED, callid="call-3"))  # after the stop: dropped, not queued forever

        asyncio.run(main())
        assert receiver.answered == 0
    assert counts(metrics) == {'ivrc_events_dropped_total{reason="shutdown",type="call.ended"}': 3.0}


# -- the server: events after the answer, never in its way ----------------------------------------------------------


def test_a_receiver_that_hangs_never_delays_a_callback(library) -> None:
    """A whole outbound call, then more calls, all answered while the receiver sits on the first event."""
    with Receiver(hang=True) as receiver:
        events = config(receiver.url, senders=1, attempt_timeout=300.0, drain_seconds=0.2)
        app = create_app(library, Settings(credentials=Credentials(KEY, SECRET), events=events))
        with TestClient(app) as client:
            transport = HttpTransport("http://testserver/sinch/callback", KEY, SECRET, client=client)
            custom = json.dumps({"flow": "reminder", "vars": {}})
            calls: list[Call] = []

            def phone() -> None:
                calls.append(Call(transport, outbound=True, custom=custom, amd="human").start().press("1"))
                receiver.wait_for(1)  # the first event reached the receiver, which holds its answer
                for n in range(10):  # later calls while it is still held
                    calls.append(Call(transport, outbound=True, custom=custom, amd="human", callid=f"later-{n}")
                                 .start().press("2").press("1"))

            # In a thread, so a server that waited for the receiver fails here instead of hanging the run.
            caller = threading.Thread(target=phone, daemon=True)
            caller.start()
            caller.join(WAIT_SECONDS)
            assert not caller.is_alive(), f"callbacks waited for the receiver: {len(calls)} call(s) done"
            assert receiver.answered == 0  # every callback above was answered while the first event was held
            assert all(c.ended and c.answers[-1] == ("DICE", None) for c in calls) and len(calls) == 11
            assert calls[-1].heard()[-1].startswith("Your appointment is cancelled.")
            receiver.release()
            receiver.wait_for(11)
        metrics = app.state.metrics
    event = Webhook(WHSEC).verify(receiver.deliveries[0].body, receiver.deliveries[0].headers)
    assert event["type"] == "call.ended" and event["flow"] == "reminder" and event["state"] == "confirmed"
    assert event["variables"] == {"answer": "confirmed"} and event["callid"] == calls[0].callid
    assert metrics.events_sent.value(type="call.ended") == 11


def test_an_app_whose_lifespan_never_ran_counts_its_events_as_not_sent(library) -> None:
    app = create_app(library, Settings(credentials=Credentials(KEY, SECRET), events=config("https://x.example/in")))
    client = TestClient(app)  # not entered: the lifespan, which starts the sender, does not run
    transport = HttpTransport("http://testserver/sinch/callback", KEY, SECRET, client=client)
    call = Call(transport, outbound=True, custom="reminder", amd="human").start().press("1")
    assert call.ended and call.answers[-1] == ("DICE", None)
    assert app.state.metrics.events_dropped.value(type="call.ended", reason="not-running") == 1


def test_no_events_url_means_no_events(library) -> None:
    app = create_app(library, Settings(credentials=Credentials(KEY, SECRET)))
    with TestClient(app) as client:
        transport = HttpTransport("http://testserver/sinch/callback", KEY, SECRET, client=client)
        Call(transport, outbound=True, custom="reminder", amd="human").start().press("1")
    assert app.state.events is None
    assert "ivrc_events_" not in "".join(line for line in app.state.metrics.render().splitlines()
                                         if not line.startswith("#"))


# -- configuration mistakes -----------------------------------------------------------------------------------------


def test_the_secret_is_base64_with_an_optional_whsec_prefix() -> None:
    assert events_out.parse_secret(WHSEC) == KEY_BYTES == events_out.parse_secret(WHSEC.removeprefix("whsec_").rstrip("="))
    for text, words in (("", f"needs a signing secret in {EVENTS_SECRET_ENV}"),
                        ("whsec_not base64!", "not valid Base64"),
                        ("whsec_" + base64.b64encode(b"short").decode(), "decodes to 5 bytes")):
        with pytest.raises(ValueError, match=re.escape(words)) as err:
            events_out.parse_secret(text)
        assert (text or "\0") not in str(err.value)  # never the secret itself


@pytest.mark.parametrize("url, words", [
    ("http://events.example.com/in", "plain http"),
    ("ftp://events.example.com/in", "must be an https:// URL"),
    ("events.example.com/in", "must be an https:// URL"),
    ("https:///in", "must be an https:// URL"),
])
def test_an_events_url_must_be_https_except_on_loopback(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        events_out.check_url(url)


@pytest.mark.parametrize("url", ["https://events.example.com/in?token=x", "http://127.0.0.1:9000/in",
                                 "http://localhost/in", "http://[::1]:9000/in"])
def test_good_events_urls(url: str) -> None:
    assert events_out.check_url(url) == url


def test_startup_names_the_missing_secret() -> None:
    with pytest.raises(StartupError, match=f"needs a signing secret in {EVENTS_SECRET_ENV}"):
        events_from_env("https://events.example.com/in", env={})
    assert events_from_env(None, env={}) is None
    assert events_from_env("https://events.example.com/in", env={EVENTS_SECRET_ENV: WHSEC}).secret == KEY_BYTES


def test_ivrc_serve_refuses_events_url_without_secret(ivrc, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SINCH_APPLICATION_KEY", KEY)
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", SECRET)
    monkeypatch.delenv(EVENTS_SECRET_ENV, raising=False)
    monkeypatch.setenv("BANK_API_TOKEN", "demo-bank-token")  # the examples' requests need it too
    monkeypatch.setenv("IVRC_STATE_KEY", "test-state-key-0123456789abcdef")
    run = ivrc("serve", "examples", "--machines-dir", tmp_path, "--events-url", "https://events.example.com/in")
    assert run.code == 2
    assert f"needs a signing secret in {EVENTS_SECRET_ENV}" in run.err and "Traceback" not in run.err


def _raw_receiver(answer) -> Any:
    """A receiver on a loopback port that reads each request whole and then runs `answer(writer)`."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            await answer(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_receiver_that_trickles_its_answer_holds_a_sender_one_attempt_at_most(caplog) -> None:
    """A byte every 50 ms kept every read within httpx's timeout, so one attempt lasted as long as the
    receiver liked (here 3 s, then a 200). The attempt as a whole now ends at attempt_timeout."""
    async def trickle(writer: asyncio.StreamWriter) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def main() -> RuntimeMetrics:
        server = await _raw_receiver(trickle)
        port = server.sockets[0].getsockname()[1]
        metrics = RuntimeMetrics()
        sender = EventSender(config(f"http://127.0.0.1:{port}/events", attempt_timeout=0.3, max_attempts=1), metrics)
        await sender.start()
        sender.submit(ENDED)
        await sender.stop()
        server.close()
        return metrics

    with caplog.at_level(logging.WARNING, logger="ivrc.events"):
        metrics = asyncio.run(main())
    assert counts(metrics).get('ivrc_events_dropped_total{reason="gave-up",type="call.ended"}') == 1.0
    assert any("attempt-timeout after 1 attempt(s)" in line for line in dropped_lines(caplog))


def test_a_receivers_answer_body_is_never_read() -> None:
    """A 200 with a 50 MB body was read whole into the server's memory; only the status counts."""
    written = [0]

    async def huge(writer: asyncio.StreamWriter) -> None:
        size = 50 * 1024 * 1024
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        chunk = b"x" * (1024 * 1024)
        while written[0] < size:
            writer.write(chunk)
            await writer.drain()
            written[0] += len(chunk)

    async def main() -> RuntimeMetrics:
        server = await _raw_receiver(huge)
        port = server.sockets[0].getsockname()[1]
        metrics = RuntimeMetrics()
        sender = EventSender(config(f"http://127.0.0.1:{port}/events"), metrics)
        await sender.start()
        sender.submit(ENDED)
        await sender.stop()
        await asyncio.sleep(0.2)  # the receiver finds the connection closed
        server.close()
        return metrics

    metrics = asyncio.run(main())
    assert counts(metrics).get('ivrc_events_sent_total{type="call.ended"}') == 1.0
    assert written[0] < 20 * 1024 * 1024  # the sender closed the connection after the head
