"""Templates in prompts, conditions and `set`: syntax, names that exist, schedules that exist."""
from __future__ import annotations

import re
from typing import Iterator

from jinja2 import TemplateAssertionError, TemplateSyntaxError

from .. import ir, walk
from ..diagnostics import Diagnostic, did_you_mean
from ..loader import Document
from ..templates import CALL_FIELDS, RESERVED, environment, template_references

TEMPLATED = ("tts", "ssml", "condition", "value")
_UNKNOWN = re.compile(r"No (filter|test) named '([^']*)'")


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    known = set(RESERVED) | set(flow.variable_map) | set(walk.collected(flow))
    schedules = flow.schedule_map
    for kind, text in walk.texts(flow):
        if kind not in TEMPLATED:
            continue
        if kind != "condition" and not text.is_template:
            continue
        try:
            refs = template_references(kind, text.source)
        except TemplateAssertionError as err:
            unknown = _UNKNOWN.match(err.message or "")
            if unknown is None:
                raise
            yield _unknown_filter(unknown.group(1), unknown.group(2), doc.locate(text.path, err.lineno or 1,
                                                                                  unknown.group(2)))
            continue
        except TemplateSyntaxError as err:
            yield Diagnostic("IVR080", f"{'condition' if kind == 'condition' else 'template'} syntax error: {err.message}",
                             doc.locate(text.path, err.lineno or 1, _syntax_needle(err.message or "", text.source)),
                             help=_syntax_help(err.message or ""))
            continue
        except RecursionError:
            yield Diagnostic("IVR080", f"the {'condition' if kind == 'condition' else 'template'} is nested too deeply "
                                       "to parse", doc.locate(text.path, 1), help="simplify the expression")
            continue
        reported: set[tuple[str, str]] = set()
        for ref in refs:
            if (ref.kind, ref.name) in reported:
                continue
            reported.add((ref.kind, ref.name))
            span = doc.locate(text.path, ref.lineno, ref.name or "is_open")
            if ref.kind == "name" and ref.name not in known:
                yield Diagnostic("IVR081", f"'{ref.name}' is not defined", span, help=_name_help(ref.name, known))
            elif ref.kind == "call-field" and ref.name not in CALL_FIELDS:
                yield Diagnostic("IVR081", f"call has no field '{ref.name}'", span,
                                 help=did_you_mean(ref.name, CALL_FIELDS, "fields")
                                 or "call has: " + ", ".join(CALL_FIELDS))
            elif ref.kind == "schedule" and ref.name not in schedules:
                yield Diagnostic("IVR023", f"is_open('{ref.name}') names no schedule under `hours:`", span,
                                 help=did_you_mean(ref.name, schedules, "schedules"))
            elif ref.kind == "bad-schedule-arg":
                yield Diagnostic("IVR023", "is_open() takes one schedule name in quotes, e.g. is_open('office')", span)


def _syntax_help(message: str) -> str | None:
    if "expected token 'end of print statement'" in message:
        return "check for a missing operator or quote; conditions are Jinja2 expressions like call.caller == '+4612345678'"
    if "unexpected '}'" in message or "unexpected end of template" in message:
        return "check that every {{ has a matching }} and every {% has a matching %}"
    return None


def _unknown_filter(what: str, name: str, span) -> Diagnostic:
    """Jinja2 finds an unknown filter or test only when compiling; on a call it would fail every time."""
    known = environment().filters if what == "filter" else environment().tests
    usage = f"| {name}" if what == "filter" else f"is {name}"
    return Diagnostic("IVR082", f"there is no {what} named '{name}' (in `{usage}`)", span,
                      help=did_you_mean(name, [k for k in known if k.isidentifier()], f"{what}s")
                      or f"the {what}s are Jinja2's built-in ones, e.g. "
                      + (", ".join(("int", "upper", "lower", "replace", "length", "default")) if what == "filter"
                         else ", ".join(("defined", "number", "string", "divisibleby"))))


_GOT = re.compile(r"(?:unexpected|got) '([^']+)'")


def _syntax_needle(message: str, source: str) -> str | None:
    """The text Jinja2 stumbled on, to point at it; an unclosed tag is pointed at where it opens."""
    found = _GOT.search(message)
    if found and found.group(1) in source:
        return found.group(1)
    if "unexpected end of template" in message:
        opened = max(source.rfind("{{"), source.rfind("{%"))
        return source[opened:opened + 2] if opened >= 0 else None
    return None


def _name_help(name: str, known: set[str]) -> str:
    """A call field written without `call.` is the likeliest slip; then a misspelling; then what exists."""
    if name in CALL_FIELDS:
        return f"did you mean 'call.{name}'? The call's fields are read through `call`"
    return (did_you_mean(name, known, "names")
            or f"declare it under `variables:`, or use one of {', '.join(RESERVED)}")
