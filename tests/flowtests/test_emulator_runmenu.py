"""The emulator runs runMenu as Sinch does: repeats, menu(id) moves, maxDigits input, invalid keys, Notify."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from ivrc.runtime.emulation.conversation import parse_command
from ivrc.runtime.emulation.emulator import Call, CallerMistake

HANGUP = {"instructions": [], "action": {"name": "hangup"}}


class Fake:
    """A server written as a function of the callback body; keeps every body it got."""

    def __init__(self, answer: Callable[[dict], Any]) -> None:
        self.answer = answer
        self.bodies: list[dict] = []

    def send(self, body: dict) -> tuple[int, Any]:
        self.bodies.append(body)
        return 200, (self.answer(body) if body["event"] in ("ice", "ace", "pie") else None)


def menu_server(menus: list[dict], after: dict = HANGUP) -> Fake:
    return Fake(lambda body: {"instructions": [], "action": {"name": "runMenu", "mainMenu": "main", "menus": menus}}
                if body["event"] == "ice" else after)


def pie(fake: Fake) -> dict:
    return [b for b in fake.bodies if b["event"] == "pie"][-1]["menuResult"]


def test_repeats_play_the_repeat_prompt_before_a_timeout() -> None:
    fake = menu_server([{"id": "main", "mainPrompt": "#tts[Choose.]", "repeatPrompt": "#tts[Choose again.]",
                         "repeats": 1, "options": [{"dtmf": "1", "action": "return(a)"}]}])
    call = Call(fake, called="+1").start().silence()
    assert call.heard() == ["Choose.", "Choose again."] and not any(b["event"] == "pie" for b in fake.bodies)
    call.silence()
    assert pie(fake) == {"menuId": "main", "type": "timeout", "value": "", "inputMethod": "dtmf"}


def test_menu_moves_need_no_callback_and_invalid_keys_do() -> None:
    fake = menu_server([
        {"id": "main", "mainPrompt": "#tts[Main.]", "options": [{"dtmf": "1", "action": "menu(sub)"}]},
        {"id": "sub", "mainPrompt": "#ssml[<speak>Sub <break/>menu.</speak>]",
         "options": [{"dtmf": "*", "action": "menu(main)"}, {"dtmf": "2", "action": "return(two)"}]}])
    call = Call(fake, called="+1").start().press("1*1")
    assert call.heard() == ["Main.", "Sub menu.", "Main.", "Sub menu."]
    assert [b["event"] for b in fake.bodies] == ["ice"]
    assert [line.data for line in call.lines if line.kind == "menu"][0] == {"from": "main", "key": "1", "to": "sub"}
    call.press("7")
    assert pie(fake) == {"menuId": "sub", "type": "invalidinput", "value": "7", "inputMethod": "dtmf"}


@pytest.mark.parametrize("keys, value", [("12#", "12"), ("1234", "1234"), ("12", "12")])
def test_digit_input_ends_on_hash_at_max_digits_or_at_a_pause(keys: str, value: str) -> None:
    fake = menu_server([{"id": "main", "mainPrompt": "#tts[PIN?]", "maxDigits": 4, "options": []}])
    Call(fake, called="+1").start().press(keys)
    assert pie(fake) == {"menuId": "main", "type": "sequence", "value": value, "inputMethod": "dtmf"}


def test_a_hash_after_a_full_input_closes_it_and_is_not_a_key_for_the_next_menu() -> None:
    # Sinch's rule: the menu a runMenu starts in is the one with the id `main`.
    next_menu = {"instructions": [], "action": {"name": "runMenu", "mainMenu": "main", "menus": [
        {"id": "main", "mainPrompt": "#tts[Press 1.]", "options": [{"dtmf": "1", "action": "return(one)"}]}]}}
    fake = menu_server([{"id": "main", "mainPrompt": "#tts[PIN?]", "maxDigits": 4, "options": []}], after=next_menu)
    call = Call(fake, called="+1").start().press("1234#")
    assert pie(fake)["value"] == "1234" and call.menu is not None  # the next menu waits, untouched by the #
    call.press("1")
    assert pie(fake) == {"menuId": "main", "type": "return", "value": "one", "inputMethod": "dtmf"}
    assert len([b for b in fake.bodies if b["event"] == "pie"]) == 2
    # A # that is not right after a full input is still a key.
    call = Call(menu_server([{"id": "main", "mainPrompt": "#tts[PIN?]", "maxDigits": 4, "options": []}],
                            after=next_menu), called="+1").start().press("12#")
    assert call.menu is not None


def test_a_recording_ends_with_a_notify_and_the_dice_comes_last() -> None:
    fake = Fake(lambda body: {"instructions": [
        {"name": "startRecording", "options": {"destinationUrl": "s3://bucket/calls"}}],
        "action": {"name": "runMenu", "mainMenu": "main", "menus": [{"id": "main", "options": []}]}})
    call = Call(fake, called="+1", callid="call-1").start().hangup()
    assert [b["event"] for b in fake.bodies] == ["ice", "notify", "dice"]
    assert fake.bodies[1]["destination"] == "s3://bucket/calls/call-1.mp3"
    assert fake.bodies[2]["reason"] == "CALLERHANGUP"
    assert call.recording is None and call.ended


def test_an_outbound_call_starts_with_an_ace_carrying_the_verdict() -> None:
    fake = Fake(lambda body: HANGUP)
    Call(fake, outbound=True, custom="reminder", amd="notsure").start()
    ace = fake.bodies[0]
    assert ace["event"] == "ace" and ace["custom"] == "reminder" and ace["amd"]["status"] == "notsure"


def test_speech_needs_a_menu_that_listens_for_it() -> None:
    fake = menu_server([{"id": "main", "options": [{"dtmf": "1", "action": "return(a)"}]}])
    with pytest.raises(CallerMistake, match="enableVoice is off"):
        Call(fake, called="+1").start().say("yes")


def test_interactive_commands() -> None:
    assert parse_command("") == ("silence", None)
    assert parse_command(" 12 34# ") == ("press", "1234#")
    assert parse_command("say talk to a person") == ("say", "talk to a person")
    assert parse_command("q") == ("hangup", None)
    assert parse_command("?") is None
    with pytest.raises(ValueError, match="not understood"):
        parse_command("hello")


def test_a_recording_of_a_call_to_an_in_app_user_is_not_made_as_on_sinch() -> None:
    start = {"name": "startRecording", "options": {"destinationUrl": "https://rec.example.com/up"}}
    fake = Fake(lambda body: {"instructions": [start],
                              "action": {"name": "connectMxp", "destination": {"type": "username", "endpoint": "alice"}}})
    call = Call(fake, called="+1").start()
    records = [line for line in call.lines if line.kind == "record"]
    assert [line.data for line in records] == [{"recording": "ignored"}]
    call.hangup()
    assert not any(b["event"] == "notify" for b in fake.bodies)  # no recording_finished for what was never made


def test_ssml_is_shown_as_heard_with_no_space_before_punctuation() -> None:
    """A tag became a space, so '<say-as ...>AB12</say-as>.' read 'AB12 .' in transcripts and expect steps."""
    from ivrc.runtime.emulation.emulator import describe_prompt

    assert describe_prompt('#ssml[<speak>Your reference is <say-as interpret-as="characters">AB12</say-as>.'
                           '</speak>]') == "Your reference is AB12."
    assert describe_prompt('#ssml[<speak>One<break time="1s"/>two.</speak>]') == "One two."
