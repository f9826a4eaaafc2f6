"""Prompts: a translation for every locale, Sinch's text limits, well-formed SSML, no separators."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Iterator

from .. import ir, walk
from ..diagnostics import Diagnostic, Span
from ..loader import Document
from ..ssmltext import AMPERSAND, SPOKEN, ampersand_in_markup, mask_ampersands
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
            if node.kind in ("tts", "ssml"):
                yield from _cut_by_comment(node.text, doc)


# Where a sentence may end: text before a comment that ends like this was probably meant to stop there.
_SENTENCE_END = tuple(".!?:;)]>\"'…")


def _cut_by_comment(text: ir.Text, doc: Document) -> Iterator[Diagnostic]:
    """Plain text followed by ` #` on its line: YAML dropped the rest as a comment (`press # to repeat`)."""
    scalar = doc.scalars.get(tuple(text.path))
    if scalar is None or scalar.style:  # quoted and block text keep their #
        return
    line_end = doc.text.find("\n", scalar.end)
    rest = doc.text[scalar.end: len(doc.text) if line_end < 0 else line_end]
    comment = rest.lstrip(" \t")
    if not comment.startswith("#") or text.source.rstrip().endswith(_SENTENCE_END):
        return
    line, column = doc.position(scalar.end + (len(rest) - len(comment)))
    said = text.source.split()[-1] if text.source.split() else text.source
    yield Diagnostic("IVR096", f"the prompt stops at {said!r}: YAML reads '{comment.rstrip()[:40]}' after it as a "
                               "comment, so the caller never hears it",
                     Span(doc.file, line, column, line, column + len(comment.rstrip())),
                     help=f"put the prompt in quotes to say the #: \"{text.source}{rest.rstrip()}\"; or, if it is a "
                          "comment, end the sentence with a full stop or move the comment to its own line")


def _static(text: ir.Text) -> str:
    """The text with template tags removed: what we can check before a call fills them in."""
    return _replace_tags(text.source, "") if text.is_template else text.source


def _replace_tags(source: str, placeholder: str, keep_length: bool = False) -> str:
    """Replaces each {{ }}, {% %} and {# #} tag with the placeholder, in time linear in the text;
    with keep_length, padded with spaces to the tag's length, so positions in the result are positions in the text.

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
        out += (source[done:start], placeholder.ljust(end + 2 - start) if keep_length else placeholder)
        pos = done = end + 2
    out.append(source[done:])
    return "".join(out)


def _part(part: ir.Part, doc: Document) -> Iterator[Diagnostic]:
    text = part.text
    static = _static(text)
    if part.kind == "ssml":
        static = mask_ampersands(static)  # ivrc rewrites `&amp;`, so its `;` never reaches Sinch
    # Each character once, at its first place: an author fixing one should not meet the other on the next run.
    for char, why in ((";", "Sinch uses it to separate prompt parts"), ("]", "it would close Sinch's #tts[...] or #ssml[...]")):
        if char in static:
            yield Diagnostic("IVR093", f"'{char}' cannot appear in prompt text: {why}",
                             doc.locate(text.path, 1, char), help="use ',' or '.' instead")
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
    markup = (_replace_tags(text.source, "x", keep_length=True) if text.is_template else text.source)
    plain = markup
    inside = ampersand_in_markup(plain)
    if inside is not None:
        return ("'&' inside a tag (an attribute value, a URL's query) cannot reach Sinch: XML needs it as "
                "'&amp;', and Sinch ends a prompt part at its ';'. For a URL with a query, use an `audio:` "
                "prompt part instead of SSML <audio>"), inside
    markup = mask_ampersands(markup)  # a plain `&` is spoken as "and" (compiler/ssmltext.py)
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
    first = AMPERSAND.search(plain)
    if first:
        try:  # in text or an attribute value "and" is fine; inside a tag's name it is not
            ElementTree.fromstring(AMPERSAND.sub(SPOKEN, plain).strip())
        except ElementTree.ParseError:
            return "'&' can only be in the text or an attribute value of SSML", first.start()
    return None, None
