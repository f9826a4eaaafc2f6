"""Settings per repository: [tool.ivrc] in pyproject.toml or .ivrc.toml, as ruff and yamllint allow."""
from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from ivrctest import EXAMPLES

from ivrc.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with flows in flows/ (one clean, one with a warning), other YAML, and no settings yet."""
    (tmp_path / "flows").mkdir()
    shutil.copy2(EXAMPLES / "support.yaml", tmp_path / "flows" / "support.yaml")
    shutil.copy2(EXAMPLES / "support.test.yaml", tmp_path / "flows" / "support.test.yaml")
    warning = (EXAMPLES / "support.yaml").read_text().replace("flow: support", "flow: warned")
    warning = warning.replace('numbers: ["+46812345670"]', 'numbers: ["+46812345679"]')
    warning += "\n  forgotten:\n    hangup: true\n"  # IVR030: unreachable
    (tmp_path / "flows" / "warned.yaml").write_text(warning)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "compose.yaml").write_text("services: {}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lint(*argv: str) -> tuple[int, str, str]:
    """`ivrc lint ARGS` in the current folder (the `ivrc` fixture would run from the repository root)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lint", *argv])
    return code, out.getvalue(), err.getvalue()


def test_without_settings_lint_takes_the_current_folder(project: Path) -> None:
    code, out, err = _lint("--output-format", "concise", "-v")
    assert code == 0  # a warning only
    assert "flows/warned.yaml" in out and "warning[IVR030]" in out
    assert "skipped ./deploy/compose.yaml: not a flow" in err


def test_pyproject_settings_choose_paths_codes_strictness_and_format(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.ivrc]\npaths = ["flows"]\n'
                                            'strict = true\noutput-format = "concise"\n')
    code, out, _ = _lint()
    assert code == 1  # strict: the warning fails
    assert out.splitlines()[0].startswith("flows/warned.yaml:") and "warning[IVR030]" in out
    (project / "pyproject.toml").write_text('[tool.ivrc]\npaths = ["flows"]\nstrict = true\nignore = ["IVR030"]\n')
    code, out, _ = _lint()
    assert (code, out) == (0, "All checks passed (2 files).\n")
    # the command line wins over the file
    code, out, _ = _lint("--ignore", "IVR040", "--output-format", "json")
    assert code == 1 and '"code": "IVR030"' in out


def test_a_settings_file_applies_from_a_subfolder_with_paths_relative_to_it(project: Path, monkeypatch) -> None:
    (project / ".ivrc.toml").write_text('paths = ["flows"]\nselect = ["IVR030"]\noutput-format = "concise"\n')
    monkeypatch.chdir(project / "deploy")
    code, out, _ = _lint()
    assert code == 0
    # outside the current folder, a configured path is shown in full
    assert out.splitlines()[0].startswith(str(project / "flows" / "warned.yaml") + ":")


def test_flow_globs_say_which_files_are_flows(project: Path) -> None:
    (project / "flows" / "nokey.yaml").write_text("flow: nokey\nstart: a\nstates: {a: {hangup: true}}\n")
    (project / ".ivrc.toml").write_text('flows = ["flows/*.yaml"]\noutput-format = "concise"\n')
    code, out, err = _lint("-v")
    assert code == 1 and "flows/nokey.yaml:1:1: error[IVR" in out  # a flow by the pattern, missing its key
    assert "skipped ./deploy/compose.yaml: not a flow (matches none of the `flows` patterns)" in err


@pytest.mark.parametrize("text, message", [
    ('selec = ["IVR030"]\n', "unknown setting 'selec'; did you mean 'select'?"),
    ('strict = "yes"\n', "'strict' must be true or false, not 'yes'"),
    ('paths = "flows"\n', "'paths' must be a list of files or folders, not 'flows'"),
    ('output-format = "xml"\n', "'output-format' must be one of text, concise, json, github, sarif, junit, not 'xml'"),
    ('ignore = ["IVR999"]\n', "'IVR999' matches no diagnostic code"),
    ("paths = [\n", "not valid TOML"),
])
def test_a_mistake_in_the_settings_is_a_clear_error(project: Path, text: str, message: str) -> None:
    (project / ".ivrc.toml").write_text(text)
    code, out, err = _lint()
    assert code == 2 and out == ""
    assert err.startswith(f"ivrc: error: {project / '.ivrc.toml'}") and message in err, err
    assert "Traceback" not in err


def test_flow_tests_use_the_configured_paths(project: Path, capsys) -> None:
    (project / "pyproject.toml").write_text('[tool.ivrc]\npaths = ["flows"]\n')
    assert main(["test"]) == 0
    assert "10 passed, 0 failed" in capsys.readouterr().out
