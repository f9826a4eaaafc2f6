"""Diagnostics for people and programs: text with the source line and a caret, or JSON."""
from __future__ import annotations

import functools
import json
from typing import Iterable

from .diagnostics import Diagnostic
from .pipeline import Result

_COLORS = {"error": "\033[1;31m", "warning": "\033[1;33m", "dim": "\033[2m", "bold": "\033[1m", "cyan": "\033[36m",
           "reset": "\033[0m"}


def _paint(text: str, color: str, enabled: bool) -> str:
    return f"{_COLORS[color]}{text}{_COLORS['reset']}" if enabled else text


def _source_line(result: Result, line: int) -> str | None:
    text = result.document.text if result.document is not None else result.text
    if text is None:
        return None
    lines = _lines(text)
    return lines[line - 1] if 0 < line <= len(lines) else None


@functools.lru_cache(maxsize=2)
def _lines(text: str) -> list[str]:
    # Split once per file, not once per diagnostic: 1,000 findings in a 1 MiB file split 1 GB of text.
    return text.splitlines()


def text(results: list[Result], *, color: bool = False) -> str:
    out: list[str] = []
    for result in results:
        for d in sorted(result.diagnostics, key=Diagnostic.sort_key):
            out.extend(_one(result, d, color))
    out.append(summary(results))
    return "\n".join(out) + "\n"


def one_text(result: Result, d: Diagnostic) -> str:
    """One diagnostic exactly as `ivrc lint` prints it: the message, the source line and the caret."""
    return "\n".join(_one(result, d, False)).rstrip("\n")


def _one(result: Result, d: Diagnostic, color: bool) -> list[str]:
    head = _paint(f"{d.span}:", "bold", color)
    kind = _paint(f"{d.severity.value}[{d.code}]", d.severity.value, color)
    lines = [f"{head} {kind} {d.message} ({d.name})"]
    source = _source_line(result, d.span.line)
    if source is not None:
        number = str(d.span.line)
        gutter = " " * len(number)
        width = 1
        if d.span.end_line == d.span.line and d.span.end_column > d.span.column:
            width = d.span.end_column - d.span.column
        width = max(1, min(width, len(source) - d.span.column + 1))
        lines.append(_paint(f"{gutter} |", "cyan", color))
        lines.append(_paint(f"{number} |", "cyan", color) + f" {source.expandtabs(1)}")
        lines.append(_paint(f"{gutter} |", "cyan", color) + " " * d.span.column + _paint("^" * width, d.severity.value, color))
    if d.help:
        lines.append(f"  = help: {d.help}")
    for related in d.related:
        lines.append(f"  = note: {related.span}: {related.message}")
    lines.append("")
    return lines


def counts(results: Iterable[Result]) -> tuple[int, int]:
    errors = warnings = 0
    for result in results:
        for d in result.diagnostics:
            if d.is_error:
                errors += 1
            else:
                warnings += 1
    return errors, warnings


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(results: list[Result]) -> str:
    errors, warnings = counts(results)
    files = _plural(len(results), "file")
    if not errors and not warnings:
        return f"All checks passed ({files})."
    return f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')} in {files}."


def json_report(results: list[Result]) -> str:
    errors, warnings = counts(results)
    diagnostics = [d.to_json() for r in results for d in sorted(r.diagnostics, key=Diagnostic.sort_key)]
    return json.dumps({"files": [r.file for r in results], "diagnostics": diagnostics,
                       "summary": {"errors": errors, "warnings": warnings, "files": len(results)}}, indent=2) + "\n"


def _all(results: list[Result]):
    for result in results:
        for d in sorted(result.diagnostics, key=Diagnostic.sort_key):
            yield result, d


def concise(results: list[Result]) -> str:
    """One greppable line per diagnostic."""
    lines = [f"{d.span}: {d.severity.value}[{d.code}] {d.message}" for _, d in _all(results)]
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def _gh_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(value: str) -> str:
    return _gh_data(value).replace(":", "%3A").replace(",", "%2C")


def github(results: list[Result]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on its line."""
    lines = []
    for _, d in _all(results):
        kind = "error" if d.is_error else "warning"
        props = (f"file={_gh_property(d.span.file)},line={d.span.line},col={d.span.column},"
                 f"endLine={d.span.end_line or d.span.line},endColumn={d.span.end_column or d.span.column},"
                 f"title={_gh_property(f'{d.code} {d.name}')}")
        message = d.message + (f"\n{d.help}" if d.help else "")
        lines.append(f"::{kind} {props}::{_gh_data(message)}")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def sarif(results: list[Result], version: str = "0", root: str | None = None) -> str:
    """SARIF 2.1.0 for GitHub code scanning (see compiler/sarif.py)."""
    from .sarif import document

    return json.dumps(document(results, version, root), indent=2) + "\n"


def junit(results: list[Result]) -> str:
    """JUnit XML (valid under the Jenkins junit-10.xsd): a test suite per file, a test case per
    diagnostic (a failure for an error, a passing case with the text for a warning), and one
    passing case for a clean file."""
    import xml.etree.ElementTree as ET

    from .xmltext import xml_text

    root = ET.Element("testsuites", name="ivrc lint")
    total = failed = 0
    for result in results:
        diags = sorted(result.diagnostics, key=Diagnostic.sort_key)
        failing = sum(d.is_error for d in diags)
        file = xml_text(result.file)
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(max(1, len(diags))), failures=str(failing),
                              errors="0", skipped="0")
        total, failed = total + max(1, len(diags)), failed + failing
        if not diags:
            ET.SubElement(suite, "testcase", classname=file, name="ivrc lint")
        for d in diags:
            case = ET.SubElement(suite, "testcase", classname=file,
                                 name=f"{d.code} {d.name} at {d.span.line}:{d.span.column}")
            body = xml_text(f"{d.span}: {d.message}" + (f"\nhelp: {d.help}" if d.help else ""))
            if d.is_error:
                ET.SubElement(case, "failure", message=xml_text(d.message), type=d.code).text = body
            else:
                ET.SubElement(case, "system-out").text = body
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
