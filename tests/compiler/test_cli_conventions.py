"""What users of other linters expect: --output-format, NO_COLOR/FORCE_COLOR/--color, help for every
argument, and `ivrc diff --exit-code` for review gates."""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from ivrctest import EXAMPLES

from ivrc.cli import build_parser
from ivrc.common import color

BROKEN = "tests/flows/broken/IVR020-unknown-state-in-menu.yaml"


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _arguments(parser: argparse.ArgumentParser, command: str = "ivrc"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _arguments(sub, f"{command} {name}")
        elif action.dest != "help":
            yield command, action


def test_every_argument_of_every_command_has_help() -> None:
    missing = [f"{command} {'/'.join(action.option_strings) or action.metavar or action.dest}"
               for command, action in _arguments(build_parser()) if not action.help]
    assert missing == []


@pytest.mark.parametrize("command", [["lint", BROKEN], ["graph", "examples/support.yaml"],
                                     ["diff", "examples/support.yaml", "examples/support.yaml"]])
def test_output_format_is_the_same_option_as_format(command: list[str], ivrc, in_repo) -> None:
    fmt = {"lint": "json", "graph": "dot", "diff": "json"}[command[0]]
    assert ivrc(*command, "--output-format", fmt).out == ivrc(*command, "--format", fmt).out


@pytest.mark.parametrize("env, tty, expected", [
    ({}, True, True), ({}, False, False),
    ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value turns colour off
    ({"NO_COLOR": "1"}, True, False),
    ({"FORCE_COLOR": "1"}, False, True), ({"FORCE_COLOR": ""}, False, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    ({"TERM": "dumb"}, True, False),
])
def test_colour_follows_the_environment(env: dict, tty: bool, expected: bool, monkeypatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert color(_Terminal(tty)) is expected


def test_the_color_option_overrides_the_environment(ivrc, in_repo, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" in ivrc("lint", "--color", "always", BROKEN).out
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR")
    assert "\033[" in ivrc("lint", BROKEN).out
    assert "\033[" not in ivrc("lint", "--color", "never", BROKEN).out


def test_diff_exit_code_says_whether_behaviour_changed(tmp_path: Path, ivrc) -> None:
    old = EXAMPLES / "support.yaml"
    same = tmp_path / "same.yaml"
    same.write_text(old.read_text() + "# a comment changes nothing a caller hears\n")
    changed = tmp_path / "changed.yaml"
    changed.write_text(old.read_text().replace("Welcome to Acme support.", "Welcome to Acme."))
    assert ivrc("diff", "--exit-code", old, same).code == 0
    run = ivrc("diff", "--exit-code", old, changed)
    assert run.code == 1 and "Welcome to Acme." in run.out
    assert ivrc("diff", old, changed).code == 0  # without the option, a diff is not a failure
