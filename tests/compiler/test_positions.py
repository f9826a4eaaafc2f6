"""Findings inside quoted, plain and folded strings point at the file's own line and column."""
from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ivrc.compiler import check_text
from ivrc.compiler.loader import load_text
from ivrc.compiler.positions import value_offsets

HEAD = 'ivrc: 1\nflow: f\nnumbers: ["+46812345670"]\nstart: s\nstates:\n  s:\n'


def where(text: str, code: str) -> list[tuple[int, int]]:
    return [(d.span.line, d.span.column) for d in check_text(text).diagnostics if d.code == code]


def test_a_name_in_a_double_quoted_string_after_escapes_and_a_folded_line() -> None:
    text = HEAD + '    say: "Caf\\u00e9 \\"Luigi\\" is open.\n      Your order {{ ordr }} is ready."\n    hangup: true\n'
    assert where(text, "IVR081") == [(8, 21)]


def test_a_name_in_a_single_quoted_string_after_a_doubled_quote() -> None:
    text = HEAD + "    say: 'Luigi''s: {{ a }} and\n\n      {{ ordr }}'\n    hangup: true\n"
    found = where(text, "IVR081")
    assert (9, 10) in found and (7, 24) in found


def test_a_name_in_a_plain_multi_line_string() -> None:
    text = HEAD + "    say: Hello\n      there {{ ordr }}\n    hangup: true\n"
    assert where(text, "IVR081") == [(8, 16)]


def test_a_syntax_error_in_a_folded_string_points_at_the_stray_brace() -> None:
    text = HEAD + "    say: >-\n      First line\n      and {{ order } here.\n    hangup: true\n"
    assert where(text, "IVR080") == [(9, 20)]


def test_an_ssml_error_points_at_the_file_not_at_the_inner_text() -> None:
    text = HEAD + "    say:\n      - ssml: \"<speak>Hello\n          <break time='1s'>there</speak>\"\n    hangup: true\n"
    [(line, column)] = where(text, "IVR092")
    assert line == 9 and text.splitlines()[line - 1][column - 1:].startswith("speak>")


STYLES = st.sampled_from(['"', "'", None, ">"])


@settings(max_examples=200, deadline=None)
@given(value=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60)
       .filter(lambda v: v.strip() == v and "\n" not in v), style=STYLES, width=st.integers(10, 40))
def test_every_character_maps_to_itself_in_the_file(value: str, style: str | None, width: int) -> None:
    text = yaml.dump({"a": value}, default_style=style, width=width, allow_unicode=True)
    doc = load_text(text).document
    if doc is None or doc.get(("a",)) != value:
        return  # not a string once loaded (a number, a boolean): nothing to place
    scalar = doc.scalars[("a",)]
    offsets = value_offsets(doc.text[scalar.start:scalar.end], scalar.start, scalar.style, value)
    if scalar.style in ("'", '"', None, "") or scalar.style == ">" and value:
        assert offsets is not None, (text, scalar.style)
    for char, offset in zip(value, offsets or ()):
        if char.isalnum():
            assert doc.text[offset] in (char, "\\"), (text, value)  # an escape is placed at its backslash
