"""Suppressing diagnostics: comments in a flow file, and --select/--ignore on the command line."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from .codes import BY_NAME
from .diagnostics import Diagnostic

# `# ivrc: ignore IVR040` (or several, comma-separated, by code or name) on the finding's line or
# the line above; `# ivrc: ignore-file IVR030` anywhere silences a code in the whole file.
_COMMENT = re.compile(r"#\s*ivrc:\s*(ignore-file|ignore)\b\s*\[?([A-Za-z0-9_, -]*)\]?")


def _codes(text: str) -> set[str]:
    found = set()
    for word in re.split(r"[,\s]+", text.strip()):
        if not word:
            continue
        code = BY_NAME[word.lower()].code if word.lower() in BY_NAME else word.upper()
        found.add(code)
    return found


def suppressions(text: str) -> tuple[dict[int, set[str]], set[str]]:
    """Codes ignored per line (1-based; a comment covers its own line and the next) and file-wide."""
    by_line: dict[int, set[str]] = {}
    whole_file: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if "ivrc:" not in line:
            continue
        for kind, names in _COMMENT.findall(line):
            codes = _codes(names)
            if kind == "ignore-file":
                whole_file |= codes
            else:
                for target in (number, number + 1):
                    by_line.setdefault(target, set()).update(codes)
    return by_line, whole_file


def apply_comments(diagnostics: list[Diagnostic], text: str | None) -> list[Diagnostic]:
    """Warnings a comment names are dropped; errors stay, with help saying why the comment did not silence them.

    An error means the flow cannot compile or would fail calls (an unknown state, a park Sinch
    refuses, a budget Sinch would exceed), so no comment may wave it into a served machine."""
    if not text or "ivrc:" not in text:
        return diagnostics
    by_line, whole_file = suppressions(text)
    kept = []
    for d in diagnostics:
        if d.code not in whole_file and d.code not in by_line.get(d.span.line, ()):
            kept.append(d)
        elif d.is_error:
            why = (f"a `# ivrc: ignore` comment names {d.code}, but an error cannot be silenced: the flow "
                   "would not compile, or its calls would fail. Fix the cause")
            kept.append(replace(d, help=f"{d.help}; {why}" if d.help else why))
    return kept


def matches(code: str, patterns: Iterable[str]) -> bool:
    """A code matches a pattern that is its code, a prefix of it (IVR04), or its name."""
    from .codes import CODES

    name = CODES[code].name
    return any(code.startswith(p.upper()) or name == p.lower() for p in patterns)


def select(diagnostics: list[Diagnostic], chosen: Iterable[str] = (), ignored: Iterable[str] = ()) -> list[Diagnostic]:
    chosen, ignored = list(chosen), list(ignored)
    return [d for d in diagnostics
            if (not chosen or matches(d.code, chosen)) and not (ignored and matches(d.code, ignored))]
