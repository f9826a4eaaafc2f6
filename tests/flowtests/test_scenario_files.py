"""The scenario format: what the author wrote is what runs, and every mistake points at its line."""
from __future__ import annotations

import datetime

import pytest

from ivrc.runtime.emulation.scenarios import ScenarioError, load


def problems(path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(str(path))
    return [f"{span.line}:{span.column}: {message}" for span, message in caught.value.problems]


def test_values_keep_what_the_author_typed(workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", """\
flow: support.yaml
defaults:
  caller: +46701234567
  env: {A: "1"}
scenarios:
  - name: zeros and plus signs survive
    env: {B: "2"}
    now: 2026-03-03T10:00
    steps:
      - press: 0123
      - press: 1234#
      - press: "*"
      - silence
      - silence: 2
      - say: "yes"
      - hangup
      - expect: plain text
      - expect: {pattern: "^For .* press 1"}
      - expect_transfer: +46812345671
      - expect_end: transferred
""")
    loaded = load(str(path))
    scenario, = loaded.scenarios
    assert loaded.flow_file.endswith("support.yaml")
    assert scenario.caller == "+46701234567"
    assert scenario.env == {"A": "1", "B": "2"}
    assert scenario.now == datetime.datetime(2026, 3, 3, 10, 0)
    assert [(s.kind, s.value) for s in scenario.steps] == [
        ("press", "0123"), ("press", "1234#"), ("press", "*"), ("silence", None), ("silence", 2), ("say", "yes"),
        ("hangup", None), ("expect", {"text": "plain text"}), ("expect", {"pattern": "^For .* press 1"}),
        ("expect_transfer", {"to": "+46812345671"}), ("expect_end", "transfer")]
    assert [s.where.line for s in scenario.steps] == list(range(10, 21))


def test_every_problem_at_once_with_its_position(workspace) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", """\
flow: support.yaml
scenarios:
  - name: one
    amd: robot
    steps:
      - expect: {pattern: "(unclosed"}
      - expect_end: exploded
      - expect_recording: paused
      - hangup: please
      - [press, 1]
  - name: one
    steps: []
  - steps: []
    colour: blue
""")
    assert problems(path) == [
        "4:10: `amd` is the answering-machine verdict: one of human, machine, notsure, hangup; found 'robot'",
        "6:27: `pattern` is not a regular expression: missing ), unterminated subpattern at position 0",
        "7:21: `expect_end` is how the call ended: hangup, transfer, park or error; found 'exploded'",
        "8:27: `expect_recording` is started or stopped; found 'paused'",
        "9:17: `hangup` takes no value; found 'please'",
        "10:9: a step is a mapping with one key, one of press, say, silence, hangup, expect, expect_transfer, "
        "expect_recording, expect_variables, expect_cookies, expect_locale, expect_end, expect_request, "
        "expect_error (or the word silence or hangup); found a list",
        "11:11: another scenario is already named 'one' (at " + str(path) + ":3:5); names must be unique in a file",
        "13:5: a scenario needs a `name`, shown in the results",
        "14:5: unknown key 'colour' in a scenario",
    ]


def test_the_file_itself(workspace, tmp_path) -> None:
    missing = workspace("a.test.yaml", "flow: nowhere.yaml\nscenarios:\n  - {name: x, steps: []}\n")
    assert problems(missing) == [f"1:7: the flow file {tmp_path / 'nowhere.yaml'} does not exist"]
    empty = workspace("b.test.yaml", "flow: a.test.yaml\n")
    assert problems(empty) == ["1:1: a scenario file needs `scenarios:`, a list of at least one scenario"]
    listing = workspace("c.test.yaml", "- flow: x\n")
    assert "a scenario file is a mapping with `flow`" in problems(listing)[0]
    duplicate = workspace("d.test.yaml", "flow: a.test.yaml\nflow: b.test.yaml\nscenarios: []\n")
    assert "2:1: duplicate key 'flow'" in problems(duplicate)
    typo = workspace("e.test.yaml", "flow: a.test.yaml\nsenarios: []\n")
    assert "2:1: unknown key 'senarios' in a scenario file; did you mean 'scenarios'?" in problems(typo)


def test_yes_stays_text(workspace) -> None:
    workspace("reminder.yaml")
    path = workspace("reminder.test.yaml", "flow: reminder.yaml\nscenarios:\n  - name: x\n    steps:\n      - say: yes\n")
    assert load(str(path)).scenarios[0].steps[0].value == "yes"
