"""Lenient parsing of Sinch callback bodies (ICE, ACE, PIE, DiCE, Notify) into one Callback."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import orjson

EVENTS = frozenset({"ice", "ace", "pie", "dice", "notify"})

# Sinch caps cookies at 1024 bytes; reading up to four times that tolerates platform slack
# while keeping a hostile body from making us hold a huge map.
MAX_COOKIE_BYTES = 4096


class BadCallback(ValueError):
    """A body that cannot be a Sinch callback; `reason` is a stable kebab-case code."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class MenuResult:
    """What a runMenu produced (PIE). type and input_method are lower-cased."""

    menu_id: str | None
    type: str | None
    value: str | None
    input_method: str | None


@dataclass(frozen=True)
class Amd:
    """Answering-machine detection verdict (ACE, Notify). status and reason are lower-cased."""

    status: str | None
    reason: str | None
    duration: int | None


@dataclass(frozen=True)
class Callback:
    """One callback. Enum-like values (event, menu type, AMD, DiCE reason/result, notify type)
    are lower-cased, because sources disagree on case ('PSTN'/'pstn', 'Return'/'return')."""

    event: str
    callid: str
    cookies: dict[str, str] = field(default_factory=dict)
    custom: str | None = None
    caller: str | None = None
    called: str | None = None
    menu_result: MenuResult | None = None
    amd: Amd | None = None
    dice_reason: str | None = None
    dice_result: str | None = None
    notify_type: str | None = None
    notify_destination: str | None = None
    timestamp: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # Every cookie Sinch echoed, as received; `cookies` holds only those the engine may trust
    # (runtime/engine/sealing.py). None when they are the same: no cookies, or all trusted.
    received: dict[str, str] | None = field(default=None, repr=False, compare=False)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _wrong_type(where: str, expected: str, value: object) -> BadCallback:
    return BadCallback(
        "wrong-type", f"field {where!r} should be {expected}, found {_type_name(value)}"
    )


def _object(parent: dict[str, Any], name: str, where: str) -> dict[str, Any] | None:
    value = parent.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise _wrong_type(where, "an object", value)


def _string(parent: dict[str, Any], name: str, where: str) -> str | None:
    value = parent.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _wrong_type(where, "a string", value)


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _integer(parent: dict[str, Any], name: str, where: str) -> int | None:
    value = parent.get(name)
    if value is None:
        return None
    # bool is an int in Python but never a duration on the wire.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _wrong_type(where, "an integer", value)


def read_cookies(value: object) -> dict[str, str]:
    """Cookies from a list of {"key","value"} (Sinch's shape) or a map; anything odd is dropped.

    Cookies steer the flow but are echoed by the network, so a malformed entry is skipped
    rather than failing the callback; the step engine decides what a missing cookie means.
    """
    pairs: Iterator[tuple[object, object]]
    if isinstance(value, list):
        pairs = (
            (item.get("key"), item.get("value")) for item in value if isinstance(item, dict)
        )
    elif isinstance(value, dict):
        pairs = iter(value.items())
    else:
        return {}
    cookies: dict[str, str] = {}
    budget = MAX_COOKIE_BYTES
    for key, val in pairs:
        if not isinstance(key, str) or not isinstance(val, str):
            continue
        size = len(key.encode("utf-8", "surrogatepass")) + len(
            val.encode("utf-8", "surrogatepass")
        )
        if size > budget:
            break  # ignore everything beyond the cap, not just this entry
        budget -= size
        cookies[key] = val  # a repeated key: the later one wins, like a later setCookie
    return cookies


def _menu_result(body: dict[str, Any]) -> MenuResult | None:
    result = _object(body, "menuResult", "menuResult")
    if result is None:
        return None
    value = result.get("value")
    # Digits may arrive as a JSON number from some emitters; they mean the same keys.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif value is not None and not isinstance(value, str):
        raise _wrong_type("menuResult.value", "a string", value)
    return MenuResult(
        menu_id=_string(result, "menuId", "menuResult.menuId"),
        type=_lower(_string(result, "type", "menuResult.type")),
        value=value,
        input_method=_lower(_string(result, "inputMethod", "menuResult.inputMethod")),
    )


def _amd(body: dict[str, Any]) -> Amd | None:
    amd = _object(body, "amd", "amd")
    if amd is None:
        return None
    return Amd(
        status=_lower(_string(amd, "status", "amd.status")),
        reason=_lower(_string(amd, "reason", "amd.reason")),
        duration=_integer(amd, "duration", "amd.duration"),
    )


# 19 digits in a row may be an integer past 64 bits, which orjson reads as a float where json keeps it whole.
# Found by turning every digit into "0" and looking for 19 of them: about 1 us for a callback, where a
# regular expression tried a match at every digit (11 us, with the digits of call ids and timestamps).
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGITS = b"0" * 19


def _has_long_digits(body: bytes) -> bool:
    return body.translate(_DIGITS_AS_ZERO).find(_LONG_DIGITS) >= 0


def _decode(body: bytes) -> Any:
    if not _has_long_digits(body):
        try:
            # orjson parses a callback in about a quarter of json's time. What it refuses (NaN, a lone
            # surrogate, a byte-order mark, other encodings, deep nesting) json decides as before.
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body)
    # RecursionError: deeply nested arrays; ValueError covers bad UTF-8 and JSON syntax.
    except (ValueError, RecursionError):
        raise BadCallback("not-json", "body is not valid JSON") from None


def parse_callback(body: bytes) -> Callback:
    """Parse a callback body; raises BadCallback for anything that cannot be routed."""
    data = _decode(body)
    if not isinstance(data, dict):
        raise BadCallback(
            "not-an-object", f"body should be a JSON object, found {_type_name(data)}"
        )

    event = data.get("event")
    if event is None:
        raise BadCallback("missing-event", "field 'event' is missing")
    if not isinstance(event, str):
        raise _wrong_type("event", "a string", event)
    if event.lower() not in EVENTS:
        raise BadCallback(
            "unknown-event",
            f"field 'event' should be one of {', '.join(sorted(EVENTS))}, found {event[:40]!r}",
        )

    # Every SDK model says 'callid'; some Sinch prose says 'callId'.
    callid = data.get("callid")
    if callid is None:
        callid = data.get("callId")
    if callid is None or callid == "":
        raise BadCallback("missing-callid", "field 'callid' is missing or empty")
    if not isinstance(callid, str):
        raise _wrong_type("callid", "a string", callid)

    to = _object(data, "to", "to")
    # Event-specific fields are read only for their event, so an unrelated field that
    # happens to share a name (e.g. 'type') cannot fail an otherwise good callback.
    event = event.lower()
    return Callback(
        event=event,
        callid=callid,
        cookies=read_cookies(data.get("cookies")),
        custom=_string(data, "custom", "custom"),
        caller=_string(data, "cli", "cli"),
        called=_string(to, "endpoint", "to.endpoint") if to is not None else None,
        menu_result=_menu_result(data) if event == "pie" else None,
        amd=_amd(data) if event in ("ace", "notify") else None,
        dice_reason=_lower(_string(data, "reason", "reason")) if event == "dice" else None,
        dice_result=_lower(_string(data, "result", "result")) if event == "dice" else None,
        notify_type=_lower(_string(data, "type", "type")) if event == "notify" else None,
        notify_destination=(
            _string(data, "destination", "destination") if event == "notify" else None
        ),
        timestamp=_string(data, "timestamp", "timestamp"),
        raw=data,
    )
