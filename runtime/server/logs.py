"""Structured logs: one JSON line per callback, with phone numbers masked and secrets left out."""
from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ivrc.runtime.engine.masking import mask_number

from .fastjson import log_text

# Always present, in this order, so log queries never have to test for a key.
CORE_FIELDS = ("callid", "flow", "version", "state", "event", "outcome", "duration_ms")

# Fields that hold a phone number or address of a person.
NUMBER_FIELDS = frozenset({"caller", "called", "cli", "number", "to", "from"})

# Any field whose name contains one of these is never written, however deeply nested.
SECRET_MARKERS = ("secret", "authorization")


@functools.lru_cache(maxsize=1024)  # field names are few and repeat on every callback
def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def _masked(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): _masked(v) for k, v in value.items() if not _is_secret(str(k))}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return mask_number(str(value))


@functools.lru_cache(maxsize=1024)
def _is_number_field(name: str) -> bool:
    return name.lower() in NUMBER_FIELDS


def _clean(name: str, value: Any) -> Any:
    if _is_number_field(name):
        return _masked(value)
    if value is None or type(value) in (str, int, float, bool):
        return value  # the common case on every callback: nothing to mask or drop
    if isinstance(value, Mapping):
        return {
            str(k): _clean(str(k), v) for k, v in value.items() if not _is_secret(str(k))
        }
    if isinstance(value, (list, tuple)):
        return [_clean(name, v) for v in value]
    return value


def callback_record(**fields: Any) -> dict[str, Any]:
    """The dict log_callback writes: core fields first (null when absent), then extras."""
    record = {name: None for name in CORE_FIELDS}
    for name, value in fields.items():
        if not _is_secret(name):
            record[name] = _clean(name, value)
    return record


# Built once: json.dumps with arguments would build an encoder for every line.
# default=str: a datetime or enum in an extra field must not lose the whole line.
_ENCODE = json.JSONEncoder(default=str, separators=(",", ":")).encode


_second: list = [None, ""]  # the last whole second formatted, and its text up to the seconds


def _time(seconds: float) -> str:
    """RFC 3339 in UTC with milliseconds, as log stores parse it: 2026-12-01T14:05:09.123Z."""
    fraction, whole = math.modf(seconds)
    micros = round(fraction * 1e6)  # as datetime.fromtimestamp rounds, so the text is the same as its
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    if _second[0] != whole:  # many callbacks a second share everything but the milliseconds
        _second[:] = [whole, datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{micros // 1000:03d}Z"


def log_callback(logger: logging.Logger, *, level: int = logging.INFO, **fields: Any) -> str:
    """Write one JSON line for a callback and return it ("" when the logger would drop it).

    The line starts with its time and level, like every JSON line ivrc writes (JsonFormatter)."""
    if not logger.isEnabledFor(level):
        return ""  # building the line costs more than the check: skip it when nobody reads it
    record = {"time": _time(time.time()), "level": logging.getLevelName(level).lower()}
    record.update(callback_record(**fields))
    line = log_text(record)
    # Straight to the handlers: Logger.log would walk the stack for a file and line no line shows.
    logger.handle(logger.makeRecord(logger.name, level, "(unknown file)", 0, line, (), None))
    return line


class JsonFormatter(logging.Formatter):
    """Any other log line as JSON (--log-format json): time, level, logger, message, and the error."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _time(record.created), "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return _ENCODE(line)
