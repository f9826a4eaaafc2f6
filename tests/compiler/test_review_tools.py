"""Linting in CI and review: suppression comments, --select/--ignore, SARIF and GitHub output, graph, diff."""
from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from ivrc.cli import main
from ivrc.compiler import check_text, compile_text, formats
from ivrc.compiler.diagram import dot, mermaid
from ivrc.compiler.diff import diff

REPO = Path(__file__).resolve().parents[2]

# A menu with no no_input/invalid handling (IVR040, IVR041) and an unreachable state (IVR030).
FLOW = textwrap.dedent("""\
    ivrc: 1
    flow: review
    numbers: ["+15550001000"]
    start: menu
    states:
      menu:
        menu:
          prompt: "Press 1."
          options: {1: bye}
      bye:
        hangup: true
      spare:
        hangup: true
    """)


def codes(text: str) -> list[str]:
    return sorted(d.code for d in check_text(text, "review.yaml").diagnostics)


def test_the_flow_has_the_three_findings_the_suppression_tests_rely_on() -> None:
    assert codes(FLOW) == ["IVR030", "IVR040", "IVR041"]


def test_a_comment_on_the_line_of_the_finding_suppresses_it() -> None:
    text = FLOW.replace("  spare:\n", "  spare:  # ivrc: ignore IVR030\n")
    assert codes(text) == ["IVR040", "IVR041"]


def test_a_comment_on_the_line_above_suppresses_by_code_or_name_and_several_at_once() -> None:
    text = FLOW.replace("    menu:\n", "    # ivrc: ignore menu-no-input-unhandled, IVR041\n    menu:\n")
    assert codes(text) == ["IVR030"]


def test_a_comment_for_another_code_suppresses_nothing() -> None:
    assert codes(FLOW.replace("  spare:\n", "  spare:  # ivrc: ignore IVR040\n")) == ["IVR030", "IVR040", "IVR041"]


def test_ignore_file_silences_a_code_everywhere() -> None:
    assert codes("# ivrc: ignore-file IVR040 IVR041\n" + FLOW) == ["IVR030"]


def test_a_comment_cannot_hide_a_shape_error_that_stops_compilation() -> None:
    text = FLOW.replace('numbers: ["+15550001000"]\n', 'numbers: ["0800"]  # ivrc: ignore IVR050\n')
    result = check_text(text, "review.yaml")
    assert [d.code for d in result.errors] == ["IVR050"] and not result.ok and result.flow is None
    # A bad value leaves the flow's shape sound, so the later checks still report (all at once).
    assert {d.code for d in result.diagnostics} == {"IVR050", "IVR030", "IVR040", "IVR041"}


def test_a_comment_cannot_silence_an_error_so_the_flow_never_compiles(tmp_path) -> None:
    for text in (FLOW.replace("{1: bye}", "{1: byee}  # ivrc: ignore IVR020"),
                 "# ivrc: ignore-file IVR020\n" + FLOW.replace("{1: bye}", "{1: byee}")):
        result = compile_text(text, "review.yaml")
        (error,) = result.errors
        assert error.code == "IVR020" and "cannot be silenced" in (error.help or "")
        assert result.machine is None
        path = tmp_path / "review.yaml"
        path.write_text(text)
        assert main(["compile", str(path), "-o", str(tmp_path / "m.json")]) == 1
        assert main(["lint", str(path)]) == 1 and not (tmp_path / "m.json").exists()


def test_select_and_ignore_by_code_prefix_and_name(tmp_path, capsys) -> None:
    path = tmp_path / "review.yaml"
    path.write_text(FLOW)
    assert main(["lint", str(path), "--format", "concise", "--select", "IVR04"]) == 0  # warnings only
    out = capsys.readouterr().out
    assert "IVR040" in out and "IVR041" in out and "IVR030" not in out
    assert main(["lint", str(path), "--format", "concise", "--ignore", "unreachable-state,IVR041", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "IVR040" in out and "IVR030" not in out and "IVR041" not in out
    assert main(["lint", str(path), "--select", "IVR9"]) == 2
    assert "matches no diagnostic code" in capsys.readouterr().err


def test_github_format_is_chosen_on_github_actions_and_escapes_values(tmp_path, capsys, monkeypatch) -> None:
    path = tmp_path / "a,b:c%.yaml"
    path.write_text(FLOW)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["lint", str(path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::")]
    assert len(lines) == 3
    assert all("a%2Cb%3Ac%25.yaml" in line for line in lines)
    first = lines[0]
    assert first.startswith("::warning file=") and ",line=" in first and ",col=" in first
    assert "\n" not in first and "%0A" in first  # the help line travels escaped inside the message


def test_sarif_lists_a_rule_for_each_code_present_and_points_results_at_them(tmp_path) -> None:
    path = tmp_path / "review.yaml"
    path.write_text(FLOW)
    report = json.loads(formats.sarif([check_text(FLOW, str(path))], "1.2.3"))
    assert report["version"] == "2.1.0"
    run = report["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["IVR030", "IVR040", "IVR041"]
    assert run["tool"]["driver"]["version"] == "1.2.3"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "warning"
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_junit_lint_report_is_valid_xml_with_a_failure_per_error(tmp_path) -> None:
    broken = FLOW.replace("options: {1: bye}", "options: {1: byee}")
    xml = formats.junit([check_text(broken, "review.yaml"), check_text(FLOW.replace("review", "clean"), "clean.yaml")])
    root = ElementTree.fromstring(xml)
    assert root.get("failures") == "1"
    failures = root.findall(".//failure")
    assert len(failures) == 1 and failures[0].get("type") == "IVR020"


def test_graph_labels_keys_outcomes_and_business_hours() -> None:
    flow = check_text((REPO / "examples/support.yaml").read_text(), "support.yaml").flow
    chart = mermaid(flow)
    assert chart.startswith("flowchart TD\n")
    for label in ('"key 1"', '"office open"', '"office closed"', '"exhausted"', '"recorded"'):
        assert f"|{label}|" in chart
    assert 'billing: transfer to number +46812345671' in chart
    graph = dot(flow)
    assert graph.startswith('digraph "support" {') and graph.rstrip().endswith("}")
    assert '"check_hours" -> "main_menu" [label="office open"];' in graph


def test_graph_command_refuses_a_broken_flow(tmp_path, capsys) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(FLOW.replace("{1: bye}", "{1: byee}"))
    assert main(["graph", str(path)]) == 2
    assert "byee" in capsys.readouterr().err


def _flow(text: str):
    result = check_text(text, "x.yaml")
    assert result.flow is not None, [str(d.message) for d in result.diagnostics]
    return result.flow


def test_diff_reports_each_kind_of_change() -> None:
    old = _flow(FLOW)
    new = _flow(FLOW.replace('"+15550001000"', '"+15550002000"')
                .replace("options: {1: bye}", "options: {1: spare, 2: bye}")
                .replace('prompt: "Press 1."', 'prompt: "Press 1 or 2."')
                .replace("  spare:\n    hangup: true\n", "  spare:\n    say: Bye.\n    hangup: true\n  extra:\n    hangup: true\n"))
    kinds = {(c.kind, c.subject) for c in diff(old, new).changes}
    assert ("number-added", "+15550002000") in kinds and ("number-removed", "+15550001000") in kinds
    assert ("transition-repointed", "menu (key 1)") in kinds
    assert ("option-added", "menu (key 2)") in kinds
    assert ("prompt-changed", "menu prompt") in kinds
    assert ("prompt-changed", "spare say") in kinds
    assert ("state-added", "extra") in kinds


def test_diff_reports_a_new_events_receiver() -> None:
    receiver = 'events: {url: "https://hooks.example.com/in", secret: {env: DESK_SECRET}}\n'
    old, new = _flow(FLOW), _flow(FLOW.replace("start:", receiver + "start:", 1))
    (change,) = diff(old, new).changes
    assert (change.kind, change.subject, change.before) == ("setting-changed", "events", None)
    assert change.after == {"url": "https://hooks.example.com/in", "secret": "DESK_SECRET"}
    assert diff(new, new).changes == []


HOURS = """\
ivrc: 1
flow: f2
numbers: ["+46812345901"]
timezone: Europe/Stockholm
start: check
hours:
  office:
    weekly:
      mon: ["09:00-17:00"]
      tue: ["09:00-17:00"]
      wed: ["09:00-12:00", "13:00-17:00"]
      thu: ["09:00-17:00"]
      fri: ["09:00-15:00"]
      sat: closed
    dates:
      "12-23": ["09:00-12:00"]
      "2026-12-30": ["10:00-14:00"]
      "2026-12-24": ["09:00-12:00"]
    holidays: ["12-24", "12-25", "2026-06-19"]
on_error:
  say: "Sorry, something went wrong."
  goto: agent
states:
  check:
    branch:
      - if: is_open('office')
        goto: hold
      - else: closed
  hold:
    say: "Please hold."
    repeat: {times: 3, then: still_waiting}
  still_waiting:
    say: "Thank you for waiting."
    repeat: {times: 2, goto: hold_menu, then: voicemail}
  hold_menu:
    menu:
      prompt: "Press 1 to keep waiting."
      options:
        1: still_waiting
      no_input: still_waiting
      invalid: still_waiting
      exhausted: voicemail
  voicemail:
    say: "Voicemail is full. Goodbye."
    hangup: true
  closed:
    say: "We are closed."
    hangup: true
  agent:
    say: "Let me connect you to an agent."
    transfer:
      number: "+46812345791"
"""


@pytest.mark.parametrize("old, new, subject", [
    ('"12-23": ["09:00-12:00"]', '"12-23": ["09:00-13:00"]', "hours office on 12-23"),
    ('"12-23": ["09:00-12:00"]', '"12-23": closed', "hours office on 12-23"),
    ('holidays: ["12-24", "12-25", "2026-06-19"]', 'holidays: ["12-25", "2026-06-19"]', "hours office holidays"),
    ('tue: ["09:00-17:00"]', 'tue: ["09:00-16:00"]', "hours office tue"),
    ("timezone: Europe/Stockholm", "timezone: America/New_York", "timezone"),
    ('say: "Sorry, something went wrong."', 'say: "Oh no."', "on_error say"),
    ("  goto: agent\nstates:", "  goto: closed\nstates:", "on_error"),
])
def test_diff_reports_what_callers_meet_in_hours_and_the_error_path(old: str, new: str, subject: str) -> None:
    assert old in HOURS
    (change,) = diff(_flow(HOURS), _flow(HOURS.replace(old, new, 1))).changes
    assert change.subject == subject


def test_diff_reports_what_a_variable_sends_and_holds() -> None:
    declared = FLOW.replace("start:", "variables:\n  pin: {max_length: 4}\nstart:", 1)
    reported = declared.replace("pin: {max_length: 4}", "pin: {max_length: 4, report: true}")
    (change,) = diff(_flow(declared), _flow(reported)).changes
    assert (change.subject, change.before, change.after) == ("variable pin report", False, True)
    (change,) = diff(_flow(declared), _flow(declared.replace("max_length: 4", "max_length: 6"))).changes
    assert (change.subject, change.before, change.after) == ("variable pin max_length", 4, 6)
    (change,) = diff(_flow(FLOW), _flow(declared)).changes
    assert (change.kind, change.subject, change.before) == ("variable-added", "pin", None)
    assert str(change) == "+ variable pin (max_length 4, default '', report false)"
    (change,) = diff(_flow(declared), _flow(FLOW)).changes
    assert str(change) == "- variable pin (was max_length 4, default '', report false)"


def test_diff_of_a_state_that_changes_kind_still_shows_its_new_words_and_routes() -> None:
    old = _flow(FLOW.replace("  bye:\n    hangup: true\n", '  bye:\n    say: "Goodbye."\n    hangup: true\n'))
    new = _flow(FLOW.replace("  bye:\n    hangup: true\n", '  bye:\n    say: "See you soon."\n    next: spare\n'))
    lines = diff(old, new).text().splitlines()
    assert "  ~ state bye: hangup -> next" in lines
    assert "  ~ bye say: 'Goodbye.' -> 'See you soon.'" in lines
    assert "  + bye (next) -> spare" in lines


def test_diff_of_a_reformatted_flow_has_no_changes(tmp_path, capsys) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(FLOW)
    new.write_text("# the same flow, laid out differently\n" + FLOW.replace("options: {1: bye}", "options:\n            1: bye"))
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"flow": "review", "changes": []}
