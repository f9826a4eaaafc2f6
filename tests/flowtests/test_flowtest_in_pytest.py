"""Flow tests inside a user's pytest suite: the plugin that collects *.test.yaml, and run_scenarios()."""
from __future__ import annotations

import subprocess
import sys

import pytest

from ivrc.runtime.emulation.flowtest import run_scenarios

SCENARIOS = """\
flow: support.yaml
defaults:
  now: 2026-03-03T10:00
scenarios:
  - name: billing
    steps:
      - press: 1
      - expect_transfer: "+46812345671"
  - name: wrong on purpose
    steps:
      - press: 1
      - expect_transfer: "+46999999999"
"""


def test_the_plugin_runs_each_scenario_as_a_test(workspace, tmp_path) -> None:
    workspace("support.yaml")
    path = workspace("support.test.yaml", SCENARIOS)
    run = subprocess.run([sys.executable, "-m", "pytest", "--ivrc-flows", "-p", "no:cacheprovider",
                          "-q", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "scenario: wrong on purpose" in run.stdout
    assert f"{path}:12:9: step 2 (expect_transfer to='+46999999999')" in run.stdout
    assert "transferred to number +46812345671" in run.stdout


def test_the_installed_plugin_collects_nothing_unless_asked(workspace, tmp_path) -> None:
    workspace("support.yaml")
    workspace("support.test.yaml", SCENARIOS)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 5, run.stdout + run.stderr  # pytest: no tests collected
    (tmp_path / "pytest.ini").write_text("[pytest]\nivrc_flows = true\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr


def test_run_scenarios_from_a_test_function(workspace) -> None:
    workspace("support.yaml")
    good = workspace("good.test.yaml", SCENARIOS.split("  - name: wrong on purpose")[0])
    assert [o.status for o in run_scenarios(str(good)).outcomes] == ["pass"]
    bad = workspace("support.test.yaml", SCENARIOS)
    with pytest.raises(AssertionError) as caught:
        run_scenarios(str(bad))
    assert f"{bad}:12:9: step 2" in str(caught.value)
    assert "the conversation up to the failure:" in str(caught.value)
