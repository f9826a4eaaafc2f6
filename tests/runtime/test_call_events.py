"""`ivrc serve --call-events`: the token-protected /events stream the studio follows; numbers masked, off by default."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from ivrctest import EXAMPLES, KEY, SECRET, serve_env, start_serve

from ivrc.runtime.emulation.emulator import Call, HttpTransport

TOKEN = "test-token-for-call-events-0123456789"
CALLER = "+46701234567"


def read_events(lines, until) -> list[dict]:
    """Call events from an open stream's lines, up to the first one `until` accepts (the stream never ends by itself)."""
    found, event = [], ""
    for line in lines:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "call":
            found.append(json.loads(line[5:]))
            if until(found[-1]):
                return found
    raise AssertionError(f"the stream ended after {found}")


@pytest.fixture
def server(tmp_path: Path):
    running = start_serve(tmp_path, EXAMPLES, env=serve_env(IVRC_EVENTS_TOKEN=TOKEN), extra=("--call-events",))
    yield running
    running.stop()


def test_a_call_streams_state_by_state_with_the_number_masked(server) -> None:
    with httpx.Client(timeout=httpx.Timeout(30.0)) as client:
        with client.stream("GET", server.base + "/events", headers={"authorization": f"Bearer {TOKEN}"}) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "event: hello"  # subscribed: events from here on reach this stream
            call = Call(HttpTransport(server.callback, KEY, SECRET), called="+46812345690", caller=CALLER)
            call.start().press("#")  # voicemail: a message, ended with hash; the flow says goodbye and hangs up
            events = read_events(lines, lambda e: e["event"] == "DICE")
    assert [(e["event"], e["flow"], e["state"]) for e in events] == [
        ("ICE", "voicemail", "take_message"), ("PIE", "voicemail", "goodbye"), ("NOTIFY", "voicemail", "goodbye"),
        ("DICE", "voicemail", "goodbye")]
    assert {e["caller"] for e in events if e["caller"]} == {"+*********67"}
    assert len({e["call"] for e in events}) == 1 and call.callid not in json.dumps(events)
    assert CALLER not in json.dumps(events) and events[-1]["reason"] == "managerhangup"


def test_the_stream_needs_the_token(server) -> None:
    missing = httpx.get(server.base + "/events")
    assert missing.status_code == 401 and "IVRC_EVENTS_TOKEN" in missing.json()["message"]
    wrong = httpx.get(server.base + "/events", headers={"authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401


def test_the_stream_is_off_by_default(tmp_path: Path) -> None:
    running = start_serve(tmp_path, EXAMPLES, env=serve_env(IVRC_EVENTS_TOKEN=TOKEN))
    try:
        answer = httpx.get(running.base + "/events", headers={"authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 404 and "--call-events" in answer.json()["message"]
    finally:
        running.stop()


@pytest.mark.parametrize(("token", "message"), [
    (None, "--call-events needs a token in IVRC_EVENTS_TOKEN"),
    ("short", "IVRC_EVENTS_TOKEN is too short"),
])
def test_call_events_without_a_good_token_do_not_start(ivrc, monkeypatch, token, message) -> None:
    for name, value in serve_env(IVRC_EVENTS_TOKEN=token).items():
        monkeypatch.setenv(name, value)
    if token is None:
        monkeypatch.delenv("IVRC_EVENTS_TOKEN", raising=False)
    run = ivrc("serve", str(EXAMPLES), "--call-events", "--port", "1")
    assert run.code == 2 and message in run.err
