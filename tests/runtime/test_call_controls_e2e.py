"""Sinch's call controls end to end: a real `ivrc serve`, signed callbacks, a scripted caller.

A stream transfer (connectStream) with a call header rendered for the call, keys sent on the
line and on answer, and a conference whose keypad reports keys in a PIE that the flow routes
like a menu. Every answer passes the emulator's Sinch checks, and the field names are Sinch's,
as its SDK's sample SVAML writes them (tests/fixtures/sinch/svaml).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import ivrctest
import pytest
from callkit import KEY, SECRET

from ivrc.runtime.emulation.emulator import Call, HttpTransport
from ivrc.runtime.emulation.svaml_check import problems

SVAML_SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "sinch" / "svaml"
NUMBER = "+46812345860"
BOT_CALLER = "+46700004321"

FLOW = f"""\
ivrc: 1
flow: controls
numbers: ["{NUMBER}"]
start: route
variables:
  account: {{max_length: 12}}
states:
  route:
    branch:
      - if: call.caller == "{BOT_CALLER}"
        goto: bot
      - else: choose
  bot:
    set: {{account: "acct-{{{{ call.caller[-4:] }}}}"}}
    transfer:
      stream: wss://bot.example.com/calls
      headers: {{X-Account: "{{{{ account }}}}", X-Line: support}}
      streaming: {{version: 2, sample_rate: 16000}}
      max_duration: 900
  choose:
    menu:
      prompt: "Press 1 for the partner, 2 for the meeting."
      options: {{1: partner, 2: meeting}}
      no_input: {{say: "Sorry."}}
      invalid: {{say: "Sorry."}}
      exhausted: bye
  partner:
    send_digits: "1w2"
    transfer:
      number: "+46812345861"
      digits_on_answer: "ww204#"
      ringback: se
      suppress_callbacks: true
  meeting:
    transfer:
      conference: team-room
      keypad:
        mode: detect
        max_digits: 2
        timeout: 4
        keys: {{"*6": help, "#": bye}}
  help:
    say: "Star six is help. Hash leaves."
    next: meeting
  bye: {{say: "Goodbye.", hangup: true}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ivrctest.Server]:
    folder = tmp_path_factory.mktemp("controls")
    flow = folder / "controls.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    try:
        running = ivrctest.start_serve(folder, flow)
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield running
    finally:
        running.stop()


def _call(server: ivrctest.Server, caller: str) -> Call:
    return Call(HttpTransport(server.callback, KEY, SECRET), called=NUMBER, caller=caller)


def _sample(name: str) -> dict[str, Any]:
    return json.loads((SVAML_SAMPLES / name).read_text(encoding="utf-8"))


def _names(ours: Any, sample: Any, where: str = "") -> list[str]:
    """Field names in our SVAML that Sinch's sample of the same element does not have."""
    if isinstance(ours, dict) and isinstance(sample, dict):
        found = [f"{where}.{k}" for k in ours if k not in sample]
        return found + [n for k in ours if k in sample for n in _names(ours[k], sample[k], f"{where}.{k}")]
    if isinstance(ours, list) and isinstance(sample, list) and sample:
        return [n for item in ours for n in _names(item, sample[0], where + "[]")]
    return []


def test_a_stream_is_answered_to_the_incoming_call_with_the_header_rendered(server) -> None:
    call = _call(server, BOT_CALLER).start()
    event, answer = call.answers[0]
    assert event == "ICE"
    action = answer["action"]
    assert action == {"name": "connectStream",
                      "destination": {"type": "Websocket", "endpoint": "wss://bot.example.com/calls"},
                      "maxDuration": 900,
                      "callHeaders": [{"key": "X-Account", "value": "acct-4321"}, {"key": "X-Line", "value": "support"}],
                      "streamingOptions": {"version": 2, "sampleRate": 16000}}
    assert problems(answer, "ICE") == []
    assert _names(action, _sample("SvamlActionConnectStreamDto.json")) == []
    assert call.transferred is not None and call.transferred["kind"] == "stream"


def test_keys_are_sent_on_the_line_and_to_the_number_once_it_answers(server) -> None:
    call = _call(server, "+46700000001").start().press("1")
    event, answer = call.answers[-1]
    assert event == "PIE"
    assert {"name": "sendDtmf", "value": "1w2"} in answer["instructions"]
    assert answer["action"] == {"name": "connectPstn", "number": "+46812345861", "locale": "en-US",
                                "suppressCallbacks": True, "dtmf": "ww204#", "indications": "se"}
    assert problems(answer, "PIE") == []
    assert _names(answer["action"], _sample("SvamlActionConnectPstnDto.json")) == []
    send = next(i for i in answer["instructions"] if i["name"] == "sendDtmf")
    assert _names(send, _sample("SvamlInstructionSendDtmfDto.json")) == []
    # suppressCallbacks: no ACE is played for the transferred leg.
    assert [e for e, _ in call.answers] == ["ICE", "PIE"]


def test_keys_pressed_in_a_conference_are_routed_like_a_menu(server) -> None:
    call = _call(server, "+46700000001").start().press("2")
    event, answer = call.answers[-1]
    assert answer["action"] == {"name": "connectConf", "conferenceId": "team-room",
                                "conferenceDtmfOptions": {"mode": "detect", "maxDigits": 2, "timeoutMills": 4000}}
    assert _names(answer["action"], _sample("SvamlActionConnectConferenceDto.json")) == []

    call.press("*6")  # Sinch reports the two keys in a PIE; the flow says its help and joins again
    event, answer = call.answers[-1]
    assert event == "PIE"
    assert "Star six is help. Hash leaves." in call.heard()
    assert answer["action"]["name"] == "connectConf"

    call.press("5")  # one key, then a pause: Sinch reports "5", which leads nowhere
    event, answer = call.answers[-1]
    assert event == "PIE" and answer["action"] == {"name": "continue"}  # the caller stays in the room
    assert not call.ended
    answered = len(call.answers)
    call.silence()  # nothing typed: silence in a conference reports nothing
    assert len(call.answers) == answered

    call.press("#")
    pie_answer = [a for e, a in call.answers if e == "PIE"][-1]
    assert pie_answer["action"] == {"name": "hangup"}
    assert call.heard()[-1] == "Goodbye."
    assert call.ended
    # Every answer on the way was one Sinch accepts (the emulator checks each strictly).
    assert all(problems(a, e) == [] for e, a in call.answers if e in ("ICE", "ACE", "PIE"))


def test_a_conference_key_report_without_the_call_state_takes_the_error_path(server) -> None:
    transport = HttpTransport(server.callback, KEY, SECRET)
    status, answer = transport.send({"event": "pie", "callid": "no-cookies", "version": 1, "applicationKey": KEY,
                                     "timestamp": "2026-12-01T10:00:00Z",
                                     "menuResult": {"type": "sequence", "value": "*6", "inputMethod": "dtmf"}})
    assert status == 200
    assert answer["action"] == {"name": "hangup"}
    assert problems(answer, "PIE") == []
