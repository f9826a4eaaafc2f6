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


def sarif(results: list[Result], version: str = "0") -> str:
    """SARIF 2.1.0, with a rule for each code present, for GitHub code scanning."""
    from .codes import CODES

    found = [(r, d) for r, d in _all(results)]
    codes = sorted({d.code for _, d in found})
    index = {code: i for i, code in enumerate(codes)}
    rules = [{
        "id": code,
        "name": CODES[code].name,
        "shortDescription": {"text": CODES[code].summary},
        "fullDescription": {"text": CODES[code].why},
        "help": {"text": CODES[code].fix},
        "defaultConfiguration": {"level": CODES[code].severity},
    } for code in codes]

    def location(span, message=None):
        out = {"physicalLocation": {
            "artifactLocation": {"uri": span.file.replace("\\", "/")},
            "region": {"startLine": span.line, "startColumn": span.column,
                       "endLine": span.end_line or span.line, "endColumn": span.end_column or span.column}}}
        if message:
            out["message"] = {"text": message}
        return out

    sarif_results = []
    for _, d in found:
        item = {"ruleId": d.code, "ruleIndex": index[d.code], "level": d.severity.value,
                "message": {"text": d.message + (f" ({d.help})" if d.help else "")},
                "locations": [location(d.span)]}
        if d.related:
            item["relatedLocations"] = [dict(location(r.span, r.message), id=i) for i, r in enumerate(d.related)]
        sarif_results.append(item)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "ivrc", "version": version, "rules": rules}},
                  "results": sarif_results}],
    }
    return json.dumps(document, indent=2) + "\n"


def junit(results: list[Result]) -> str:
    """JUnit XML: a test suite per file, a failing test case per error, a passing one for a clean file."""
    from xml.sax.saxutils import escape, quoteattr

    errors, warnings = counts(results)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="ivrc lint" tests="{max(1, errors + warnings)}" failures="{errors}">']
    for result in results:
        diags = sorted(result.diagnostics, key=Diagnostic.sort_key)
        failing = [d for d in diags if d.is_error]
        out.append(f'  <testsuite name={quoteattr(result.file)} tests="{max(1, len(diags))}" failures="{len(failing)}">')
        if not diags:
            out.append(f'    <testcase classname={quoteattr(result.file)} name="ivrc lint"/>')
        for d in diags:
            name = quoteattr(f"{d.code} {d.name} at {d.span.line}:{d.span.column}")
            out.append(f"    <testcase classname={quoteattr(result.file)} name={name}>")
            body = escape(f"{d.span}: {d.message}" + (f"\nhelp: {d.help}" if d.help else ""))
            if d.is_error:
                out.append(f"      <failure message={quoteattr(d.message)} type={quoteattr(d.code)}>{body}</failure>")
            else:
                out.append(f"      <system-out>{body}</system-out>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"
