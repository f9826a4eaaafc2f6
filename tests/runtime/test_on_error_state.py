"""`on_error: {goto: STATE}`: the error path goes on in a state of the flow, and falls back to the
apology and a hang-up when that state fails too (never a second round)."""
from __future__ import annotations

import pytest
from callkit import (
    DEFAULT_APOLOGY,
    TUESDAY_10,
    Phone,
    assert_error_path,
    built_past_lint,
    compile_flow,
    fixed,
    library_of,
    pin,
    spoken,
)

from ivrc.compiler.compiled import Machine
from ivrc.runtime.engine.step import Engine

SHOP = "+15550009000"
SHAKY = "+15550009001"

# A menu with no `exhausted`: a silent caller takes the error path, which goes on to an agent.
SHOP_FLOW = """\
    ivrc: 1
    flow: shop
    numbers: ["+15550009000"]
    start: main
    on_error:
      say: "Sorry, let me put you through to a colleague."
      goto: agent
    states:
      main:
        menu:
          prompt: "Press 1 for opening hours."
          options: {1: hours}
          no_input: {say: "Sorry?"}
          invalid: {say: "No such option."}
          attempts: 1
      hours:
        say: "We are open from 9 to 5."
        hangup: true
      agent:
        transfer:
          number: "+15550009999"
"""

# Past lint (IVR083: n is 0, so both divisions fail): the start fails, and so does the error state.
SHAKY_FLOW = """\
    ivrc: 1
    flow: shaky
    numbers: ["+15550009001"]
    start: divide
    variables:
      n: {max_length: 4, default: "0"}
    on_error:
      goto: sorry
    states:
      divide:
        say: "{{ 10 // (n | int) }}"
        hangup: true
      sorry:
        say: "Sorry {{ 1 // (n | int) }}."
        hangup: true
"""


@pytest.fixture
def phone(sinch_body) -> Phone:
    library = library_of(compile_flow(SHOP_FLOW), built_past_lint(SHAKY_FLOW, ["IVR083", "IVR083"]))
    return Phone(Engine(library, clock=fixed(TUESDAY_10), env={}), sinch_body)


def shop_pin(phone: Phone, state: str) -> str:
    machine: Machine = phone.engine.library.current["shop"].machine
    return pin(machine, state)


def test_attempts_used_up_go_on_to_the_agent(phone: Phone) -> None:
    answer = phone.pie({"ivrc": shop_pin(phone, "main")}, "timeout")
    assert answer.outcome == "on-error" and answer.state == "agent"
    assert answer.error is not None and answer.error.startswith("exhausted:")
    assert spoken(answer) == ["Sorry, let me put you through to a colleague."]
    assert answer.svaml["action"]["name"] == "connectPstn"
    assert answer.svaml["action"]["number"] == "+15550009999"


def test_a_callback_for_a_state_the_flow_lacks_goes_on_to_the_agent(phone: Phone) -> None:
    machine: Machine = phone.engine.library.current["shop"].machine
    forged = pin(machine, "main").replace("main", "nowhere")
    answer = phone.pie({"ivrc": forged}, "sequence", "1")
    assert answer.outcome == "on-error" and answer.svaml["action"]["name"] == "connectPstn"


def test_an_error_state_that_fails_too_ends_with_the_apology(phone: Phone) -> None:
    answer = phone.ice(SHAKY)
    assert_error_path(answer, "ice", DEFAULT_APOLOGY)
    assert "on the error path" in (answer.error or "")
