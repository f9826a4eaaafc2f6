"""Templates of text and bare names ("It is {{ status }}.") render without a Jinja context (sandbox.py).

Each must give exactly what Jinja's own code gives, or the same error: compared here with the same
template rendered by Jinja, for every kind of environment and for values callers and flows supply.
"""
from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivrc.compiler.sandbox import MAX_OUTPUT, BoundedTemplate
from ivrc.compiler.templates import environment

KINDS = ("plain", "tts", "ssml")


def both(kind: str, source: str) -> tuple[BoundedTemplate, BoundedTemplate]:
    """The template as the runtime compiles it, and the same rendered by Jinja's code only."""
    fast, jinja = environment(kind).from_string(source), environment(kind).from_string(source)
    assert isinstance(fast, BoundedTemplate) and isinstance(jinja, BoundedTemplate)
    jinja._pieces = None
    return fast, jinja


def outcome(template: BoundedTemplate, values: dict) -> tuple[str, str]:
    try:
        return "text", template.render(values)
    except Exception as err:  # the error the call's step would report
        return type(err).__name__, str(err)


@pytest.mark.parametrize("source", ["It is {{ status }}. Press 1.", "{{ status }}", "", "no names at all\n",
                                    "{{ a }}{{ b }}", "  {{- a -}}  and {# a comment #} {{ b }}\n",
                                    "{% raw %}{{ a }}{% endraw %} {{ a }}"])
def test_text_and_names_take_the_short_way(source: str) -> None:
    for kind in KINDS:
        fast, jinja = both(kind, source)
        assert fast._pieces is not None
        values = {"status": "open; <b>[x]</b>", "a": "1", "b": "two words"}
        assert outcome(fast, values) == outcome(jinja, values)


@pytest.mark.parametrize("source", ["{{ status|upper }}", "{{ call.caller }}", "{% if a %}x{% endif %}",
                                    "{{ a ~ b }}", "{{ 'x' }}", "{{ self }}"])
def test_anything_else_is_left_to_jinja(source: str) -> None:
    assert environment("tts").from_string(source)._pieces is None


@pytest.mark.parametrize("values", [
    {},  # the name is not given: Jinja's StrictUndefined error
    {"status": None}, {"status": 42}, {"status": True}, {"status": ["a", "b"]}, {"status": {"k": "v"}},
    {"status": datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)},
    {"status": ["x" * 1000] * 200},  # finalize refuses a list whose text would be too long
    {"status": "y" * (MAX_OUTPUT + 1)},  # more output than a render may give
    {"status": "\x00bell\x07 and a lone \ud800 surrogate"},
])
def test_every_value_and_failure_is_what_jinja_gives(values: dict) -> None:
    for kind in KINDS:
        fast, jinja = both(kind, "It is {{ status }}.")
        assert outcome(fast, values) == outcome(jinja, values)


def test_a_global_name_not_given_is_jinja_s() -> None:
    fast, jinja = both("plain", "{{ range }} {{ dict }}")
    assert fast._pieces is not None
    assert outcome(fast, {}) == outcome(jinja, {}) and outcome(fast, {})[0] == "text"
    assert outcome(fast, {"range": "mine"}) == outcome(jinja, {"range": "mine"})


NAMES = st.sampled_from(["a", "b", "status", "call", "locale"])
TEXTS = st.text(alphabet=st.characters(blacklist_characters="{}%#"), max_size=12)


@given(st.lists(st.one_of(TEXTS, NAMES.map(lambda name: "{{ " + name + " }}")), max_size=6),
       st.dictionaries(NAMES, st.one_of(st.text(max_size=20), st.integers(), st.none(),
                                        st.lists(st.text(max_size=4), max_size=3)), max_size=5),
       st.sampled_from(KINDS))
def test_generated_templates_and_values_render_as_jinja_renders_them(parts: list[str], values: dict,
                                                                     kind: str) -> None:
    fast, jinja = both(kind, "".join(parts))
    assert outcome(fast, values) == outcome(jinja, values)
