"""The examples' answers through the real app, byte for byte as recorded: speed work must not change a byte.

Each conversation is a fixed set of signed callbacks (fixed call ids, clock and state key) sent
through the Starlette app; every answer's status and body bytes, and the callback's JSON log line
(its times blanked), are compared with the file under tests/golden/conversations/. When a change to the examples or the engine changes answers on
purpose, rewrite the files with IVRC_UPDATE_GOLDEN=1 and review the diff. Request states reach
examples/backend.py on loopback, which the test session starts (tests/conftest.py).
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from callkit import (
    CHRISTMAS_EVE,
    ENV,
    KEY,
    SECRET,
    TUESDAY_10,
    TUESDAY_EVENING,
    TestClient,
    example_machines,
    fixed,
    library_of,
    signed_headers,
)

from ivrc.runtime.emulation.emulator import Call, CallFailed
from ivrc.runtime.server.app import CALLBACK_PATH, Settings, create_app
from ivrc.runtime.signing import Credentials

GOLDEN = Path(__file__).resolve().parents[1] / "golden/conversations"
STATE_KEY = b"recorded-answers-state-key-0123456789"
UPDATE = os.environ.get("IVRC_UPDATE_GOLDEN") == "1"


# What differs from run to run in a log line: when it was written and how long things took.
_TIMES = re.compile(r'"(time|duration_ms)":("[^"]*"|[0-9.e-]+)')


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(_TIMES.sub(lambda m: f'"{m.group(1)}":"-"', record.getMessage()))


class Recorder:
    """A transport for the emulator that posts signed callbacks to the app and keeps each answer's bytes."""

    def __init__(self, client: TestClient, moment, log: LogLines) -> None:
        self.client, self.moment, self.log = client, moment, log
        self.lines: list[str] = []

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        raw = json.dumps(body, separators=(",", ":")).encode()
        response = self.client.post(CALLBACK_PATH, content=raw, headers=signed_headers(raw, self.moment))
        self.lines.append(f"{body['event']} {response.status_code} {response.headers.get('content-type', '-')}")
        self.lines.append(response.content.decode())
        self.lines.extend(f"log {line}" for line in self.log.lines)
        self.log.lines.clear()
        return response.status_code, (response.json() if response.content else None)


def _inbound(called: str, *steps: str) -> Callable[[Recorder, str], None]:
    def run(transport: Recorder, callid: str) -> None:
        call = Call(transport, called=called, caller="+46701234567", callid=callid, clock=lambda: transport.moment)
        call.start()
        for step in steps:
            if call.ended or call.menu is None:
                break
            call.silence() if step == "silence" else call.press(step)
        call.hangup()

    return run


def _reminder(*steps: str) -> Callable[[Recorder, str], None]:
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "Northside Dental",
                                                      "appointment_time": "on Tuesday at 10:30"}})

    def run(transport: Recorder, callid: str) -> None:
        call = Call(transport, called="+46701234567", caller="+46812345730", callid=callid, custom=custom,
                    outbound=True, clock=lambda: transport.moment)
        call.start()
        for step in steps:
            if call.ended or call.menu is None:
                break
            call.press(step)
        call.hangup()

    return run


# name: (the moment of the call, what the caller does)
CONVERSATIONS = {
    "support-open": (TUESDAY_10, _inbound("+46812345670", "silence", "3", "#")),
    "support-menu": (TUESDAY_10, _inbound("+46812345670", "1", "2", "9", "0")),
    "support-evening": (TUESDAY_EVENING, _inbound("+46812345670", "#")),
    "support-holiday": (CHRISTMAS_EVE, _inbound("+46812345670", "1")),
    "account-pin-verified": (TUESDAY_10, _inbound("+46812345700", "123456#", "1234#", "1", "2")),
    "account-pin-wrong": (TUESDAY_10, _inbound("+46812345700", "123456#", "9999#", "123456#", "0000#", "1")),
    "account-pin-business": (TUESDAY_10, _inbound("+46812345700", "9123456#", "9876#", "1")),
    "voicemail": (TUESDAY_10, _inbound("+46812345690", "#")),
    "multilingual": (TUESDAY_10, _inbound("+46812345710", "2", "1", "1", "9", "3")),
    "multilingual-german": (TUESDAY_EVENING, _inbound("+46812345711", "3", "2", "3")),
    "order-shipped": (TUESDAY_10, _inbound("+46812345790", "100200", "1", "123123", "0")),
    "order-desk-down": (TUESDAY_10, _inbound("+46812345790", "500500", "1")),
    "reminder-confirmed": (TUESDAY_10, _reminder("1")),
    "reminder-cancelled": (TUESDAY_10, _reminder("2", "1")),
}


def record(name: str) -> str:
    moment, run = CONVERSATIONS[name]
    settings = Settings(credentials=Credentials(KEY, SECRET), clock=fixed(moment), env=ENV,
                        state_keys=(STATE_KEY,))
    logger, log = logging.getLogger("ivrc.callbacks"), LogLines()
    level = logger.level
    logger.addHandler(log)
    logger.setLevel(logging.INFO)
    try:
        with TestClient(create_app(library_of(*example_machines()), settings), raise_server_exceptions=True) as client:
            transport = Recorder(client, moment, log)
            try:
                run(transport, f"recorded-{name}")
            except CallFailed as err:  # a conversation that ends early is recorded as it went
                transport.lines.append(f"call failed: {err}")
    finally:
        logger.removeHandler(log)
        logger.setLevel(level)
    return "\n".join(transport.lines) + "\n"


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_answers_are_byte_identical_to_the_recording(name: str) -> None:
    path = GOLDEN / f"{name}.txt"
    recorded = record(name)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(recorded, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: record it with IVRC_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert recorded == expected
    assert expected.count("\n") >= 4  # at least an ICE or ACE and a DiCE, each with its answer
