"""Diagnostics for people and programs: text with the source line and a caret, or JSON."""
from __future__ import annotations

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
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None


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
