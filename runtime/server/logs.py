"""Structured logs: one JSON line per callback, with phone numbers masked and secrets left out."""
from __future__ import annotations

import asyncio
import contextlib
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


class CallbackLines(logging.StreamHandler):
    """Where `ivrc serve` writes callback lines: each line whole, the lines of one event-loop turn in one write.

    Under load one turn answers many callbacks; a write (a system call) per line cost more than
    building the line. A line waits at most until the loop's next turn, and whatever is pending is
    written when logging shuts down; outside a running loop each line is written at once."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter("%(message)s"))
        self._pending: list[str] = []
        self._scheduled = False

    def write_line(self, line: str) -> None:
        self._pending.append(line)
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in the server's loop (start-up, another thread): no turn to wait for
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except Exception:  # as StreamHandler: a line that cannot be written is reported, never raised
            self.handleError(record)

    def flush(self) -> None:
        with self.lock if self.lock is not None else contextlib.nullcontext():
            self._scheduled = False
            if self._pending:
                text = "\n".join(self._pending) + "\n"
                self._pending.clear()
                self.stream.write(text)
            super().flush()


_LEVEL_NAMES = {level: logging.getLevelName(level).lower() for level in
                (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)}


def log_callback(logger: logging.Logger, *, level: int = logging.INFO, **fields: Any) -> str:
    """Write one JSON line for a callback and return it ("" when the logger would drop it).

    The line starts with its time and level, like every JSON line ivrc writes (JsonFormatter)."""
    if not logger.isEnabledFor(level):
        return ""  # building the line costs more than the check: skip it when nobody reads it
    record = {"time": _time(time.time()), "level": _LEVEL_NAMES.get(level) or logging.getLevelName(level).lower()}
    record.update(callback_record(**fields))
    return _write(logger, level, log_text(record))


def log_answer(logger: logging.Logger, callid: str, flow: str | None, version: str | None, state: str | None,
               event: str, outcome: str | None, duration_ms: float, error: str | None, caller: str | None,
               extras: Mapping[str, Any]) -> str:
    """The server's line for an answered callback: log_callback's line for these fields, built for this one case.

    The core fields come as the server has them (text, a number or null), so only the caller's
    number needs masking; `extras` (what the step reported, the requests it made) are cleaned as
    log_callback cleans any field. Written on every callback, so every call it saves counts."""
    if not logger.isEnabledFor(logging.INFO):
        return ""
    record = {"time": _time(time.time()), "level": "info", "callid": callid, "flow": flow, "version": version,
              "state": state, "event": event, "outcome": outcome, "duration_ms": duration_ms, "error": error,
              "caller": None if caller is None else mask_number(caller)}
    for name, value in extras.items():
        if not _is_secret(name):
            record[name] = _clean(name, value)
    return _write(logger, logging.INFO, log_text(record))


def _write(logger: logging.Logger, level: int, line: str) -> str:
    handlers = logger.handlers
    if (len(handlers) == 1 and type(handlers[0]) is CallbackLines and level >= handlers[0].level
            and not logger.filters and not handlers[0].filters and not logger.propagate):
        handlers[0].write_line(line)  # `ivrc serve`'s own set-up: no record, no formatter, no filters to ask
        return line
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
