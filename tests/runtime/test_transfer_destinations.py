"""Transfers to a number or SIP address held in a variable: dialled when valid, on_invalid or the error
path when not, never a malformed connectPstn or connectSip."""
from __future__ import annotations

import pytest
from callkit import DEFAULT_APOLOGY, TUESDAY_10, Phone, assert_error_path, compile_flow, fixed, library_of, spoken

from ivrc.compiler.destinations import valid
from ivrc.runtime.engine.step import Engine

DESK = """\
    ivrc: 1
    flow: desk
    numbers: ["+15550007000", "+15550007001", "+15550007002", "+15550007003"]
    start: route
    variables:
      manager: {max_length: 16, default: "+15550007999"}
      nobody: {max_length: 16}
      room: {max_length: 20, default: "desk 4"}
    states:
      route:
        branch:
          - if: call.called == "+15550007000"
            goto: manager_line
          - if: call.called == "+15550007001"
            goto: nobody_line
          - if: call.called == "+15550007002"
            goto: room_line
          - else: unchecked_line
      manager_line:
        say: "Connecting you to your account manager."
        transfer:
          number: "{{ manager }}"
          on_invalid: reception
      nobody_line:
        say: "Connecting you to your account manager."
        transfer:
          number: "{{ nobody }}"
          on_invalid: reception
      room_line:
        transfer:
          sip: "{{ room }}@pbx.example.com"
          on_invalid: reception
      unchecked_line:
        transfer:
          number: "{{ nobody }}"
      reception:
        say: "Your account manager cannot be reached. Here is the reception."
        transfer:
          number: "+15550007998"
"""


@pytest.fixture
def phone(sinch_body) -> Phone:
    library = library_of(compile_flow(DESK))
    return Phone(Engine(library, clock=fixed(TUESDAY_10), env={}), sinch_body)


def test_a_number_from_a_variable_is_dialled(phone: Phone) -> None:
    answer = phone.ice("+15550007000")
    assert answer.svaml["action"]["name"] == "connectPstn" and answer.svaml["action"]["number"] == "+15550007999"
    assert answer.state == "manager_line" and answer.error is None


def test_an_empty_number_goes_to_on_invalid(phone: Phone) -> None:
    answer = phone.ice("+15550007001")
    assert answer.state == "reception" and answer.error is None
    assert answer.svaml["action"]["number"] == "+15550007998"
    assert spoken(answer) == ["Connecting you to your account manager.",
                              "Your account manager cannot be reached. Here is the reception."]


def test_a_sip_address_with_a_space_goes_to_on_invalid(phone: Phone) -> None:
    answer = phone.ice("+15550007002")
    assert answer.state == "reception" and answer.svaml["action"]["name"] == "connectPstn"


def test_without_on_invalid_the_error_path_never_a_malformed_connect(phone: Phone) -> None:
    answer = phone.ice("+15550007003")
    assert_error_path(answer, "ice", DEFAULT_APOLOGY)
    assert answer.error is not None and answer.error.startswith("destination:")


@pytest.mark.parametrize("kind, value, ok", [
    ("number", "+46812345671", True), ("number", "+4", False), ("number", "46812345671", False),
    ("number", "+46 8 123", False), ("number", "+4681234567123456", False), ("number", "", False),
    ("sip", "desk@pbx.example.com", True), ("sip", "desk@10.0.0.7:5061", True),
    ("sip", "sip:desk@pbx.example.com", False), ("sip", "desk 4@pbx.example.com", False),
    ("sip", "desk@pbx.example.com;transport=tcp", False), ("sip", "@pbx.example.com", False),
    ("conference", "case-123456", True), ("conference", "room.4_b+c", True), ("conference", "", False),
    ("conference", "room 4", False), ("conference", "r" * 65, False), ("conference", "room;moh=music1", False),
])
def test_what_counts_as_a_number_or_address(kind: str, value: str, ok: bool) -> None:
    assert valid(kind, value) is ok
