"""Caller ids with characters XML forbids, or longer than a variable holds: well-formed SSML, no error path, no bug."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest
from relykit import ENV, TUESDAY_10, compile_flow, fixed, library_of

from ivrc.compiler.pipeline import check_text
from ivrc.runtime.emulation.emulator import Call, EngineTransport
from ivrc.runtime.emulation.svaml_check import problems
from ivrc.runtime.engine.step import Engine

NUMBER = "+15550007100"
FLOW = """\
ivrc: 1
flow: echo
numbers: ["+15550007100"]
start: greet
variables:
  who: {max_length: 64}
states:
  greet:
    set: {who: "{{ call.caller }}"}
    say:
      - ssml: "<speak>Hello <break time='200ms'/>{{ call.caller }}.</speak>"
      - "Calling from {{ call.caller }}."
    next: stored
  stored:
    say: "Stored {{ who }}."
    hangup: true
"""
EMOJI = "\U0001F600"  # four bytes of UTF-8


@pytest.fixture(scope="module")
def machine() -> dict[str, Any]:
    return compile_flow(FLOW)


def _engine(machine: dict[str, Any]) -> Engine:
    return Engine(library_of(machine), clock=fixed(TUESDAY_10), env=ENV)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\x0b", "\x0c", "\ufffe", "\uffff", "\ud800", "\udfff"],
                         ids=["NUL", "ESC", "BEL", "VT", "FF", "U+FFFE", "U+FFFF", "lone high surrogate",
                              "lone low surrogate"])
def test_a_caller_id_with_a_character_xml_forbids_gives_well_formed_ssml(machine, char: str, caplog) -> None:
    caller = f"+4670{char}0000{char}01"
    transport = EngineTransport(_engine(machine))
    with caplog.at_level(logging.INFO):
        call = Call(transport, called=NUMBER, caller=caller).start()
    assert transport.last_error is None
    ids = [i for i in call.answers[0][1]["instructions"] if i["name"] == "playFiles"][0]["ids"]
    ssml = ids[0][len("#ssml["):-1]
    ElementTree.fromstring(ssml)  # raises if the SSML is not well-formed XML
    assert ssml == "<speak>Hello <break time='200ms'/>+4670000001.</speak>"
    assert ids[1] == "#tts[Calling from +4670000001.]"
    assert problems(call.answers[0][1], "ICE") == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text  # no "bug" logged
    assert call.heard()[-1] == "Stored +4670000001."


def test_a_caller_id_longer_than_the_variable_is_cut_to_fit_not_an_error(machine, caplog) -> None:
    caller = EMOJI * 30  # 120 bytes against 64
    transport = EngineTransport(_engine(machine))
    with caplog.at_level(logging.INFO):
        call = Call(transport, called=NUMBER, caller=caller).start()
    assert transport.last_error is None
    assert call.heard()[-1] == f"Stored {EMOJI * 16}."  # 64 bytes: sixteen whole emoji
    assert "variable 'who' cut to 64 bytes" in caplog.text


def test_a_cut_never_splits_a_character(machine) -> None:
    from ivrc.runtime.engine.callstate import fit

    assert fit("ab" + EMOJI, 5) == "ab"  # the emoji would need bytes 3-6
    assert fit("a\ud800b", 64) == "ab"
    assert fit("short", 64) == "short"


def test_lint_knows_when_the_fixed_text_alone_is_too_long() -> None:
    flow = FLOW.replace('set: {who: "{{ call.caller }}"}', 'set: {who: "' + "x" * 70 + ' {{ call.caller }}"}')
    found = [d for d in check_text(flow).diagnostics if d.code == "IVR073"]
    assert len(found) == 1 and "fixed text alone is 71 bytes" in found[0].message and found[0].span.line == 9
    assert [d.code for d in check_text(FLOW).diagnostics] == []
