"""Compact JSON for answers and log lines, made by orjson, byte for byte what the json module would write.

orjson writes the same compact JSON as json.JSONEncoder(separators=(",", ":")) for the values
ivrc sends (text, whole numbers, booleans, null, lists and objects) except that it leaves
non-ASCII and DEL unescaped where json writes \\uXXXX: those rare outputs are made again with
json, so an answer's bytes never depend on which encoder ran. Anything orjson refuses (an
integer past 64 bits, a key that is not text, a lone surrogate) goes to json as well.
"""
from __future__ import annotations

import json
import re
from typing import Any

import orjson

from ivrc.runtime.engine.reuse import Svaml

_JSON_ANSWER = json.JSONEncoder(separators=(",", ":")).encode
# default=str: a datetime or enum in a log line's extra field must not lose the whole line.
_JSON_LINE = json.JSONEncoder(default=str, separators=(",", ":")).encode
# Datetimes and dataclasses go to default=str as they do with json (orjson would format them itself).
_LINE_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


# What json escapes and orjson leaves as it is: DEL and everything past ASCII (in strings only,
# the only place JSON has such characters).
_UNESCAPED = re.compile("[\x7f-\U0010ffff]")


def _same_as_json(text: bytes) -> bool:
    return text.isascii() and b"\x7f" not in text


def _escaped(found: re.Match[str]) -> str:
    """One character as json writes it: \\uXXXX, in lower-case hex, a pair of surrogates past U+FFFF."""
    code = ord(found.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"


def _as_json_writes(text: bytes) -> str:
    """orjson's UTF-8 with the characters json escapes escaped: a multilingual answer costs a few
    microseconds here instead of a second encoding with json (about 40 us)."""
    return _UNESCAPED.sub(_escaped, text.decode())


def answer_bytes(svaml: Any) -> bytes:
    """An answer's body. SVAML holds no floats, so orjson's only difference is the escaping checked here."""
    if type(svaml) is Svaml and svaml.fixed and list(svaml) == ["instructions", "action"]:
        return _spliced(svaml)
    try:
        text = orjson.dumps(svaml)
    except TypeError:
        return _JSON_ANSWER(svaml).encode()
    # A copy: orjson's bytes keep its 4 KiB buffer (4,104 bytes held for a 666-byte answer), and the
    # replay guard holds every answer for ten minutes. Copying costs 0.2 us.
    return bytes(memoryview(text)) if _same_as_json(text) else _as_json_writes(text).encode()


def _spliced(svaml: Svaml) -> bytes:
    """An answer's body from the JSON of its parts, each part every call shares written once.

    Compact JSON is the JSON of the parts joined by commas, and each part is escaped on its own,
    so the bytes are the same as writing the whole answer at once."""
    fixed = svaml.fixed
    assert fixed is not None  # answer_bytes comes here only for an answer that carries its registry
    parts: list[bytes] = []
    loose: list[Any] = []  # this call's own instructions in a row: written together, in one go
    for item in svaml["instructions"]:
        known = fixed.get(id(item))
        if known is None or known[0] is not item:
            loose.append(item)
            continue
        if loose:
            parts.append(answer_bytes(loose)[1:-1])
            loose = []
        parts.append(known[1] or _written(known))
    if loose:
        parts.append(answer_bytes(loose)[1:-1])
    action = svaml["action"]
    known = fixed.get(id(action))
    written = known[1] or _written(known) if known is not None and known[0] is action else answer_bytes(action)
    return b'{"instructions":[' + b",".join(parts) + b'],"action":' + written + b"}"


def _written(known: list[Any]) -> bytes:
    """A shared part's JSON, written the first time an answer carries it."""
    known[1] = answer_bytes(known[0])
    return known[1]


def log_text(record: dict[str, Any]) -> str:
    """A log line. Its numbers are durations, which both write alike (orjson spells a float under
    0.0001 without an exponent; a duration rounded to microseconds never is one)."""
    try:
        text = orjson.dumps(record, default=str, option=_LINE_OPTIONS)
    except TypeError:
        return _JSON_LINE(record)
    return text.decode() if _same_as_json(text) else _as_json_writes(text)
