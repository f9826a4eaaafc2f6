"""Digit patterns that no keyed input can match: letters, `#`, or lengths outside min/max_digits."""
from __future__ import annotations

from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic
from ..keyed import keyed_lengths, unkeyable
from ..loader import Document

LONGEST = 32  # max_digits is at most 32 (schemas/flow.schema.json)


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for state in flow.states:
        collect = state.action
        if not isinstance(collect, ir.Collect) or collect.pattern is None or collect.min_digits > collect.max_digits:
            continue
        # Up to the language's longest collection, so the message can say which lengths do match.
        lengths = keyed_lengths(collect.pattern, LONGEST)
        if lengths is None or any(collect.min_digits <= n <= collect.max_digits for n in lengths):
            continue
        if _width_mismatch(collect):
            continue  # IVR044 already says the lengths disagree: one mistake, one error
        where = doc.span(collect.path + ("pattern",))
        strange = unkeyable(collect.pattern)
        if strange:
            shown = ", ".join(f"'{c}'" for c in strange)
            hash_note = " `#` ends the input and is never part of it." if "#" in strange else ""
            yield Diagnostic("IVR047", f"no keyed input can match the pattern '{collect.pattern}': it needs {shown}, "
                                       "which a caller cannot key", where,
                             help=f"callers key only the digits 0-9 and *.{hash_note} Write the pattern over those keys")
        elif lengths:
            yield Diagnostic("IVR047", f"the pattern '{collect.pattern}' matches keyed input of "
                                       f"{_lengths(lengths)} keys, but this collects {collect.min_digits} to "
                                       f"{collect.max_digits}", where, help="make the pattern and min_digits/max_digits agree")
        else:
            yield Diagnostic("IVR047", f"no keyed input can match the pattern '{collect.pattern}'", where,
                             help="callers key only the digits 0-9 and *, never letters; check the character classes")


def _width_mismatch(collect: ir.Collect) -> bool:
    import re

    if collect.pattern is None:  # check() looks only at collections with a pattern
        return False
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover
        import sre_parse as parser  # type: ignore[no-redef]
    try:
        low, high = parser.parse(re.compile(collect.pattern).pattern).getwidth()
    except Exception:
        return False
    return high < collect.min_digits or low > collect.max_digits


def _lengths(lengths: set[int]) -> str:
    ordered = sorted(lengths)
    return ", ".join(map(str, ordered[:-1])) + f" or {ordered[-1]}" if len(ordered) > 1 else str(ordered[0])
