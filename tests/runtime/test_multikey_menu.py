"""A menu with keys like 10 runs as a digit collection (Sinch's options take one key each) and keeps
the menu's meaning: the digits pick the option, others are invalid, silence is no input."""
from __future__ import annotations

import pytest
from callkit import TUESDAY_10, Phone, compile_flow, fixed, library_of, pin, spoken

from ivrc.runtime.engine.step import Engine

HOTEL = """\
    ivrc: 1
    flow: rooms
    numbers: ["+15550005500"]
    start: rooms
    states:
      rooms:
        menu:
          prompt: "Key the room number."
          options:
            1: desk
            10: room_10
            "*9": manager
          timeout: 4
          attempts: 2
          no_input: {say: "Sorry, I did not hear anything."}
          invalid: {say: "There is no such room."}
          exhausted: desk
      desk:
        say: "Front desk."
        hangup: true
      room_10:
        say: "Room 10."
        hangup: true
      manager:
        say: "Manager."
        hangup: true
"""


@pytest.fixture
def phone(sinch_body) -> Phone:
    return Phone(Engine(library_of(compile_flow(HOTEL)), clock=fixed(TUESDAY_10), env={}), sinch_body)


def at_menu(phone: Phone, attempt: int = 0) -> dict:
    return {"ivrc": pin(phone.engine.library.current["rooms"].machine, "rooms", attempt)}


def test_the_menu_collects_as_many_digits_as_the_longest_key(phone: Phone) -> None:
    answer = phone.ice("+15550005500")
    (menu,) = answer.svaml["action"]["menus"]
    assert menu["maxDigits"] == 2 and menu["options"] == [] and menu["timeoutMills"] == 4000


@pytest.mark.parametrize("digits, heard", [("10", "Room 10."), ("1", "Front desk."), ("1#", "Front desk."),
                                           ("*9", "Manager.")])
def test_the_digits_pick_the_option(phone: Phone, digits: str, heard: str) -> None:
    assert spoken(phone.pie(at_menu(phone), "sequence", digits)) == [heard]


def test_digits_that_are_no_option_are_invalid_then_exhausted(phone: Phone) -> None:
    retry = phone.pie(at_menu(phone), "sequence", "11")
    assert spoken(retry) == ["There is no such room.", "Key the room number."]
    last = phone.pie(at_menu(phone, 1), "sequence", "99")
    assert spoken(last) == ["There is no such room.", "Front desk."]


def test_silence_is_no_input(phone: Phone) -> None:
    assert spoken(phone.pie(at_menu(phone), "timeout")) == ["Sorry, I did not hear anything.", "Key the room number."]
