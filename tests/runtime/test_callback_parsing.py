"""Callback bodies: Sinch's sample payloads parse, cookies are read leniently, junk is refused."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivrc.runtime.engine.events import MAX_COOKIE_BYTES, BadCallback, Callback, parse_callback, read_cookies


def body(**fields: Any) -> bytes:
    return json.dumps({"event": "pie", "callid": "c1", **fields}).encode()


# -- Sinch's own samples (Java SDK fixtures) ----------------------------------------------


def load(folder: Path, name: str) -> Callback:
    return parse_callback((folder / name).read_bytes())


def test_every_sample_payload_parses(sinch_events: Path) -> None:
    files = sorted(sinch_events.glob("*.json"))
    assert len(files) == 5
    assert {parse_callback(f.read_bytes()).event for f in files} == {
        "ice", "ace", "pie", "dice", "notify",
    }


def test_ice_sample(sinch_events: Path) -> None:
    cb = load(sinch_events, "IncomingCallEventDto.json")
    assert cb.event == "ice"
    assert cb.callid == "a call id"
    assert cb.caller == "cli number"
    assert cb.called == "+123456879"
    assert cb.custom == "my custom"
    assert cb.timestamp == "2024-01-16T16:46:36Z"
    assert cb.cookies == {}
    assert cb.menu_result is None and cb.amd is None
    assert cb.raw["originationType"] == "MXP"


def test_ace_sample(sinch_events: Path) -> None:
    cb = load(sinch_events, "AnsweredCallEventDto.json")
    assert cb.event == "ace"
    assert cb.amd is not None
    assert (cb.amd.status, cb.amd.reason, cb.amd.duration) == ("human", "longgreeting", 15)


def test_pie_sample(sinch_events: Path) -> None:
    cb = load(sinch_events, "PromptInputEventDto.json")
    assert cb.event == "pie"
    assert cb.menu_result is not None
    assert cb.menu_result.menu_id == "confirm"
    assert cb.menu_result.type == "sequence"
    assert cb.menu_result.value == "1452"
    assert cb.menu_result.input_method == "dtmf"


def test_dice_sample(sinch_events: Path) -> None:
    cb = load(sinch_events, "DisconnectedCallEventDto.json")
    assert cb.event == "dice"
    assert (cb.dice_reason, cb.dice_result) == ("managerhangup", "answered")
    assert cb.called == "123456789"
    assert cb.caller is None  # DiCE has 'from', not 'cli'


def test_notify_sample(sinch_events: Path) -> None:
    cb = load(sinch_events, "NotificationEventDto.json")
    assert cb.event == "notify"
    assert cb.notify_type == "recording_finished"
    assert cb.notify_destination == "a destination"
    assert cb.amd is not None and cb.amd.status == "hangup"
    assert cb.timestamp is None


def test_legacy_sdk_ice_shape() -> None:
    # Reference 5.2: the real-world shaped ICE from Sinch's legacy server SDK.
    raw = (
        b'{"event":"ice","callid":"x","timestamp":"2015-08-06T13:55:39Z","version":1,'
        b'"userRate":{"currencyId":"USD","amount":0.0},"cli":"46708168731",'
        b'"to":{"type":"did","endpoint":"+462010000188"},"domain":"pstn",'
        b'"applicationKey":"k","originationType":"PSTN","duration":0}'
    )
    cb = parse_callback(raw)
    assert (cb.caller, cb.called) == ("46708168731", "+462010000188")


# -- leniency -----------------------------------------------------------------------------


def test_enum_values_are_lower_cased() -> None:
    cb = parse_callback(
        body(event="PIE", menuResult={"menuId": "main", "type": "Return", "value": "sales",
                                      "inputMethod": "DTMF"})
    )
    assert cb.event == "pie"
    assert cb.menu_result == cb.menu_result.__class__("main", "return", "sales", "dtmf")


def test_call_id_in_camel_case_is_accepted() -> None:
    assert parse_callback(b'{"event":"dice","callId":"c9"}').callid == "c9"
    assert parse_callback(b'{"event":"dice","callid":null,"callId":"c9"}').callid == "c9"


def test_unknown_fields_are_ignored() -> None:
    cb = parse_callback(body(somethingNew={"nested": [1, 2]}, version="2"))
    assert cb.raw["somethingNew"] == {"nested": [1, 2]}


def test_fields_of_other_events_are_not_checked() -> None:
    # 'type' and 'reason' only mean something in Notify and DiCE.
    cb = parse_callback(b'{"event":"ice","callid":"c","type":5,"reason":[],"menuResult":1}')
    assert cb.notify_type is None and cb.dice_reason is None and cb.menu_result is None


def test_numeric_menu_value_becomes_a_string() -> None:
    cb = parse_callback(body(menuResult={"menuId": "main", "type": "return", "value": 1}))
    assert cb.menu_result is not None and cb.menu_result.value == "1"


def test_pie_without_menu_result_parses() -> None:
    assert parse_callback(body()).menu_result is None


def test_utf8_bom_less_utf16_body_is_json_too() -> None:
    # json.loads detects UTF-16/32 from the bytes; Sinch sends UTF-8 but it costs nothing.
    assert parse_callback('{"event":"ace","callid":"c"}'.encode("utf-16")).event == "ace"


# -- cookies ------------------------------------------------------------------------------


def test_cookies_as_sinch_sends_them() -> None:
    cb = parse_callback(body(cookies=[{"key": "s", "value": "menu2"}, {"key": "v", "value": "3"}]))
    assert cb.cookies == {"s": "menu2", "v": "3"}


def test_cookies_as_a_map() -> None:
    assert parse_callback(body(cookies={"s": "menu2"})).cookies == {"s": "menu2"}


@pytest.mark.parametrize("cookies", [None, "s=menu2", 5, True, []])
def test_missing_or_odd_cookies_mean_none(cookies: object) -> None:
    assert parse_callback(body(cookies=cookies)).cookies == {}


def test_cookie_field_absent() -> None:
    assert parse_callback(body()).cookies == {}


def test_bad_cookie_entries_are_dropped_not_fatal() -> None:
    cookies = [
        {"key": "good", "value": "1"},
        {"key": "n", "value": 2},
        {"key": None, "value": "x"},
        {"value": "no key"},
        "s=menu2",
        ["k", "v"],
        None,
        {"key": "also", "value": ""},
    ]
    assert parse_callback(body(cookies=cookies)).cookies == {"good": "1", "also": ""}
    assert read_cookies({"a": "1", "b": 2, "c": None}) == {"a": "1"}


def test_a_repeated_cookie_key_takes_the_later_value() -> None:
    cookies = [{"key": "s", "value": "a"}, {"key": "s", "value": "b"}]
    assert read_cookies(cookies) == {"s": "b"}


def test_cookies_beyond_the_cap_are_ignored() -> None:
    big = "x" * 1000
    cookies = [{"key": f"k{i}", "value": big} for i in range(10)]
    read = read_cookies(cookies)
    assert list(read) == ["k0", "k1", "k2", "k3"]  # 4 * 1002 bytes fit in 4096, a 5th not
    total = sum(len(k.encode()) + len(v.encode()) for k, v in read.items())
    assert total <= MAX_COOKIE_BYTES


def test_cookie_cap_counts_bytes_not_characters() -> None:
    value = "é" * 2047  # 4094 bytes in UTF-8
    assert read_cookies({"k": value}) == {"k": value}
    assert read_cookies({"kk": value}) == {"kk": value}  # exactly 4096
    assert read_cookies({"kkk": value}) == {}


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not-json"),
        (b"not json", "not-json"),
        (b'{"event":"ice",', "not-json"),
        (b"\xff\xfe\xfa", "not-json"),
        (b"[" * 100_000 + b"]" * 100_000, "not-json"),
        (b"[]", "not-an-object"),
        (b'"ice"', "not-an-object"),
        (b"null", "not-an-object"),
        (b'{"callid":"c"}', "missing-event"),
        (b'{"event":null,"callid":"c"}', "missing-event"),
        (b'{"event":"ring","callid":"c"}', "unknown-event"),
        (b'{"event":"","callid":"c"}', "unknown-event"),
        (b'{"event":"ice"}', "missing-callid"),
        (b'{"event":"ice","callid":""}', "missing-callid"),
        (b'{"event":"ice","callid":null}', "missing-callid"),
        (b'{"event":1,"callid":"c"}', "wrong-type"),
        (b'{"event":"ice","callid":7}', "wrong-type"),
        (b'{"event":"ice","callid":"c","cli":4670}', "wrong-type"),
        (b'{"event":"ice","callid":"c","to":"+4670"}', "wrong-type"),
        (b'{"event":"ice","callid":"c","to":{"endpoint":4670}}', "wrong-type"),
        (b'{"event":"ice","callid":"c","custom":{}}', "wrong-type"),
        (b'{"event":"ice","callid":"c","timestamp":1}', "wrong-type"),
        (b'{"event":"pie","callid":"c","menuResult":"1"}', "wrong-type"),
        (b'{"event":"pie","callid":"c","menuResult":{"type":1}}', "wrong-type"),
        (b'{"event":"pie","callid":"c","menuResult":{"value":true}}', "wrong-type"),
        (b'{"event":"ace","callid":"c","amd":{"status":true}}', "wrong-type"),
        (b'{"event":"ace","callid":"c","amd":{"duration":"15"}}', "wrong-type"),
        (b'{"event":"dice","callid":"c","reason":3}', "wrong-type"),
        (b'{"event":"notify","callid":"c","type":["a"]}', "wrong-type"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(BadCallback) as excinfo:
        parse_callback(raw)
    assert excinfo.value.reason == reason


def test_a_wrong_type_message_says_what_was_expected() -> None:
    with pytest.raises(BadCallback, match=r"'menuResult.type' should be a string, found number"):
        parse_callback(b'{"event":"pie","callid":"c","menuResult":{"type":1}}')


def test_bad_callback_is_a_value_error() -> None:
    assert issubclass(BadCallback, ValueError)


short_text = st.text(max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | short_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3),
    max_leaves=8,
)
# No example database: test runs should not leave files in the repository.
quick = settings(database=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(st.binary())
def test_any_bytes_parse_or_raise_bad_callback(raw: bytes) -> None:
    try:
        parse_callback(raw)
    except BadCallback:
        pass


@quick
@given(
    st.sampled_from(["ice", "ace", "pie", "dice", "notify", "ICE", "x"]),
    st.dictionaries(
        st.sampled_from(
            ["callid", "callId", "cookies", "custom", "cli", "to", "menuResult", "amd",
             "reason", "result", "type", "destination", "timestamp"]
        ),
        json_values,
    ),
)
def test_any_json_object_parses_or_raises_bad_callback(event: str, fields: dict) -> None:
    try:
        cb = parse_callback(json.dumps({"event": event, **fields}).encode())
    except BadCallback:
        return
    assert cb.event in {"ice", "ace", "pie", "dice", "notify"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cb.cookies.items())


# -- bodies are decoded as json.loads decodes them (orjson first, json for what orjson refuses) -------------------

_JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                        max_leaves=12)


@given(st.one_of(_JSONISH.map(lambda v: json.dumps(v).encode()),
                 _JSONISH.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
                 _JSONISH.map(lambda v: b"\xef\xbb\xbf" + json.dumps(v).encode()),
                 _JSONISH.map(lambda v: json.dumps(v).encode("utf-16")),
                 st.from_regex(rb"\A-?[0-9]{1,25}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,4})?\Z"),
                 st.binary(max_size=40)))
@settings(max_examples=500)
def test_a_body_decodes_as_json_loads_decodes_it(body: bytes) -> None:
    from ivrc.runtime.engine.events import _decode

    try:
        expected = json.loads(body)
    except (ValueError, RecursionError):
        with pytest.raises(BadCallback):
            _decode(body)
        return
    got = _decode(body)
    assert json.dumps(got) == json.dumps(expected)  # NaN-safe equality, key order included


@given(st.one_of(st.binary(max_size=60),
                 st.lists(st.sampled_from([b"0", b"7", b"9", b"a", b"/", b":", b" ", b"\xd9"]), max_size=60).map(b"".join)))
@settings(max_examples=500)
def test_nineteen_digits_in_a_row_are_found_as_a_regular_expression_finds_them(body: bytes) -> None:
    """The check that sends a body with a possible integer past 64 bits to json, not orjson."""
    from ivrc.runtime.engine.events import _has_long_digits

    assert _has_long_digits(body) == (re.search(rb"[0-9]{19}", body) is not None)
