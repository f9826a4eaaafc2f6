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


def test_a_broken_flow_without_scenarios_does_not_stop_the_tests_of_the_others(ivrc, tmp_path) -> None:
    """The pre-commit hook runs `ivrc test .`: a work-in-progress flow with no tests is lint's to report."""
    import shutil

    from ivrctest import EXAMPLES

    for name in ("hotel.yaml", "hotel.test.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "draft.yaml").write_text('ivrc: 1\nflow: draft\nnumbers: ["+46812349608"]\nstart: a\n'
                                         'states:\n  a: {next: nowhere}\n')
    run = ivrc("test", str(tmp_path))
    assert run.code == 0, run.err
    assert "draft.yaml has no scenarios and does not compile, so it has no coverage" in run.err
    assert ivrc("test", str(tmp_path), "--min-coverage", "100").code == 1
