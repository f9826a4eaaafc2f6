"""Answers and log lines written with orjson are the bytes json would have written."""
from __future__ import annotations

import datetime
import json

from hypothesis import given
from hypothesis import strategies as st

from ivrc.runtime.engine.reuse import Svaml, remember
from ivrc.runtime.server.fastjson import answer_bytes, log_text
from ivrc.runtime.server.logs import _time

# What SVAML is made of: text (any characters, including non-ASCII, DEL and lone surrogates),
# whole numbers (also past 64 bits), booleans, null, lists and objects.
SCALARS = st.none() | st.booleans() | st.integers() | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@given(VALUES)
def test_an_answer_is_what_json_writes(value) -> None:
    assert answer_bytes(value) == json.JSONEncoder(separators=(",", ":")).encode(value).encode()


@given(st.dictionaries(st.text(max_size=8), VALUES | st.floats(min_value=0.001, max_value=1e9).map(lambda f: round(f, 3)),
                       max_size=6))
def test_a_log_line_is_what_json_writes(record) -> None:
    assert log_text(record) == json.JSONEncoder(default=str, separators=(",", ":")).encode(record)


def test_a_log_line_writes_a_datetime_as_text() -> None:
    when = datetime.datetime(2026, 12, 1, 14, 5, 9, tzinfo=datetime.timezone.utc)
    assert json.loads(log_text({"at": when})) == {"at": str(when)}


@given(st.floats(min_value=0, max_value=4e9))
def test_log_times_are_what_datetime_writes(seconds: float) -> None:
    expected = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="milliseconds")
    assert _time(seconds) == expected.replace("+00:00", "Z")


@given(st.lists(st.tuples(st.booleans(), st.dictionaries(st.text(max_size=8), VALUES, max_size=4)), max_size=6),
       st.dictionaries(st.text(max_size=8), VALUES, max_size=4), st.booleans())
def test_an_answer_from_shared_parts_is_what_json_writes(instructions, action, action_shared) -> None:
    """Parts every call shares are written once and kept; the answer made from them is json's bytes,
    the first time (parts not yet written) and every time after."""
    fixed: dict[int, list] = {}
    for shared, item in instructions:
        if shared:
            remember(fixed, item)
    if action_shared:
        remember(fixed, action)
    svaml = Svaml(instructions=[item for _, item in instructions], action=action)
    svaml.fixed = fixed
    expected = json.JSONEncoder(separators=(",", ":")).encode(svaml).encode()
    assert answer_bytes(svaml) == expected
    assert answer_bytes(svaml) == expected
