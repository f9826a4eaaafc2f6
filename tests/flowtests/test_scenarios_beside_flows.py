"""Scenario files live beside flows; the other commands must not take them for flows."""
from __future__ import annotations

from ivrctest import EXAMPLE_FLOWS


def test_lint_of_a_folder_skips_scenario_files(ivrc) -> None:
    run = ivrc("lint", "examples")
    assert run.code == 0 and f"({len(EXAMPLE_FLOWS)} files)" in run.out


def test_serve_and_simulate_of_a_folder_skip_scenario_files(ivrc) -> None:
    run = ivrc("simulate", "examples", "--flow", "voicemail", "--hangup")
    assert run.code == 0, run.err


def test_lint_of_a_shell_glob_skips_scenario_files(ivrc) -> None:
    run = ivrc("lint", "examples/support.yaml", "examples/support.test.yaml")
    assert run.code == 0, run.out
