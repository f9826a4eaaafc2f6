"""A plain `&` in SSML: accepted as written, spoken as "and", since Sinch cannot carry `&amp;`."""
from __future__ import annotations

import re

# XML needs `&amp;` for a literal `&`, but every way to write one in XML ends in `;` (or needs
# CDATA's `]`), and Sinch splits prompt strings at `;` and closes `#ssml[` at `]`. So a plain
# `&`, and `&amp;` written out, become the word the template filter already uses for values.
# Any other entity (`&lt;`, `&#38;`) is left alone for the prompt checks to report.
AMPERSAND = re.compile(r"&amp;|&(?![A-Za-z][A-Za-z0-9]{0,31};|#[0-9]{1,8};|#x[0-9A-Fa-f]{1,8};)")
SPOKEN = " and "
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


# A tag and its attributes. An `&` in an attribute (a URL's query) is never spoken, so it is not
# rewritten: the prompt checks report it, since no form of it can reach Sinch.
_MARKUP = re.compile(r"<[^<>]*>")


def mask_ampersands(markup: str) -> str:
    """markup with each ampersand ivrc rewrites replaced by 'x's of its length: positions stay."""
    return _outside_markup(markup, lambda text: AMPERSAND.sub(lambda m: "x" * len(m.group()), text))


def ampersand_in_markup(markup: str) -> int | None:
    """Where the first `&` inside a tag (an attribute value) is, or None."""
    for tag in _MARKUP.finditer(markup):
        at = tag.group().find("&")
        if at >= 0 and not tag.group().startswith("<!--"):  # a comment may hold any text
            return tag.start() + at
    return None


def _outside_markup(markup: str, change) -> str:
    out: list[str] = []
    done = 0
    for tag in _MARKUP.finditer(markup):
        out += (change(markup[done:tag.start()]), tag.group())
        done = tag.end()
    out.append(change(markup[done:]))
    return "".join(out)


def speak_ampersands(source: str, is_template: bool) -> str:
    """The SSML Sinch receives: each plain `&` (and `&amp;`) outside template tags becomes "and"."""
    if "&" not in source:
        return source
    if not is_template:
        return _spoken(source)
    # Only a lint-clean template is compiled, so every tag is closed and the lazy match is linear.
    out: list[str] = []
    done = 0
    for tag in _TAG.finditer(source):
        out += (_spoken(source[done:tag.start()]), tag.group())
        done = tag.end()
    out.append(_spoken(source[done:]))
    return "".join(out)


def _spoken(markup: str) -> str:
    """`Tom & Jerry` -> `Tom and Jerry`, `R&D` -> `R and D`: one space on each side, not two; only in text."""
    def words(text: str) -> str:
        def word(found: re.Match[str]) -> str:
            before = " " if found.start() > 0 and not text[found.start() - 1].isspace() else ""
            after = " " if found.end() < len(text) and not text[found.end()].isspace() else ""
            return f"{before}and{after}"
        return AMPERSAND.sub(word, text)
    return _outside_markup(markup, words)
