"""`ivrc callout tts|conference|flow` and runtime.callouts.start_flow, against the stand-in."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from standin import EXAMPLES, KEY, SinchStandIn, fixture_types

REMINDER = str(EXAMPLES / "reminder.yaml")
PATIENT = "+46701234567"
CALLOUTS = "/calling/v1/callouts"


def _sent(standin: SinchStandIn) -> dict:
    (request,) = standin.made("POST", CALLOUTS)
    assert request.auth == "signed"
    return request.body


def _fields_as_in_sinchs_samples(body: dict) -> None:
    method = body["method"]
    types = fixture_types()[method]
    for name, value in body[method].items():
        assert type(value) is types[name], name


# -- tts and conference -------------------------------------------------------------------------------


def test_tts_callout(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "tts", "--to", PATIENT, "--cli", "+46812345730", "--text", "Your table is ready.",
               "--ace", "--dice")
    assert run.code == 0, run.err
    body = _sent(sinch_env)
    assert run.out.strip() in sinch_env.calls
    assert f"placed a text-to-speech callout to {PATIENT}; call id {run.out.strip()}" in run.err
    assert body == {"method": "ttsCallout", "ttsCallout": {
        "cli": "+46812345730", "destination": {"type": "number", "endpoint": PATIENT}, "domain": "pstn",
        "locale": "en-US", "text": "Your table is ready.", "enableAce": True, "enableDice": True,
        "enablePie": False}}
    _fields_as_in_sinchs_samples(body)


def test_tts_callout_with_prompts_and_basic_auth(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "tts", "--to", PATIENT, "--cli", "+46812345730", "--prompts", "#tts[Hello];greeting",
               "--locale", "sv-SE", "--dtmf", "w1#", "--custom", "order-17", "--pie", "--basic-auth")
    assert run.code == 0, run.err
    (request,) = sinch_env.made("POST", CALLOUTS)
    assert request.auth == "basic"
    assert request.body["ttsCallout"]["prompts"] == "#tts[Hello];greeting"
    assert request.body["ttsCallout"]["custom"] == "order-17" and request.body["ttsCallout"]["enablePie"] is True


def test_conference_callout(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "conference", "--to", PATIENT, "--cli", "+46812345730", "--conference", "standup",
               "--greeting", "Joining the stand-up.", "--locale", "en-GB", "--moh", "music2", "--dtmf-mode", "detect",
               "--max-duration", "1800", "--ace")
    assert run.code == 0, run.err
    body = _sent(sinch_env)
    assert body == {"method": "conferenceCallout", "conferenceCallout": {
        "cli": "+46812345730", "destination": {"type": "number", "endpoint": PATIENT}, "domain": "pstn",
        "conferenceId": "standup", "greeting": "Joining the stand-up.", "locale": "en-GB", "mohClass": "music2",
        "maxDuration": 1800, "conferenceDtmfOptions": {"mode": "detect"}, "enableAce": True, "enableDice": False,
        "enablePie": False}}
    _fields_as_in_sinchs_samples(body)


@pytest.mark.parametrize("args, message", [
    (["--to", "0701234567"], "the number to call (--to) '0701234567' is not an E.164 number"),
    (["--to", PATIENT, "--dtmf", "12*"], "DTMF '12*' may hold only digits, # and w"),
    (["--to", PATIENT, "--custom", "x" * 1025], "custom is 1025 bytes; Sinch keeps at most 1024"),
])
def test_tts_callout_checks_before_calling(ivrc, sinch_env: SinchStandIn, args: list[str], message: str) -> None:
    run = ivrc("callout", "tts", "--cli", "+46812345730", "--text", "Hi", *args)
    assert run.code == 2 and message in run.err
    assert sinch_env.requests == []


def test_conference_id_is_bounded(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "conference", "--to", PATIENT, "--cli", "+46812345730", "--conference", "c" * 65)
    assert run.code == 2 and "1 to 64 characters" in run.err and sinch_env.requests == []


def test_sinch_refusing_is_exit_1_with_its_code_and_message(ivrc, sinch_env: SinchStandIn) -> None:
    sinch_env.fail("POST", CALLOUTS, 400, code=40001, message="Illegal parameters: cli is not verified")
    run = ivrc("callout", "tts", "--to", PATIENT, "--cli", "+46812345730", "--text", "Hi")
    assert run.code == 1 and run.out == ""
    assert ("ivrc: error: Sinch answered 400 Bad Request to POST /calling/v1/callouts: error 40001, "
            "Illegal parameters: cli is not verified") in run.err


def test_wrong_credentials_get_a_hint(ivrc, sinch_env: SinchStandIn, monkeypatch) -> None:
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", "c2VjcmV0")
    run = ivrc("callout", "tts", "--to", PATIENT, "--cli", "+46812345730", "--text", "Hi")
    assert run.code == 1 and "401 Unauthorized" in run.err and "40108" in run.err
    assert "SINCH_APPLICATION_KEY and SINCH_APPLICATION_SECRET are this Sinch application's" in run.err
    assert "c2VjcmV0" not in run.err


def test_missing_credentials_and_unreachable_api_are_exit_2(ivrc, sinch_env: SinchStandIn, monkeypatch) -> None:
    monkeypatch.delenv("SINCH_APPLICATION_SECRET")
    run = ivrc("callout", "tts", "--to", PATIENT, "--cli", "+46812345730", "--text", "Hi")
    assert run.code == 2 and "SINCH_APPLICATION_SECRET is not set" in run.err
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", "BeIukql3pTKJ8RGL5zo0DA==")
    run = ivrc("callout", "tts", "--to", PATIENT, "--cli", "+46812345730", "--text", "Hi",
               "--api-url", "http://127.0.0.1:1")
    assert run.code == 2 and "could not reach http://127.0.0.1:1" in run.err and "Traceback" not in run.err


# -- flows --------------------------------------------------------------------------------------------


def test_flow_callout_is_a_custom_callout_naming_the_flow(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "flow", REMINDER, "--to", PATIENT, "--var", "appointment_time=on Tuesday at 10:30",
               "--var", "clinic=Smile Dental")
    assert run.code == 0, run.err
    body = _sent(sinch_env)
    assert set(body) == {"method", "customCallout"} and body["method"] == "customCallout"
    request = body["customCallout"]
    # With inline ICE SVAML the connectPstn decides where and from which number: no cli/destination.
    assert set(request) == {"ice", "custom"}
    assert json.loads(request["custom"]) == {"flow": "reminder",
                                             "vars": {"appointment_time": "on Tuesday at 10:30",
                                                      "clinic": "Smile Dental"}}
    assert json.loads(request["ice"]) == {"action": {
        "name": "connectPstn", "number": PATIENT, "cli": "+46812345730", "amd": {"enabled": True, "async": False}}}
    _fields_as_in_sinchs_samples(body)
    call = sinch_env.calls[run.out.strip()]
    assert call.to == PATIENT and call.amd == {"enabled": True, "async": False}
    assert "placed flow reminder (version " in run.err


def test_flow_callout_options(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "flow", "examples", "--to", PATIENT, "--cli", "+46812345799", "--max-duration", "300",
               "--dial-timeout", "25", "--callback-url", "https://ivr.example.com/sinch/callback")
    assert run.code == 0, run.err
    request = _sent(sinch_env)["customCallout"]
    assert json.loads(request["custom"]) == {"flow": "reminder", "vars": {}}  # the only outbound flow there
    assert json.loads(request["ice"])["action"] == {"name": "connectPstn", "number": PATIENT, "cli": "+46812345799",
                                                    "maxDuration": 300, "dialTimeout": 25,
                                                    "amd": {"enabled": True, "async": False}}
    assert request["maxDuration"] == 300
    assert request["ace"] == request["pie"] == "https://ivr.example.com/sinch/callback" and "dice" not in request


def test_a_flow_without_amd_asks_for_none(ivrc, sinch_env: SinchStandIn, tmp_path: Path) -> None:
    flow = tmp_path / "notice.yaml"
    flow.write_text((EXAMPLES / "reminder.yaml").read_text().replace("amd: true", "amd: false"))
    run = ivrc("callout", "flow", str(flow), "--to", PATIENT)
    assert run.code == 0, run.err
    assert "amd" not in json.loads(_sent(sinch_env)["customCallout"]["ice"])["action"]


@pytest.mark.parametrize("args, message", [
    (["--var", "colour=blue"], "flow 'reminder' declares no variable 'colour' (it declares: answer, "
                               "appointment_time, clinic, reception_number)"),
    (["--var", "clinic=" + "x" * 41], "the value for 'clinic' is 41 bytes; the flow's max_length is 40"),
    (["--var", "clinic"], "'clinic' should be NAME=VALUE"),
    (["--to", "+1"], "is not an E.164 number"),
])
def test_flow_values_are_checked_before_calling(ivrc, sinch_env: SinchStandIn, args: list[str], message: str) -> None:
    run = ivrc("callout", "flow", REMINDER, *(["--to", PATIENT] if "--to" not in args else []), *args)
    assert run.code == 2 and message in run.err
    assert sinch_env.requests == []


def test_an_inbound_flow_cannot_be_called_out(ivrc, sinch_env: SinchStandIn) -> None:
    run = ivrc("callout", "flow", str(EXAMPLES / "support.yaml"), "--to", PATIENT, "--cli", "+46812345730")
    assert run.code == 2 and "flow 'support' is not an outbound flow" in run.err
    assert sinch_env.requests == []


def test_a_broken_flow_is_refused_with_its_diagnostics(ivrc, sinch_env: SinchStandIn, tmp_path: Path) -> None:
    flow = tmp_path / "reminder.yaml"
    flow.write_text((EXAMPLES / "reminder.yaml").read_text().replace("goto: leave_message", "goto: leave_mesage"))
    run = ivrc("callout", "flow", str(flow), "--to", PATIENT)
    assert run.code == 1
    assert "IVR020" in run.err and "did you mean 'leave_message'" in run.err
    assert "fix them before placing a callout" in run.err
    assert sinch_env.requests == []


def test_a_flow_needs_a_caller_id(ivrc, sinch_env: SinchStandIn, tmp_path: Path) -> None:
    flow = tmp_path / "notice.yaml"
    flow.write_text((EXAMPLES / "reminder.yaml").read_text().replace(
        'outbound:\n  amd: true\n  caller_id: "+46812345730"\n', "outbound:\n  amd: true\n"))
    run = ivrc("callout", "flow", str(flow), "--to", PATIENT)
    assert run.code == 2 and "give the caller id with --cli" in run.err


def test_dry_run_prints_the_request_and_needs_no_account(ivrc, monkeypatch) -> None:
    monkeypatch.delenv("SINCH_APPLICATION_KEY", raising=False)
    monkeypatch.delenv("SINCH_APPLICATION_SECRET", raising=False)
    run = ivrc("callout", "flow", REMINDER, "--to", PATIENT, "--var", "clinic=Smile Dental", "--dry-run")
    assert run.code == 0, run.err
    assert json.loads(run.out)["customCallout"]["custom"] == '{"flow":"reminder","vars":{"clinic":"Smile Dental"}}'
    assert "dry run: the callout was not placed" in run.err


# -- the Python API ------------------------------------------------------------------------------------


def test_start_flow_from_python(api, standin: SinchStandIn) -> None:
    from ivrc.runtime.sinch.callouts import CalloutProblem, start_flow

    call_id = start_flow(REMINDER, PATIENT, variables={"appointment_time": "tomorrow at 9"}, api=api)
    assert json.loads(standin.calls[call_id].custom)["vars"] == {"appointment_time": "tomorrow at 9"}
    with pytest.raises(CalloutProblem, match="max_length is 60"):
        start_flow(REMINDER, PATIENT, variables={"appointment_time": "x" * 61}, api=api)
    assert len(standin.made("POST", CALLOUTS)) == 1


def test_start_flow_reads_the_environment(sinch_env: SinchStandIn) -> None:
    from ivrc.runtime.sinch.callouts import outbound_machine, start_flow

    machine = outbound_machine(str(EXAMPLES), "reminder")
    call_id = start_flow(machine, PATIENT)
    assert sinch_env.calls[call_id].custom == '{"flow":"reminder","vars":{}}'
    assert sinch_env.requests[0].headers["authorization"].startswith(f"Application {KEY}:")
