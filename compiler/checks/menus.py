"""Menus and digit collection: handlers for silence and wrong keys, keywords, digit limits, patterns."""
from __future__ import annotations

import re
from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic, Related
from ..digitpattern import PatternError, compile_pattern
from ..graph import retries
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for state in flow.states:
        action = state.action
        if isinstance(action, (ir.Menu, ir.Collect)):
            kind = "menu" if isinstance(action, ir.Menu) else "collect"
            where = doc.span(state.path + (kind,), key=True)
            if action.no_input is None:
                yield Diagnostic("IVR040", f"the {kind} in state '{state.name}' does not say what happens when the caller is silent",
                                 where, help="add `no_input: {say: \"Sorry, I didn't hear anything.\"}` or a state to go to")
            if action.invalid is None:
                yield Diagnostic("IVR041", f"the {kind} in state '{state.name}' does not say what happens on a wrong key",
                                 where, help="add `invalid: {say: \"Sorry, that is not an option.\"}` or a state to go to")
        if isinstance(action, (ir.Menu, ir.Collect)) and action.exhausted is not None and not retries(action):
            yield Diagnostic("IVR048", f"'exhausted' in state '{state.name}' never happens: both no_input and invalid "
                                       "go to another state, so the caller never runs out of attempts",
                             doc.span(action.exhausted.path, key=True),
                             help="remove `exhausted`, or let no_input or invalid ask again (a `say` without "
                                  "`goto`) so attempts can run out")
        if isinstance(action, ir.Menu):
            yield from _keywords(state, action, doc)
        if isinstance(action, ir.Collect):
            yield from _digits(state, action, doc)


def _keywords(state: ir.State, menu: ir.Menu, doc: Document) -> Iterator[Diagnostic]:
    seen: dict[str, ir.Option] = {}
    for option in menu.options:
        for word in option.keywords:
            folded = word.strip().casefold()
            if folded in seen and seen[folded] is not option:
                yield Diagnostic("IVR043", f"the keyword '{word}' is used by the options for keys {seen[folded].key} and {option.key}",
                                 doc.span(option.path + ("keywords",)),
                                 related=(Related(doc.span(seen[folded].path + ("keywords",)), "first used here"),))
            seen.setdefault(folded, option)


def _digits(state: ir.State, collect: ir.Collect, doc: Document) -> Iterator[Diagnostic]:
    if collect.min_digits > collect.max_digits:
        yield Diagnostic("IVR044", f"min_digits ({collect.min_digits}) is more than max_digits ({collect.max_digits})",
                         doc.span(collect.path + ("min_digits",)), help="make min_digits at most max_digits")
    if collect.pattern is None:
        return
    try:
        compiled = re.compile(collect.pattern)
    except re.error as err:
        yield Diagnostic("IVR045", f"the pattern is not a valid regular expression: {err.msg}",
                         doc.span(collect.path + ("pattern",)), help="patterns use Python regular expression syntax")
        return
    except RecursionError:
        yield Diagnostic("IVR045", "the pattern is nested too deeply to compile", doc.span(collect.path + ("pattern",)),
                         help="simplify the regular expression")
        return
    try:
        compile_pattern(collect.pattern)
    except PatternError as err:
        yield Diagnostic("IVR046", f"the pattern cannot be matched in linear time: {err}",
                         doc.span(collect.path + ("pattern",)),
                         help="callers choose the digits; write the alternatives out, or check them in a `branch:`")
        return
    low, high = _width(compiled)
    if high < collect.min_digits or low > collect.max_digits:
        yield Diagnostic("IVR044", f"the pattern '{collect.pattern}' matches {low} to {high} characters, but callers type "
                                   f"{collect.min_digits} to {collect.max_digits} digits", doc.span(collect.path + ("pattern",)),
                         help="make the pattern and min_digits/max_digits agree")


def _width(pattern: re.Pattern) -> tuple[int, int]:
    """The shortest and longest text a pattern can match (anchors have no width)."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - older Pythons
        import sre_parse as parser  # type: ignore[no-redef]
    low, high = parser.parse(pattern.pattern).getwidth()
    return low, high
