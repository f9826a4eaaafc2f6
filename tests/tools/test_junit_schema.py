"""JUnit XML from `ivrc lint --format junit` and `ivrc test --junit`, validated against the Jenkins
junit-10.xsd (tests/support/vendor/) with xmlschema, as a CI server reads it. Skipped scenarios
are checked in tests/flowtests/test_call_command.py, where a live server skips some."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from ivrctest import EXAMPLES, REPO
from reportschemas import validate_junit as _valid

BROKEN = REPO / "tests" / "flows" / "broken"
# A flow key holding a control character (a YAML escape): XML 1.0 cannot carry it, even escaped.
CONTROL_KEY = (EXAMPLES / "support.yaml").read_text().replace("  closed:\n", '  "clo\\x01sed":\n')


def test_the_schema_rejects_what_the_old_reports_had() -> None:
    """The validator is strict where it matters: no `errors`, or `file` on a test case, fails."""
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _valid('<testsuites><testsuite name="a" tests="1" failures="0"><testcase name="x"/></testsuite></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _valid('<testsuites><testsuite name="a" tests="1" failures="0" errors="0">'
               '<testcase name="x" file="a.yaml"/></testsuite></testsuites>')


@pytest.mark.parametrize("path", [BROKEN / "IVR020-unknown-state-in-menu.yaml", BROKEN / "IVR100-number-conflict",
                                  EXAMPLES], ids=lambda p: p.name)
def test_lint_junit_is_valid_and_counts_its_test_cases(path: Path, ivrc) -> None:
    run = ivrc("lint", "--format", "junit", path)
    _valid(run.out)
    root = ET.fromstring(run.out)
    cases = root.findall("testsuite/testcase")
    assert int(root.get("tests")) == len(cases)
    assert int(root.get("failures")) == len(root.findall("testsuite/testcase/failure"))
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_lint_junit_with_a_control_character_in_a_flow_parses(tmp_path: Path, ivrc) -> None:
    flow = tmp_path / "support.yaml"
    flow.write_text(CONTROL_KEY)
    run = ivrc("lint", "--format", "junit", flow)
    assert run.code == 1  # the renamed state leaves references to `closed` dangling
    _valid(run.out)
    assert "clo\ufffdsed" in run.out and "\x01" not in run.out


def test_flow_test_junit_is_valid_with_passes_and_failures(tmp_path: Path) -> None:
    """Through the real command line, with scenarios that fail on a control character."""
    (tmp_path / "support.yaml").write_text((EXAMPLES / "support.yaml").read_text())
    scenarios = (EXAMPLES / "support.test.yaml").read_text()
    (tmp_path / "support.test.yaml").write_text(scenarios.replace("expect: Welcome to Acme support.", 'expect: "Welcome\\x01"'))
    report = tmp_path / "report.xml"
    run = subprocess.run([sys.executable, "-m", "ivrc", "test", str(tmp_path), "--junit", str(report)],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    _valid(report)
    text = report.read_text(encoding="utf-8")
    assert "<failure" in text and "\x01" not in text
