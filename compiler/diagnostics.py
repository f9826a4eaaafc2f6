"""Diagnostics: what the compiler found, where, and how to fix it."""
from __future__ import annotations

import contextlib
import contextvars
import enum
from dataclasses import dataclass, field
from typing import Iterator

from .codes import CODES


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Span:
    """A place in a source file; line and column are 1-based, end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line or self.line,
            "end_column": self.end_column or self.column,
        }


@dataclass(frozen=True)
class Related:
    """A second place that explains the first ("first defined here")."""

    span: Span
    message: str

    def to_json(self) -> dict:
        return {"message": self.message, **self.span.to_json()}


@dataclass(frozen=True)
class Diagnostic:
    """One finding. The code never changes meaning once released."""

    code: str
    message: str
    span: Span
    help: str | None = None
    related: tuple[Related, ...] = ()
    severity: Severity = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise KeyError(f"unregistered diagnostic code {self.code}")
        if self.severity is None:
            object.__setattr__(self, "severity", Severity(CODES[self.code].severity))

    @property
    def name(self) -> str:
        return CODES[self.code].name

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "help": self.help,
            **self.span.to_json(),
            "related": [r.to_json() for r in self.related],
        }


# Names compared per checked file for "did you mean" lines. Each misspelt name is compared with
# every known name, so a flow of n states all naming unknown states costs n * n comparisons (a
# 128 KiB flow took 54 s); past the budget, help lines simply stop suggesting. Real flows use a
# few hundred comparisons.
SUGGESTION_BUDGET = 200_000
_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("suggestion_budget")


@contextlib.contextmanager
def suggestion_budget(comparisons: int = SUGGESTION_BUDGET) -> Iterator[None]:
    """Bounds the "did you mean" work of everything checked inside the block."""
    token = _budget.set([comparisons])
    try:
        yield
    finally:
        _budget.reset(token)


def _spend(comparisons: int) -> bool:
    left = _budget.get(None)
    if left is None:  # outside a checked file (a single CLI message): one lookup is cheap
        return True
    if left[0] < comparisons:
        return False
    left[0] -= comparisons
    return True


def suggest(word: str, choices) -> str | None:
    """The closest known name to a misspelt one, for a "did you mean" help line."""
    import difflib

    if not _spend(len(choices)):
        return None
    matches = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices, what: str = "") -> str | None:
    best = suggest(word, choices)
    if best is not None:
        return f"did you mean '{best}'?"
    if choices and len(choices) <= 8:
        return f"known {what or 'names'}: " + ", ".join(sorted(choices))
    return None
