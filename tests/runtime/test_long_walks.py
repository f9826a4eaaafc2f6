"""A long chain of announcements before a menu is answered in one callback, however long it is.

The compiler rejects loops that never wait for the caller, so the engine needs no fixed cap on
the states it walks in one callback: a lint-clean flow never takes the error path for its length.
"""
from __future__ import annotations

import pytest
from callkit import TUESDAY_10, compile_flow, fixed, library_of

from ivrc.runtime.emulation.emulator import Call, EngineTransport
from ivrc.runtime.engine.step import Engine

NUMBER = "+46812345679"


def announcements(count: int) -> str:
    states = "".join(f"  news_{i}:\n    say: \"Announcement {i}.\"\n    next: news_{i + 1}\n" for i in range(count))
    return f"""\
ivrc: 1
flow: newsline
numbers: ["{NUMBER}"]
start: news_0
states:
{states}  news_{count}:
    menu:
      prompt: "Press 1 to hear it again, or 2 to hang up."
      options:
        1: news_0
        2: goodbye
      no_input: {{say: "Sorry, I did not hear anything."}}
      invalid: {{say: "Sorry, that is not an option."}}
      exhausted: goodbye
  goodbye:
    say: "Goodbye."
    hangup: true
"""


@pytest.mark.parametrize("count", [70, 300])
def test_a_long_chain_of_announcements_reaches_the_menu(count: int) -> None:
    machine = compile_flow(announcements(count))
    transport = EngineTransport(Engine(library_of(machine), clock=fixed(TUESDAY_10), env={}))
    call = Call(transport, called=NUMBER).start()
    assert transport.last_error is None
    heard = call.heard()
    assert heard[:count] == [f"Announcement {i}." for i in range(count)]
    assert call.menu is not None, call.transcript()
    call.press("1")  # back to the start: the whole chain again, in the PIE's answer
    assert transport.last_error is None
    assert call.heard()[len(heard):len(heard) + count] == [f"Announcement {i}." for i in range(count)]
    call.press("2")
    assert call.ended and call.heard()[-1] == "Goodbye."
