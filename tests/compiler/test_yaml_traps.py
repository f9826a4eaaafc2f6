"""YAML's traps are explained in the author's terms: what happened, where it started, how to fix it."""
from __future__ import annotations

from pathlib import Path

from ivrc.compiler import check_text
from ivrc.compiler.project import check_paths

BROKEN = Path(__file__).resolve().parents[1] / "flows" / "broken"


def only(name: str):
    [result] = check_paths([str(BROKEN / name)])
    assert len(result.diagnostics) == 1, [d.message for d in result.diagnostics]
    return result.diagnostics[0]


def test_a_tab_in_the_indentation_says_so() -> None:
    d = only("IVR001-tab-indentation.yaml")
    assert "tab" in d.message and "spaces" in d.message and "spaces" in d.help


def test_an_unknown_escape_names_it_and_offers_single_quotes() -> None:
    d = only("IVR001-backslash-escape.yaml")
    assert "'\\d'" in d.message
    assert "single quotes" in d.help and "'\\d" in d.help


def test_an_unknown_alias_is_named() -> None:
    d = only("IVR001-unknown-alias.yaml")
    assert "'*back'" in d.message and "&back" in d.help and '"*"' in d.help


def test_an_unclosed_bracket_points_where_it_opened() -> None:
    d = only("IVR001-unclosed-bracket.yaml")
    assert (d.span.line, d.span.column) == (6, 1)  # where the parser noticed
    [opened] = d.related
    assert (opened.span.line, opened.span.column) == (5, 10) and "opened here" in opened.message


def test_an_unclosed_quote_points_where_it_opened() -> None:
    d = only("IVR001-unclosed-quote.yaml")
    [opened] = d.related
    assert (opened.span.line, opened.span.column) == (10, 10)
    assert "closing \" is probably missing" in d.message


def test_a_quote_never_closed_before_the_end_of_the_file() -> None:
    result = check_text('ivrc: 1\nflow: f\nstart: s\nstates:\n  s:\n    say: "Hello\n    hangup: true\n')
    [d] = result.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("IVR001", 6, 10)
    assert "never closed" in d.message and d.related[0].span.line == 8


def test_an_unquoted_hash_key_is_one_error_with_its_consequence_as_a_note() -> None:
    [result] = check_paths([str(BROKEN / "IVR009-hash-key-comment.yaml")])
    codes = [d.code for d in result.diagnostics]
    assert codes == ["IVR009", "IVR009"]  # no "options should be a mapping" besides
    first, second = result.diagnostics
    assert "'#' to 'main_menu' is lost" in first.message and first.help == 'put the key in quotes: "#": main_menu'
    assert not first.related
    assert [r.message for r in second.related] == ["so 'options' is left empty"]


def test_a_hash_key_line_inside_a_block_scalar_is_text() -> None:
    text = ('ivrc: 1\nflow: f\nnumbers: ["+46812345670"]\nstart: s\nstates:\n  s:\n    say: |\n'
            '      Press hash.\n      #: that is the key\n    hangup: true\n')
    assert [d.code for d in check_text(text).diagnostics] == []


def test_braces_at_the_start_of_a_value() -> None:
    d = only("IVR009-braces-value.yaml")
    assert d.help == 'put the value in quotes: "{{ name }}"'
    d = only("IVR001-braces-then-text.yaml")
    assert "must be in quotes" in d.message and d.related[0].span.column == 10


def test_a_comma_in_braces_that_split_a_prompt_says_to_quote_it() -> None:
    d = only("IVR010-comma-in-braces.yaml")
    assert "'I did not hear you'" in d.message
    assert "comma" in d.help and 'say: "Sorry, I did not hear you"' in d.help


def test_an_unquoted_hash_in_a_prompt_says_what_was_cut() -> None:
    [result] = check_paths([str(BROKEN / "IVR096-text-cut-by-comment.yaml")])
    first = result.diagnostics[0]
    assert first.code == "IVR096" and "'press'" in first.message and "'# and then wait'" in first.message
    assert '"To hear this again press # and then wait"' in first.help


def test_a_colon_inside_unquoted_text_says_to_quote_the_text() -> None:
    d = only("IVR001-colon-in-text.yaml")
    assert "'Press 1: for sales'" in d.message and d.help == 'put the text in quotes: say: "Press 1: for sales"'


def test_a_hash_inside_braces_is_reported_at_the_hash_with_where_the_brace_opened() -> None:
    d = only("IVR001-hash-inside-braces.yaml")
    assert "starts a comment" in d.message and (d.span.line, d.span.column) == (12, 49)
    [opened] = d.related
    assert (opened.span.line, opened.span.column) == (12, 12)
