"""Flow files as they arrive from editors, other systems and attackers: what tests/compiler does not cover.

tests/compiler/test_properties.py throws arbitrary text, bytes and data at the compiler and times
the classic bombs. Here: files saved in another encoding or with other line endings (they must
give a clear diagnostic, or the same flow), and the memory the worst inputs take, measured with
tracemalloc against a stated ceiling, through every door a flow comes in by (text, bytes, a file,
`ivrc lint -` on standard input).
"""
from __future__ import annotations

import io
import sys
import tracemalloc
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relykit import EXAMPLES, REPO, fuzz_script

from ivrc import compiler
from ivrc.compiler.loader import MAX_DEPTH
from ivrc.compiler.project import is_flow_file

FLOWS = sorted(p for p in EXAMPLES.iterdir() if is_flow_file(p.name))
BROKEN = sorted(p for p in (REPO / "tests" / "flows" / "broken").iterdir() if p.is_file() and is_flow_file(p.name))


def _utf8(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


TEXTS = {p.name: t for p in FLOWS + BROKEN if (t := _utf8(p)) is not None}
EXAMPLE_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in FLOWS}

MEMORY_CEILING = 256 * 1024 * 1024  # bytes of Python allocations for one file: 256x the 1 MiB input cap


def _positions(result) -> list[tuple[str, int, int]]:
    return sorted((d.code, d.span.line, d.span.column) for d in result.diagnostics)


# -- encodings ----------------------------------------------------------------------------------

OTHER_ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "latin-1", "cp1252", "mac-roman"]


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(EXAMPLE_TEXTS)), encoding=st.sampled_from(OTHER_ENCODINGS + ["utf-8-sig"]))
def test_a_flow_saved_in_another_encoding_is_the_same_flow_or_one_clear_diagnostic(name: str, encoding: str) -> None:
    text = EXAMPLE_TEXTS[name]
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode(encoding, "replace")
    result = compiler.check_bytes(raw, name)
    if raw == text.encode("utf-8") or encoding == "utf-8-sig":  # ASCII-only text is the same bytes in Latin-1
        assert result.ok and result.flow == compiler.check_text(text, name).flow
        return
    assert [d.code for d in result.diagnostics] == ["IVR006"], _positions(result)
    [diagnostic] = result.diagnostics
    assert diagnostic.span.file == name and diagnostic.span.line >= 1 and diagnostic.span.column >= 1
    assert "UTF-8" in (diagnostic.help or "") or "text" in diagnostic.message


def test_latin1_points_at_the_first_byte_that_is_not_utf8() -> None:
    text = EXAMPLE_TEXTS["multilingual.yaml"]
    first = min(i for i, ch in enumerate(text) if ord(ch) > 127)
    line = text.count("\n", 0, first) + 1
    result = compiler.check_bytes(text.encode("latin-1", "replace"), "m.yaml")
    assert _positions(result) == [("IVR006", line, first - text.rfind("\n", 0, first))]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_ivrc_lint_reports_an_encoding_as_a_problem_not_a_failure(tmp_path: Path, capsys, encoding: str) -> None:
    from ivrc.cli import main

    path = tmp_path / "flow.yaml"
    path.write_bytes(EXAMPLE_TEXTS["multilingual.yaml"].encode(encoding))
    assert main(["lint", str(path)]) == 1  # 1: problems found; 2 would be the tool failing
    out = capsys.readouterr().out
    assert "IVR006" in out and "UTF-8" in out


# -- line endings -------------------------------------------------------------------------------


def _with_endings(text: str, pick: Callable[[], str]) -> str:
    out: list[str] = []
    lines = text.split("\n")
    for line in lines[:-1]:
        ending = pick()
        if out and out[-1].endswith("\r") and not line and ending == "\n":
            ending = "\r\n"  # CR then an empty line's LF would read as one CR LF break
        out.append(line + ending)
    return "".join(out) + lines[-1]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), endings=st.sampled_from([["\r\n"], ["\r"], ["\n", "\r\n"],
                                                                      ["\n", "\r\n", "\r"]]), seed=st.randoms())
@pytest.mark.slow
def test_mixed_line_endings_give_the_same_findings_at_the_same_places(name: str, endings: list[str], seed) -> None:
    """Regression (lone CR): a template finding inside a block scalar pointed lines away from the others."""
    text = TEXTS[name]
    mixed = _with_endings(text, lambda: seed.choice(endings))
    assert _positions(compiler.check_text(mixed, name)) == _positions(compiler.check_text(text, name))
    if name in EXAMPLE_TEXTS:
        assert compiler.compile_text(mixed, name).machine == compiler.compile_text(text, name).machine


# -- nesting at the limit -----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["flow-list", "flow-map", "block-map", "block-list"])
def test_nesting_is_refused_exactly_past_the_limit(style: str) -> None:
    def nested(levels: int) -> str:  # a value `levels` deep under a top-level key
        if style == "flow-list":
            return "a: " + "[" * levels + "x" + "]" * levels + "\n"
        if style == "flow-map":
            return "a: " + "{k: " * levels + "x" + "}" * levels + "\n"
        if style == "block-map":
            return "a:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(levels - 1)) + "  " * levels + "k: x\n"
        return "a:\n" + "".join("  " * (i + 1) + "-\n" for i in range(levels - 1)) + "  " * levels + "- x\n"

    codes = {levels: {d.code for d in compiler.check_text(nested(levels), "n.yaml").diagnostics}
             for levels in (MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 500)}
    allowed = [levels for levels, found in codes.items() if "IVR004" not in found]
    refused = [levels for levels, found in codes.items() if "IVR004" in found]
    assert allowed and refused and max(allowed) < min(refused), codes
    assert max(allowed) >= MAX_DEPTH - 2, codes  # deep enough for anything real


def test_self_referencing_aliases_are_refused() -> None:
    for text in ("a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a {<<: *a}\n", "a: &a [[[*a]]]\n"):
        result = compiler.check_text(text, "r.yaml")
        assert result.errors and result.machine is None, text


# -- memory -------------------------------------------------------------------------------------


# The worst inputs are defined once, in scripts/fuzz.py (`--worst` measures them all). The suite holds
# these to the ceiling through every door; the slowest (the merge-key bomb, 1 MiB of states) take
# seconds under tracemalloc and are measured by the script; docs/reliability.md has the figures.
IN_THE_SUITE = ["billion laughs", "10,000 nested lists", "1,000 nested block mappings",
                "a flow padded to the size limit", "a flow with 100,000 comment lines", "2 MiB", "UTF-16, 1 MiB",
                "5,000 states, CR LF"]


def _measured(run: Callable[[], object]) -> tuple[object, int]:
    """The result and the peak of Python allocations: counted bytes, not seconds, so a busy machine cannot fail it."""
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.slow
@pytest.mark.parametrize("name", IN_THE_SUITE)
def test_the_worst_inputs_stay_within_the_memory_ceiling(name: str, tmp_path: Path, monkeypatch) -> None:
    raw = fuzz_script().WORST[name]()
    path = tmp_path / "flow.yaml"
    path.write_bytes(raw)
    # Every input through the bytes door (`ivrc lint -` and the server read bytes); the cheap ones also
    # through the others, since each has its own size check. The bombs cost seconds under tracemalloc.
    doors: dict[str, Callable[[], object]] = {"bytes": lambda: compiler.check_bytes(raw, "f.yaml")}
    if name != "billion laughs":
        doors["file"] = lambda: compiler.compile_file(str(path))
    if name in ("2 MiB", "10,000 nested lists", "1,000 nested block mappings"):
        doors["text"] = lambda: compiler.compile_text(raw.decode("utf-8"), "f.yaml")
    if name == "2 MiB":
        doors["stdin"] = lambda: _lint_stdin(raw, monkeypatch)
    for door, run in doors.items():
        result, peak = _measured(run)
        assert peak < MEMORY_CEILING, f"{name} via {door}: {peak / 2**20:.0f} MiB"
        if door != "stdin":
            assert result.diagnostics or result.ok, door


def _lint_stdin(raw: bytes, monkeypatch) -> int:
    from ivrc.cli import main

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    code = main(["lint", "-"])
    output = sys.stdout.getvalue()
    monkeypatch.undo()
    assert code == 1 and "IVR005" in output
    return code
