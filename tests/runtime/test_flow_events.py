"""A flow's own call-events receiver (`events:` in the flow): used before the server's, checked at start-up."""
from __future__ import annotations

import base64
import json

import pytest
from callkit import KEY, REPO, SECRET, TestClient, compile_flow, example_machines, library_of
from receiver import Receiver
from standardwebhooks import Webhook

from ivrc.compiler.compiled import Machine
from ivrc.runtime.emulation.emulator import Call, HttpTransport
from ivrc.runtime.server.app import Settings, StartupError, create_app
from ivrc.runtime.server.events_out import EventsConfig
from ivrc.runtime.server.startup import _require_event_receivers
from ivrc.runtime.signing import Credentials

FLOW_SECRET = "whsec_" + base64.b64encode(b"the reminder desk's own 32 bytes").decode()
SERVER_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
FAST = {"first_backoff": 0.01, "max_backoff": 0.02, "drain_seconds": 30.0}


def with_receiver(url: str, env: str = "REMINDER_EVENTS_SECRET") -> dict:
    """The reminder example as another flow, `reminder-desk`, that sends its events to its own receiver at `url`."""
    text = (REPO / "examples/reminder.yaml").read_text().replace("\nflow: reminder\n", "\nflow: reminder-desk\n", 1)
    text = text.replace("\nstart:", f"\nevents:\n  url: \"{url}\"\n  secret: {{env: {env}}}\nstart:", 1)
    machine = compile_flow(text)
    assert machine["events"] == {"url": url, "secret_env": env}
    return machine


def call(client, flow: str) -> Call:
    transport = HttpTransport("http://testserver/sinch/callback", KEY, SECRET, client=client)
    made = Call(transport, outbound=True, custom=json.dumps({"flow": flow, "vars": {}}), amd="human").start().press("1")
    assert made.ended
    return made


def test_a_flow_with_its_own_receiver_sends_there_signed_with_its_own_secret() -> None:
    with Receiver() as flow_receiver, Receiver() as server_receiver:
        library = library_of(with_receiver(flow_receiver.url), *example_machines())
        server = EventsConfig(url=server_receiver.url, secret=base64.b64decode(SERVER_SECRET[6:]), **FAST)
        app = create_app(library, Settings(credentials=Credentials(KEY, SECRET), events=server,
                                           env={"REMINDER_EVENTS_SECRET": FLOW_SECRET}))
        with TestClient(app) as client:
            desk = call(client, "reminder-desk")
            (delivery,) = flow_receiver.wait_for(1)
            # A flow without its own receiver still reports to the server's.
            other = call(client, "reminder")
            (to_server,) = server_receiver.wait_for(1)
        event = Webhook(FLOW_SECRET).verify(delivery.body, delivery.headers)
        assert (event["type"], event["flow"], event["callid"]) == ("call.ended", "reminder-desk", desk.callid)
        assert Webhook(SERVER_SECRET).verify(to_server.body, to_server.headers)["callid"] == other.callid
    assert len(flow_receiver.deliveries) == 1  # the other flow's event never went to this flow's receiver


def test_without_a_server_receiver_only_flows_with_their_own_send_events() -> None:
    with Receiver() as flow_receiver:
        library = library_of(with_receiver(flow_receiver.url), *example_machines())
        app = create_app(library, Settings(credentials=Credentials(KEY, SECRET),
                                           env={"REMINDER_EVENTS_SECRET": FLOW_SECRET}))
        with TestClient(app) as client:
            desk = call(client, "reminder-desk")
            (delivery,) = flow_receiver.wait_for(1)
            call(client, "reminder")
        assert Webhook(FLOW_SECRET).verify(delivery.body, delivery.headers)["callid"] == desk.callid
        metrics = app.state.metrics
    assert metrics.events_sent.value(type="call.ended") == 1  # the reminder example has no receiver: nothing sent
    assert metrics.events_dropped.value(type="call.ended", reason="not-running") == 0


def test_a_flow_whose_secret_is_unset_stops_the_start_up_naming_it() -> None:
    machine = Machine.load(with_receiver("https://hooks.example.com/ivrc"))
    with pytest.raises(StartupError) as caught:
        _require_event_receivers([machine], env={})
    message = str(caught.value)
    assert "REMINDER_EVENTS_SECRET" in message and machine.flow in message and "not set" in message
    _require_event_receivers([machine], env={"REMINDER_EVENTS_SECRET": FLOW_SECRET})  # set: it starts


def test_a_compiled_machine_with_a_plain_http_receiver_is_refused_at_start_up() -> None:
    document = with_receiver("https://hooks.example.com/ivrc")
    document["events"]["url"] = "http://hooks.example.com/ivrc"  # edited by hand after `ivrc compile`
    with pytest.raises(StartupError, match="plain http"):
        _require_event_receivers([Machine.load(document)], env={"REMINDER_EVENTS_SECRET": FLOW_SECRET})


def test_a_reloaded_flow_whose_secret_is_missing_drops_its_events_and_says_why(caplog) -> None:
    with Receiver() as flow_receiver:
        library = library_of(with_receiver(flow_receiver.url, env="NEVER_SET_SECRET"))
        app = create_app(library, Settings(credentials=Credentials(KEY, SECRET), env={}))
        with TestClient(app) as client:
            call(client, "reminder-desk")
        metrics = app.state.metrics
    assert metrics.events_dropped.value(type="call.ended", reason="unusable-receiver") == 1
    assert any("NEVER_SET_SECRET" in r.getMessage() for r in caplog.records if r.name == "ivrc.events")
    assert flow_receiver.deliveries == []


def test_start_up_names_every_missing_secret_at_once(tmp_path, monkeypatch) -> None:
    """It named the request states' secret, and the events secret only on the next start."""
    from ivrc.runtime.server.startup import ServeOptions, build_library

    text = (REPO / "examples/reminder.yaml").read_text().replace("\nflow: reminder\n", "\nflow: reminder-desk\n", 1)
    (tmp_path / "desk.yaml").write_text(text.replace(
        "\nstart:", '\nevents:\n  url: "https://hooks.example.com/ivrc"\n  secret: {env: REMINDER_EVENTS_SECRET}\nstart:', 1))
    monkeypatch.delenv("BANK_API_TOKEN", raising=False)
    monkeypatch.delenv("REMINDER_EVENTS_SECRET", raising=False)
    options = ServeOptions(paths=[str(REPO / "examples/account_pin.yaml"), str(tmp_path / "desk.yaml")],
                           machines_dir=str(tmp_path / "machines"))
    with pytest.raises(StartupError) as caught:
        build_library(options, keep_versions=False)
    assert "BANK_API_TOKEN is not set" in str(caught.value) and "REMINDER_EVENTS_SECRET" in str(caught.value)
