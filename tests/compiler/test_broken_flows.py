"""Broken flows in, exact diagnostics out; every example flow lints clean.

Each file in tests/flows/broken/ holds one kind of mistake and says, in its header, every
diagnostic it must produce:

    # expect: IVR020 12:11

(code, then 1-based line:column). Warnings count too, and a diagnostic reported twice at one
place must be listed twice. A subfolder is one case whose files
are linted together (for the checks across files, IVR100 and IVR101); each file lists its
own expectations. A file name starts with the code it demonstrates.

Some input cannot carry a header or should not be committed: a file over 1 MiB (IVR005), bytes
that are not UTF-8 (IVR006) and a truly empty file (IVR008). Those cases are written into
tmp_path by the tests below (GENERATED).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest

from ivrc.compiler.codes import CODES
from ivrc.compiler.loader import MAX_BYTES
from ivrc.compiler.project import check_paths, is_flow_file

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "flows" / "broken"
EXAMPLES = REPO / "examples"

EXPECT = re.compile(r"#\s*expect:\s*(?P<code>IVR\d{3})\s+(?P<line>\d+):(?P<column>\d+)\s*")
NAMED_CODES = re.compile(r"IVR\d{3}")

Expectation = tuple[str, str, int, int]  # file (relative to the repo), code, line, column


def broken_cases() -> list[Path]:
    """Flow files directly in tests/flows/broken/, and its subfolders (each one case)."""
    return sorted(p for p in BROKEN.iterdir() if p.is_dir() or is_flow_file(p.name))


def case_files(case: Path) -> list[Path]:
    if case.is_dir():
        return sorted(p for p in case.rglob("*") if p.is_file() and is_flow_file(p.name))
    return [case]


def _rel(path: str | Path) -> str:
    return Path(path).resolve().relative_to(REPO).as_posix()


def expectations(file: Path) -> list[Expectation]:
    """The `# expect:` lines of a file. A line that starts like one but does not parse is an error."""
    found = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not re.match(r"#\s*expect", stripped):
            continue
        match = EXPECT.fullmatch(stripped)
        if match is None:
            raise AssertionError(f"{_rel(file)}:{number}: malformed expectation {stripped!r}; "
                                 "write it as '# expect: IVR020 12:11'")
        code = match["code"]
        if code not in CODES:
            raise AssertionError(f"{_rel(file)}:{number}: {code} is not a registered code")
        found.append((_rel(file), code, int(match["line"]), int(match["column"])))
    return found


def _describe(diagnostic) -> str:
    d = diagnostic
    return f"{_rel(d.span.file)}:{d.span.line}:{d.span.column}: {d.code} {d.message}"


def _lint(paths: list[Path]) -> tuple[Counter, dict[Expectation, str]]:
    results = check_paths([str(p) for p in paths])
    actual: Counter = Counter()
    text: dict[Expectation, str] = {}
    for result in results:
        for d in result.diagnostics:
            key = (_rel(d.span.file), d.code, d.span.line, d.span.column)
            actual[key] += 1
            text[key] = _describe(d)
    return actual, text


def _assert_same(expected: Counter, actual: Counter, text: dict[Expectation, str]) -> None:
    missing = expected - actual
    unexpected = actual - expected
    lines = []
    for file, code, line, column in sorted(missing):
        lines.append(f"  missing:    {file}:{line}:{column}: {code}")
    for key in sorted(unexpected):
        lines.append(f"  unexpected: {text[key]}")
    assert not lines, "diagnostics differ from the `# expect:` lines:\n" + "\n".join(lines)


@pytest.mark.parametrize("case", broken_cases(), ids=lambda p: p.name)
def test_broken_flow_reports_exactly_what_it_expects(case: Path) -> None:
    files = case_files(case)
    expected = Counter(e for f in files for e in expectations(f))
    assert expected, f"{_rel(case)} has no `# expect:` lines; a broken example must expect something"
    named = set(NAMED_CODES.findall(case.name))
    assert named, f"{case.name}: name a broken example after the code it shows, e.g. IVR020-unknown-state.yaml"
    assert named <= {code for _, code, _, _ in expected}, (
        f"{case.name} is named after {', '.join(sorted(named))} but does not expect it")
    actual, text = _lint([case])
    _assert_same(expected, actual, text)


@pytest.mark.parametrize("case", broken_cases(), ids=lambda p: p.name)
def test_broken_flow_compiles_only_without_errors(case: Path) -> None:
    """A file with an error yields no machine; a file with only warnings still compiles."""
    for result in check_paths([str(case)], compile=True):
        if result.errors:
            assert result.machine is None, f"{result.file} has errors but compiled"
        else:
            assert result.machine is not None, f"{result.file} has only warnings but did not compile"


@pytest.mark.parametrize("case", [c for c in broken_cases() if c.is_file()], ids=lambda p: p.name)
def test_windows_line_endings_report_the_same_places(case: Path, tmp_path: Path) -> None:
    copy = tmp_path / case.name
    copy.write_bytes(case.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    expected = Counter((code, line, column) for _, code, line, column in expectations(case))
    actual = Counter((d.code, d.span.line, d.span.column) for r in check_paths([str(copy)]) for d in r.diagnostics)
    assert actual == expected


# Cases for codes whose input is generated rather than committed: code -> writer(tmp_path) -> the
# file and what it must report.

def _too_large(tmp_path: Path) -> tuple[Path, list[tuple[str, int, int]]]:
    path = tmp_path / "huge.yaml"
    filler = "# " + "x" * 78 + "\n"
    path.write_text("ivrc: 1\n" + filler * (MAX_BYTES // len(filler) + 1), encoding="utf-8")
    assert path.stat().st_size > MAX_BYTES
    return path, [("IVR005", 1, 1)]


def _latin1(tmp_path: Path) -> tuple[Path, list[tuple[str, int, int]]]:
    # Saved by an editor set to Latin-1: 'ä' is the single byte 0xe4, which UTF-8 cannot decode.
    path = tmp_path / "swedish.yaml"
    path.write_bytes('ivrc: 1\nflow: pizza\nstart: welcome\nstates:\n  welcome:\n'
                     '    say: "Välkommen till Luigi\'s Pizza."\n    hangup: true\n'.encode("latin-1"))
    return path, [("IVR006", 6, 12)]


def _nul(tmp_path: Path) -> tuple[Path, list[tuple[str, int, int]]]:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"ivrc: 1\nflow: pizza\n\x00\x01\x02\n")
    return path, [("IVR006", 3, 1)]


def _empty(tmp_path: Path) -> tuple[Path, list[tuple[str, int, int]]]:
    path = tmp_path / "new.yaml"
    path.write_bytes(b"")
    return path, [("IVR008", 1, 1)]


def _blank(tmp_path: Path) -> tuple[Path, list[tuple[str, int, int]]]:
    path = tmp_path / "blank.yaml"
    path.write_bytes(b"\xef\xbb\xbf\n   \n\n")  # a byte-order mark and blank lines
    return path, [("IVR008", 1, 1)]


GENERATED: dict[str, list[Callable[[Path], tuple[Path, list[tuple[str, int, int]]]]]] = {
    "IVR005": [_too_large],
    "IVR006": [_latin1, _nul],
    "IVR008": [_empty, _blank],
}


@pytest.mark.parametrize("make", [m for makers in GENERATED.values() for m in makers], ids=lambda m: m.__name__)
def test_generated_unreadable_input(make, tmp_path: Path) -> None:
    path, expected = make(tmp_path)
    (result,) = check_paths([str(path)])
    actual = sorted((d.code, d.span.line, d.span.column) for d in result.diagnostics)
    assert actual == sorted(expected), [d.message for d in result.diagnostics]
    assert all(d.span.file == str(path) for d in result.diagnostics)


def test_every_code_has_a_broken_example() -> None:
    """Adding a diagnostic code without a broken example that produces it fails here."""
    covered = {code for case in broken_cases() for f in case_files(case) for _, code, _, _ in expectations(f)}
    covered |= set(GENERATED)
    missing = sorted(set(CODES) - covered)
    assert not missing, ("no broken example in tests/flows/broken/ expects " + ", ".join(missing)
                         + "; add one named like IVR020-unknown-state.yaml")


def test_generated_cases_are_only_for_registered_codes() -> None:
    assert set(GENERATED) <= set(CODES)


def example_flows() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if is_flow_file(p.name))


def test_there_are_examples() -> None:
    assert len(example_flows()) >= 5


@pytest.mark.parametrize("example", example_flows(), ids=lambda p: p.name)
def test_example_lints_clean(example: Path) -> None:
    (result,) = check_paths([str(example)], compile=True)
    assert [_describe(d) for d in result.diagnostics] == []
    assert result.machine is not None


def test_examples_lint_clean_together() -> None:
    """All examples served together: no number or flow id claimed twice."""
    results = check_paths([str(EXAMPLES)])
    assert [_describe(d) for r in results for d in r.diagnostics] == []
    assert {_rel(r.file) for r in results} == {_rel(p) for p in example_flows()}
