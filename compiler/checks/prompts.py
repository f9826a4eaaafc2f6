"""Prompts: a translation for every locale, Sinch's text limits, well-formed SSML, no separators."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Iterator

from .. import ir, walk
from ..diagnostics import Diagnostic
from ..loader import Document
from ..svaml import TTS_LIMIT

_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}


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
    return _replace_tags(text.source, "") if text.is_template else text.source


def _replace_tags(source: str, placeholder: str) -> str:
    """Replaces each {{ }}, {% %} and {# #} tag with the placeholder, in time linear in the text.

    A regex like \\{\\{.*?\\}\\} rescans to the end from every unclosed opener (quadratic: a prompt of
    80k "{{" took 89 s). Here an opener whose closer is nowhere after it marks that kind as
    unclosed, so later openers of the kind are passed over without a search."""
    out: list[str] = []
    pos = done = 0
    unclosed: set[str] = set()
    while (start := source.find("{", pos)) >= 0:
        opener = source[start:start + 2]
        closer = _CLOSERS.get(opener)
        if closer is None or opener in unclosed:
            pos = start + 1
            continue
        end = source.find(closer, start + 2)
        if end < 0:
            unclosed.add(opener)
            pos = start + 1
            continue
        out += (source[done:start], placeholder)
        pos = done = end + 2
    out.append(source[done:])
    return "".join(out)


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
        problem = _ssml_problem(text)
        if problem:
            yield Diagnostic("IVR092", problem, doc.span(text.path),
                             help="write a well-formed document like <speak>Hello <break time=\"1s\"/> there</speak>")


def _ssml_problem(text: ir.Text) -> str | None:
    # Template tags become a placeholder word so the markup around them can still be checked.
    markup = _replace_tags(text.source, "x") if text.is_template else text.source
    if "<!DOCTYPE" in markup or "<!ENTITY" in markup:
        return "SSML may not declare a DOCTYPE or entities"
    try:
        root = ElementTree.fromstring(markup.strip())
    except ElementTree.ParseError as err:
        return f"the SSML is not well-formed XML: {err}"
    tag = root.tag.rsplit("}", 1)[-1]
    if tag != "speak":
        return f"the SSML root element is <{tag}>; it must be <speak>"
    return None
