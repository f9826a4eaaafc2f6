"""PIEs without cookies: routed by what Sinch echoes of the menu (return values, sub-menu ids), or refused.

docs/serving.md ("When Sinch echoes no cookies") lists what survives; each row is tested here both
ways, with the call's sealed cookies and without any, against the in-process engine. The same
PIEs against a real `ivrc serve` are in test_requests_and_sealed_state.py.
"""
from __future__ import annotations

from typing import Any

import pytest
from callkit import Phone, assert_error_path, compile_flow, library_of, pin, spoken

from ivrc.compiler import svaml
from ivrc.runtime.emulation.emulator import Call, EngineTransport
from ivrc.runtime.engine.step import Engine

SUPPORT = "+46812345670"
MULTILINGUAL = "+46812345710"
WITH_COOKIES, WITHOUT = True, False


@pytest.fixture
def machine(library):
    return lambda flow: library.current[flow].machine.document


def _cookies(machine: dict[str, Any], state: str, cookies: bool) -> dict[str, str]:
    return {"ivrc": pin(machine, state)} if cookies else {}


@pytest.mark.parametrize("cookies", [WITH_COOKIES, WITHOUT])
def test_a_key_that_is_no_option_is_routed_to_the_invalid_handler(phone: Phone, machine, cookies: bool) -> None:
    support = machine("support")
    answer = phone.pie(_cookies(support, "main_menu", cookies), "return", "support.main_menu.invalid")
    assert answer.outcome == "menu-retry" and answer.state == "main_menu"
    assert spoken(answer)[0] == "Sorry, that is not an option."


def test_every_other_key_of_a_menu_returns_invalid_by_name(machine) -> None:
    menu = machine("support")["states"]["main_menu"]["action"]["menus"][0]
    returns = {o["dtmf"]: o["action"] for o in menu["options"]}
    assert {k for k, v in returns.items() if v == "return(support.main_menu.invalid)"} == set("0456789#")
    assert "*" not in returns  # only where the author wrote it


@pytest.mark.parametrize("cookies", [WITH_COOKIES, WITHOUT])
def test_silence_in_a_fused_sub_menu_is_routed_by_its_menu_id(phone: Phone, machine, cookies: bool) -> None:
    multilingual = machine("multilingual")
    answer = phone.pie(_cookies(multilingual, "main_menu", cookies), "timeout", menu_id="multilingual.orders_menu")
    assert answer.outcome == "menu-retry" and answer.state == "orders_menu"
    assert spoken(answer)[0] == "Sorry, I did not hear a choice."


@pytest.mark.parametrize("kind, value", [("timeout", ""), ("invalidinput", "*"), ("sequence", "123456")])
def test_what_the_main_menu_sends_cannot_be_placed_without_cookies(phone: Phone, kind: str, value: str) -> None:
    """Sinch starts every runMenu at `main`: its timeouts, digit sequences and stray `*` name no state."""
    answer = phone.pie({}, kind, value)
    assert_error_path(answer, "pie", "We are sorry, something went wrong. Please call again later. Goodbye.")


def test_a_hang_up_without_cookies_is_answered_with_a_hang_up(phone: Phone) -> None:
    answer = phone.pie({}, "hangup")
    assert answer.outcome == "caller-hung-up" and answer.svaml == {"instructions": [], "action": {"name": "hangup"}}


def test_a_menu_id_of_another_flow_does_not_override_the_calls_sealed_state(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("support"), "main_menu")}, "timeout", menu_id="multilingual.orders_menu")
    assert answer.state == "main_menu" and answer.outcome == "menu-retry"


# -- the sealed-state rule holds without cookies --------------------------------------------------------


BEHIND_A_CHECK = """
    ivrc: 1
    flow: vault
    numbers: ["+46812345602"]
    locale: en-US
    start: check
    states:
      check:
        request:
          url: "http://127.0.0.1:8091/bank/v1/health"
          next: top
          on_failure: bye
      top:
        menu:
          prompt: "Press 1 for more."
          options:
            1: secrets
          no_input: {say: "Sorry."}
          invalid: {say: "Sorry, no."}
          exhausted: bye
      secrets:
        menu:
          prompt: "Secrets. Press 1 to hear them."
          options:
            1: tell
          no_input: {say: "Sorry."}
          invalid: {say: "Sorry, no."}
          exhausted: bye
      tell:
        say: "The secret."
        hangup: true
      bye:
        say: "Goodbye."
        hangup: true
    """


@pytest.fixture
def vault(sinch_body) -> tuple[Phone, dict[str, Any]]:
    machine = compile_flow(BEHIND_A_CHECK)
    assert "secrets" in machine["states"]["top"]["fused"] and "secrets" in machine["after_request"]
    return Phone(Engine(library_of(machine), env={}), sinch_body), machine


@pytest.mark.parametrize("kind, value, menu_id", [
    ("timeout", "", "vault.secrets"),  # a sub-menu's id
    ("return", "vault.secrets.invalid", "vault.secrets"),  # a wrong key's return value
    ("return", "vault.secrets.1", "vault.secrets"),  # an option's return value
])
def test_no_pie_without_sealed_state_enters_a_state_behind_a_request(vault, kind: str, value: str,
                                                                    menu_id: str) -> None:
    phone, machine = vault
    refused = phone.pie({}, kind, value, menu_id=menu_id)
    assert refused.outcome == "error" and "comes after a request" in refused.error
    assert "The secret." not in spoken(refused)
    # The same PIE with the call's sealed state is the caller's own, and goes on.
    allowed = phone.pie({"ivrc": pin(machine, "top")}, kind, value, menu_id=menu_id)
    assert allowed.outcome != "error"


# -- whole calls through a Sinch that echoes no cookies ---------------------------------------------------


class Sent(EngineTransport):
    """The engine in process, keeping every callback body the emulated Sinch sent."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.bodies: list[dict] = []

    def send(self, body: dict) -> tuple[int, object]:
        self.bodies.append(body)
        return super().send(body)


def test_a_caller_keeps_going_through_menus_when_sinch_echoes_no_cookies(engine) -> None:
    sent = Sent(engine)
    call = Call(sent, called=SUPPORT, echo_cookies=False).start()
    call.press("7")  # no option: routed by its return value
    assert call.heard()[-2:] == ["Sorry, that is not an option.",
                                 "For billing, press 1. For technical support, press 2. To leave a message, press 3."]
    call.press("2")
    assert call.transferred and call.transferred["kind"] == "sip"
    assert len(sent.bodies) == 4 and not any("cookies" in body for body in sent.bodies)  # ICE, 2 PIEs, ACE


def test_silence_in_a_fused_sub_menu_through_a_sinch_without_cookies(engine) -> None:
    call = Call(EngineTransport(engine), called=MULTILINGUAL, echo_cookies=False).start()
    call.press("1")  # English: routed by its return value
    call.press("1")  # into the fused orders menu, no callback
    call.silence()
    assert call.heard()[-1].startswith("To hear how to track your order")
    assert call.heard()[-2] == "Sorry, I did not hear a choice."
    call.silence()  # the orders menu now runs as `main`: its silence names no state
    assert call.heard()[-1] == "We are sorry, something went wrong. Please call again later. Goodbye."
    assert call.ended


def test_a_sub_menu_id_longer_than_sinch_keeps_is_its_state_name() -> None:
    flow, state = "a" * 32, "s" * 40
    machine = compile_flow(f"""
        ivrc: 1
        flow: {flow}
        numbers: ["+46812345603"]
        locale: en-US
        start: top
        states:
          top:
            menu:
              prompt: "Press 1 for more."
              options: {{1: {state}}}
              no_input: {{say: "Sorry."}}
              invalid: {{say: "Sorry, no."}}
              exhausted: bye
          {state}:
            menu:
              prompt: "More. Press 1 to leave."
              options: {{1: bye}}
              no_input: {{say: "Sorry."}}
              invalid: {{say: "Sorry, no."}}
              exhausted: bye
          bye:
            say: "Goodbye."
            hangup: true
        """)
    ids = [m["id"] for m in machine["states"]["top"]["action"]["menus"]]
    assert ids == ["main", state]  # flow.state would be 73 characters
    assert svaml.state_of_menu(state) == (None, state)
    assert svaml.state_of_menu(f"{flow}.{state}") == (flow, state)
