"""Prompts: a translation for every locale, Sinch's text limits, well-formed SSML, no separators."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Iterator

from .. import ir, walk
from ..diagnostics import Diagnostic
from ..loader import Document

TTS_LIMIT = 600  # characters Sinch speaks per text by default
_TEMPLATE_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    locales = set(flow.locales)
    for prompt in walk.prompts(flow):
        if prompt.ref is not None:
            continue
        table = dict(prompt.by_locale)
        if None in table:
            continue
        for locale in table:
            if locale not in locales:
                yield Diagnostic("IVR094", f"'{locale}' is not one of the flow's locales ({', '.join(flow.locales)})",
                                 doc.span(prompt.path + (locale,), key=True),
                                 help="add it to `locales:`, or fix its spelling")
        missing = [loc for loc in flow.locales if loc not in table]
        if missing:
            yield Diagnostic("IVR090", f"this prompt has no text for {', '.join(missing)}", doc.span(prompt.path, key=True),
                             help=f"add {missing[0]}: \"...\" next to the other translations")
    for node in walk.nodes(flow):
        if isinstance(node, ir.Part):
            yield from _part(node, doc)


def _static(text: ir.Text) -> str:
    """The text with template tags removed: what we can check before a call fills them in."""
    return _TEMPLATE_TAGS.sub("", text.source) if text.is_template else text.source


def _part(part: ir.Part, doc: Document) -> Iterator[Diagnostic]:
    text = part.text
    static = _static(text)
    for char in (";", "]"):
        if char in static:
            yield Diagnostic("IVR093", f"'{char}' cannot appear in prompt text: Sinch uses it to separate prompt parts",
                             doc.locate(text.path, 1, char), help="use ',' or '.' instead")
            break
    if part.kind == "tts" and not text.is_template and len(text.source) > TTS_LIMIT:
        yield Diagnostic("IVR091", f"this text is {len(text.source)} characters; Sinch speaks at most {TTS_LIMIT}",
                         doc.span(text.path), help="split it into several parts of a list")
    if part.kind == "ssml":
        problem, at = _ssml_problem(text)
        if problem:
            where = doc.locate(text.path, 1, column=at + 1) if at is not None else doc.span(text.path)
            yield Diagnostic("IVR092", problem, where,
                             help="write a well-formed document like <speak>Hello <break time=\"1s\"/> there</speak>")


def _ssml_problem(text: ir.Text) -> tuple[str | None, int | None]:
    """What is wrong with the SSML, and where in the text (an index), when the parser says."""
    # Template tags become a placeholder word of the same length, so the markup around them can
    # still be checked and the parser's positions are positions in the text.
    markup = (_TEMPLATE_TAGS.sub(lambda tag: "x".ljust(len(tag.group())), text.source) if text.is_template
              else text.source)
    if "<!DOCTYPE" in markup or "<!ENTITY" in markup:
        return "SSML may not declare a DOCTYPE or entities", None
    stripped = markup.strip()
    try:
        root = ElementTree.fromstring(stripped)
    except ElementTree.ParseError as err:
        line, column = err.position
        lead = len(markup) - len(markup.lstrip())
        starts = [0] + [i + 1 for i, c in enumerate(stripped) if c == "\n"]
        at = lead + starts[min(line, len(starts)) - 1] + column
        reason = str(err).split(":", 1)[0]  # the parser's "line 1, column N" is replaced by the file's position
        return f"the SSML is not well-formed XML: {reason}", at
    tag = root.tag.rsplit("}", 1)[-1]
    if tag != "speak":
        return f"the SSML root element is <{tag}>; it must be <speak>", len(markup) - len(markup.lstrip())
    return None, None
