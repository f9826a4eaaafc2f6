"""`ivrc deploy`: the plan, --dry-run, asking, --yes, and refusing broken flows or numbers it may not take."""
from __future__ import annotations

from pathlib import Path

import pytest
from standin import EXAMPLES, KEY, SinchStandIn

NUMBERS = {"+46812345670": "support", "+46812345690": "voicemail", "+46812345700": "account-pin",
           "+46812345710": "multilingual", "+46812345711": "multilingual", "+46812345790": "order-status",
           "+46812345800": "concierge", "+46812345740": "hotel"}
CALLBACKS = f"/v1/configuration/callbacks/applications/{KEY}"
OTHER_APP = "11983f76-12c8-1111-9515-4785c7b67ca8"


@pytest.fixture
def account(sinch_env: SinchStandIn) -> SinchStandIn:
    """An account that owns the examples' numbers; none assigned yet, no callback URL."""
    sinch_env.own(*NUMBERS)
    return sinch_env


def _changes(standin: SinchStandIn) -> list:
    return [r for r in standin.requests if r.method != "GET"]


def test_dry_run_prints_the_plan_and_changes_nothing(ivrc, account: SinchStandIn) -> None:
    run = ivrc("deploy", "examples", "--url", "https://ivr.example.com", "--dry-run")
    assert run.code == 0, run.err
    assert run.out.startswith("Checked 8 flow(s): account-pin (inbound), concierge (inbound), hotel (inbound), "
                              "multilingual (inbound), "
                              "order-status (inbound), "
                              "reminder (outbound), support (inbound), voicemail (inbound)\n")
    assert f"Sinch application {KEY}" in run.out
    assert "  now  (none)\n  new  https://ivr.example.com/sinch/callback\n" in run.out
    for number, flow in NUMBERS.items():
        assert f"  + assign {number} (flow {flow})" in run.out
    assert f"{len(NUMBERS) + 1} change(s): set the callback URL, assign {len(NUMBERS)} number(s)." in run.out
    assert run.out.rstrip().endswith("Dry run: nothing was changed.")
    assert _changes(account) == []
    assert {(r.host, r.auth) for r in account.requests} == {("config", "signed")}


def test_yes_applies_the_plan_then_a_second_deploy_changes_nothing(ivrc, account: SinchStandIn) -> None:
    run = ivrc("deploy", "examples", "--url", "https://ivr.example.com/", "--yes")
    assert run.code == 0, run.err
    assert "done: set the callback URL to https://ivr.example.com/sinch/callback" in run.out
    assert f"done: assigned {', '.join(sorted(NUMBERS))} to the application" in run.out
    assert account.callbacks[KEY] == {"primary": "https://ivr.example.com/sinch/callback"}
    assert all(entry["applicationkey"] == KEY for entry in account.numbers.values())
    callback_set, assigned = _changes(account)
    assert (callback_set.method, callback_set.path) == ("POST", CALLBACKS)  # the callback URL first
    assert assigned.body == {"numbers": sorted(NUMBERS), "applicationkey": KEY, "capability": "voice"}
    account.requests.clear()
    again = ivrc("deploy", "examples", "--url", "https://ivr.example.com", "--yes")
    assert again.code == 0
    assert "https://ivr.example.com/sinch/callback (already set)" in again.out
    assert "= keep   +46812345670 (flow support): already assigned" in again.out
    assert "Nothing to change" in again.out and _changes(account) == []


def test_a_url_with_a_path_is_used_as_it_is_and_the_fallback_is_kept(ivrc, account: SinchStandIn) -> None:
    account.callbacks[KEY] = {"primary": "https://old.example.com/sinch/callback",
                              "fallback": "https://backup.example.com/sinch/callback"}
    run = ivrc("deploy", str(EXAMPLES / "support.yaml"), "--url", "https://ivr.example.com/hooks/sinch", "--yes")
    assert run.code == 0, run.err
    assert "  now  https://old.example.com/sinch/callback\n  new  https://ivr.example.com/hooks/sinch" in run.out
    assert "fallback https://backup.example.com/sinch/callback (kept)" in run.out
    assert account.callbacks[KEY] == {"primary": "https://ivr.example.com/hooks/sinch",
                                      "fallback": "https://backup.example.com/sinch/callback"}
    assert [n for n, e in account.numbers.items() if e.get("applicationkey")] == ["+46812345670"]


def test_plain_http_is_warned_about(ivrc, account: SinchStandIn) -> None:
    run = ivrc("deploy", "examples", "--url", "http://ivr.example.com:8080", "--dry-run")
    assert run.code == 0
    assert "warning: http://ivr.example.com:8080/sinch/callback is plain HTTP" in run.out


@pytest.mark.parametrize("url, message", [
    ("https://ivr.example.com/?token=1", "must not have a query string"),
    ("ivr.example.com", "should be the server's public URL"),
])
def test_bad_urls_are_refused_before_any_request(ivrc, account: SinchStandIn, url: str, message: str) -> None:
    run = ivrc("deploy", "examples", "--url", url, "--yes")
    assert run.code == 2 and message in run.err and account.requests == []


def test_numbers_it_may_not_take_stop_the_deploy(ivrc, account: SinchStandIn) -> None:
    account.own("+46812345670", application=OTHER_APP)
    account.own("+46812345690", capability="sms")
    del account.numbers["+46812345700"]
    account.own("+46812345799", application=KEY)
    run = ivrc("deploy", "examples", "--url", "https://ivr.example.com", "--yes")
    assert run.code == 1
    assert (f"! cannot +46812345670 (flow support): assigned to another application ({OTHER_APP}); "
            "un-assign it there first") in run.out
    assert "! cannot +46812345690 (flow voicemail): its capability is sms, not voice" in run.out
    assert "! cannot +46812345700 (flow account-pin): not a number of this Sinch account" in run.out
    assert ("note: +46812345799 is assigned to this application but no flow claims it; left as it is"
            in run.out)
    assert "3 problem(s): nothing will be changed" in run.out
    assert _changes(account) == []


def test_broken_flows_are_refused_before_sinch_is_asked(ivrc, account: SinchStandIn, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("support.yaml", "reminder.yaml"):
        (flows / name).write_text((EXAMPLES / name).read_text())
    (flows / "support.yaml").write_text((EXAMPLES / "support.yaml").read_text()
                                        .replace("next: check_hours", "next: check_hourz"))
    run = ivrc("deploy", str(flows), "--url", "https://ivr.example.com", "--yes")
    assert run.code == 1
    assert "support.yaml:" in run.err and "IVR020" in run.err and "nothing was deployed" in run.err
    assert account.requests == []


def test_without_a_terminal_it_will_not_guess(ivrc, account: SinchStandIn) -> None:
    run = ivrc("deploy", "examples", "--url", "https://ivr.example.com")
    assert run.code == 2
    assert "+ assign +46812345670" in run.out  # the plan is shown first
    assert "standard input is not a terminal" in run.err and "--yes" in run.err
    assert _changes(account) == []


@pytest.mark.parametrize("answer, applied", [("y\n", True), ("yes\n", True), ("n\n", False), ("\n", False),
                                             ("", False)])
def test_on_a_terminal_it_asks(ivrc, account: SinchStandIn, answer: str, applied: bool) -> None:
    run = ivrc("deploy", "examples", "--url", "https://ivr.example.com", stdin=answer, tty=True)
    assert "Apply these changes to the Sinch application? [y/N]" in run.out
    assert run.code == (0 if applied else 1)
    assert bool(_changes(account)) is applied
    if not applied:
        assert "Nothing was changed." in run.out


def test_a_failure_part_way_says_what_was_done(ivrc, account: SinchStandIn) -> None:
    account.fail("POST", "/v1/configuration/numbers", 400, code=40001, message="Unable to update numbers")
    run = ivrc("deploy", "examples", "--url", "https://ivr.example.com", "--yes")
    assert run.code == 1
    assert "done: set the callback URL to https://ivr.example.com/sinch/callback" in run.out
    assert ("Sinch answered 400 Bad Request to POST /v1/configuration/numbers: error 40001, "
            "Unable to update numbers") in run.err


def test_deploy_from_python(api, account: SinchStandIn) -> None:
    from ivrc.compiler.project import compile_paths
    from ivrc.runtime.sinch.deploy import DeployProblem, apply, claimed_numbers, make_plan

    machines = compile_paths([str(EXAMPLES)])
    assert claimed_numbers(machines) == NUMBERS
    plan = make_plan(api, "https://ivr.example.com", {"+46812345670": "support"})
    assert plan.changes == 2 and plan.to_assign == ["+46812345670"]
    assert apply(api, plan) == ["set the callback URL to https://ivr.example.com/sinch/callback",
                                "assigned +46812345670 to the application"]
    account.own("+46812345670", application=OTHER_APP)
    with pytest.raises(DeployProblem):
        apply(api, make_plan(api, "https://ivr.example.com", {"+46812345670": "support"}))
