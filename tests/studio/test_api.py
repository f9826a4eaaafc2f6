"""The studio's JSON API, in-process: flows, problems as `ivrc lint` prints them, states, calls, tests, coverage."""
from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivrc.compiler import check_file, formats
from ivrc.runtime.emulation.flowtest import run_paths
from ivrc.runtime.studio.app import build_app
from ivrc.runtime.studio.workspace import Workspace, WorkspaceError


@pytest.fixture
def client(flows_dir: Path):
    with TestClient(build_app(Workspace([str(flows_dir)])), base_url="http://127.0.0.1:8090") as client:
        yield client


def test_lists_every_flow_with_its_counts(client: TestClient, flows_dir: Path) -> None:
    flows = client.get("/api/flows").json()["flows"]
    assert [f["id"] for f in flows] == ["account-pin", "concierge", "hotel", "multilingual", "order-status", "reminder",
                                        "support",
                                        "voicemail"]
    support = next(f for f in flows if f["id"] == "support")
    assert support == {**support, "file": str(flows_dir / "support.yaml"), "errors": 0, "compiles": True,
                       "numbers": ["+46812345670"], "has_tests": True}


def test_problems_are_exactly_what_lint_prints(client: TestClient, flows_dir: Path) -> None:
    path = flows_dir / "support.yaml"
    path.write_text(path.read_text().replace("next: check_hours", "next: check_huors"))
    data = client.get("/api/flow", params={"file": str(path)}).json()
    [problem] = [p for p in data["problems"] if p["code"] == "IVR020"]
    assert "did you mean 'check_hours'" in problem["message"]
    lint = formats.text([check_file(str(path))])
    assert problem["text"] in lint
    assert problem["text"].startswith(f"{path}:{problem['line']}:{problem['column']}: error[IVR020]")
    assert "next: check_huors" in problem["text"]  # the source line, as lint shows it
    assert data["diagram"] is not None  # a flow with errors still shows what can be drawn


def test_a_flow_that_does_not_load_shows_its_errors_not_a_blank(client: TestClient, flows_dir: Path) -> None:
    path = flows_dir / "voicemail.yaml"
    path.write_text("ivrc: 1\nflow: [unclosed\n")
    data = client.get("/api/flow", params={"file": str(path)}).json()
    assert data["diagram"] is None
    assert data["flow"]["compiles"] is False and data["problems"][0]["severity"] == "error"
    assert data["problems"][0]["text"].startswith(f"{path}:")


def test_state_shows_its_yaml_lines_and_compiled_svaml(client: TestClient, flows_dir: Path) -> None:
    data = client.get("/api/state", params={"file": str(flows_dir / "support.yaml"), "name": "billing"}).json()
    assert data["source"][0].strip() == "billing:"
    text = (flows_dir / "support.yaml").read_text().splitlines()
    assert data["source"] == text[data["line"] - 1:data["end_line"]]
    assert data["compiled"]["action"]["name"] == "connectPstn"


def test_unknown_things_get_clear_errors(client: TestClient, flows_dir: Path) -> None:
    missing = client.get("/api/flow", params={"file": "nope.yaml"})
    assert missing.status_code == 404 and "no flow file 'nope.yaml'" in missing.json()["error"]
    state = client.get("/api/state", params={"file": str(flows_dir / "support.yaml"), "name": "nowhere"})
    assert state.status_code == 404 and "no state 'nowhere'" in state.json()["error"]
    bad = client.post("/api/calls", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
    call = client.post("/api/calls", json={"file": str(flows_dir / "support.yaml"), "now": "tuesday"})
    assert call.status_code == 400 and "'tuesday' is not a time" in call.json()["error"]
    # In office hours, so the call waits for keys whatever the time of day the test runs.
    first = client.post("/api/calls", json={"file": str(flows_dir / "support.yaml"), "now": "2026-03-03T10:00"}).json()
    key = client.post(f"/api/calls/{first['id']}", json={"action": "press", "key": "x"})
    assert key.status_code == 400 and "0-9, * and #" in key.json()["error"]
    gone = client.post("/api/calls/999", json={"action": "silence"})
    assert gone.status_code == 404 and "no call '999'" in gone.json()["error"]


def test_a_call_runs_through_the_engine_and_shows_its_path(client: TestClient, flows_dir: Path) -> None:
    view = client.post("/api/calls", json={"file": str(flows_dir / "support.yaml"), "caller": "+46701234567",
                                           "now": "2026-03-03T10:00"}).json()
    assert view["listening"] and view["path"] == ["welcome", "check_hours", "main_menu"]
    view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "2"}).json()
    assert [line["text"] for line in view["lines"] if line["kind"] == "hear"][-1] == "Connecting you to technical support."
    assert view["path"][-1] == "tech" and view["ended"] is False  # transferred: the call goes on elsewhere
    assert {"source": "main_menu", "exit": "key 2", "target": "tech"} in view["transitions"]
    # In the flow's order, the same on every run (they were a set's, in the order of the process's hashes).
    assert [t["source"] for t in view["transitions"]] == ["welcome", "check_hours", "main_menu", "tech"]
    assert [x["event"] for x in view["exchanges"]] == ["ICE", "PIE", "ACE"]
    assert view["exchanges"][1]["answer"]["action"]["name"] == "connectSip"


def test_the_office_closed_takes_the_other_branch(client: TestClient, flows_dir: Path) -> None:
    view = client.post("/api/calls", json={"file": str(flows_dir / "support.yaml"), "now": "2026-03-03T19:00"}).json()
    assert view["path"] == ["welcome", "check_hours", "closed"] and view["ended"]


def test_digits_wait_for_hash_like_a_keypad(client: TestClient, flows_dir: Path) -> None:
    view = client.post("/api/calls", json={"file": str(flows_dir / "account_pin.yaml")}).json()
    for key in "1234":
        view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": key}).json()
    assert view["typed"] == "1234" and view["path"][-1] == "ask_account"


def test_save_a_call_as_a_test_that_ivrc_test_passes(client: TestClient, flows_dir: Path) -> None:
    test_file = flows_dir / "support.test.yaml"
    before = test_file.read_text()
    view = client.post("/api/calls", json={"file": str(flows_dir / "support.yaml"), "caller": "+46701234567",
                                           "now": "2026-03-03T10:00"}).json()
    client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "2"})
    saved = client.post(f"/api/calls/{view['id']}/save", json={"name": "tech support from the studio"}).json()
    assert saved == {"file": str(test_file), "name": "tech support from the studio", "steps": 6, "passed": True}
    after = test_file.read_text()
    assert after.startswith(before.rstrip("\n"))  # appended: every comment and scenario kept as it was
    assert '- press: "2"' in after and "expect_transfer: {kind: sip" in after
    results = run_paths([str(test_file)])
    assert not results.failed and "tech support from the studio" in [o.name for o in results.outcomes]
    again = client.post(f"/api/calls/{view['id']}/save", json={"name": "tech support from the studio"}).json()
    assert again["name"] == "tech support from the studio (2)"


def test_a_flow_without_tests_gets_a_new_test_file(client: TestClient, flows_dir: Path) -> None:
    (flows_dir / "voicemail.test.yaml").unlink()
    view = client.post("/api/calls", json={"file": str(flows_dir / "voicemail.yaml")}).json()
    client.post(f"/api/calls/{view['id']}", json={"action": "hangup"})
    saved = client.post(f"/api/calls/{view['id']}/save", json={}).json()
    assert saved["file"] == str(flows_dir / "voicemail.test.yaml") and saved["passed"]
    assert "flow: \"voicemail.yaml\"" in (flows_dir / "voicemail.test.yaml").read_text()


def test_coverage_is_what_ivrc_test_measures(client: TestClient, flows_dir: Path) -> None:
    data = client.get("/api/coverage", params={"file": str(flows_dir / "support.yaml")}).json()
    expected = run_paths([str(flows_dir / "support.test.yaml")]).coverage.flows["support"]
    assert data["available"] and data["summary"] == expected.summary()
    assert set(data["states"]) == expected.hit_states and data["failed"] == 0
    (flows_dir / "support.test.yaml").unlink()
    data = client.get("/api/coverage", params={"file": str(flows_dir / "support.yaml")}).json()
    assert data["available"] is False and "no flow tests yet" in data["reason"]


def test_no_flows_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no flow files found"):
        Workspace([str(tmp_path)])
    with pytest.raises(WorkspaceError, match="no such file or folder"):
        Workspace([str(tmp_path / "missing")])


def test_a_call_can_start_in_another_of_the_flows_locales(client: TestClient, flows_dir: Path) -> None:
    flow = str(flows_dir / "multilingual.yaml")
    view = client.post("/api/calls", json={"file": flow, "now": "2026-03-03T10:00", "locale": "sv-SE"}).json()
    first = next(line for line in view["lines"] if line["kind"] == "hear")
    assert (first["text"], first["locale"]) == ("Välkommen till Fjord Outdoor.", "sv-SE")
    refused = client.post(f"/api/calls/{view['id']}/save", json={"name": "svenska"})
    assert refused.status_code == 400 and "flow tests start in the flow's own locale (en-US)" in refused.json()["error"]
    wrong = client.post("/api/calls", json={"file": flow, "locale": "fr-FR"})
    assert wrong.status_code == 400 and "not one of the flow's locales (en-US, sv-SE, de-DE)" in wrong.json()["error"]


def test_a_key_nobody_listens_for_is_shown_and_left_out_of_the_test(client: TestClient, flows_dir: Path) -> None:
    view = client.post("/api/calls", json={"file": str(flows_dir / "support.yaml"), "now": "2026-03-03T10:00"}).json()
    client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "2"})
    view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "5"}).json()
    assert view["lines"][-1] == {"kind": "mistake", "locale": None,
                                 "text": "pressed '5' but nothing is listening for keys (the call was transferred)"}
    saved = client.post(f"/api/calls/{view['id']}/save", json={"name": "transferred, then a stray key"}).json()
    assert saved["passed"] and '"5"' not in (flows_dir / "support.test.yaml").read_text()
    client.post(f"/api/calls/{view['id']}", json={"action": "hangup"})
    ended = client.post(f"/api/calls/{view['id']}", json={"action": "silence"})
    assert ended.status_code == 400 and "the call has ended; start a new one" in ended.json()["error"]


def test_only_local_pages_can_use_it(client: TestClient, flows_dir: Path) -> None:
    rebound = client.get("/api/flows", headers={"host": "attacker.example:8090"})
    assert rebound.status_code == 400  # a page that rebinds its own name to 127.0.0.1
    form = client.post("/api/calls", content=b'{"file": "x"}', headers={"content-type": "text/plain"})
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    assert client.get("/api/flows", headers={"host": "127.0.0.1:8090"}).status_code == 200


def _press(client: TestClient, view: dict, keys: str) -> dict:
    for key in keys:
        view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": key}).json()
    return view


def test_requests_are_answered_by_the_flow_tests_stubs(client: TestClient, flows_dir: Path) -> None:
    # order_status.test.yaml stubs the order desk in its `defaults:`; the studio never reaches the network.
    view = client.post("/api/calls", json={"file": str(flows_dir / "order_status.yaml")}).json()
    view = _press(client, view, "100200")
    heard = [line["text"] for line in view["lines"] if line["kind"] == "hear"]
    assert "Order 100200 is shipped. Expected delivery: Thursday." in heard
    assert "look_up" in view["path"] and "tell_status" in view["path"]


def test_stubs_typed_in_with_the_call_win(client: TestClient, flows_dir: Path) -> None:
    view = client.post("/api/calls", json={"file": str(flows_dir / "order_status.yaml"),
                                           "stubs": {"look_up": {"status": 404}}}).json()
    view = _press(client, view, "100200")
    assert "We could not find order 100200." in [line["text"] for line in view["lines"] if line["kind"] == "hear"]
    bad = client.post("/api/calls", json={"file": str(flows_dir / "order_status.yaml"),
                                          "stubs": {"look_up": {"status": 99}}})
    assert bad.status_code == 400 and "`status` is an HTTP status from 100 to 599" in bad.json()["error"]


def test_a_conference_keypad_listens_and_its_keys_save_as_a_test(client: TestClient, flows_dir: Path) -> None:
    view = client.post("/api/calls", json={"file": str(flows_dir / "concierge.yaml")}).json()
    view = _press(client, view, "2")
    assert view["listening"] and view["path"][-1] == "meeting"
    view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "*"}).json()
    assert view["typed"] == "*"  # one key of two: Sinch waits for the next, or the pause
    view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "1"}).json()
    assert "Press star 0 for the duty adviser, or hash to leave the meeting." in [
        line["text"] for line in view["lines"] if line["kind"] == "hear"]
    view = client.post(f"/api/calls/{view['id']}", json={"action": "press", "key": "#"}).json()
    assert view["ended"]
    saved = client.post(f"/api/calls/{view['id']}/save", json={"name": "keys in the meeting"}).json()
    assert saved["passed"], saved
    text = (flows_dir / "concierge.test.yaml").read_text()
    assert '- press: "*1"' in text and '- press: "#"' in text
