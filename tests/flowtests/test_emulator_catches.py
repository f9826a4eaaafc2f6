"""The emulator against deliberately wrong servers: it fails the call, loudly, where Sinch would."""
from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from ivrc.runtime.emulation.emulator import Call, CallFailed, HttpTransport
from ivrc.runtime.signing import Credentials, verify

MENU = {"name": "runMenu", "mainMenu": "main", "menus": [
    {"id": "main", "mainPrompt": "#tts[Press 1.]", "options": [{"dtmf": "1", "action": "return(one)"}]}]}
SAY = {"name": "playFiles", "ids": ["#tts[Hello.]"], "locale": "en-US"}

# What each wrong server answers to the ICE and to the PIE (None: an empty 200).
ANSWERS: dict[str, dict[str, Any]] = {
    "good": {"ice": {"instructions": [SAY, {"name": "setCookie", "key": "step", "value": "menu"}], "action": MENU},
             "pie": {"instructions": [], "action": {"name": "hangup"}}},
    "cookie-over-cap": {"ice": {"instructions": [{"name": "setCookie", "key": "state", "value": "x" * 1100}],
                                "action": {"name": "hangup"}}},
    "cookies-grow-over-cap": {
        "ice": {"instructions": [{"name": "setCookie", "key": "a", "value": "x" * 600}], "action": MENU},
        "pie": {"instructions": [{"name": "setCookie", "key": "b", "value": "y" * 600}], "action": {"name": "hangup"}}},
    "park-in-pie": {"ice": {"instructions": [], "action": MENU},
                    "pie": {"instructions": [], "action": {"name": "park", "holdPrompt": "#tts[Hold on.]"}}},
    "answer-in-pie": {"ice": {"instructions": [], "action": MENU},
                      "pie": {"instructions": [{"name": "answer"}], "action": {"name": "hangup"}}},
    "missing-field": {"ice": {"instructions": [{"name": "playFiles", "locale": "en-US"}],
                              "action": {"name": "connectConf"}}},
    "no-action": {"ice": {"instructions": [SAY]}},
    "forged-menu": {"ice": {"instructions": [], "action": {"name": "runMenu", "menus": [
        {"id": "main", "options": [{"dtmf": "1", "action": "menu(nowhere)"}, {"dtmf": 2, "action": "return(x)"}]}]}}},
}


class _Handler(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, dict]] = []

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.loads(raw)
        behaviour = self.path.strip("/")
        self.received.append((behaviour, dict(self.headers), body))
        if behaviour == "status-500":
            return self._send(500, b'{"error": "boom"}', "application/json")
        if behaviour == "not-json":
            return self._send(200, b"<html>Welcome to nginx</html>", "text/html")
        if behaviour == "signed-only" and not verify(self.headers, raw, self.path, "POST", Credentials(*_PAIR),
                                                     datetime.datetime.now(datetime.timezone.utc)):
            return self._send(401, b'{"error": "unauthorized"}', "application/json")
        answer = ANSWERS.get(behaviour, ANSWERS["good"]).get(body["event"])
        self._send(200, json.dumps(answer).encode() if answer is not None else b"", "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


_PAIR = ("669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA==")


@pytest.fixture(scope="module")
def wrong_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def call(base: str, behaviour: str) -> Call:
    return Call(HttpTransport(f"{base}/{behaviour}", None, None), called="+46812345670")


def fails(base: str, behaviour: str, *keys: str) -> CallFailed:
    with pytest.raises(CallFailed) as caught:
        c = call(base, behaviour).start()
        for k in keys:
            c.press(k)
    return caught.value


def test_a_good_server_gets_cookies_echoed_as_sinch_does(wrong_server) -> None:
    _Handler.received.clear()
    c = call(wrong_server, "good").start().press("1")
    assert c.ended and c.heard() == ["Hello.", "Press 1."]
    events = [body for behaviour, _, body in _Handler.received if behaviour == "good"]
    assert [b["event"] for b in events] == ["ice", "pie", "dice"]
    assert "cookies" not in events[0]
    assert events[1]["cookies"] == [{"key": "step", "value": "menu"}]
    assert events[1]["menuResult"] == {"menuId": "main", "type": "return", "value": "one", "inputMethod": "dtmf"}
    assert events[2]["cookies"] == [{"key": "step", "value": "menu"}] and events[2]["reason"] == "MANAGERHANGUP"


def test_callbacks_are_signed_as_sinch_signs_them(wrong_server) -> None:
    c = Call(HttpTransport(f"{wrong_server}/signed-only", *_PAIR), called="+46812345670", key=_PAIR[0])
    c.start().press("1")
    assert c.ended
    with pytest.raises(CallFailed, match="HTTP 401"):
        Call(HttpTransport(f"{wrong_server}/signed-only", _PAIR[0], "d3Jvbmc="), called="+1").start()


def test_a_cookie_over_the_1024_byte_cap(wrong_server) -> None:
    err = fails(wrong_server, "cookie-over-cap")
    assert str(err) == "the answer to ICE breaks Sinch's rules"
    assert err.problems == ["cookies total 1105 bytes after this answer; Sinch keeps at most 1024"]


def test_cookies_that_grow_over_the_cap_across_callbacks(wrong_server) -> None:
    err = fails(wrong_server, "cookies-grow-over-cap", "1")
    assert str(err) == "the answer to PIE breaks Sinch's rules"
    assert err.problems == ["cookies total 1202 bytes after this answer; Sinch keeps at most 1024"]


def test_park_is_not_allowed_in_a_pie_answer(wrong_server) -> None:
    err = fails(wrong_server, "park-in-pie", "1")
    assert err.problems == ["action (park): not allowed in an answer to PIE"]


def test_answer_is_an_ice_only_instruction(wrong_server) -> None:
    assert fails(wrong_server, "answer-in-pie", "1").problems == [
        "instructions[0] (answer): not allowed in an answer to PIE"]


def test_missing_required_fields(wrong_server) -> None:
    assert fails(wrong_server, "missing-field").problems == [
        "instructions[0] (playFiles): 'ids' is required",
        "action (connectConf): 'conferenceId' is required",
    ]


def test_an_answer_without_an_action(wrong_server) -> None:
    assert fails(wrong_server, "no-action").problems == [
        "the answer needs exactly one 'action' object (instructions do nothing without one)"]


def test_a_forged_menu(wrong_server) -> None:
    assert fails(wrong_server, "forged-menu").problems == [
        "action (runMenu).menus[0].options[0]: menu(nowhere) names no menu in this runMenu",
        "action (runMenu).menus[0].options[1]: dtmf must be one key as a string",
    ]


def test_a_status_other_than_200(wrong_server) -> None:
    err = fails(wrong_server, "status-500")
    assert str(err) == "the server answered the ICE with HTTP 500: {'error': 'boom'}"


def test_a_body_that_is_not_json(wrong_server) -> None:
    err = fails(wrong_server, "not-json")
    assert str(err) == "the server answered 200 with a body that is not JSON: '<html>Welcome to nginx</html>'"


def test_ivrc_call_prints_every_problem_and_exits_1(ivrc, wrong_server) -> None:
    run = ivrc("call", f"{wrong_server}/missing-field", "--to", "+46812345670", "--unsigned")
    assert run.code == 1
    assert run.err.splitlines() == [
        "ivrc: the call failed: the answer to ICE breaks Sinch's rules",
        "  - instructions[0] (playFiles): 'ids' is required",
        "  - action (connectConf): 'conferenceId' is required",
    ]
    assert ("  ✗  Sinch would reject the answer to ICE: instructions[0] (playFiles): 'ids' is required; "
            "action (connectConf): 'conferenceId' is required") in run.out


def test_ivrc_test_against_a_wrong_server_fails_the_scenario(ivrc, wrong_server, workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", "flow: support.yaml\nscenarios:\n  - name: parked in a PIE\n"
                                          "    steps:\n      - press: 1\n      - expect_end: park\n")
    run = ivrc("test", path, "--url", f"{wrong_server}/park-in-pie", "--unsigned")
    assert run.code == 1
    assert (f"{path}:5:9: step 1 (press '1'): the call failed: the answer to PIE breaks Sinch's rules"
            in run.out)
    assert "  Sinch would reject the answer:\n    - action (park): not allowed in an answer to PIE" in run.out
