"""The step engine, in process: every callback event and every kind of state, answered as Sinch needs.

Each test plays Sinch's side: a callback body (built on Sinch's own sample payloads) goes in, the
engine's SVAML comes out and is checked against Sinch's rules before anything else is asserted.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from callkit import (
    CHRISTMAS_EVE,
    DEFAULT_APOLOGY,
    KITCHEN_NUMBER,
    S3_CREDENTIALS,
    TUESDAY_10,
    TUESDAY_EVENING,
    Phone,
    assert_error_path,
    cookies_set,
    names,
    pin,
    spoken,
)

from ivrc.runtime.emulation.emulator import Call, EngineTransport

SUPPORT = "+46812345670"
VOICEMAIL = "+46812345690"
ACCOUNT_PIN = "+46812345700"
MULTILINGUAL = "+46812345710"
PARTNER_LINE = "+46812345711"


@pytest.fixture
def call(engine):
    """A conversation with the in-process engine: Call(number).start().press('1')..."""

    def start(called: str = "", **kwargs: Any) -> Call:
        return Call(EngineTransport(engine), called=called, **kwargs)

    return start


@pytest.fixture
def machine(library):
    """A loaded flow's machine document (JSON), as the compiler wrote it."""
    return lambda flow: library.current[flow].machine.document


# -- ICE ---------------------------------------------------------------------------------------


def test_ice_sample_routed_by_the_called_number(phone: Phone, machine) -> None:
    answer = phone.ice(SUPPORT)
    assert answer.outcome == "menu" and answer.flow == "support" and answer.state == "main_menu"
    assert names(answer)[0] == "answer"  # audio starts before the first prompt
    assert spoken(answer) == ["Welcome to Acme support.",
                              "For billing, press 1. For technical support, press 2. To leave a message, press 3."]
    assert cookies_set(answer) == {"ivrc": pin(machine("support"), "main_menu")}


def test_ice_number_without_plus_is_routed(phone: Phone) -> None:
    assert phone.ice(SUPPORT[1:]).flow == "support"


def test_ice_sample_to_an_unknown_number_takes_the_error_path(phone: Phone) -> None:
    answer = phone.send("ice")  # Sinch's sample calls +123456879, which no flow claims
    assert_error_path(answer, "ice", DEFAULT_APOLOGY)
    assert answer.error.startswith("routing:")


def test_ice_to_an_unknown_number_goes_to_the_default_flow(phone: Phone, library) -> None:
    library.default_flow = "voicemail"
    answer = phone.send("ice")
    assert answer.flow == "voicemail"
    assert answer.svaml["action"]["name"] == "runMenu"


def test_an_outbound_flow_never_answers_an_incoming_call(phone: Phone, library) -> None:
    library.default_flow = "reminder"
    answer = phone.send("ice")
    assert_error_path(answer, "ice", "Sorry, something went wrong. Please call Northside Dental if you have "
                                     "questions. Goodbye.")


# -- pass-through states: say/next, set, branch -----------------------------------------------


def test_set_say_next_walk_in_one_callback(phone: Phone, machine) -> None:
    answer = phone.ice(KITCHEN_NUMBER)
    assert answer.state == "top"
    assert spoken(answer) == ["Hello gold caller.", "Top menu."]  # `set` happens before `say`
    assert cookies_set(answer) == {"ivrc": pin(machine("kitchen"), "top"), "v.greeting": "hi gold",
                                   "v.tier": "gold"}


@pytest.mark.parametrize(("moment", "state", "heard"), [
    (TUESDAY_10, "top", ["Hello gold caller.", "Top menu."]),
    (TUESDAY_EVENING, "closed", ["Hello gold caller.", "We are closed."]),
    (TUESDAY_10.replace(day=1, month=12), "closed", ["Hello gold caller.", "We are closed."]),  # a holiday
])
def test_branch_on_business_hours(make_engine, sinch_body, moment, state: str, heard: list[str]) -> None:
    answer = Phone(make_engine(moment), sinch_body).ice(KITCHEN_NUMBER)
    assert answer.state == state
    assert spoken(answer) == heard
    assert answer.svaml["action"]["name"] == ("runMenu" if state == "top" else "hangup")


@pytest.mark.parametrize(("moment", "is_open"), [(TUESDAY_10, True), (TUESDAY_EVENING, False),
                                                 (CHRISTMAS_EVE, False)])
def test_support_example_office_hours(make_engine, sinch_body, moment, is_open: bool) -> None:
    answer = Phone(make_engine(moment), sinch_body).ice(SUPPORT)
    if is_open:
        assert answer.state == "main_menu"
    else:
        assert answer.state == "closed"
        assert spoken(answer)[-1] == "Our office is closed. We are open weekdays from 9 to 17."


def test_branch_on_the_called_number(phone: Phone) -> None:
    assert phone.ice("+15550003001").state == "hold"
    assert phone.ice("+15550003002").state == "to_user"
    assert phone.ice("+15550003000").state == "recorded_transfer"


# -- menus --------------------------------------------------------------------------------------


def test_menu_option_return_moves_on(call) -> None:
    c = call(SUPPORT).start().press("1")
    assert c.transferred["kind"] == "number" and c.transferred["target"] == "+46812345671"


def test_menu_option_with_say_speaks_before_the_next_state(call) -> None:
    c = call(SUPPORT).start().press("2")
    assert c.heard()[-1] == "Connecting you to technical support."
    assert c.transferred["kind"] == "sip"


def test_fused_sub_menu_navigates_without_callbacks(call) -> None:
    c = call(KITCHEN_NUMBER).start()
    first = c.answers[0][1]
    assert [m["id"] for m in first["action"]["menus"]] == ["main", "kitchen.sub"]  # FLOW.STATE
    c.press("1").press("*").press("1")
    assert len(c.answers) == 1  # Sinch moved between the menus itself
    assert c.heard()[-3:] == ["Sub menu.", "Top menu.", "Sub menu."]
    c.press("1")  # the sub-menu's own option comes back as a PIE naming it
    assert c.transferred["target"] == "+15550002000"
    assert c.answers[1][1]["instructions"][0]["value"].split("|")[2] == "to_number"


def test_fused_sub_menu_retry_counts_its_own_attempts(phone: Phone, machine) -> None:
    kitchen = machine("kitchen")
    answer = phone.pie({"ivrc": pin(kitchen, "top")}, "timeout", menu_id="kitchen.sub")
    assert answer.state == "sub"
    assert cookies_set(answer)["ivrc"] == pin(kitchen, "sub", 1)
    assert spoken(answer) == ["Sub silence.", "Sub menu again."]  # the sub-menu's reprompt now leads
    assert [m["id"] for m in answer.svaml["action"]["menus"]] == ["main", "kitchen.top"]


def test_fused_sub_menu_invalid_handler_goes_to_its_state(phone: Phone, machine) -> None:
    # A bare state name, as machines compiled before ids named the flow (or ids over 64 characters) send it.
    answer = phone.pie({"ivrc": pin(machine("kitchen"), "top")}, "invalidinput", "9", menu_id="sub")
    assert answer.state == "hang" and spoken(answer) == ["Sub invalid."]


def test_menu_timeout_then_invalid_then_exhausted(call) -> None:
    c = call(KITCHEN_NUMBER).start().silence()
    assert c.heard()[-2:] == ["Nothing heard.", "Top menu."]
    assert c.cookies["ivrc"].endswith("|top|1|en-US")
    c.press("9")  # the second of two attempts: exhausted
    assert c.ended and c.heard()[-1] == "Not an option."
    assert c.cookies["ivrc"].split("|")[2] == "hang"


def test_menu_invalid_input_retries_with_attempt_counted(call) -> None:
    c = call(SUPPORT).start().press("9").press("8")
    assert c.heard()[-2:] == ["Sorry, that is not an option.",
                              "For billing, press 1. For technical support, press 2. To leave a message, press 3."]
    assert c.cookies["ivrc"].endswith("|main_menu|2|en-US")
    c.press("7")
    assert c.heard()[-2:] == ["Sorry, that is not an option.", "Thank you for calling Acme. Goodbye."]
    assert c.ended


def test_menu_no_input_handler_goto(call) -> None:
    c = call(MULTILINGUAL).start().silence()  # language menu: silence means English
    assert c.heard()[-1].startswith("For orders and deliveries, press 1.")
    assert c.cookies["ivrc"].split("|")[2:] == ["main_menu", "0", "en-US"]


def test_menu_keywords_by_voice(call) -> None:
    c = call("+15550006000").start()
    assert c.answers[0][1]["action"]["enableVoice"] is True
    c.say("  YEAH ")
    assert c.heard()[-1] == "You said yes."


def test_menu_unknown_word_is_invalid_then_keyword_matches(call) -> None:
    c = call("+15550006000").start().say("maybe")
    assert c.heard()[-2] == "Pardon?"
    c.say("no")
    assert c.heard()[-1] == "You said no."


def test_menu_keys_hash_and_star_round_trip(phone: Phone, machine) -> None:
    kitchen = machine("kitchen")
    assert phone.pie({"ivrc": pin(kitchen, "top")}, "return", "kitchen.top.hash").state == "hang"
    answer = phone.pie({"ivrc": pin(kitchen, "sub")}, "Return", "kitchen.sub.star")  # Sinch's casing varies
    assert answer.state == "top"


def test_menu_result_hangup_and_error(phone: Phone, machine) -> None:
    cookies = {"ivrc": pin(machine("support"), "main_menu")}
    hung = phone.pie(cookies, "hangup")
    assert hung.svaml == {"instructions": [], "action": {"name": "hangup"}}
    assert_error_path(phone.pie(cookies, "error"), "pie", DEFAULT_APOLOGY)


MAIN_AS_STATE_NAME = """\
    ivrc: 1
    flow: main-name
    numbers: ["+15550007000"]
    start: top
    states:
      top:
        menu:
          prompt: "Top."
          options: {1: main, 2: bye}
          no_input: bye
          invalid: bye
          exhausted: bye
      main:
        menu:
          prompt: "Main."
          options: {1: bye, 2: top}
          no_input: bye
          invalid: bye
          exhausted: bye
      bye:
        hangup: true
"""


def test_a_state_named_main_can_be_a_fused_sub_menu(sinch_body) -> None:
    from callkit import compile_flow, library_of

    from ivrc.runtime.engine.step import Engine

    engine = Engine(library_of(compile_flow(MAIN_AS_STATE_NAME)), clock=lambda: TUESDAY_10, env={})
    Phone(engine, sinch_body).ice("+15550007000")  # checks the answer against Sinch's rules


def test_navigation_into_a_sub_menu_named_main_reaches_that_state() -> None:
    from callkit import compile_flow, library_of

    from ivrc.runtime.emulation.emulator import Call, EngineTransport
    from ivrc.runtime.engine.step import Engine

    engine = Engine(library_of(compile_flow(MAIN_AS_STATE_NAME)), clock=lambda: TUESDAY_10, env={})
    call = Call(EngineTransport(engine), called="+15550007000").start()
    call.press("1")  # menu(main.) inside the fused runMenu: no callback, the caller hears "Main."
    assert call.heard()[-1] == "Main."
    call.silence()  # the PIE names menu "main.", which must route to the state called main
    assert call.ended and call.cookies["ivrc"].split("|")[2] == "bye"
    call2 = Call(EngineTransport(engine), called="+15550007000").start().press("12")  # back to top
    assert call2.heard()[-1] == "Top." and not call2.ended


# -- collect ------------------------------------------------------------------------------------


@pytest.fixture
def at_pin(machine):
    return {"ivrc": pin(machine("kitchen"), "pin")}


def test_collect_valid_digits_go_into_the_variable(phone: Phone, at_pin) -> None:
    answer = phone.pie(at_pin, "sequence", "123456")
    assert answer.state == "thanks"
    assert cookies_set(answer)["v.code"] == "123456"
    assert spoken(answer) == ["PIN 123456 accepted, basic member."]


def test_collect_terminator_is_not_part_of_the_digits(phone: Phone, at_pin) -> None:
    assert cookies_set(phone.pie(at_pin, "sequence", "1234#"))["v.code"] == "1234"


@pytest.mark.parametrize(("value", "why"), [("123", "too short"), ("2234", "pattern"), ("1234567", "too long"),
                                            ("12a4", "not digits"), ("", "nothing")])
def test_collect_invalid_digits_retry(phone: Phone, at_pin, machine, value: str, why: str) -> None:
    answer = phone.pie(at_pin, "sequence", value)
    assert answer.state == "pin", why
    assert spoken(answer) == ["Bad PIN.", "Enter your PIN."]
    assert cookies_set(answer) == {"ivrc": pin(machine("kitchen"), "pin", 1)}
    assert answer.svaml["action"]["menus"][0]["maxDigits"] == 6


def test_collect_timeout_speaks_the_no_input_handler(phone: Phone, at_pin) -> None:
    answer = phone.pie(at_pin, "timeout")
    assert spoken(answer) == ["No digits.", "Enter your PIN."]


def test_collect_exhausted_after_the_last_attempt(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("kitchen"), "pin", 2)}, "sequence", "99")
    assert answer.state == "hang" and answer.svaml["action"] == {"name": "hangup"}


def test_collect_conversation_account_pin_example(call) -> None:
    c = call(ACCOUNT_PIN).start().press("012345#")  # starts with 0: the pattern refuses it
    assert c.heard()[-2:] == ["Sorry, that is not a valid account number.",
                              "Please enter your account number again. It has six to ten digits and does not "
                              "start with zero."]
    c.press("9123456#").press("9876#")
    assert c.transferred["kind"] == "sip"
    assert c.transferred["action"]["transport"] == "TLS"
    assert c.transferred["action"]["callHeaders"] == [{"key": "X-Queue", "value": "business"}]


# -- record -------------------------------------------------------------------------------------


def test_record_starts_then_finish_key_stops(call) -> None:
    c = call(KITCHEN_NUMBER).start().press("4")
    start = c.answers[-1][1]
    assert [i["name"] for i in start["instructions"]] == ["setCookie", "setCookie", "playFiles", "startRecording"]
    assert start["instructions"][-1]["options"] == {"destinationUrl": "s3://kitchen-bucket/messages/",
                                                    "credentials": S3_CREDENTIALS, "format": "mp3",
                                                    "notificationEvents": True}
    assert start["action"]["menus"][0]["timeoutMills"] == 60_000  # the longest message allowed
    c.press("#")
    stop = c.answers[-3][1]  # then Notify (recording finished) and DiCE
    assert [i["name"] for i in stop["instructions"] if i["name"] != "setCookie"] == ["stopRecording", "playFiles"]
    assert c.heard()[-1] == "Bye." and c.ended
    assert [event for event, _ in c.answers[-2:]] == ["NOTIFY", "DICE"]


def test_a_stray_key_while_recording_keeps_recording(call) -> None:
    c = call(KITCHEN_NUMBER).start().press("4").press("5")  # 5 is not the finish key
    again = c.answers[-1][1]
    assert "stopRecording" not in [i["name"] for i in again["instructions"]]
    assert again["action"]["name"] == "runMenu" and c.recording is not None and not c.ended
    c.press("#")
    assert c.recording is None and c.heard()[-1] == "Bye."


def test_record_time_limit_also_ends_the_message(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("kitchen"), "voicemail")}, "timeout")
    assert [n for n in names(answer) if n != "setCookie"][0] == "stopRecording" and answer.state == "bye"


def test_record_with_transcription_uses_the_call_locale(phone: Phone) -> None:
    answer = phone.ice(VOICEMAIL)
    options = next(i for i in answer.svaml["instructions"] if i["name"] == "startRecording")["options"]
    assert options["transcriptionOptions"] == {"enabled": True, "locale": "en-US"}
    assert options["credentials"] == S3_CREDENTIALS
    assert spoken(answer)[0] == "Good morning."  # 11:00 in Stockholm


def test_record_credentials_missing_on_the_server_takes_the_error_path(make_engine, sinch_body) -> None:
    answer = Phone(make_engine(env={}), sinch_body).ice(VOICEMAIL)
    assert_error_path(answer, "ice", "Sorry, something went wrong. Please call again later.")
    assert answer.error.startswith("config:")


# -- transfers, park, hang-up -------------------------------------------------------------------


@pytest.mark.parametrize(("key", "action"), [
    ("5", {"name": "connectPstn", "number": "+15550002000", "locale": "en-US", "cli": "+15550001000",
           "dialTimeout": 20}),
    ("6", {"name": "connectSip", "destination": {"type": "Sip", "endpoint": "desk@pbx.example.com"},
           "transport": "TLS", "callHeaders": [{"key": "X-Tier", "value": "gold"}]}),
    ("7", {"name": "connectConf", "conferenceId": "room-1", "moh": "music2"}),
])
def test_transfer_actions(call, key: str, action: dict) -> None:
    c = call(KITCHEN_NUMBER).start().press(key)
    assert c.transferred["action"] == action
    if action["name"] != "connectConf":
        # The other side answered: Sinch sends an ACE, and the flow lets the bridged call go on.
        assert c.answers[-1] == ("ACE", {"instructions": [], "action": {"name": "continue"}})
    c.hangup()
    assert c.answers[-1] == ("DICE", None)


def test_transfer_answered_ace_continues(phone: Phone, machine) -> None:
    answer = phone.send("ace", custom="", cookies={"ivrc": pin(machine("support"), "billing")})
    assert answer.outcome == "transfer-answered"
    assert answer.svaml == {"instructions": [], "action": {"name": "continue"}}


def test_transfer_to_an_app_user(phone: Phone) -> None:
    answer = phone.ice("+15550003002")
    assert answer.svaml["action"] == {"name": "connectMxp", "destination": {"type": "username", "endpoint": "alice"}}
    assert "answer" not in names(answer)  # nothing to play: the call is answered by the user


def test_transfer_with_recording(phone: Phone) -> None:
    answer = phone.ice("+15550003000")
    assert names(answer)[-1] == "startRecording"
    assert answer.svaml["action"]["name"] == "connectPstn"


def test_park(call) -> None:
    c = call(PARTNER_LINE).start()
    action = c.answers[0][1]["action"]
    assert action["name"] == "park" and action["maxDuration"] == 600
    assert c.parked
    assert c.heard() == ["Welcome to the Fjord Outdoor partner line. A partner manager will be with you shortly.",
                         "[audio https://media.example.com/fjord/hold-music.mp3]",
                         "Thank you for waiting. A partner manager will be with you shortly."]


def test_park_inline(phone: Phone) -> None:
    answer = phone.ice("+15550003001")
    assert answer.svaml["action"] == {"name": "park", "locale": "en-US", "introPrompt": "#tts[Please hold.]",
                                      "holdPrompt": "#tts[Still holding.]", "maxDuration": 300}
    assert names(answer)[0] == "answer"


def test_hangup_state(call) -> None:
    c = call(KITCHEN_NUMBER).start().press("#")
    assert c.ended and c.answers[-2][1]["action"] == {"name": "hangup"}


# -- locales --------------------------------------------------------------------------------------


def test_locale_switch_changes_prompts_and_the_cookie(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("kitchen"), "top")}, "return", "kitchen.top.3")
    plays = [i for i in answer.svaml["instructions"] if i["name"] == "playFiles"]
    # The option's own words are spoken before the switch; the next state's after it.
    assert [(p["locale"], p["ids"]) for p in plays] == [("en-US", ["#tts[Byter språk.]"]),
                                                         ("sv-SE", ["#tts[Hej basic.]"])]
    assert cookies_set(answer)["ivrc"].endswith("|swedish|0|sv-SE")


def test_multilingual_example_in_swedish(call) -> None:
    c = call(MULTILINGUAL).start().press("2")
    menu = c.answers[-1][1]["action"]
    assert menu["locale"] == "sv-SE"
    assert c.heard()[-1].startswith("För beställningar och leveranser, tryck 1.")
    c.press("1")  # orders, fused: no callback
    assert c.heard()[-1].startswith("För att höra hur du spårar din beställning")
    c.press("2")  # customer service, open on a Tuesday morning
    assert c.transferred["target"] == "+46812345721"
    assert c.heard()[-1] == "Du kopplas nu till kundtjänst."


def test_locale_cookie_outside_the_flow_falls_back(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("multilingual"), "main_menu", locale="fr-FR")}, "timeout")
    assert answer.svaml["action"]["locale"] == "en-US"


# -- outbound (ACE) -------------------------------------------------------------------------------


def test_outbound_ace_with_custom_variables_human(call) -> None:
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "Smile Clinic", "appointment_time": "at nine"}})
    c = call(outbound=True, custom=custom, amd="human").start()
    ace = c.answers[0][1]
    assert ace["action"]["name"] == "runMenu"
    assert "answer" not in [i["name"] for i in ace["instructions"]]  # ICE only
    assert c.cookies["amd"] == "human" and c.cookies["v.clinic"] == "Smile Clinic"
    assert c.heard()[0] == "Hello, this is Smile Clinic. You have an appointment at nine."
    c.press("2").press("1")  # cancel_check, then cancel
    assert c.heard()[-1] == "Your appointment is cancelled. Call us when you would like a new time. Goodbye."
    assert c.cookies["v.answer"] == "cancelled"


def test_outbound_ace_machine_leaves_a_message(call) -> None:
    c = call(outbound=True, custom=json.dumps({"flow": "reminder", "vars": {}}), amd="machine").start()
    assert c.heard() == ["Hello, this is Northside Dental. You have an appointment coming up soon.",
                         "To change or cancel it, please call us back on this number. Goodbye."]
    assert c.ended


@pytest.mark.parametrize(("amd", "heard"), [({"status": "machine"}, "Machine message for Ada."),
                                            ({"status": "HUMAN"}, "Hello Ada."),
                                            (None, "Are you there, Ada?")])
def test_outbound_amd_verdicts(phone: Phone, amd, heard: str) -> None:
    fields: dict[str, Any] = {"custom": json.dumps({"flow": "survey", "vars": {"name": "Ada"}})}
    fields["amd"] = amd
    answer = phone.send("ace", **fields)
    assert spoken(answer) == [heard]


def test_outbound_transfer_from_ace_to_a_conference(phone: Phone) -> None:
    answer = phone.send("ace", custom="survey", amd={"status": "human"})
    assert answer.svaml["action"] == {"name": "connectConf", "conferenceId": "survey-room"}
    assert spoken(answer) == ["Hello friend."]


def test_outbound_reception_transfer(call) -> None:
    c = call(outbound=True, custom="reminder").start().press("3")
    assert c.transferred["target"] == "+46812345731" and c.transferred["caller_id"] == "+46812345730"
    assert c.answers[-1] == ("ACE", {"instructions": [], "action": {"name": "continue"}})


@pytest.mark.parametrize("vars_", [{"clinic": "x" * 41}, {"unknown": "x"}, {"clinic": 5}])
def test_outbound_bad_custom_variables_take_the_error_path(phone: Phone, vars_) -> None:
    answer = phone.send("ace", custom=json.dumps({"flow": "reminder", "vars": vars_}))
    assert_error_path(answer, "ace", "Sorry, something went wrong. Please call Northside Dental if you have "
                                     "questions. Goodbye.")


def test_ace_of_ivrc_callout_for_an_unknown_flow_takes_the_error_path(phone: Phone) -> None:
    answer = phone.send("ace", custom=json.dumps({"flow": "no-such-flow", "vars": {}}))
    assert_error_path(answer, "ace", DEFAULT_APOLOGY)


@pytest.mark.parametrize("custom", ["", "my custom value", "order-17"])
def test_ace_that_is_not_ours_continues(phone: Phone, custom: str) -> None:
    """A text-to-speech or conference callout's own `custom` must not hang the call up."""
    answer = phone.send("ace", custom=custom)
    assert answer.svaml == {"instructions": [], "action": {"name": "continue"}}
    assert answer.outcome == "ace-ignored"


def test_an_inbound_flow_is_not_a_callout(phone: Phone) -> None:
    assert_error_path(phone.send("ace", custom=json.dumps({"flow": "support"})), "ace", DEFAULT_APOLOGY)
    # A plain custom that happens to name an inbound flow is not ivrc's either.
    assert phone.send("ace", custom="support").svaml == {"instructions": [], "action": {"name": "continue"}}


# -- DiCE and Notify ------------------------------------------------------------------------------


def test_dice_sample_is_answered_empty_and_counted(make_engine, sinch_body, machine) -> None:
    from ivrc.runtime.server.metrics import RuntimeMetrics

    metrics = RuntimeMetrics()
    phone = Phone(make_engine(metrics=metrics), sinch_body)
    answer = phone.send("dice")
    assert answer.outcome == "ended:managerhangup" and answer.flow is None
    assert answer.details == {"result": "answered"}
    ended = phone.send("dice", reason="CALLERHANGUP", cookies={"ivrc": pin(machine("support"), "billing")})
    assert (ended.flow, ended.state) == ("support", "billing")
    phone.send("dice", reason="SOMETHING-NEW")
    assert metrics.calls_ended.value(reason="managerhangup") == 1
    assert metrics.calls_ended.value(reason="callerhangup") == 1
    assert metrics.calls_ended.value(reason="other") == 1


def test_notify_sample_is_answered_empty(phone: Phone, machine) -> None:
    answer = phone.send("notify", cookies={"ivrc": pin(machine("voicemail"), "take_message")})
    assert answer.outcome == "notify:recording_finished"
    assert answer.details == {"type": "recording_finished", "destination": "a destination"}
    assert (answer.flow, answer.state) == ("voicemail", "take_message")


def test_dice_and_notify_report_only_states_the_server_knows(phone: Phone, machine) -> None:
    version = machine("support")["version"]
    for event in ("dice", "notify"):
        answer = phone.send(event, cookies={"ivrc": f"support|{version}|no_such_state|0|en-US"})
        assert (answer.flow, answer.version, answer.state) == (None, None, None)
        answer = phone.send(event, cookies={"ivrc": "made-up|123|x|0|en-US"})
        assert (answer.flow, answer.version, answer.state) == (None, None, None)


# -- every example, each answer checked (the emulator is strict) ----------------------------------


@pytest.mark.parametrize(("number", "keys"), [
    (SUPPORT, ["3", "#"]),
    (VOICEMAIL, ["#"]),
    (ACCOUNT_PIN, ["123456#", "1234#", "2"]),
    (MULTILINGUAL, ["3", "2"]),
    (MULTILINGUAL, ["1", "1", "1", "*", "9", "1", "3"]),
])
def test_example_conversations_stay_within_sinch_rules(call, number: str, keys: list[str]) -> None:
    c = call(number).start()  # the emulator checks every answer and fails the call on any problem
    for key in keys:
        c.press(key)
    c.hangup()
    assert c.ended and c.answers[-1] == ("DICE", None)
    assert not [line for line in c.lines if line.kind == "error"]
