"""The `ivrc` command as users meet it: exit codes, stdin, JSON, compile output, explain, --version."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivrc.compiler.codes import CODES
from ivrc.compiler.project import is_flow_file

REPO = Path(__file__).resolve().parents[2]
BROKEN = "tests/flows/broken"
CLEAN = "examples/support.yaml"
ERRORS = f"{BROKEN}/IVR020-unknown-state.yaml"  # one error: `next: opening_hour`
WARNINGS_ONLY = f"{BROKEN}/IVR030-unreachable-state.yaml"  # one warning, no errors


def expected(path: str) -> list[tuple[str, int, int]]:
    """The `# expect: CODE LINE:COLUMN` header of a broken flow (see test_broken_flows.py)."""
    text = (REPO / path).read_text(encoding="utf-8")
    return [(code, int(line), int(column))
            for code, line, column in re.findall(r"^# expect: (IVR\d{3}) (\d+):(\d+)$", text, re.M)]


(_, LINE, COLUMN), = expected(ERRORS)  # where the typo is
ERROR_HEAD = f"{ERRORS}:{LINE}:{COLUMN}: error[IVR020] state 'opening_hour' is not defined; did you mean 'opening_hours'?"
assert [code for code, _, _ in expected(WARNINGS_ONLY)] == ["IVR030"]


def run_process(*args: str, cwd: Path = REPO, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """`python -m ivrc ARGS` in a real process, with whatever interpreter runs the tests."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8",
           # `python -m ivrc` from another folder must still find the source tree.
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "ivrc", *args], cwd=cwd, input=stdin, capture_output=True,
                          env=env, timeout=120)


# exit codes: 0 clean, 1 problems, 2 the tool could not do what was asked

def test_clean_flow_exits_0(in_repo, ivrc) -> None:
    run = ivrc("lint", CLEAN)
    assert run.code == 0
    assert run.out == "All checks passed (1 file).\n"


def test_errors_exit_1(in_repo, ivrc) -> None:
    run = ivrc("lint", ERRORS)
    assert run.code == 1
    assert run.out.startswith(ERROR_HEAD)
    assert run.out.endswith("Found 1 error and 0 warnings in 1 file.\n")


def test_warnings_only_exit_0_without_strict(in_repo, ivrc) -> None:
    run = ivrc("lint", WARNINGS_ONLY)
    assert run.code == 0
    assert "warning[IVR030]" in run.out
    assert run.out.endswith("Found 0 errors and 1 warning in 1 file.\n")


def test_warnings_only_exit_1_with_strict(in_repo, ivrc) -> None:
    assert ivrc("lint", "--strict", WARNINGS_ONLY).code == 1


def test_clean_flow_exits_0_with_strict(in_repo, ivrc) -> None:
    assert ivrc("lint", "--strict", CLEAN).code == 0


def test_folder_of_flows(in_repo, ivrc) -> None:
    run = ivrc("lint", "examples")
    assert run.code == 0
    flows = [p for p in (REPO / "examples").iterdir() if is_flow_file(p.name)]  # not the .test.yaml scenarios
    assert run.out == f"All checks passed ({len(flows)} files).\n"


def test_a_flow_named_twice_is_linted_once(in_repo, ivrc) -> None:
    """A folder plus a file inside it (as editors and hooks pass them) is not a conflict with itself."""
    run = ivrc("lint", "examples", CLEAN, "./" + CLEAN)
    assert run.code == 0
    assert run.out == f"All checks passed ({len([p for p in (REPO / 'examples').iterdir() if is_flow_file(p.name)])} files).\n"


def test_missing_path_exits_2(in_repo, ivrc) -> None:
    run = ivrc("lint", "examples/no-such-flow.yaml")
    assert run.code == 2
    assert run.out == ""
    assert run.err == "ivrc: error: examples/no-such-flow.yaml: no such file or folder\n"


@pytest.mark.parametrize("command", [["compile"], ["graph"], ["diff", "examples/support.yaml"]])
def test_a_folder_given_to_a_one_flow_command_is_named_a_folder(in_repo, ivrc, command: list[str]) -> None:
    """It said 'examples: no such file' of a folder that exists."""
    run = ivrc(*command[:1], "examples", *command[1:])
    assert run.code == 2
    assert run.err == ("ivrc: error: examples is a folder; this command takes one flow file "
                       "(`ivrc lint` and `ivrc test` take folders)\n")


def test_folder_without_flows_exits_2(tmp_path: Path, ivrc) -> None:
    (tmp_path / "README.md").write_text("not a flow\n")
    (tmp_path / "support.test.yaml").write_text("# a flow test, not a flow\n")
    run = ivrc("lint", str(tmp_path))
    assert run.code == 2
    assert "no flow files found" in run.err
    assert run.out == ""


def test_unknown_subcommand_exits_2(ivrc) -> None:
    run = ivrc("lnt", CLEAN)
    assert run.code == 2
    assert "invalid choice: 'lnt'" in run.err


def test_no_subcommand_exits_2_with_help(ivrc) -> None:
    run = ivrc()
    assert run.code == 2
    assert "usage: ivrc" in run.err


# lint - (stdin)

def test_lint_stdin_reports_the_given_file_name(in_repo, ivrc) -> None:
    flow = (REPO / ERRORS).read_bytes()
    run = ivrc("lint", "-", "--stdin-filename", "flows/pizza.yaml", stdin=flow)
    assert run.code == 1
    assert run.out.startswith(ERROR_HEAD.replace(ERRORS, "flows/pizza.yaml"))
    assert f"{LINE} |     next: opening_hour" in run.out  # the source line comes from stdin too


def test_lint_stdin_default_name(ivrc) -> None:
    run = ivrc("lint", "-", stdin=(REPO / CLEAN).read_bytes())
    assert run.code == 0
    assert run.out == "All checks passed (1 file).\n"
    run = ivrc("lint", "-", stdin=b"ivrc: 1\n" + (REPO / CLEAN).read_bytes())
    assert run.code == 1
    assert run.out.startswith("<stdin>:3:1: error[IVR002] duplicate key 'ivrc'")
    assert "= note: <stdin>:1:1: 'ivrc' first defined here" in run.out


def test_lint_stdin_not_utf8(ivrc) -> None:
    run = ivrc("lint", "-", "--stdin-filename", "latin1.yaml", stdin='say: "Välkommen"\n'.encode("latin-1"))
    assert run.code == 1
    assert run.out.startswith("latin1.yaml:1:8: error[IVR006] ")


def test_lint_stdin_too_large(ivrc) -> None:
    from ivrc.compiler.loader import MAX_BYTES

    run = ivrc("lint", "-", "--stdin-filename", "huge.yaml", stdin=b"#" * (MAX_BYTES + 1))
    assert run.code == 1
    assert run.out.startswith("huge.yaml:1:1: error[IVR005] ")


# --format json

def test_json_format(in_repo, ivrc) -> None:
    # Three flows with their own ids and numbers, so no conflicts across files are added.
    warnings = f"{BROKEN}/IVR041-collect-invalid-unhandled.yaml"
    run = ivrc("lint", "--format", "json", ERRORS, warnings, CLEAN)
    assert run.code == 1
    report = json.loads(run.out)
    assert report["files"] == [ERRORS, warnings, CLEAN]
    assert report["summary"] == {"errors": 1, "warnings": 1, "files": 3}
    found = [(d["file"], d["code"], d["severity"], d["line"], d["column"]) for d in report["diagnostics"]]
    assert found == [(path, code, CODES[code].severity, line, column)
                     for path in (ERRORS, warnings) for code, line, column in expected(path)]
    first = report["diagnostics"][0]
    assert first["name"] == "unknown-state"
    assert first["message"] == "state 'opening_hour' is not defined; did you mean 'opening_hours'?"
    assert first["end_column"] == COLUMN + len("opening_hour")
    assert first["related"] == [{"message": "in state 'welcome'", "file": ERRORS, "line": LINE - 2, "column": 3,
                                 "end_line": LINE - 2, "end_column": 10}]


def test_json_format_clean(in_repo, ivrc) -> None:
    run = ivrc("lint", "--format", "json", CLEAN)
    assert run.code == 0
    assert json.loads(run.out) == {"files": [CLEAN], "diagnostics": [],
                                   "summary": {"errors": 0, "warnings": 0, "files": 1}}


# compile

def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_compile_to_file(tmp_path: Path, in_repo, ivrc) -> None:
    out = tmp_path / "support.json"
    run = ivrc("compile", CLEAN, "-o", str(out))
    assert run.code == 0
    assert run.out == ""
    machine = json.loads(out.read_text(encoding="utf-8"))
    assert machine["flow"] == "support"
    assert re.fullmatch(rf"wrote {re.escape(str(out))} \(flow support, version {machine['version']}, "
                        rf"{len(machine['states'])} states\)\n", run.err)
    assert _only(tmp_path) == ["support.json"]  # no temporary file left beside it


def test_compile_with_errors_writes_nothing(tmp_path: Path, in_repo, ivrc) -> None:
    out = tmp_path / "pizza.json"
    run = ivrc("compile", ERRORS, "-o", str(out))
    assert run.code == 1
    assert run.out == ""
    assert run.err.startswith(ERROR_HEAD)
    assert not out.exists()
    assert _only(tmp_path) == []


def test_compile_with_errors_keeps_the_previous_machine(tmp_path: Path, in_repo, ivrc) -> None:
    out = tmp_path / "pizza.json"
    out.write_text('{"previous": true}\n')
    assert ivrc("compile", ERRORS, "-o", str(out)).code == 1
    assert out.read_text() == '{"previous": true}\n'
    assert _only(tmp_path) == ["pizza.json"]


def test_compile_with_warnings_compiles_and_shows_them(tmp_path: Path, in_repo, ivrc) -> None:
    out = tmp_path / "pizza.json"
    run = ivrc("compile", WARNINGS_ONLY, "-o", str(out))
    assert run.code == 0
    assert "warning[IVR030]" in run.err
    assert json.loads(out.read_text())["flow"] == "pizza"


def test_compile_to_stdout(in_repo, ivrc) -> None:
    for argv in (("compile", CLEAN), ("compile", CLEAN, "-o", "-")):
        run = ivrc(*argv)
        assert run.code == 0
        assert json.loads(run.out)["flow"] == "support"
        assert run.err == ""


def test_compile_missing_file_exits_2(ivrc) -> None:
    run = ivrc("compile", "no-such-flow.yaml")
    assert run.code == 2
    assert "no-such-flow.yaml" in run.err


def test_compile_into_missing_folder_exits_2(tmp_path: Path, in_repo, ivrc) -> None:
    run = ivrc("compile", CLEAN, "-o", str(tmp_path / "missing" / "support.json"))
    assert run.code == 2
    assert "does not exist" in run.err


# explain and --version

@pytest.mark.parametrize("asked", ["IVR020", "ivr020", "unknown-state"])
def test_explain(asked: str, ivrc) -> None:
    run = ivrc("explain", asked)
    assert run.code == 0
    code = CODES["IVR020"]
    assert run.out.startswith("IVR020 unknown-state (error)\n")
    for part in (code.summary, code.why, code.fix):
        assert part in run.out
    # The example and its fix, indented as code.
    assert "\nExample:\n" in run.out
    for line in code.example.rstrip().splitlines() + code.fixed.rstrip().splitlines():
        assert "    " + line in run.out


def test_explain_every_code(ivrc) -> None:
    for code in CODES.values():
        run = ivrc("explain", code.code)
        assert run.code == 0 and run.out.startswith(f"{code.code} {code.name} ({code.severity})")


def test_explain_unknown_code_exits_2(ivrc) -> None:
    run = ivrc("explain", "IVR999")
    assert run.code == 2
    assert run.out == ""
    assert "unknown code 'IVR999'" in run.err
    assert "IVR020" in run.err  # says what a code looks like


def test_version(ivrc) -> None:
    run = ivrc("--version")
    assert run.code == 0
    assert re.fullmatch(r"ivrc \S+\n", run.out)


# a real process

def test_process_exit_codes_and_output() -> None:
    clean = run_process("lint", CLEAN)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, b"All checks passed (1 file).\n", b"")
    broken = run_process("lint", ERRORS)
    assert broken.returncode == 1
    assert broken.stdout.decode().startswith(ERROR_HEAD)
    assert run_process("lint", "--strict", WARNINGS_ONLY).returncode == 1
    assert run_process("lint", WARNINGS_ONLY).returncode == 0
    missing = run_process("lint", "nowhere.yaml")
    assert missing.returncode == 2 and b"nowhere.yaml" in missing.stderr
    assert run_process("frobnicate").returncode == 2
    version = run_process("--version")
    assert version.returncode == 0 and version.stdout.startswith(b"ivrc ")


def test_process_lint_stdin() -> None:
    done = run_process("lint", "-", "--stdin-filename", "pizza.yaml", stdin=(REPO / ERRORS).read_bytes())
    assert done.returncode == 1
    assert done.stdout.decode().startswith(ERROR_HEAD.replace(ERRORS, "pizza.yaml"))


def test_process_compile_with_errors_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "pizza.json"
    done = run_process("compile", ERRORS, "-o", str(out))
    assert done.returncode == 1
    assert _only(tmp_path) == []


# The newcomer from the issue: copies an example, mistypes one state name, and runs lint. The very
# first line must say where the mistake is and what was meant.

@pytest.mark.parametrize("original, typo", [
    ("    next: check_hours\n", "    next: check_hour\n"),  # the only way on from the start state
    ("        3: voicemail\n", "        3: voicemial\n"),  # a menu option
    ("      exhausted: goodbye\n", "      exhausted: goodby\n"),
])
def test_newcomer_typo_first_line_says_where_and_what(original: str, typo: str, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "support.yaml", tmp_path / "support.yaml")
    text = (tmp_path / "support.yaml").read_text(encoding="utf-8")
    assert text.count(original) == 1
    text = text.replace(original, typo)
    (tmp_path / "support.yaml").write_text(text, encoding="utf-8")
    line = text[: text.index(typo)].count("\n") + 1
    name = typo.split(":")[1].strip()
    column = typo.index(name) + 1
    meant = original.split(":")[1].strip()

    done = run_process("lint", "support.yaml", cwd=tmp_path)
    assert done.returncode == 1
    first = done.stdout.decode("utf-8").splitlines()[0]
    assert first.startswith(f"support.yaml:{line}:{column}: error[IVR020] "), first
    assert f"did you mean '{meant}'?" in first, first
