"""Menus whose retries Sinch plays itself (runMenu `repeats`/`repeatPrompt`): compiled, answered and emulated alike."""
from __future__ import annotations

import textwrap
from typing import Any

import pytest
from callkit import Phone, compile_flow, library_of, pin

from ivrc.runtime.emulation.emulator import Call, EngineTransport
from ivrc.runtime.engine.step import Engine

DESK = "+46812345600"


def _flow_text(no_input: str | None, invalid: str | None, *, attempts: int = 3, extra: str = "") -> str:
    handlers = "".join(f"\n              {name}: {value}" for name, value in (("no_input", no_input),
                                                                                ("invalid", invalid)) if value is not None)
    return textwrap.dedent(f"""
        ivrc: 1
        flow: desk
        numbers: ["{DESK}"]
        locale: en-US
        start: choose
        states:
          choose:
            menu:
              prompt: "Press 1 for sales."
              reprompt: "Press 1 for sales, or hang up."
              options:
                1: {{goto: sales{extra}}}
              attempts: {attempts}{handlers}
              exhausted: bye
          sales:
            say: "Connecting you."
            transfer: {{number: "+46812345601"}}
          bye:
            say: "Goodbye."
            hangup: true
        """)


def _flow(no_input: str | None, invalid: str | None, *, attempts: int = 3, extra: str = "") -> dict[str, Any]:
    return compile_flow(_flow_text(no_input, invalid, attempts=attempts, extra=extra))


SAME_SAY = '{say: "Sorry, choose again."}'
FLOW_TEXT = _flow_text(SAME_SAY, SAME_SAY)


def _menu(machine: dict[str, Any]) -> dict[str, Any]:
    return machine["states"]["choose"]["action"]["menus"][0]


def test_a_menu_whose_retries_sound_alike_is_repeated_by_sinch() -> None:
    machine = _flow(SAME_SAY, SAME_SAY)
    menu = _menu(machine)
    assert menu["repeats"] == 2  # three attempts: the first play and two repeats
    assert menu["repeatPrompt"] == {"$prompt": ["choose.menu.no_input.say", "choose.menu.reprompt"]}
    assert machine["states"]["choose"]["repeats_in_sinch"] is True


def test_a_menu_without_handlers_repeats_its_reprompt() -> None:
    menu = _menu(_flow(None, None))
    assert menu["repeats"] == 2 and menu["repeatPrompt"] == {"$prompt": "choose.menu.reprompt"}


@pytest.mark.parametrize("no_input, invalid, attempts, extra", [
    ('{say: "Sorry, I did not hear you."}', '{say: "Sorry, that is no option."}', 3, ""),  # they differ
    (SAME_SAY, None, 3, ""),  # a wrong key would hear only the reprompt
    ("bye", "bye", 3, ""),  # the handlers go somewhere: that is a callback
    ('{say: "Sorry.", goto: bye}', '{say: "Sorry.", goto: bye}', 3, ""),
    (SAME_SAY, SAME_SAY, 1, ""),  # nothing to repeat
    (SAME_SAY, SAME_SAY, 3, ', keywords: ["sales"]'),  # a spoken word is judged by the server
])
def test_menus_sinch_cannot_repeat_faithfully_keep_their_retries_in_the_flow(no_input, invalid, attempts,
                                                                             extra) -> None:
    machine = _flow(no_input, invalid, attempts=attempts, extra=extra)
    menu = _menu(machine)
    assert menu["repeats"] == 0 and "repeatPrompt" not in menu
    assert "repeats_in_sinch" not in machine["states"]["choose"]


def _engine(machine: dict[str, Any]) -> Engine:
    return Engine(library_of(machine), env={})


@pytest.mark.parametrize("result", ["timeout", "invalidinput"])
def test_the_engine_takes_sinchs_pie_as_the_last_attempt(sinch_body, result: str) -> None:
    machine = _flow(SAME_SAY, SAME_SAY)
    phone = Phone(_engine(machine), sinch_body)
    answer = phone.pie({"ivrc": pin(machine, "choose")}, result, "7" if result == "invalidinput" else "")
    # Sinch has played the menu three times already: the handler's words, then `exhausted`.
    assert answer.state == "bye" and answer.svaml["action"] == {"name": "hangup"}
    assert [i["ids"] for i in answer.svaml["instructions"] if i["name"] == "playFiles"] == [
        ["#tts[Sorry, choose again.]"], ["#tts[Goodbye.]"]]


def test_the_engine_still_retries_a_menu_it_counts_itself(sinch_body) -> None:
    machine = _flow('{say: "Sorry, I did not hear you."}', '{say: "Sorry, that is no option."}')
    answer = Phone(_engine(machine), sinch_body).pie({"ivrc": pin(machine, "choose")}, "timeout")
    assert answer.state == "choose" and answer.outcome == "menu-retry"


def _pies(call: Call) -> int:
    return sum(1 for event, _ in call.answers if event == "PIE")


def test_the_emulator_plays_the_repeats_without_a_callback() -> None:
    machine = _flow(SAME_SAY, SAME_SAY)
    call = Call(EngineTransport(_engine(machine)), called=DESK).start()
    call.silence().press("7")
    assert _pies(call) == 0  # both repeats were Sinch's own
    assert call.heard() == ["Press 1 for sales.", "Sorry, choose again.", "Press 1 for sales, or hang up.",
                            "Sorry, choose again.", "Press 1 for sales, or hang up."]
    call.silence()
    assert _pies(call) == 1 and call.ended
    assert call.heard()[-2:] == ["Sorry, choose again.", "Goodbye."]


def test_the_caller_hears_the_same_whether_sinch_or_the_flow_counts() -> None:
    """The same conversation with retries counted by the flow (a goto-free handler that differs by a
    word) and by Sinch: what the caller hears matches, line for line, but for that word."""
    sinch = Call(EngineTransport(_engine(_flow(SAME_SAY, SAME_SAY))), called=DESK).start()
    flow = Call(EngineTransport(_engine(_flow(SAME_SAY, '{say: "Sorry, choose again!"}'))), called=DESK).start()
    for call in (sinch, flow):
        call.press("7").silence().press("1")
    assert [line.rstrip("!.") for line in sinch.heard()] == [line.rstrip("!.") for line in flow.heard()]
    assert sinch.transferred and flow.transferred
    assert _pies(sinch) == 1 and _pies(flow) == 3


def test_flow_tests_count_the_paths_of_a_menu_sinch_repeats(ivrc, tmp_path) -> None:
    """`ivrc test` with coverage: both exits of the menu are taken, the retries need no callback."""
    (tmp_path / "desk.yaml").write_text(FLOW_TEXT)
    (tmp_path / "desk.test.yaml").write_text(
        "flow: desk.yaml\n"
        "scenarios:\n"
        "  - name: silence and a wrong key until the attempts are used up\n"
        "    steps:\n"
        "      - silence: 1\n"
        "      - expect: Sorry, choose again.\n"
        "      - expect: Press 1 for sales, or hang up.\n"
        "      - press: 7\n"
        "      - silence: 1\n"
        "      - expect: Goodbye.\n"
        "      - expect_end: hangup\n"
        "  - name: sales after a wrong key\n"
        "    steps:\n"
        "      - press: 7\n"
        "      - press: 1\n"
        "      - expect_transfer: \"+46812345601\"\n")
    run = ivrc("test", str(tmp_path), "--min-coverage", "100")
    assert run.code == 0, run.out + run.err
    assert "2 passed, 0 failed" in run.out
    assert "desk  states 3/3 100%, transitions 4/4 100%" in run.out
