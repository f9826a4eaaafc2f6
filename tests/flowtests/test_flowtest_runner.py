"""`ivrc test`: scenarios pass and fail readably, coverage is counted right, JUnit XML is valid, exit codes."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ivrc.runtime.emulation.coverage import Transition
from ivrc.runtime.emulation.flowtest import run_paths

BILLING = """\
flow: support.yaml
defaults:
  now: 2026-03-03T10:00
scenarios:
  - name: billing
    steps:
      - expect: Welcome to Acme support.
      - press: 1
      - expect_transfer: {kind: number, to: "+46812345671"}
      - expect_end: transfer
"""

WRONG = """\
flow: support.yaml
defaults:
  now: 2026-03-03T10:00
scenarios:
  - name: billing
    steps:
      - press: 1
  - name: a prompt that is not there
    steps:
      - expect: Welcome to Acme support.
      - expect: Press 5 for pizza.
  - name: the wrong transfer
    steps:
      - press: 2
      - expect_transfer: "+46812345671"
"""


def test_a_passing_scenario_prints_pass_and_exits_0(ivrc, workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", BILLING)
    run = ivrc("test", path)
    assert run.code == 0, run.out + run.err
    assert "  PASS  billing" in run.out
    assert "1 passed, 0 failed" in run.out


def test_a_failing_step_shows_file_line_and_the_conversation_so_far(ivrc, workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", WRONG)
    run = ivrc("test", path)
    assert run.code == 1
    assert "  PASS  billing" in run.out
    assert "  FAIL  a prompt that is not there" in run.out
    # line 11, column 9: the `- expect: Press 5 for pizza.` step
    assert f"{path}:11:9: step 2 (expect 'Press 5 for pizza.'): expected the caller to hear 'Press 5 for pizza.'" in run.out
    failure = run.out.split("FAIL " + str(path) + ": a prompt that is not there", 1)[1]
    assert "🔊 Welcome to Acme support." in failure
    assert "🔊 For billing, press 1. For technical support, press 2." in failure
    assert "┄┄ expectation searched from here ┄┄" in failure
    assert "1 passed, 2 failed" in run.out


def test_a_wrong_transfer_says_where_the_call_went(ivrc, workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", WRONG)
    run = ivrc("test", path)
    assert (f"{path}:15:9: step 2 (expect_transfer to='+46812345671'): expected a transfer (to +46812345671), "
            "but the call was transferred to sip support@pbx.acme.example") in run.out


def test_junit_xml_is_valid_and_carries_failures(ivrc, workspace, tmp_path) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", WRONG)
    report = tmp_path / "junit.xml"
    assert ivrc("test", path, "--junit", report).code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("3", "2")
    suite, = root.findall("testsuite")
    assert suite.get("name") == str(path) and suite.get("failures") == "2"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["billing", "a prompt that is not there", "the wrong transfer"]
    assert cases["billing"].find("failure") is None
    assert "presses 1" in cases["billing"].find("system-out").text
    failure = cases["a prompt that is not there"].find("failure")
    assert failure.get("message").startswith("step 2 (expect 'Press 5 for pizza.')")
    assert f"{path}:11:9" in failure.text and "Welcome to Acme support." in failure.text
    assert failure.text.startswith(f"{path}:8: scenario 'a prompt that is not there'\n")
    assert cases["billing"].get("classname") == "support"


def test_coverage_counts_states_and_transitions_and_lists_the_rest(workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", BILLING)
    results = run_paths([str(path)])
    support = results.coverage.flows["support"]
    assert support.hit_states == {"welcome", "check_hours", "main_menu", "billing"}
    assert support.missed_states == ["tech", "voicemail", "closed", "goodbye"]
    assert support.hit_transitions == {
        Transition("welcome", "next", "check_hours"),
        Transition("check_hours", 'if is_open("office")', "main_menu"),
        Transition("main_menu", "key 1", "billing"),
        Transition("billing", "transfer", None),
    }
    assert len(support.transitions) == 12
    assert round(support.percent) == 40  # (4 + 4) / (8 + 12)
    assert "states 4/8 50%, transitions 4/12 33%, total 40%" in support.summary()


def test_coverage_in_the_report(ivrc, workspace) -> None:
    workspace("support.yaml")
    run = ivrc("test", workspace("support.test.yaml", BILLING))
    assert "support  states 4/8 50%, transitions 4/12 33%, total 40%, 1 call" in run.out
    assert "states never reached: tech, voicemail, closed, goodbye" in run.out
    assert "transition never taken: main_menu --key 3--> voicemail" in run.out
    assert "transition never taken: main_menu --exhausted--> goodbye" in run.out


def test_moves_between_fused_menus_count_without_a_callback(workspace) -> None:
    workspace("multilingual.yaml")
    path = workspace("multilingual.test.yaml", """\
flow: multilingual.yaml
scenarios:
  - name: into the orders menu and back
    steps:
      - press: 1
      - press: 1
      - expect: To hear how to track your order
      - press: "*"
      - expect: For orders and deliveries, press 1.
""")
    results = run_paths([str(path)])
    assert not results.failed
    flow = results.coverage.flows["multilingual"]
    assert {"orders_menu", "main_menu", "english"} <= flow.hit_states
    assert Transition("main_menu", "key 1", "orders_menu") in flow.hit_transitions
    assert Transition("orders_menu", "key *", "main_menu") in flow.hit_transitions
    assert Transition("language_menu", "key 1", "english") in flow.hit_transitions


def test_retries_and_give_up_paths_are_told_apart(workspace) -> None:
    workspace("multilingual.yaml")
    path = workspace("multilingual.test.yaml", """\
flow: multilingual.yaml
scenarios:
  - name: silence picks English
    steps:
      - silence
      - hangup
  - name: two wrong keys pick English too
    steps:
      - press: 7
      - press: 7
      - expect_locale: en-US
""")
    flow = run_paths([str(path)]).coverage.flows["multilingual"]
    to_english = {t for t in flow.hit_transitions if t.source == "language_menu"}
    assert to_english == {Transition("language_menu", "no input", "english"),
                          Transition("language_menu", "exhausted", "english")}


def test_min_coverage_sets_the_exit_code(ivrc, workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", BILLING)
    low = ivrc("test", path, "--min-coverage", "90")
    assert low.code == 1
    assert "(below --min-coverage 90%)" in low.out
    assert "coverage below --min-coverage for support (40%)" in low.out
    assert ivrc("test", path, "--min-coverage", "40").code == 0
    assert ivrc("test", path, "--min-coverage", "101").code == 2


def test_a_flow_without_scenarios_in_a_tested_folder_counts_as_0(ivrc, workspace, tmp_path) -> None:
    workspace("support.yaml")
    workspace("voicemail.yaml")
    workspace("support.test.yaml", BILLING)
    run = ivrc("test", tmp_path, "--min-coverage", "10")
    assert run.code == 1
    assert "voicemail  states 0/3 0%, transitions 0/3 0%, total 0%, no scenarios" in run.out


def test_naive_now_is_the_flows_local_time(workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", """\
flow: support.yaml
scenarios:
  - name: half past four in Stockholm is open
    now: 2026-03-03T16:30
    steps: [{expect: For billing}]
  - name: half past four UTC is half past five in Stockholm, closed
    now: 2026-03-03T16:30:00Z
    steps: [{expect: Our office is closed.}]
""")
    results = run_paths([str(path)])
    assert [o.status for o in results.outcomes] == ["pass", "pass"]


def test_the_error_path_fails_a_scenario_unless_it_expects_it(ivrc, workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", """\
flow: support.yaml
scenarios:
  - name: a number nobody answers
    called: "+46800000000"
    steps:
      - expect: something went wrong
  - name: the same, expected
    called: "+46800000000"
    steps:
      - expect: something went wrong
      - expect_end: error
""")
    run = ivrc("test", path)
    assert run.code == 1
    assert "FAIL  a number nobody answers" in run.out and "PASS  the same, expected" in run.out
    assert ("the flow took its error path: routing: no flow answers this number "
            "(add `expect_end: error` if the scenario is about that)") in run.out
    assert "✗  the flow failed (routing: no flow answers this number)" in run.out


def test_expect_variables_and_cookies(workspace) -> None:
    workspace("reminder.yaml")
    path = workspace("reminder.test.yaml", """\
flow: reminder.yaml
scenarios:
  - name: right
    steps:
      - expect_variables: {answer: null, clinic: Northside Dental}
      - press: 1
      - expect_variables: {answer: confirmed}
      - expect_cookies: {amd: human, v.answer: confirmed}
  - name: wrong
    steps:
      - press: 2
      - press: 1
      - expect_variables: {answer: confirmed}
""")
    results = run_paths([str(path)])
    assert [o.status for o in results.outcomes] == ["pass", "fail"]
    assert "expected the variable 'answer' to be 'confirmed', but it is 'cancelled'" in results.outcomes[1].message


def test_tool_errors_exit_2_with_positions(ivrc, workspace, tmp_path) -> None:
    workspace("support.yaml")
    bad = workspace("support.test.yaml", """\
flow: support.yaml
scenarios:
  - name: typo
    steps:
      - prss: 1
      - press: 12a
""")
    run = ivrc("test", bad)
    assert run.code == 2
    assert f"{bad}:5:9: unknown step 'prss'; did you mean 'press'?" in run.err
    assert f"{bad}:6:16: `press` takes the keys to press: digits, # and *" in run.err
    assert "the flow tests could not run" in run.err
    assert ivrc("test", tmp_path / "nowhere").code == 2
    assert ivrc("test", "--url", "http://127.0.0.1:9/x", "--unsigned", "--min-coverage", "50", bad).code == 2


def test_a_flow_that_does_not_compile_is_a_tool_error(ivrc, workspace) -> None:
    workspace("broken.yaml", "ivrc: 1\nflow: broken\nstart: nowhere\nstates:\n  a:\n    hangup: true\n")
    path = workspace("broken.test.yaml", "flow: broken.yaml\nscenarios:\n  - name: x\n    steps: [hangup]\n")
    run = ivrc("test", path)
    assert run.code == 2
    assert "the flow does not compile" in run.err


ORDER_DESK_DOWN = """\
flow: order_status.yaml
scenarios:
  - name: the error path goes on to an agent
    requests:
      look_up: {status: 503, json: {}}
    steps:
      - press: "500500"
      - expect_error: look_up
      - expect_transfer: "+46812345791"
  - name: a silent desk is not an error
    requests:
      look_up: {status: 503, json: {}}
    steps:
      - press: "500500"
      - expect_transfer: "+46812345791"
  - name: no error to expect
    requests:
      look_up: {status: 200, json: {order: {status: shipped, eta: Friday}}}
    steps:
      - press: "100200"
      - expect_error: look_up
"""


def test_expect_error_checks_the_error_path_an_on_error_state_goes_on_from(ivrc, workspace) -> None:
    workspace("order_status.yaml")
    path = workspace("order_status.test.yaml", ORDER_DESK_DOWN)
    run = ivrc("test", path)
    assert run.code == 1
    assert "  PASS  the error path goes on to an agent" in run.out
    assert "  FAIL  a silent desk is not an error" in run.out
    assert "the flow took its error path: request: request 'look_up' failed" in run.out
    assert "  FAIL  no error to expect" in run.out
    assert "expected the flow to take its error path ('look_up'), but it never did" in run.out


def test_expecting_the_error_path_when_the_flow_hung_up_says_the_flow_hung_up(ivrc, workspace) -> None:
    """It said only 'but the call has ended', as if the call had ended the way the scenario expected."""
    workspace("support.yaml")
    path = workspace("support.test.yaml", """\
flow: support.yaml
scenarios:
  - name: billing is closed in the evening
    now: "2026-11-24T21:00:00+01:00"
    steps:
      - expect_end: error
""")
    run = ivrc("test", path)
    assert run.code == 1
    assert "expected the call to end with the flow's error path, but the flow hung up" in run.out, run.out


def test_a_transfer_without_the_expected_caller_id_says_none_was_set(ivrc, workspace) -> None:
    """It said only where the call went, which matched: not that no caller id was set."""
    workspace("hotel.yaml")
    path = workspace("hotel.test.yaml", """\
flow: hotel.yaml
scenarios:
  - name: room 12 shows the hotel's number
    steps:
      - press: "12"
      - expect_transfer: {to: "+46812345743", caller_id: "+46812345740"}
""")
    run = ivrc("test", path)
    assert run.code == 1
    assert ("but the call was transferred to number +46812345743 with no caller id of its own "
            "(the caller's number shows)") in run.out, run.out
