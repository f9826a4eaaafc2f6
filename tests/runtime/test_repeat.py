"""Counted repetition: a repeat state's count rides in the call's sealed cookies, across callbacks and
within one, and starts afresh once the call has gone on to `then`."""
from __future__ import annotations

import pytest
from callkit import TUESDAY_10, Phone, compile_flow, cookies_set, fixed, library_of, spoken

from ivrc.compiler import cookies as layout
from ivrc.compiler.compiled import Machine
from ivrc.runtime.engine.step import Engine

HOLD = """\
    ivrc: 1
    flow: hold
    numbers: ["+15550006000"]
    start: hold
    states:
      hold:
        say: "All our agents are busy."
        repeat: {times: 3, then: hold_menu}
      hold_menu:
        menu:
          prompt: "Press 1 to leave a message."
          options: {1: voicemail}
          no_input: still_waiting
          invalid: {say: "Sorry."}
          exhausted: voicemail
      still_waiting:
        say: "Thank you for waiting."
        repeat: {times: 2, goto: hold_menu, then: voicemail}
      voicemail:
        say: "Please call again later."
        hangup: true
"""
COUNT = layout.var_key(layout.counter("still_waiting"))


@pytest.fixture
def phone(sinch_body) -> Phone:
    return Phone(Engine(library_of(compile_flow(HOLD)), clock=fixed(TUESDAY_10), env={}), sinch_body)


def machine(phone: Phone) -> Machine:
    return phone.engine.library.current["hold"].machine


def test_a_counted_loop_in_one_answer_plays_the_message_times_times(phone: Phone) -> None:
    answer = phone.ice("+15550006000")
    assert spoken(answer) == ["All our agents are busy."] * 3 + ["Press 1 to leave a message."]
    assert answer.state == "hold_menu"
    assert cookies_set(answer)[layout.var_key(layout.counter("hold"))] == ""  # counted to 3, then reset


def test_the_count_rides_in_the_cookies_across_callbacks(phone: Phone) -> None:
    first = phone.ice("+15550006000")
    held = {k: v for k, v in cookies_set(first, seal=True).items()}
    second = phone.pie(held, "timeout")
    assert spoken(second) == ["Thank you for waiting.", "Press 1 to leave a message."]
    assert cookies_set(second)[COUNT] == "1"
    third = phone.pie({**held, **cookies_set(second, seal=True)}, "timeout")
    assert spoken(third) == ["Thank you for waiting.", "Please call again later."]
    assert third.svaml["action"] == {"name": "hangup"} and cookies_set(third)[COUNT] == ""


@pytest.mark.parametrize("forged", ["7", "x", "12", "-1"])
def test_a_count_the_flow_could_not_have_written_counts_as_none(phone: Phone, forged: str) -> None:
    state = layout.state_value("hold", machine(phone).version, "hold_menu", 0, "en-US")
    answer = phone.pie({layout.STATE_KEY: state, COUNT: forged}, "timeout")
    assert spoken(answer)[-1] == "Press 1 to leave a message." and cookies_set(answer)[COUNT] == "1"


def test_the_walk_limit_counts_each_run() -> None:
    loaded = Machine.load(compile_flow(HOLD))
    assert loaded.walk_limit == len(loaded.states) * 3 * 2
