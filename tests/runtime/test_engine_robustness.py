"""The step engine when things are not as they should be: lost or forged cookies, broken templates, bugs.

Whatever arrives, the answer is valid SVAML: the call goes on if its state can be trusted, and
otherwise takes the flow's error path (an apology and a hang-up). The engine never raises.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from callkit import DEFAULT_APOLOGY, Phone, assert_error_path, cookies_set, pin, spoken

from ivrc.runtime.emulation.svaml_check import problems
from ivrc.runtime.engine.sealing import Sealer
from ivrc.runtime.engine.step import Answer

ACCOUNT_PIN_APOLOGY = "Sorry, we are having technical problems. Please call again later."


@pytest.fixture
def phone(make_engine, sinch_body) -> Phone:
    return Phone(make_engine(), sinch_body)


@pytest.fixture
def machine(library):
    """A loaded flow's machine document (JSON), as the compiler wrote it."""
    return lambda flow: library.current[flow].machine.document


# -- PIE without usable cookies ----------------------------------------------------------------


def test_pie_without_cookies_is_routed_by_its_return_value(phone: Phone, machine) -> None:
    answer = phone.pie(None, "return", "support.main_menu.1")
    assert (answer.flow, answer.state) == ("support", "billing")
    assert answer.svaml["action"]["number"] == "+46812345671"
    assert cookies_set(answer) == {"ivrc": pin(machine("support"), "billing")}


def test_pie_without_cookies_in_a_fused_sub_menu(phone: Phone) -> None:
    answer = phone.pie(None, "return", "multilingual.orders_menu.1", menu_id="orders_menu")
    assert answer.state == "orders_menu"
    assert spoken(answer)[0].startswith("You can follow your order")


def test_sinch_pie_sample_without_cookies_or_return_value_takes_the_error_path(phone: Phone) -> None:
    answer = phone.send("pie")  # sequence 1452 from menu "confirm", no cookies
    assert_error_path(answer, "pie", DEFAULT_APOLOGY)
    assert answer.error.startswith("cookie:")


@pytest.mark.parametrize("result", [{"type": "timeout", "value": ""}, {"type": "sequence", "value": "1"},
                                    {"type": "return", "value": "not-a-return-value"},
                                    {"type": "return", "value": "nosuchflow.main_menu.1"}])
def test_pie_without_cookies_and_without_a_usable_return_value(phone: Phone, result: dict) -> None:
    answer = phone.pie(None, result["type"], result["value"])
    assert_error_path(answer, "pie", DEFAULT_APOLOGY)


# -- malformed cookies ---------------------------------------------------------------------------


@pytest.mark.parametrize("state_cookie", [
    "garbage", "", "a|b|c", "support||main_menu|0|en-US", "support|v|main_menu|x|en-US",
    "support|v|main_menu|10|en-US", "support|v|main_menu|-1|en-US", "|||||||", "x" * 300,
])
def test_garbage_state_cookie_is_ignored(phone: Phone, machine, state_cookie: str) -> None:
    state_cookie = state_cookie.replace("|v|", f"|{machine('support')['version']}|")
    routed = phone.pie({"ivrc": state_cookie}, "return", "support.main_menu.2")
    assert routed.state == "tech"  # the return value still finds the way
    lost = phone.pie({"ivrc": state_cookie}, "timeout")
    assert_error_path(lost, "pie", DEFAULT_APOLOGY)


def test_attempt_that_is_not_a_digit_is_not_trusted(phone: Phone, machine) -> None:
    bad = pin(machine("account-pin"), "ask_account").replace("|0|", "|one|")
    answer = phone.pie({"ivrc": bad}, "sequence", "123456")
    assert_error_path(answer, "pie", DEFAULT_APOLOGY)  # a collect's PIE carries no return value


def test_unknown_state_in_a_known_version_takes_the_flows_error_path(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("account-pin"), "vault")}, "sequence", "123456")
    assert_error_path(answer, "pie", ACCOUNT_PIN_APOLOGY)
    assert answer.flow == "account-pin"
    assert answer.state is None  # the forged name is not repeated in logs and metrics


def test_state_that_takes_no_input_takes_the_error_path(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("account-pin"), "agent")}, "sequence", "1")
    assert_error_path(answer, "pie", ACCOUNT_PIN_APOLOGY)


def test_unknown_version_continues_on_the_current_one_if_it_has_the_state(phone: Phone, machine) -> None:
    old = pin(machine("account-pin"), "ask_pin").replace(machine("account-pin")["version"], "0123456789ab")
    answer = phone.pie({"ivrc": old, "v.account": "9123456"}, "sequence", "9876")
    assert answer.state == "business_desk"  # the account number survived in its cookie
    assert answer.version == machine("account-pin")["version"]
    assert cookies_set(answer)["ivrc"] == pin(machine("account-pin"), "business_desk")


def test_unknown_version_and_unknown_state_takes_the_error_path(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": "account-pin|0123456789ab|renamed_state|0|en-US"}, "sequence", "1234")
    assert_error_path(answer, "pie", DEFAULT_APOLOGY)


def test_an_older_version_still_loaded_serves_calls_in_progress(phone: Phone, library, machine) -> None:
    import copy

    old = copy.deepcopy(machine("kitchen"))
    old["version"] = "000000000001"
    old["prompts"]["thanks.say"] = {"*": [{"tts": "Old thanks."}]}
    library.add(old, current=False)
    answer = phone.pie({"ivrc": pin(old, "pin")}, "sequence", "1234")
    assert spoken(answer) == ["Old thanks."] and answer.version == "000000000001"
    assert cookies_set(answer)["ivrc"] == pin(old, "thanks")
    current = phone.pie({"ivrc": pin(machine("kitchen"), "pin")}, "sequence", "1234")
    assert spoken(current) == ["PIN 1234 accepted, basic member."]


@pytest.mark.parametrize(("tier", "heard"), [("silver", "silver"), ("platinum!", "basic"), ("", "")])
def test_variable_cookie_over_its_bound_is_ignored(phone: Phone, machine, tier: str, heard: str) -> None:
    answer = phone.pie({"ivrc": pin(machine("kitchen"), "pin"), "v.tier": tier}, "sequence", "1234")
    assert spoken(answer) == [f"PIN 1234 accepted, {heard} member."]


def test_cookies_as_a_map_work_like_the_list(phone: Phone, machine) -> None:
    state = pin(machine("kitchen"), "pin")
    as_map = phone.send("pie", cookies={"ivrc": state, "v.tier": "silver"}, as_map=True,
                        menuResult={"menuId": "main", "type": "sequence", "value": "1234"})
    as_list = phone.pie({"ivrc": state, "v.tier": "silver"}, "sequence", "1234")
    assert as_map.svaml == as_list.svaml
    assert spoken(as_map) == ["PIN 1234 accepted, silver member."]


@pytest.mark.parametrize("cookies", [
    "ivrc=kitchen", 42, [1, 2, 3], [{"key": "ivrc"}], [{"key": 1, "value": 2}], [None], {"ivrc": 5},
])
def test_cookies_of_the_wrong_shape_count_as_absent(phone: Phone, cookies: Any) -> None:
    answer = phone.send("pie", menuResult={"menuId": "main", "type": "return", "value": "support.main_menu.1"},
                        cookies=cookies)
    assert answer.state == "billing"


def test_foreign_cookies_that_leave_no_room_take_the_error_path(phone: Phone, machine) -> None:
    # Sinch holds 1018 bytes; the new state and the digits would take it past 1024.
    cookies = {"ivrc": pin(machine("kitchen"), "pin"), "someone-else": "x" * 947}  # and 23 of seal
    answer = phone.pie(cookies, "sequence", "1234")
    assert_error_path(answer, "pie", "The kitchen is sorry.")
    assert answer.error.startswith("cookies:")


def test_cookie_with_a_lone_surrogate_is_ignored(phone: Phone, machine) -> None:
    held = {"ivrc": pin(machine("kitchen"), "pin"), "v.tier": "\ud800"}
    cookies = [{"key": k, "value": v} for k, v in held.items()] + [{"key": "m", "value": Sealer().seal("call-1", held)}]
    answer = phone.pie(cookies, "sequence", "1234")
    assert spoken(answer) == ["PIN 1234 accepted, basic member."]


# -- what callers send is untrusted -----------------------------------------------------------------


def test_caller_data_cannot_break_out_of_a_prompt(phone: Phone) -> None:
    answer = phone.send("ice", called="+15550009000", cli="+4670];#href[https://evil.example/x.mp3]")
    main_prompt = answer.svaml["action"]["menus"][0]["mainPrompt"]
    assert main_prompt.count("#") == 2 and main_prompt.startswith("#tts[") and ";" not in main_prompt
    assert main_prompt == "#tts[Calling from +4670 ,#href https://evil.example/x.mp3 .]"
    assert len(cookies_set(answer)["cli"]) == 32  # carried for later callbacks, cut to its bound


def test_the_callers_number_is_carried_to_later_callbacks(phone: Phone, machine) -> None:
    answer = phone.pie({"ivrc": pin(machine("echo"), "ask"), "cli": "+46701234567"}, "return", "echo.ask.1")
    assert spoken(answer) == ["Goodbye +46701234567."]


def test_long_text_is_split_into_parts_sinch_can_speak(phone: Phone) -> None:
    answer = phone.ice("+15550009000")
    parts = next(i for i in answer.svaml["instructions"] if i["name"] == "playFiles")["ids"]
    assert len(parts) == 2 and all(len(p) <= 600 + len("#tts[]") for p in parts)
    words = " ".join(spoken(answer)[:2]).split()
    assert words == ["word"] * 79 + ["more"] * 79


# -- templates and bugs at run time ---------------------------------------------------------------


def test_template_error_in_the_first_callback_takes_the_flows_error_path(phone: Phone) -> None:
    answer = phone.ice("+15550005001")
    assert_error_path(answer, "ice", "Oops is sorry.")
    assert answer.error.startswith("template:") and "ZeroDivisionError" in answer.error


def test_template_error_mid_call_takes_the_flows_error_path(phone: Phone, machine) -> None:
    oops = machine("oops")
    assert phone.ice("+15550005000").state == "ask"
    answer = phone.pie({"ivrc": pin(oops, "ask")}, "return", "oops.ask.1")
    assert_error_path(answer, "pie", "Oops is sorry.")
    fine = phone.pie({"ivrc": pin(oops, "ask"), "v.n": "5"}, "return", "oops.ask.1")
    assert spoken(fine) == ["Ten divided by n is 2."]


def test_a_failing_apology_falls_back_to_the_built_in_one(phone: Phone) -> None:
    answer = phone.ice("+15550008000")
    assert_error_path(answer, "ice", DEFAULT_APOLOGY)
    assert answer.svaml["instructions"][1] == {"name": "say", "text": DEFAULT_APOLOGY, "locale": "en-US"}


def _replaced(library, machine, flow: str, change) -> dict:
    """Serves a changed copy of a flow's machine, one the compiler never makes, as the current version."""
    import copy

    broken = copy.deepcopy(dict(machine(flow)))
    change(broken)
    broken["version"] = "00000000bad0"
    library.add(broken)
    return broken


def test_a_bug_inside_a_step_still_answers(phone: Phone, library, machine, caplog: pytest.LogCaptureFixture) -> None:
    _replaced(library, machine, "support", lambda doc: doc["states"]["main_menu"].pop("action"))
    answer = phone.ice("+46812345670")
    assert_error_path(answer, "ice", DEFAULT_APOLOGY)
    assert answer.error.startswith("bug: AttributeError")
    assert "step failed" in caplog.text


def test_attempts_used_up_without_an_exhausted_state(phone: Phone, library, machine) -> None:
    broken = _replaced(library, machine, "kitchen", lambda doc: doc["states"]["pin"].pop("exhausted"))
    answer = phone.pie({"ivrc": pin(broken, "pin", 2)}, "timeout")
    assert_error_path(answer, "pie", "The kitchen is sorry.")
    assert answer.error.startswith("exhausted:")


def test_error_path_metrics_count_the_kind(make_engine, sinch_body) -> None:
    from ivrc.runtime.server.metrics import RuntimeMetrics

    metrics = RuntimeMetrics()
    Phone(make_engine(metrics=metrics), sinch_body).ice("+15550005001")
    assert metrics.errors.value(flow="oops", kind="template") == 1


# -- anything at all ------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_text = st.text(st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["support", "kitchen", "main", "main_menu", "support.main_menu.1", "kitchen.top.3", "kitchen.sub.star",
     "reminder", "", "#", "1234", "ivrc", "v.tier"])
_cookie_value = _text | st.builds(lambda f, s, a, loc: f"{f}|{{version}}|{s}|{a}|{loc}",
                                  st.sampled_from(["support", "kitchen", "reminder", "oops", "x"]),
                                  st.sampled_from(["main_menu", "top", "sub", "pin", "voicemail", "ask", "billing",
                                                   "check_answer", "nope"]),
                                  st.sampled_from(["0", "1", "2", "9", "x"]), st.sampled_from(["en-US", "sv-SE", ""]))
_bodies = st.fixed_dictionaries(
    {"event": st.sampled_from(["ice", "ace", "pie", "dice", "notify", "PIE", "Ace"])},
    optional={
        "cookies": st.dictionaries(st.sampled_from(["ivrc", "v.tier", "v.code", "amd", "cli", "to", "other"]),
                                   _cookie_value, max_size=4),
        "menuResult": st.fixed_dictionaries({}, optional={
            "menuId": _text, "type": st.sampled_from(["return", "sequence", "timeout", "invalidinput", "hangup",
                                                      "error", "Return", "weird"]),
            "value": _text, "inputMethod": st.sampled_from(["dtmf", "voice"])}),
        "custom": _text | st.builds(json.dumps, st.fixed_dictionaries(
            {"flow": st.sampled_from(["reminder", "survey", "support"])},
            optional={"vars": st.dictionaries(st.sampled_from(["clinic", "name", "answer", "nope"]),
                                              _text | st.integers(), max_size=3)})),
        "to": st.fixed_dictionaries({"endpoint": st.sampled_from(["+46812345670", "+15550001000", "+15550003001",
                                                                  "+15550005001", "46812345710", "+1", ""])}),
        "cli": _text,
        "amd": st.fixed_dictionaries({}, optional={"status": st.sampled_from(["human", "machine", "notsure"])}),
    })


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies)
def test_any_callback_gets_valid_svaml_and_never_raises(make_engine, library, body: dict) -> None:
    from ivrc.runtime.engine.events import BadCallback, parse_callback

    engine = make_engine()
    versions = {flow: loaded.version for flow, loaded in library.current.items()}
    for key, value in body.get("cookies", {}).items():
        flow = value.split("|", 1)[0]
        body["cookies"][key] = value.replace("{version}", versions.get(flow, "000000000000"))
    body["callid"] = "fuzz"
    try:
        cb = parse_callback(json.dumps(body).encode())
    except BadCallback:
        return
    answer: Answer = engine.step(cb)
    if cb.event in ("dice", "notify"):
        assert answer.svaml is None
    else:
        assert problems(answer.svaml, cb.event, cb.cookies) == [], answer
        json.dumps(answer.svaml)
