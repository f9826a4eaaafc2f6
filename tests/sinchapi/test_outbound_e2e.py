"""End to end: `ivrc deploy` and `ivrc callout flow` against the stand-in, and the call played into a real `ivrc serve`.

The stand-in acts as Sinch: it takes the callout, then sends the call's ACE (with the `custom`
it received) and PIEs to the callback URL `ivrc deploy` set, signed with the application's
secret, and the outbound example runs to its end. `ivrc calls unpark` is shown the same way
on a parked call of the multilingual example.
"""
from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import pytest
from ivrctest import serve_env, start_serve
from standin import EXAMPLES, KEY, REPO, SECRET, SinchStandIn, managed_call_problems

PATIENT = "+46701234567"
NUMBERS = ("+46812345670", "+46812345690", "+46812345700", "+46812345710", "+46812345711", "+46812345790",
           "+46812345800", "+46812345740")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """A real `ivrc serve examples` on a free loopback port; its base URL. Always stopped."""
    running = start_serve(tmp_path_factory.mktemp("serve"), EXAMPLES)
    try:
        yield running.base
    finally:
        running.stop()


@pytest.fixture(scope="module")
def sinch(server: str) -> Iterator[SinchStandIn]:
    """The stand-in for an account that owns the examples' numbers, already deployed to the server."""
    with SinchStandIn() as standin:
        standin.own(*NUMBERS)
        done = _ivrc(standin, "deploy", str(EXAMPLES), "--url", server, "--yes")
        assert done.returncode == 0, done.stderr
        yield standin


def _ivrc(standin: SinchStandIn, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ivrc", *args], cwd=REPO, env=serve_env(**standin.env()),
                          capture_output=True, text=True, timeout=30)


def test_deploy_pointed_the_application_at_the_server(sinch: SinchStandIn, server: str) -> None:
    assert sinch.callbacks[KEY] == {"primary": server + "/sinch/callback"}
    assert all(sinch.numbers[n]["applicationkey"] == KEY for n in NUMBERS)


def test_a_reminder_placed_from_the_command_line_runs_to_its_end(sinch: SinchStandIn) -> None:
    placed = _ivrc(sinch, "callout", "flow", "examples/reminder.yaml", "--to", PATIENT,
                   "--var", "appointment_time=on Tuesday at 10:30")
    assert placed.returncode == 0, placed.stderr
    call_id = placed.stdout.strip()
    assert sinch.calls[call_id].amd == {"enabled": True, "async": False}

    call = sinch.play(call_id, amd="human").start()
    assert call.heard() == [
        "Hello, this is Northside Dental. You have an appointment on Tuesday at 10:30.",
        "To confirm it, press 1 or say yes. To cancel it, press 2. To speak to our reception, press 3."]
    call.press("2")
    assert call.heard()[-1] == "To cancel your appointment, press 1. To keep it, press 2."
    call.press("1")
    assert call.heard()[-1] == "Your appointment is cancelled. Call us when you would like a new time. Goodbye."
    assert call.ended and call.cookies["v.answer"] == "cancelled"
    assert [event for event, _ in call.answers] == ["ACE", "PIE", "PIE", "DICE"]


def test_an_answering_machine_gets_the_message(sinch: SinchStandIn) -> None:
    placed = _ivrc(sinch, "callout", "flow", "examples/reminder.yaml", "--to", PATIENT, "--var", "clinic=Smile Dental")
    assert placed.returncode == 0, placed.stderr
    call = sinch.play(placed.stdout.strip(), amd="machine").start()
    assert call.heard() == ["Hello, this is Smile Dental. You have an appointment coming up soon.",
                            "To change or cancel it, please call us back on this number. Goodbye."]
    assert call.ended


def test_a_parked_call_is_taken_off_hold_into_a_state_of_its_flow(sinch: SinchStandIn, server: str) -> None:
    from ivrc.runtime.emulation.emulator import Call, HttpTransport

    # Sinch's side of an incoming call to the partner line: the server parks it.
    call = Call(HttpTransport(server + "/sinch/callback", KEY, SECRET), called="+46812345711")
    sinch.add_call(call.callid, to="+46812345711", cli=call.caller, parked=True).emulated = call
    call.start()
    assert call.parked and call.answers[0][1]["action"]["name"] == "park"

    # Today's API refuses a menu in a PATCH, so does the command; the 2020 flag sends it anyway.
    refused = _ivrc(sinch, "calls", "unpark", call.callid, "--flow", "examples", "--state", "welcome")
    assert refused.returncode == 2 and "answers with runMenu" in refused.stderr
    assert sinch.calls[call.callid].patches == [] and call.parked
    sinch.legacy_2020 = True
    try:
        done = _ivrc(sinch, "calls", "unpark", call.callid, "--flow", "examples", "--state", "welcome",
                     "--legacy-2020-actions")
    finally:
        sinch.legacy_2020 = False
    assert done.returncode == 0, done.stderr
    assert call.heard()[-4:] == ["Welcome to Fjord Outdoor.", "For English, press 1.",
                                 "[audio https://media.example.com/fjord/press-2-svenska.mp3]",
                                 "[audio https://media.example.com/fjord/press-3-deutsch.mp3]"]
    assert not call.parked and sinch.calls[call.callid].patches[0]["action"]["name"] == "runMenu"
    # The menu the PATCH started now talks to the real server, which finds the call by its cookies.
    call.press("1")
    assert call.heard()[-1].startswith("For orders and deliveries, press 1.")
    call.press("2")
    assert call.heard()[-1] == "Connecting you to our product advisers. Please hold."
    assert call.transferred["target"] == "fjord-product-advice"
    call.hangup()


def test_a_parked_call_is_taken_off_hold_and_said_goodbye_to_as_the_current_api_allows(
        sinch: SinchStandIn, server: str) -> None:
    from ivrc.runtime.emulation.emulator import Call, HttpTransport

    call = Call(HttpTransport(server + "/sinch/callback", KEY, SECRET), called="+46812345711")
    sinch.add_call(call.callid, to="+46812345711", cli=call.caller, parked=True).emulated = call
    call.start()
    assert call.parked

    done = _ivrc(sinch, "calls", "unpark", call.callid, "--flow", "examples", "--state", "goodbye")
    assert done.returncode == 0, done.stderr
    (patch,) = sinch.calls[call.callid].patches
    assert managed_call_problems(patch) == [] and patch["action"] == {"name": "hangup"}
    assert call.heard()[-1] == "Thank you for calling Fjord Outdoor. Goodbye."
    assert call.ended
