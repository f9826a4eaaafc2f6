"""Golden files for `ivrc lint`'s output formats (text without colour, concise, JSON, GitHub
annotations, SARIF and JUnit), byte for byte.

The cases cover a help line and notes pointing at other places (IVR020 in a menu), an error
inside a multi-line block-scalar template (IVR080), and a conflict between two files (IVR100).
Paths in the output are relative because the linter runs from the repository root with
relative paths, so the files are the same on every machine.

To accept a change in the output, regenerate the files and review the diff:

    IVRC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/compiler/test_golden.py

With IVRC_UPDATE_GOLDEN=1 set, the tests rewrite tests/golden/ instead of comparing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("IVRC_UPDATE_GOLDEN") == "1"

# golden file stem -> the path to lint, relative to the repository root
CASES = {
    "IVR020-unknown-state-in-menu": "tests/flows/broken/IVR020-unknown-state-in-menu.yaml",
    "IVR080-block-scalar-template": "tests/flows/broken/IVR080-block-scalar-template.yaml",
    "IVR100-number-conflict": "tests/flows/broken/IVR100-number-conflict",
}
FORMATS = {"text": ".txt", "concise": ".concise.txt", "json": ".json", "github": ".github.txt",
           "sarif": ".sarif", "junit": ".junit.xml"}


def _check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    assert path.is_file(), f"{path.relative_to(REPO)} is missing; create it with IVRC_UPDATE_GOLDEN=1"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (f"`ivrc lint` output differs from {path.relative_to(REPO)}; if the change is "
                                "intended, rerun with IVRC_UPDATE_GOLDEN=1 and review the diff")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_lint_output_matches_golden(case: str, fmt: str, in_repo, ivrc) -> None:
    run = ivrc("lint", "--format", fmt, CASES[case])
    assert run.code == 1
    assert run.err == ""
    assert "\033[" not in run.out  # no colour when not writing to a terminal
    # SARIF names the repository's folder on this machine once, as the base of the relative paths.
    _check_golden(case + FORMATS[fmt], run.out.replace(REPO.as_uri() + "/", "file:///REPO/"))


@pytest.mark.parametrize("case", CASES)
def test_golden_text_and_json_agree(case: str, in_repo) -> None:
    """The two formats describe the same findings: every JSON diagnostic heads a text entry."""
    text_path, json_path = GOLDEN / (case + ".txt"), GOLDEN / (case + ".json")
    if UPDATE and not (text_path.is_file() and json_path.is_file()):
        pytest.skip("golden files are being written")
    text = text_path.read_text(encoding="utf-8")
    report = json.loads(json_path.read_text(encoding="utf-8"))
    heads = [line for line in text.splitlines() if line and not line.startswith((" ", "\t")) and "[IVR" in line]
    assert heads == [f"{d['file']}:{d['line']}:{d['column']}: {d['severity']}[{d['code']}] {d['message']} ({d['name']})"
                     for d in report["diagnostics"]]
    for d in report["diagnostics"]:
        assert not Path(d["file"]).is_absolute()
        assert all(not Path(r["file"]).is_absolute() for r in d["related"])
    summary = report["summary"]
    assert text.splitlines()[-1] == (f"Found {summary['errors']} error{'s' * (summary['errors'] != 1)} and "
                                     f"{summary['warnings']} warning{'s' * (summary['warnings'] != 1)} in "
                                     f"{summary['files']} file{'s' * (summary['files'] != 1)}.")
