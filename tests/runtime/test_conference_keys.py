"""Keys a participant presses in a conference with a `detect` keypad: the engine routes Sinch's PIE like a menu's."""
from __future__ import annotations

import pytest
from callkit import Phone, assert_error_path, pin, spoken

APOLOGY = "We are sorry, something went wrong. Please call again later. Goodbye."


@pytest.fixture
def phone(make_engine, sinch_body) -> Phone:
    return Phone(make_engine(), sinch_body)


@pytest.fixture
def concierge(library):
    return library.current["concierge"].machine


def _in(concierge, state: str) -> dict[str, str]:
    return {"ivrc": pin(concierge, state)}


@pytest.mark.parametrize("pressed", ["*1", "*1#"])
def test_a_key_sequence_goes_to_its_state(phone, concierge, pressed) -> None:
    answer = phone.pie(_in(concierge, "meeting"), "sequence", pressed, menu_id="")
    assert answer.state == "back_to_meeting"
    assert spoken(answer) == ["Press star 0 for the duty adviser, or hash to leave the meeting."]
    assert answer.svaml["action"]["name"] == "connectConf"
    assert answer.svaml["action"]["conferenceDtmfOptions"]["mode"] == "detect"


def test_hash_alone_is_a_key_of_its_own(phone, concierge) -> None:
    answer = phone.pie(_in(concierge, "meeting"), "sequence", "#", menu_id="")
    assert answer.svaml["action"] == {"name": "hangup"}
    assert spoken(answer) == ["You have left the meeting. Goodbye."]


@pytest.mark.parametrize(("kind", "value"), [("sequence", "55"), ("sequence", ""), ("timeout", "")])
def test_keys_that_lead_nowhere_keep_the_participant_in_the_conference(phone, concierge, kind, value) -> None:
    answer = phone.pie(_in(concierge, "meeting"), kind, value, menu_id="")
    assert answer.outcome == "keypad-ignored"
    assert answer.svaml["action"] == {"name": "continue"}
    assert answer.state == "meeting"


def test_a_key_report_for_a_transfer_without_a_keypad_takes_the_error_path(phone, concierge) -> None:
    answer = phone.pie(_in(concierge, "insurance"), "sequence", "*1", menu_id="")
    assert_error_path(answer, "pie", APOLOGY)
