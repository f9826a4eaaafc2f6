"""`ivrc calls show|hangup|unpark` and `ivrc conference show|kick|mute|unmute`, against the stand-in."""
from __future__ import annotations

import datetime
import itertools
import json

import pytest
from standin import EXAMPLES, SinchStandIn, managed_call_problems

MULTILINGUAL = str(EXAMPLES / "multilingual.yaml")
PARTNER_LINE = "+46812345711"


# -- calls show and hangup ------------------------------------------------------------------------------


def test_calls_show(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.add_call("call-1", to="+46812345670", cli="+46700000001", custom="reminder")
    run = ivrc("calls", "show", "call-1")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[:3] == ["call      call-1", "from      +46700000001", "to        +46812345670"]
    assert "status    ONGOING" in lines and "custom    reminder" in lines and "rate      0.0158 EUR" in lines
    run = ivrc("calls", "show", "call-1", "--json")
    assert json.loads(run.out)["callId"] == "call-1"
    assert sinch_env.made("GET", "/calling/v1/calls/id/call-1")[0].auth == "signed"


def test_calls_show_of_an_unknown_call(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("calls", "show", "nope")
    assert run.code == 1
    assert "Sinch answered 404 Not Found to GET /calling/v1/calls/id/nope: error 40400, Call not found" in run.err
    assert "no such call" in run.err and "--region" in run.err


def test_calls_hangup(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.add_call("call-1")
    run = ivrc("calls", "hangup", "call-1")
    assert run.code == 0 and "hung up call call-1" in run.err
    assert sinch_env.made("PATCH")[0].body == {"instructions": [], "action": {"name": "hangup"}}
    again = ivrc("calls", "hangup", "call-1")
    assert again.code == 1 and "the call has ended" in again.err


# -- unpark -------------------------------------------------------------------------------------------------


def _what_the_server_answers_on_the_way_to_product_advice() -> dict:
    """The runtime's own answer when a caller reaches product_advice through the menus (in-process)."""
    from ivrc.compiler.project import compile_paths
    from ivrc.runtime.emulation.emulator import Call
    from ivrc.runtime.emulation.simulate import InProcess

    world = InProcess(compile_paths([MULTILINGUAL]))
    call = Call(world.transport(), called="+46812345710").start().silence().press("2")
    return call.answers[-1][1]


def test_unpark_into_a_state_that_hangs_up(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "goodbye")
    assert run.code == 0, run.err
    assert "call parked-1 resumed in state goodbye (hangup)" in run.err
    (patch,) = sinch_env.made("PATCH", "/calling/v1/calls/id/parked-1")
    assert patch.auth == "signed" and patch.status == 204
    assert managed_call_problems(patch.body) == []
    assert patch.body["action"] == {"name": "hangup"}
    assert _played(patch.body) == [["#tts[Thank you for calling Fjord Outdoor. Goodbye.]"]]
    assert patch.body["instructions"][0]["value"].endswith("|goodbye|0|en-US")
    assert sinch_env.calls["parked-1"].status == "FINAL"


def test_unpark_into_a_park_state_parks_the_call_again(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "partner_line", "--locale", "sv-SE")
    assert run.code == 0, run.err
    (patch,) = sinch_env.made("PATCH")
    assert managed_call_problems(patch.body) == []
    assert patch.body["action"]["name"] == "park" and patch.body["action"]["locale"] == "sv-SE"
    assert sinch_env.calls["parked-1"].parked


@pytest.mark.parametrize("state, action", [("product_advice", "connectConf"), ("main_menu", "runMenu"),
                                           ("welcome", "runMenu")])
def test_unpark_refuses_a_state_the_current_api_cannot_reach(ivrc, sinch_env: SinchStandIn, state: str,
                                                              action: str) -> None:
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", state)
    assert run.code == 2, run.err
    assert f"state '{state}' answers with {action}, and Sinch's current API takes only hangup, continue, park" \
        in run.err
    # The help names the states that do work, and the flag that restores the 2020 behaviour.
    assert "states that do: " in run.err and "goodbye" in run.err and "partner_line" in run.err
    assert "--legacy-2020-actions" in run.err and "Traceback" not in run.err
    assert sinch_env.made("PATCH") == []
    assert sinch_env.calls["parked-1"].parked


def test_unpark_refuses_in_a_dry_run_too(ivrc, monkeypatch) -> None:
    monkeypatch.delenv("SINCH_APPLICATION_SECRET", raising=False)
    monkeypatch.setenv("IVRC_STATE_KEY", "test-state-key-0123456789abcdef")
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "main_menu", "--dry-run")
    assert run.code == 2 and "answers with runMenu" in run.err and run.out == ""


def test_the_current_api_refuses_a_2020_unpark(ivrc, sinch_env: SinchStandIn) -> None:
    """What the flag's name warns about: today's Sinch (as the stand-in acts it) refuses the body."""
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "main_menu",
               "--legacy-2020-actions")
    assert run.code == 1
    assert "400 Bad Request" in run.err and "can only be hung up, continued or parked" in run.err


def test_legacy_unpark_sends_what_the_runtime_answers_entering_the_state(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.legacy_2020 = True
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "product_advice",
               "--legacy-2020-actions")
    assert run.code == 0, run.err
    assert "call parked-1 resumed in state product_advice (connectConf)" in run.err
    (patch,) = sinch_env.made("PATCH", "/calling/v1/calls/id/parked-1")
    assert patch.auth == "signed"
    # The same answer, but for its seal (the seal covers the call's id and the server's key), and for
    # the cookies the call may hold from before the park, which it sets afresh so the seal covers them.
    server = _unsealed(_what_the_server_answers_on_the_way_to_product_advice())
    own = {i["key"] for i in server["instructions"] if i["name"] == "setCookie"}
    resets = [i for i in patch.body["instructions"] if i["name"] == "setCookie" and i["key"] not in own | {"m"}]
    assert resets and all(i["value"] == "" for i in resets)
    assert {"amd", "cli", "to"} <= {i["key"] for i in resets}
    assert _unsealed({**patch.body, "instructions": [i for i in patch.body["instructions"] if i not in resets]}) == server
    assert [i["key"] for i in patch.body["instructions"] if i["name"] == "setCookie"][-1] == "m"
    assert patch.body["instructions"][0]["name"] == "setCookie"
    assert patch.body["instructions"][0]["value"].startswith("multilingual|")
    assert patch.body["instructions"][0]["value"].endswith("|product_advice|0|en-US")
    assert patch.body["action"] == {"name": "connectConf", "conferenceId": "fjord-product-advice", "moh": "music1"}


def test_legacy_unpark_into_a_menu_in_another_language(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.legacy_2020 = True
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "main_menu", "--locale", "sv-SE",
               "--legacy-2020-actions")
    assert run.code == 0, run.err
    svaml = sinch_env.made("PATCH")[0].body
    assert svaml["action"]["name"] == "runMenu" and svaml["action"]["locale"] == "sv-SE"
    assert svaml["action"]["menus"][0]["mainPrompt"].startswith("#tts[För beställningar")
    assert all(i["name"] != "answer" for i in svaml["instructions"])  # park answered the call already


def test_unpark_picks_the_flow_by_the_calls_number(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.add_call("parked-1", to=PARTNER_LINE, parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", str(EXAMPLES), "--state", "goodbye")
    assert run.code == 0, run.err
    assert [r.method for r in sinch_env.requests] == ["GET", "PATCH"]
    svaml = sinch_env.requests[1].body
    assert svaml["instructions"][0]["value"].startswith("multilingual|")
    assert _played(svaml)[0] == ["#tts[Thank you for calling Fjord Outdoor. Goodbye.]"]


def _every_flow_state_and_locale():
    from ivrc.compiler.project import compile_paths

    for machine in compile_paths([str(EXAMPLES)]):
        for state in sorted(machine.states):
            for locale in machine.locales:
                yield machine, state, locale


def test_every_body_unpark_can_send_is_valid_under_the_current_models() -> None:
    """Each state of each example, in each locale: refused with a reason, or a body the current models accept."""
    from ivrc.runtime.engine.sealing import Sealer
    from ivrc.runtime.sinch.unpark import UnparkProblem, unpark_svaml

    env = {"VOICEMAIL_S3_CREDENTIALS": "AKIA:secret:eu-west-1", "BANK_API_TOKEN": "t"}
    # Fixed clocks inside and outside office hours, so hours checks take both ways whatever the real time.
    clocks = [datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.timezone.utc),
              datetime.datetime(2026, 3, 8, 3, 0, tzinfo=datetime.timezone.utc)]
    sent = refused = 0
    for (machine, state, locale), now in itertools.product(_every_flow_state_and_locale(), clocks):
        try:
            body = unpark_svaml(machine, state, locale=locale, env=env, sealer=Sealer([b"k" * 32]),
                                clock=lambda now=now: now)
        except UnparkProblem as err:
            assert any(reason in str(err) for reason in ("Sinch's current API takes only", "cannot be entered now",
                                                         "makes no requests")), str(err)
            refused += 1
            continue
        assert managed_call_problems(body) == [], (machine.flow, state, body)
        sent += 1
    assert sent > 0 and refused > 0  # both sides of the rule are exercised by the examples


def test_unpark_dry_run_prints_the_svaml(ivrc, monkeypatch) -> None:
    monkeypatch.delenv("SINCH_APPLICATION_SECRET", raising=False)
    monkeypatch.setenv("IVRC_STATE_KEY", "test-state-key-0123456789abcdef")
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, "--state", "goodbye", "--dry-run")
    assert run.code == 0, run.err
    svaml = json.loads(run.out)
    assert svaml["action"] == {"name": "hangup"}
    assert _played(svaml) == [["#tts[Thank you for calling Fjord Outdoor. Goodbye.]"]]


@pytest.mark.parametrize("args, message", [
    (["--state", "welcom"], "flow 'multilingual' has no state 'welcom'; did you mean 'welcome'?"),
    (["--state", "welcome", "--locale", "fr-FR"], "locale 'fr-FR' is not one of the flow's locales"),
    (["--state", "welcome", "--var", "x=1"], "flow 'multilingual' declares no variable 'x'"),
])
def test_unpark_checks_before_calling(ivrc, sinch_env: SinchStandIn, args: list[str], message: str) -> None:
    sinch_env.add_call("parked-1", parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", MULTILINGUAL, *args)
    assert run.code == 2 and message in run.err
    assert sinch_env.made("PATCH") == []


def test_unpark_into_a_state_that_needs_the_servers_secrets(ivrc, sinch_env: SinchStandIn, monkeypatch) -> None:
    monkeypatch.delenv("VOICEMAIL_S3_CREDENTIALS", raising=False)
    sinch_env.add_call("parked-1", to="+46812345690", parked=True)
    run = ivrc("calls", "unpark", "parked-1", "--flow", str(EXAMPLES / "voicemail.yaml"), "--state", "take_message")
    assert run.code == 2
    assert "state 'take_message' cannot be entered now: environment variable VOICEMAIL_S3_CREDENTIALS" in run.err


def test_sinch_refuses_a_menu_on_a_call_that_is_not_parked(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.legacy_2020 = True  # even the 2020 docs change a connected call only by hanging up or playing
    sinch_env.add_call("call-1", parked=False)
    run = ivrc("calls", "unpark", "call-1", "--flow", MULTILINGUAL, "--state", "main_menu", "--legacy-2020-actions")
    assert run.code == 1
    assert "400 Bad Request" in run.err and "40001" in run.err and "can only be hung up" in run.err


def test_unpark_of_a_broken_flow(ivrc, sinch_env: SinchStandIn, tmp_path) -> None:
    broken = tmp_path / "multilingual.yaml"
    broken.write_text((EXAMPLES / "multilingual.yaml").read_text().replace("next: language_menu",
                                                                        "next: language_menu2"))
    run = ivrc("calls", "unpark", "p", "--flow", str(broken), "--state", "welcome")
    assert run.code == 1 and "IVR020" in run.err and sinch_env.requests == []


# -- conferences ----------------------------------------------------------------------------------------


@pytest.fixture
def conference(sinch_env: SinchStandIn) -> SinchStandIn:
    sinch_env.conferences["standup"] = [
        {"cli": "+46700000001", "id": "leg-1", "duration": 30, "muted": False, "onhold": False},
        {"cli": "+46700000002", "id": "leg-2", "duration": 12, "muted": True, "onhold": False}]
    return sinch_env


def test_conference_show(ivrc, conference: SinchStandIn) -> None:
    run = ivrc("conference", "show", "standup")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "conference standup: 2 participant(s)"
    assert lines[2].split() == ["leg-1", "+46700000001", "30", "talking"]
    assert lines[3].split() == ["leg-2", "+46700000002", "12", "muted"]
    assert json.loads(ivrc("conference", "show", "standup", "--json").out)["participants"][1]["muted"] is True


def test_conference_mute_unmute_and_kick(ivrc, conference: SinchStandIn) -> None:
    assert ivrc("conference", "mute", "standup", "leg-1").code == 0
    assert ivrc("conference", "unmute", "standup", "leg-2").code == 0
    assert [p["muted"] for p in conference.conferences["standup"]] == [True, False]
    run = ivrc("conference", "kick", "standup", "leg-1")
    assert run.code == 0 and "removed leg-1 from conference standup" in run.err
    assert [p["id"] for p in conference.conferences["standup"]] == ["leg-2"]
    assert ivrc("conference", "kick", "standup", "--all").code == 0
    assert conference.conferences["standup"] == []
    assert [(r.method, r.path) for r in conference.requests] == [
        ("PATCH", "/calling/v1/conferences/id/standup/leg-1"), ("PATCH", "/calling/v1/conferences/id/standup/leg-2"),
        ("DELETE", "/calling/v1/conferences/id/standup/leg-1"), ("DELETE", "/calling/v1/conferences/id/standup")]


def test_conference_errors(ivrc, conference: SinchStandIn) -> None:
    run = ivrc("conference", "kick", "standup")
    assert run.code == 2 and "or --all" in run.err
    run = ivrc("conference", "mute", "standup", "leg-9")
    assert run.code == 1 and "404 Not Found" in run.err and "Participant not found" in run.err
    run = ivrc("conference", "show", "nope")
    assert run.code == 1 and "Conference not found" in run.err


def _unsealed(svaml: dict) -> dict:
    return {**svaml, "instructions": [i for i in svaml["instructions"] if i.get("key") != "m"]}


def _played(svaml: dict) -> list:
    return [i["ids"] for i in svaml["instructions"] if i["name"] == "playFiles"]


PARKED_WITH_A_VALUE = """\
ivrc: 1
flow: partner
numbers: ["+46812345914"]
start: mark
variables:
  name: {max_length: 20, default: "friend", report: true}
states:
  mark:
    set: {name: "Bob"}
    next: partner_line
  partner_line:
    park: {intro: "Welcome to the partner line.", hold: ["Thank you for waiting."], max_duration: 600}
  goodbye:
    say: "Goodbye {{ name }}."
    hangup: true
"""


@pytest.mark.parametrize("variables, heard", [({}, "friend"), ({"name": "Bob"}, "Bob")])
def test_after_an_unpark_the_calls_state_is_still_trusted(variables: dict, heard: str) -> None:
    """Sinch keeps the cookies set before the park; the unpark answer must leave a seal over all of them."""
    from ivrc.compiler import compile_text
    from ivrc.compiler.compiled import Machine
    from ivrc.runtime.engine.events import parse_callback
    from ivrc.runtime.engine.library import Library
    from ivrc.runtime.engine.step import Engine
    from ivrc.runtime.sinch.unpark import unpark_svaml

    machine = compile_text(PARKED_WITH_A_VALUE).machine
    assert machine is not None
    library = Library()
    library.add(machine)
    engine = Engine(library)
    ice = {"event": "ice", "callid": "c1", "cli": "+46700000001", "to": {"type": "number", "endpoint": "+46812345914"}}
    parked = engine.step(parse_callback(json.dumps(ice).encode()))
    held = {i["key"]: i["value"] for i in parked.svaml["instructions"] if i["name"] == "setCookie"}
    assert held["v.name"] == "Bob" and parked.svaml["action"]["name"] == "park"
    unparked = unpark_svaml(Machine.load(machine), "goodbye", variables=variables, call_id="c1")
    assert unparked["instructions"][-1] == {"name": "playFiles", "ids": [f"#tts[Goodbye {heard}.]"], "locale": "en-US"}
    held.update({i["key"]: i["value"] for i in unparked["instructions"] if i["name"] == "setCookie"})  # as Sinch does
    dice = {"event": "dice", "callid": "c1", "reason": "CALLERHANGUP", "result": "ANSWERED",
            "cookies": [{"key": k, "value": v} for k, v in held.items()]}
    ended = engine.step(parse_callback(json.dumps(dice).encode()))
    assert (ended.flow, ended.state) == ("partner", "goodbye")  # the seal held: the call is known
    assert ended.report is not None and ended.report["variables"] == {"name": heard}


def test_unpark_through_a_request_state_is_refused_not_sent_down_its_failure_path(ivrc, tmp_path,
                                                                                 monkeypatch) -> None:
    monkeypatch.setenv("IVRC_STATE_KEY", "a-state-key-of-the-server-for-this-test")
    flow = tmp_path / "verify.yaml"
    flow.write_text('ivrc: 1\nflow: verify\nnumbers: ["+46812345915"]\nstart: hold\nstates:\n'
                    '  hold: {park: {hold: ["Please wait."]}}\n'
                    '  verify:\n    request: {url: "https://bank.example.com/v1/verify", next: bye, on_failure: sorry}\n'
                    '  bye: {say: "Verified. Goodbye.", hangup: true}\n'
                    '  sorry: {say: "Sorry.", hangup: true}\n')
    run = ivrc("calls", "unpark", "CALLX", "--flow", str(flow), "--state", "verify", "--dry-run")
    assert run.code == 2 and "leads through the request state 'verify'" in run.err and "makes no requests" in run.err
    assert "Sorry." not in run.out
