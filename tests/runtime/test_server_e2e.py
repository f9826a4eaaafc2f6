"""End to end: a real `ivrc serve` process, real HTTP, signed callbacks, a scripted caller on every example.

The server runs on the real clock, so where an example branches on business hours the test asks
the same schedule what the answer is now, and expects that branch. The paths behind support.yaml's
office hours run on copies of it whose office is always open or always closed, so every run covers
both, whatever the time of day.
"""
from __future__ import annotations

import datetime
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import ivrctest
import pytest
from callkit import EXAMPLES, KEY, OTHER_SECRET, REPO, S3_CREDENTIALS, SECRET, compile_flow, example_machines

from ivrc.compiler.compiled import Machine
from ivrc.compiler.hours import is_open, zone
from ivrc.runtime.emulation.emulator import Call, HttpTransport
from ivrc.runtime.engine.library import save

STARTUP_SECONDS = 20
SUPPORT, VOICEMAIL, ACCOUNT_PIN, MULTILINGUAL, PARTNER_LINE = (
    "+46812345670", "+46812345690", "+46812345700", "+46812345710", "+46812345711")
CALLER = "+46700000001"  # the emulator's caller
OLD_TECH_WORDS = "This is the old version of the support line."


class Server(ivrctest.Server):
    """A running server, with the emulator's transport and calls aimed at it."""

    def transport(self, key: str | None = KEY, secret: str | None = SECRET) -> HttpTransport:
        return HttpTransport(self.callback, key, secret)

    def call(self, called: str = "", **kwargs) -> Call:
        return Call(self.transport(), called=called, **kwargs)


def _env(**changes: str | None) -> dict[str, str]:
    return ivrctest.serve_env(**changes)


def _serve_args(*paths: str | Path, port: int, machines_dir: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "ivrc", "serve", *map(str, paths), "--host", "127.0.0.1", "--port", str(port),
            "--machines-dir", str(machines_dir), *extra]


@pytest.fixture(scope="session")
def start_server(tmp_path_factory) -> Iterator:
    """Starts `ivrc serve` processes on free ports; every one is stopped at the end, whatever happened."""
    started: list[ivrctest.Server] = []

    def start(*extra: str, env: dict[str, str] | None = None, machines_dir: Path | None = None,
              paths: tuple[Path, ...] = (EXAMPLES,)) -> Server:
        try:
            running = ivrctest.start_serve(tmp_path_factory.mktemp("server"), *paths, machines_dir=machines_dir,
                                           env=env, extra=extra)
        except RuntimeError as err:
            pytest.fail(str(err))
        started.append(running)
        return Server(running.process, running.base, running.stdout, running.stderr)

    try:
        yield start
    finally:
        for running in started:
            running.stop()


OLD_SUPPORT = (EXAMPLES / "support.yaml").read_text().replace("Connecting you to technical support.",
                                                               OLD_TECH_WORDS)


def _support_copy(flow: str, number: str, office: str) -> str:
    """support.yaml as another flow on another number, with its office hours replaced by `office` (YAML)."""
    text = (EXAMPLES / "support.yaml").read_text()
    start, end = text.index("hours:\n"), text.index("\nstates:")
    return (text[:start] + f"hours:\n  office:\n{office}\n" + text[end:]).replace(
        "flow: support\n", f"flow: {flow}\n").replace('numbers: ["+46812345670"]', f'numbers: ["{number}"]')


SUPPORT_OPEN, SUPPORT_CLOSED = "+46812345780", "+46812345781"  # numbers no example uses
ALWAYS_OPEN = "    weekly:\n" + "\n".join(
    f"      {day}: [00:00-24:00]" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
# Closed every day of the year: every date a holiday.
ALWAYS_CLOSED = "    weekly:\n      mon: [09:00-17:00]\n    holidays: [" + ", ".join(
    f'"{m:02d}-{d:02d}"' for m in range(1, 13) for d in range(1, 32)
    if (m, d) not in ((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31))) + "]"


@pytest.fixture(scope="session")
def fixed_hours(start_server, tmp_path_factory) -> Server:
    """support.yaml twice more, on numbers of their own: always open and always closed, whatever the real time."""
    folder = tmp_path_factory.mktemp("fixed-hours")
    (folder / "support_open.yaml").write_text(_support_copy("support_open", SUPPORT_OPEN, ALWAYS_OPEN))
    (folder / "support_closed.yaml").write_text(_support_copy("support_closed", SUPPORT_CLOSED, ALWAYS_CLOSED))
    return start_server(paths=(folder,))


@pytest.fixture(scope="session")
def old_support() -> dict:
    """An earlier version of support.yaml, as a server would keep it from a previous deploy."""
    return compile_flow(OLD_SUPPORT)


@pytest.fixture(scope="session")
def server(start_server, tmp_path_factory, old_support) -> Server:
    machines_dir = tmp_path_factory.mktemp("machines")
    save(str(machines_dir), [Machine.load(old_support)])
    return start_server(machines_dir=machines_dir)


@pytest.fixture(scope="session")
def machines() -> dict[str, dict]:
    return {m["flow"]: m for m in example_machines()}


def open_now(machine: dict, schedule: str) -> bool:
    """Whether the schedule is open now; skips in the rare case it changes while the test runs."""
    hours = machine["hours"][schedule]
    now = datetime.datetime.now(datetime.timezone.utc)

    def at(seconds: int) -> bool:
        return is_open(hours["weekly"], hours["holidays"], hours["timezone"],
                       now + datetime.timedelta(seconds=seconds), hours.get("dates"))

    if at(0) != at(30):
        pytest.skip(f"schedule {schedule!r} is about to change; the branch cannot be predicted")
    return at(0)


# -- the server itself ---------------------------------------------------------------------------


def test_health_and_flow_listing(server: Server, machines: dict, old_support: dict) -> None:
    assert httpx.get(server.base + "/healthz").json() == {"status": "ok", "flows": len(ivrctest.EXAMPLE_FLOWS)}
    listing = {entry["flow"]: entry for entry in httpx.get(server.base + "/flows").json()["flows"]}
    assert {flow: entry["version"] for flow, entry in listing.items()} == {
        flow: m["version"] for flow, m in machines.items()}
    assert listing["support"]["older_versions"] == [old_support["version"]]


def test_unsigned_and_forged_callbacks_are_refused(server: Server) -> None:
    body = {"event": "ice", "callid": "forged", "cli": CALLER, "to": {"type": "number", "endpoint": SUPPORT}}
    for transport, reason in ((server.transport(None, None), "missing-authorization"),
                              (server.transport(KEY, OTHER_SECRET), "bad-signature")):
        status, answer = transport.send(body)
        assert status == 401
        assert answer["error"] == "unauthorized" and answer["reason"] == reason
    assert httpx.get(server.callback).status_code == 405


# -- support.yaml ----------------------------------------------------------------------------------


def test_support_billing(server: Server, machines: dict) -> None:
    is_open_now = open_now(machines["support"], "office")
    c = server.call(SUPPORT).start()
    assert c.heard()[0] == "Welcome to Acme support."
    if not is_open_now:
        assert c.heard()[-1] == "Our office is closed. We are open weekdays from 9 to 17." and c.ended
        return
    c.press("1")
    assert c.transferred["kind"] == "number" and c.transferred["target"] == "+46812345671"
    assert c.answers[-1] == ("ACE", {"instructions": [], "action": {"name": "continue"}})
    c.hangup()
    assert c.answers[-1] == ("DICE", None)


@pytest.mark.parametrize(("number", "is_open"), [(SUPPORT_OPEN, True), (SUPPORT_CLOSED, False)])
def test_support_billing_open_and_closed(fixed_hours: Server, number: str, is_open: bool) -> None:
    """Both branches of the office hours on every run, whatever the time of day."""
    c = fixed_hours.call(number).start()
    assert c.heard()[0] == "Welcome to Acme support."
    if not is_open:
        assert c.heard()[-1] == "Our office is closed. We are open weekdays from 9 to 17." and c.ended
        return
    c.press("1")
    assert c.transferred["kind"] == "number" and c.transferred["target"] == "+46812345671"


def test_support_voicemail(fixed_hours: Server) -> None:
    c = fixed_hours.call(SUPPORT_OPEN).start().press("3")
    assert c.heard()[-1] == "Please leave a message after the tone, and press hash when you are done."
    start = next(i for i in c.answers[-1][1]["instructions"] if i["name"] == "startRecording")
    assert start["options"]["destinationUrl"] == "s3://acme-voicemail/support/"  # the copy keeps the example's
    assert start["options"]["credentials"] == S3_CREDENTIALS
    c.press("#")
    assert [line.text for line in c.lines if line.kind == "record"][-1].startswith(
        "recording stopped; Sinch stores it at s3://acme-voicemail/support/")
    assert c.heard()[-1] == "Thank you for calling Acme. Goodbye."
    assert [event for event, _ in c.answers[-2:]] == ["NOTIFY", "DICE"] and c.ended


def test_support_three_wrong_keys_end_the_call(fixed_hours: Server) -> None:
    c = fixed_hours.call(SUPPORT_OPEN).start().press("9").silence().press("8")
    menu = "For billing, press 1. For technical support, press 2. To leave a message, press 3."
    assert c.heard()[-6:] == ["Sorry, that is not an option.", menu, "Sorry, I did not hear anything.", menu,
                              "Sorry, that is not an option.", "Thank you for calling Acme. Goodbye."]
    assert c.ended


def _sealed(callid: str, cookies: dict[str, str]) -> list[dict[str, str]]:
    """Cookies as a server with the test state key left them with Sinch."""
    from ivrc.runtime.engine.sealing import Sealer

    held = {**cookies, "m": Sealer((ivrctest.STATE_KEY.encode(),)).seal(callid, cookies)}
    return [{"key": k, "value": v} for k, v in held.items()]


def test_a_call_in_progress_keeps_its_flow_version(server: Server, old_support: dict) -> None:
    """A PIE whose cookie names the earlier version is answered by that version."""
    transport = server.transport()
    body = {"event": "pie", "callid": "pinned-call", "version": 1,
            "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "menuResult": {"menuId": "main", "type": "return", "value": "support.main_menu.2", "inputMethod": "dtmf"},
            "cookies": _sealed("pinned-call", {"ivrc": f"support|{old_support['version']}|main_menu|0|en-US"})}
    status, answer = transport.send(body)
    assert status == 200
    assert answer["instructions"][0]["value"] == f"support|{old_support['version']}|tech|0|en-US"
    assert [i["ids"] for i in answer["instructions"] if i["name"] == "playFiles"][0] == [f"#tts[{OLD_TECH_WORDS}]"]
    assert answer["action"]["destination"]["endpoint"] == "support@pbx.acme.example"


# -- voicemail.yaml ---------------------------------------------------------------------------------


def test_voicemail(server: Server) -> None:
    def greeting() -> str:
        hour = datetime.datetime.now(zone("Europe/Stockholm")).hour
        return "Good morning." if hour < 12 else "Good afternoon." if hour < 18 else "Good evening."

    before = greeting()
    c = server.call(VOICEMAIL).start()
    assert c.heard()[0] in {before, greeting()}
    assert c.heard()[1:] == [
        "You have reached Lindqvist Plumbing. We cannot take your call right now.",
        "Please leave your name, your address and a short description of the problem. Press the hash key when "
        "you are done.",
        "[audio https://media.example.com/ivr/beep.mp3]"]
    options = c.recording
    assert options["destinationUrl"] == "s3://lindqvist-voicemail/messages/"
    assert options["transcriptionOptions"] == {"enabled": True, "locale": "en-US"}
    c.press("#")
    assert c.heard()[-1] == "Thank you. We will call you back as soon as we can. Goodbye."
    assert c.recording is None and c.ended
    assert ("NOTIFY", None) in c.answers


# -- account_pin.yaml -------------------------------------------------------------------------------


def test_account_pin_business_account(server: Server) -> None:
    c = server.call(ACCOUNT_PIN).start()
    assert c.heard() == ["Welcome to Granite Bank card services.",
                         "Please enter your account number, followed by the hash key."]
    c.press("9123456#").press("9876#")
    assert c.heard()[-1] == "Thank you. Connecting you to the business desk."
    assert c.transferred["kind"] == "sip"
    assert c.transferred["target"] == "business-desk@pbx.granitebank.example"
    assert c.transferred["action"]["transport"] == "TLS"
    assert c.transferred["action"]["callHeaders"] == [{"key": "X-Queue", "value": "business"}]
    c.hangup()


def test_account_pin_block_a_card(server: Server) -> None:
    c = server.call(ACCOUNT_PIN).start().press("123456#").press("1234#")
    assert c.heard()[-1].startswith("To block a lost or stolen card, press 1.")
    c.press("1")
    assert c.heard()[-2:] == ["You chose to block a card.",
                              "Please stay on the line. Our card blocking team will answer shortly."]
    assert c.transferred["target"] == "+46812345701"
    assert c.transferred["action"]["dialTimeout"] == 45 and c.transferred["action"]["maxDuration"] == 1800


def test_account_pin_gives_up_and_connects_an_agent(server: Server) -> None:
    c = server.call(ACCOUNT_PIN).start().press("0123#").silence().press("99#")
    assert "Sorry, that is not a valid account number." in c.heard()
    assert "Sorry, I did not hear any digits." in c.heard()
    assert c.heard()[-1] == "Let me connect you to one of our agents."
    assert c.transferred["target"] == "+46812345703" and c.transferred["caller_id"] == "+46812345700"


# -- multilingual.yaml --------------------------------------------------------------------------------


def test_multilingual_partner_line_is_parked(server: Server) -> None:
    c = server.call(PARTNER_LINE).start()
    assert c.parked and not c.ended
    assert c.heard()[0] == ("Welcome to the Fjord Outdoor partner line. A partner manager will be with you "
                            "shortly.")
    assert c.answers[0][1]["action"]["maxDuration"] == 600
    c.hangup()


def test_multilingual_in_swedish(server: Server, machines: dict) -> None:
    service_open = open_now(machines["multilingual"], "customer_service")
    c = server.call(MULTILINGUAL).start()
    assert c.heard()[0] == "Welcome to Fjord Outdoor."
    c.press("2")
    assert c.answers[-1][1]["action"]["locale"] == "sv-SE"
    callbacks = len(c.answers)
    c.press("1")  # the orders menu is fused into the main menu: Sinch moves there on its own
    assert len(c.answers) == callbacks
    assert c.heard()[-1].startswith("För att höra hur du spårar din beställning, tryck 1.")
    c.press("1")
    assert c.heard()[-2].startswith("Du kan följa din beställning")
    c.press("2")
    if service_open:
        assert c.heard()[-1] == "Du kopplas nu till kundtjänst."
        assert c.transferred["target"] == "+46812345721"
        c.hangup()
    else:
        assert c.heard()[-1].startswith("Kundtjänst har öppet vardagar") and c.ended


def test_multilingual_product_advice_conference(server: Server) -> None:
    c = server.call(MULTILINGUAL).start().silence()  # no choice: English
    c.press("2")
    assert c.heard()[-1] == "Connecting you to our product advisers. Please hold."
    assert c.transferred["action"] == {"name": "connectConf", "conferenceId": "fjord-product-advice",
                                       "moh": "music1"}
    c.hangup()


# -- reminder.yaml (outbound) -----------------------------------------------------------------------


def _custom(**variables: str) -> str:
    return json.dumps({"flow": "reminder", "vars": variables})


def test_reminder_person_cancels(server: Server) -> None:
    c = server.call(outbound=True, custom=_custom(clinic="Smile Dental", appointment_time="on Friday at 9"),
                    amd="human").start()
    assert c.heard() == ["Hello, this is Smile Dental. You have an appointment on Friday at 9.",
                         "To confirm it, press 1 or say yes. To cancel it, press 2. To speak to our reception, "
                         "press 3."]
    c.press("2")
    assert c.heard()[-1] == "To cancel your appointment, press 1. To keep it, press 2."
    c.press("1")
    assert c.heard()[-1] == "Your appointment is cancelled. Call us when you would like a new time. Goodbye."
    assert c.cookies["v.answer"] == "cancelled" and c.ended


def test_reminder_person_says_yes(server: Server) -> None:
    c = server.call(outbound=True, custom=_custom(), amd="human").start().say("Yes")
    assert c.heard()[-1] == "Thank you, your appointment is confirmed. See you then. Goodbye."
    assert c.cookies["v.answer"] == "confirmed"


def test_reminder_answering_machine(server: Server) -> None:
    c = server.call(outbound=True, custom=_custom(clinic="Smile Dental"), amd="machine").start()
    assert c.heard() == ["Hello, this is Smile Dental. You have an appointment coming up soon.",
                         "To change or cancel it, please call us back on this number. Goodbye."]
    assert c.ended


def test_reminder_reception(server: Server) -> None:
    c = server.call(outbound=True, custom="reminder").start().press("3")
    assert c.heard()[-1] == "Connecting you to our reception."
    assert c.transferred["target"] == "+46812345731" and c.transferred["caller_id"] == "+46812345730"
    assert c.answers[-1] == ("ACE", {"instructions": [], "action": {"name": "continue"}})
    c.hangup()


# -- what the server reports ------------------------------------------------------------------------


def test_metrics_and_logs_after_calls(server: Server) -> None:
    server.call(PARTNER_LINE, caller="+46709876543").start().hangup()
    metrics = httpx.get(server.base + "/metrics")
    assert metrics.status_code == 200
    assert 'ivrc_callbacks_total{event="ice",flow="multilingual",state="partner_line"}' in metrics.text
    deadline = time.monotonic() + 30  # polled: a busy machine may take a while to flush the log
    while "+*********43" not in server.stdout.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [json.loads(line) for line in server.stdout.read_text().splitlines() if line.startswith("{")]
    parked = [line for line in lines if line["state"] == "partner_line" and line["caller"] == "+*********43"]
    assert parked and parked[0]["event"] == "ice" and parked[0]["flow"] == "multilingual"
    everything = server.stdout.read_text() + server.stderr.read_text()
    assert "46709876543" not in everything and CALLER[1:] not in everything
    assert SECRET not in everything


# -- refusing to start, and development mode ----------------------------------------------------------


def _refuses(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    return done.stderr


def test_refuses_to_start_without_the_secret(tmp_path: Path) -> None:
    err = _refuses(_serve_args(EXAMPLES, port=ivrctest.free_port(), machines_dir=tmp_path),
                   _env(SINCH_APPLICATION_SECRET=None))
    assert "SINCH_APPLICATION_SECRET is not set" in err and "--insecure-no-signatures" in err


def test_refuses_to_start_with_a_secret_that_is_not_base64(tmp_path: Path) -> None:
    err = _refuses(_serve_args(EXAMPLES, port=ivrctest.free_port(), machines_dir=tmp_path),
                   _env(SINCH_APPLICATION_SECRET="not base64!"))
    assert "not valid Base64" in err and "not base64!" not in err


def test_refuses_to_start_when_a_flow_has_errors(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "support.yaml").write_text((EXAMPLES / "support.yaml").read_text()
                                        .replace("next: check_hours", "next: check_hourz"))
    err = _refuses(_serve_args(flows, port=ivrctest.free_port(), machines_dir=tmp_path / "machines"), _env())
    assert "flows have errors" in err
    assert "support.yaml:" in err and "IVR020" in err and "did you mean 'check_hours'" in err


def test_insecure_mode_serves_unsigned_callbacks_and_warns_each_time(start_server) -> None:
    server = start_server("--insecure-no-signatures",
                          env=_env(SINCH_APPLICATION_KEY=None, SINCH_APPLICATION_SECRET=None))
    c = Call(server.transport(None, None), called=PARTNER_LINE).start()
    assert c.parked
    c.hangup()  # a second callback: DiCE
    deadline = time.monotonic() + 30  # polled: a busy machine may take a while to flush the log
    while server.stderr.read_text().count("signature check skipped") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    err = server.stderr.read_text()
    assert "signature checks are OFF" in err
    assert err.count("signature check skipped") == 2
