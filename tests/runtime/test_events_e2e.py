"""End to end: a real `ivrc serve --events-url` process, signed Sinch callbacks in, signed call events out to a receiver."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from typing import Iterator

import httpx
import ivrctest
import pytest
from receiver import Receiver
from standardwebhooks import Webhook

from ivrc.runtime.emulation.emulator import Call, HttpTransport

pytestmark = pytest.mark.slow

WHSEC = "whsec_" + base64.b64encode(b"a receiver's secret, 32 bytes..").decode()
VOICEMAIL = "+46812345690"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture(scope="module")
def server(receiver: Receiver, tmp_path_factory) -> Iterator[ivrctest.Server]:
    try:
        running = ivrctest.start_serve(tmp_path_factory.mktemp("events-server"), ivrctest.EXAMPLES,
                                       env=ivrctest.serve_env(IVRC_EVENTS_SECRET=WHSEC),
                                       extra=("--events-url", receiver.url))
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield running
    finally:
        running.stop()


def events_of(receiver: Receiver, count: int, callid: str) -> list[dict]:
    """The verified events of one call, once `count` of them have arrived."""
    found: list[dict] = []
    seen = 0
    while len(found) < count:
        deliveries = receiver.wait_for(seen + 1)
        for delivery in deliveries[seen:]:
            event = Webhook(WHSEC).verify(delivery.body, delivery.headers)
            assert delivery.headers["webhook-id"] == event["id"]
            if event["callid"] == callid:
                found.append(event)
        seen = len(deliveries)
    return found


def test_a_call_that_ends_is_reported_with_its_reportable_variables(server, receiver) -> None:
    transport = HttpTransport(server.callback, ivrctest.KEY, ivrctest.SECRET)
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "Smile Dental"}})
    call = Call(transport, outbound=True, custom=custom, amd="human").start().press("2").press("1")
    assert call.ended and call.heard()[-1].startswith("Your appointment is cancelled.")
    (event,) = events_of(receiver, 1, call.callid)
    assert event["type"] == "call.ended"
    assert (event["flow"], event["state"], event["result"], event["duration"]) == ("reminder", "cancelled",
                                                                                  "answered", 30)
    assert event["variables"] == {"answer": "cancelled"}  # clinic is not marked report: true
    versions = {entry["flow"]: entry["version"] for entry in httpx.get(server.base + "/flows").json()["flows"]}
    assert event["version"] == versions["reminder"]


def test_a_voicemail_reports_its_recording_then_the_end_of_the_call(server, receiver) -> None:
    transport = HttpTransport(server.callback, ivrctest.KEY, ivrctest.SECRET)
    call = Call(transport, called=VOICEMAIL).start().press("#")
    assert call.ended
    # Sent side by side, so they may arrive in either order.
    events = {event["type"]: event for event in events_of(receiver, 2, call.callid)}
    ready, ended = events["recording.ready"], events["call.ended"]
    assert ready["notification"] == "recording_finished" and ready["flow"] == "voicemail"
    assert ready["destination"] == f"s3://lindqvist-voicemail/messages/{call.callid}.mp3"
    assert ended["variables"] == {}
    # The server counts a delivery once the receiver's answer is in: look until it has.
    deadline = time.monotonic() + 30
    while 'ivrc_events_sent_total{type="recording.ready"} 1.0' not in (metrics := httpx.get(server.base
                                                                                          + "/metrics").text):
        assert time.monotonic() < deadline, metrics
        time.sleep(0.05)
    assert not [line for line in metrics.splitlines() if line.startswith("ivrc_events_dropped_total")]


def test_serve_refuses_an_events_url_without_its_secret(tmp_path) -> None:
    argv = [sys.executable, "-m", "ivrc", "serve", str(ivrctest.EXAMPLES), "--port", str(ivrctest.free_port()),
            "--machines-dir", str(tmp_path), "--events-url", "https://crm.example.com/ivr-events"]
    done = subprocess.run(argv, cwd=ivrctest.REPO, env=ivrctest.serve_env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "IVRC_EVENTS_SECRET" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_a_flow_with_its_own_receiver_reports_there_from_a_real_server(tmp_path) -> None:
    """`events:` in the flow: a real `ivrc serve` without --events-url signs with the flow's own secret."""
    own = "whsec_" + base64.b64encode(b"the reminder desk's own 32 bytes").decode()
    with Receiver() as desk:
        flows = tmp_path / "flows"
        flows.mkdir()
        text = (ivrctest.REPO / "examples/reminder.yaml").read_text().replace("\nflow: reminder\n",
                                                                             "\nflow: reminder-desk\n", 1)
        text = text.replace("\nstart:", f"\nevents:\n  url: \"{desk.url}\"\n  secret: {{env: DESK_SECRET}}\nstart:", 1)
        (flows / "desk.yaml").write_text(text)
        try:
            running = ivrctest.start_serve(tmp_path, flows, env=ivrctest.serve_env(DESK_SECRET=own))
        except RuntimeError as err:
            pytest.fail(str(err))
        try:
            transport = HttpTransport(running.callback, ivrctest.KEY, ivrctest.SECRET)
            call = Call(transport, outbound=True, custom="reminder-desk", amd="human").start().press("1")
            assert call.ended
            (delivery,) = desk.wait_for(1)
        finally:
            running.stop()
    event = Webhook(own).verify(delivery.body, delivery.headers)
    assert (event["type"], event["flow"], event["callid"]) == ("call.ended", "reminder-desk", call.callid)


def test_a_real_server_will_not_start_while_a_flows_events_secret_is_unset(tmp_path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (ivrctest.REPO / "examples/reminder.yaml").read_text()
    (flows / "r.yaml").write_text(text.replace("\nstart:", "\nevents:\n  url: https://hooks.example.com/in\n"
                                                            "  secret: {env: DESK_SECRET}\nstart:", 1))
    done = subprocess.run([sys.executable, "-m", "ivrc", "serve", str(flows), "--port", "1"], capture_output=True,
                          text=True, env=ivrctest.serve_env(DESK_SECRET=None), timeout=60)
    assert done.returncode == 2
    assert "DESK_SECRET" in done.stderr and "not set" in done.stderr and "Traceback" not in done.stderr
