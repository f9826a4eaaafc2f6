"""YAML's traps in the author's terms: what a parser error means in a flow, and text YAML reads otherwise than it looks."""
from __future__ import annotations

import re
from typing import Iterable

import yaml

from .diagnostics import Diagnostic, Related, Span

# A comment line that starts `#:` is almost always the menu key `#` written without quotes.
_HASH_KEY = re.compile(r"^([ \t]*)#:(?:[ \t]+(\S.*?))?\r?$", re.M)
# YAML breaks lines at CR LF, CR and LF; a lone CR made LF keeps every offset and line count.
_LONE_CR = re.compile(r"\r(?!\n)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ALIAS = re.compile(r"\*([^\s,\[\]{}]*)")
_BRACES_VALUE = re.compile(r"(?:^|[:-])[ \t]+(\{\{)")
_OPENERS = {"flow sequence": "[", "flow mapping": "{"}


def _at(file: str, mark) -> Span:
    return Span(file, mark.line + 1, mark.column + 1)


def _at_index(file: str, text: str, index: int) -> Span:
    return Span(file, text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1)


def explain(err: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    """The parser's complaint as an IVR001 that says what happened in a flow and how to fix it."""
    text = _LONE_CR.sub("\n", text)
    problem = (err.problem or "invalid YAML").strip()
    context = (err.context or "").strip()
    mark = err.problem_mark or err.context_mark
    span = _at(file, mark) if mark is not None else Span(file, 1, 1)
    char = text[mark.index] if mark is not None and mark.index < len(text) else ""
    opened = err.context_mark

    if "tab" in problem or (problem.startswith("found character that cannot start any token") and char == "\t"):
        return Diagnostic("IVR001", "a tab in the indentation: YAML indents with spaces only", span,
                          help="replace the tab with spaces (most editors can be set to insert spaces for Tab)")
    if problem.startswith("found character that cannot start any token") and char:
        return Diagnostic("IVR001", f"a value cannot start with '{char}' unless it is in quotes", span,
                          help=f"put the value in quotes: \"{char}...\"")
    if problem.startswith("found unknown escape character"):
        escape = text[mark.index:mark.index + 2] if mark is not None else "\\"
        return Diagnostic("IVR001", f"'{escape}' is not an escape YAML knows: in double quotes a backslash starts "
                                    "an escape such as \\n or \\\"", span,
                          help=f"use single quotes, where a backslash is just a backslash ('{escape}...'), "
                               f"or write the backslash twice (\"\\{escape}...\")")
    if problem.startswith("found undefined alias"):
        name = _ALIAS.match(text, mark.index) if mark is not None else None
        alias = name.group(1) if name else ""
        return Diagnostic("IVR001", f"the alias '*{alias}' names no anchor: YAML reads a value starting with * as an "
                                    f"alias of an anchor '&{alias}' written above it", span,
                          help="put the value in quotes (the star key is \"*\"), or define the anchor "
                               f"&{alias} before it is used")
    if "quoted scalar" in context and "end of stream" in problem and opened is not None:
        quote = text[opened.index] if opened.index < len(text) else '"'
        return Diagnostic("IVR001", f"this {quote} quote is never closed", _at(file, opened),
                          related=(Related(span, "the file ended while still inside the quotes"),),
                          help=f"close the text with {quote}; inside single quotes write '' for one '")
    for what, opener in _OPENERS.items():
        if what in context and opened is not None:
            closer = "]" if opener == "[" else "}"
            line_end = text.find("\n", opened.index)
            line = text[opened.index: len(text) if line_end < 0 else line_end]
            comment = re.search(r"[ \t]#", line)
            if comment is not None and closer in line[comment.start():]:
                # `{say: press # to repeat}`: the comment took the rest of the line, closer included.
                at = opened.index + comment.start() + 1
                return Diagnostic("IVR001", f"' #' inside '{opener} {closer}' starts a comment, so the rest of the line, "
                                            f"its '{closer}' too, is lost", _at_index(file, text, at),
                                  related=(Related(_at(file, opened), f"the '{opener}' opened here"),),
                                  help="put the text with the # in quotes: say: \"Press # to repeat.\"")
            return Diagnostic("IVR001", f"a '{opener}' is never closed: expected ',' or '{closer}' here", span,
                              related=(Related(_at(file, opened), f"the '{opener}' opened here"),),
                              help=f"close it with '{closer}' on the same line, or check the commas between items")
    message = f"{problem} ({context})" if context else problem
    if mark is not None:
        line_start = text.rfind("\n", 0, mark.index) + 1
        braces = _BRACES_VALUE.search(text, line_start, mark.index + 1)
        if braces is not None:
            return Diagnostic("IVR001", "a value that starts with '{{' must be in quotes: YAML reads '{' as the "
                                        "start of a mapping", span,
                              related=(Related(_at_index(file, text, braces.start(1)), "the value starts here"),),
                              help="put the whole value in quotes: \"{{ ... }} ...\"")
    swallowed = _swallowed_by_quote(text, mark.index) if mark is not None else None
    if swallowed is not None:
        quote, opening = swallowed
        where = _at_index(file, text, opening)
        return Diagnostic("IVR001", f"{message}: a quoted text runs over several lines up to here, so a closing "
                                    f"{quote} is probably missing", span,
                          related=(Related(where, f"the {quote} that opens it"),),
                          help=f"close the text with {quote} on the line where it starts")
    if "mapping values are not allowed" in problem:
        line = _LINE_BREAK.split(text)[span.line - 1] if mark is not None else ""
        key, _, value = line.strip().lstrip("- ").partition(": ")
        if key and value and not value.startswith(("'", '"', "{", "[")):
            # `say: Press 1: for sales`: the second ': ' would start a mapping inside the text.
            return Diagnostic("IVR001", f"the text {value.strip()!r} holds ': ', which YAML reads as the start of a "
                                        "mapping", span, help=f"put the text in quotes: {key}: \"{value.strip()}\"")
        return Diagnostic("IVR001", message, span,
                          help="a ': ' inside a value starts a mapping; put the value in quotes")
    return Diagnostic("IVR001", message, span)


def hash_key_comments(text: str, file: str, inside_scalars: Iterable[tuple[int, int]]) -> list[Diagnostic]:
    """Lines `#: STATE`: meant as the menu key `#`, read by YAML as a comment, so the option is lost."""
    spans = sorted(inside_scalars)
    text = _LONE_CR.sub("\n", text)
    found = []
    for match in _HASH_KEY.finditer(text):
        at = match.start() + len(match.group(1))
        if any(start <= at < end for start, end in spans):
            continue  # text inside a block scalar, not a comment
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        target = (match.group(2) or "").strip()
        found.append(Diagnostic(
            "IVR009", "an unquoted '#' starts a comment, so YAML ignores this line"
                      + (f" and the option '#' to '{target}' is lost" if target else ""),
            Span(file, line, column, line, column + 2),
            help=f"put the key in quotes: \"#\": {target or 'STATE'}"))
    return found


def braces_value(text: str, start: int, end: int) -> str | None:
    """The text of a value YAML read as a mapping because it starts with `{{`, or None."""
    raw = text[start:end]
    return raw if raw.startswith("{{") else None


def fold_consequences(diagnostics: list[Diagnostic], text: str) -> list[Diagnostic]:
    """One mistake, one error: a key left empty because its only entries were `#:` comments is a note
    on the comment's diagnostic, not an error of its own."""
    lines = _LINE_BREAK.split(text)
    out = list(diagnostics)
    traps = [d for d in out if d.code == "IVR009" and d.message.startswith("an unquoted '#'")]
    for trap in traps:
        above = trap.span.line - 1  # the nearest line above with content that is not a comment
        while above >= 1 and (not lines[above - 1].strip() or lines[above - 1].lstrip().startswith("#")):
            above -= 1
        empty = next((d for d in out if d.code == "IVR012" and d.span.line == above and "null" in d.message), None)
        if empty is None:
            continue
        key = lines[above - 1].strip().rstrip(":")
        out.remove(empty)
        out[out.index(trap)] = Diagnostic(trap.code, trap.message, trap.span, help=trap.help,
                                          related=trap.related + (Related(empty.span, f"so '{key}' is left empty"),))
    return out


def _swallowed_by_quote(text: str, index: int) -> tuple[str, int] | None:
    """When the parser stops just after a quoted text that spans lines, the quote and where it opened.

    A missing closing quote makes the text run on to the next quote of the same kind, and the
    parser complains there, lines below the real mistake.
    """
    if index < 1 or text[index - 1] not in "\"'":
        return None
    quote = text[index - 1]
    i = index - 2
    while i >= 0:
        if text[i] == quote:
            if quote == '"' and i > 0 and text[i - 1] == "\\":
                i -= 2
                continue
            if quote == "'" and i > 0 and text[i - 1] == "'":
                i -= 2
                continue
            break
        i -= 1
    if i < 0 or "\n" not in text[i:index]:
        return None
    return quote, i
