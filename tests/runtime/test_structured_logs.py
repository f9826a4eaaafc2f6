"""Callback logs: one JSON line each, numbers masked, secrets never written."""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone

import pytest

from ivrc.runtime.server.logs import CORE_FIELDS, CallbackLines, log_answer, log_callback, mask_number

LOGGER = logging.getLogger("ivrc.test.callbacks")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+46708168770", "+*********70"),
        ("46708168731", "*********31"),
        ("+1", "+*"),
        ("12", "**"),
        ("123", "*23"),
        ("", ""),
        ("+", "+"),
        ("private", "*******"),
        ("alice@sip.example.com", "*********************"),
        ("+4670816877x", "+***********"),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked
    assert len(mask_number(number)) == len(number)


@pytest.fixture(autouse=True)
def _logged(caplog: pytest.LogCaptureFixture) -> None:
    """Lines are only built when the logger writes them, so these tests turn it on."""
    caplog.set_level(logging.INFO, logger=LOGGER.name)


def test_nothing_is_built_when_the_logger_would_drop_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER.name)
    assert log_callback(LOGGER, callid="c1", caller="+46708168770") == ""
    assert caplog.records == []


def lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records]


def test_one_json_line_with_the_core_fields_first(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    line = log_callback(
        LOGGER, callid="c1", flow="support", version="ab12", state="main_menu",
        event="pie", outcome="ok", duration_ms=1.25, menu="main",
    )
    assert "\n" not in line
    assert len(caplog.records) == 1
    [record] = lines(caplog)
    assert list(record) == ["time", "level", *CORE_FIELDS, "menu"]
    assert record["duration_ms"] == 1.25 and record["menu"] == "main"
    assert caplog.records[0].levelno == logging.INFO
    assert record["level"] == "info"
    assert record["time"].endswith("Z")
    written = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - written).total_seconds()) < 3600  # a real time, in UTC


def test_missing_core_fields_are_null(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    log_callback(LOGGER, callid="c1", event="dice")
    [record] = lines(caplog)
    assert record["flow"] is None and record["duration_ms"] is None


@pytest.mark.parametrize("name", ["caller", "called", "cli", "number", "to", "from", "CLI"])
def test_number_fields_are_masked(caplog: pytest.LogCaptureFixture, name: str) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    line = log_callback(LOGGER, callid="c1", **{name: "+46708168770"})
    assert "46708168770" not in line
    assert lines(caplog)[0][name] == "+*********70"


def test_nested_numbers_and_non_strings_are_masked() -> None:
    line = log_callback(
        LOGGER, to={"type": "number", "endpoint": "+46708168770"}, number=46708168770,
        call={"cli": "+46708168770", "legs": [{"called": "+4670111222"}]}, caller=None,
    )
    assert "4670816877" not in line and "467011122" not in line
    record = json.loads(line)
    assert record["to"]["endpoint"] == "+*********70"
    assert record["number"] == "*********70"
    assert record["call"]["legs"][0]["called"] == "+********22"
    assert record["caller"] is None


@pytest.mark.parametrize(
    "name", ["secret", "authorization", "Authorization", "app_secret", "secret_b64"]
)
def test_secret_fields_are_never_written(name: str) -> None:
    line = log_callback(LOGGER, callid="c1", **{name: "BeIukql3pTKJ8RGL5zo0DA=="})
    assert "BeIukql3" not in line
    assert name not in json.loads(line)


def test_secrets_nested_in_extras_are_dropped() -> None:
    headers = {"Authorization": "application k:sig", "content-type": "application/json"}
    line = log_callback(LOGGER, callid="c1", headers=headers)
    assert "sig" not in line
    assert json.loads(line)["headers"] == {"content-type": "application/json"}


def test_values_json_cannot_encode_are_written_as_text() -> None:
    when = datetime(2024, 1, 19, tzinfo=timezone.utc)
    assert json.loads(log_callback(LOGGER, at=when))["at"] == str(when)


def test_level_can_be_raised_for_failures(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    log_callback(LOGGER, level=logging.WARNING, callid="c1", outcome="error")
    assert caplog.records[0].levelno == logging.WARNING


class _Writes:
    """A stream that remembers each write it was given."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        pass


@pytest.fixture()
def served_logger():
    """A logger set up as `ivrc serve` sets up its callback lines (startup.py)."""
    logger = logging.getLogger("ivrc.test.served-callbacks")
    stream = _Writes()
    handler = CallbackLines(stream)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_the_lines_of_one_loop_turn_go_out_in_one_write(served_logger) -> None:
    logger, stream = served_logger

    async def three_callbacks() -> list[str]:
        lines = [log_callback(logger, callid=f"c{n}", caller="+46708168770") for n in range(3)]
        assert stream.writes == []  # still this turn: nothing written yet
        await asyncio.sleep(0)  # the next turn
        return lines

    lines = asyncio.run(three_callbacks())
    assert stream.writes == ["\n".join(lines) + "\n"]
    assert [json.loads(line)["callid"] for line in stream.writes[0].splitlines()] == ["c0", "c1", "c2"]
    assert json.loads(lines[0])["caller"] == "+*********70"


def test_outside_a_loop_each_line_is_written_at_once(served_logger) -> None:
    logger, stream = served_logger
    line = log_callback(logger, callid="c1")
    assert stream.writes == [line + "\n"]
    logger.warning("a plain record goes through the same handler, in order")
    assert stream.writes[1] == "a plain record goes through the same handler, in order\n"


def test_a_flush_writes_what_is_pending_at_once(served_logger) -> None:
    """logging.shutdown() flushes every handler at exit: lines of the last turn are not lost."""
    logger, stream = served_logger

    async def logged_then_flushed() -> str:
        line = log_callback(logger, callid="c1")
        assert stream.writes == []
        logger.handlers[0].flush()
        assert stream.writes == [line + "\n"]
        return line

    asyncio.run(logged_then_flushed())
    assert len(stream.writes) == 1  # the turn's own flush finds nothing left to write


def test_a_line_is_the_same_whichever_way_it_is_written(served_logger) -> None:
    logger, stream = served_logger
    fields = {"callid": "c1", "flow": "support", "state": "menu", "caller": "+46708168770", "digits": "1234"}
    fast = log_callback(logger, **fields)
    slow = log_callback(LOGGER, **fields)  # through a record and caplog's handler
    assert json.loads(fast) | {"time": None} == json.loads(slow) | {"time": None}
    assert stream.writes == [fast + "\n"]


@pytest.mark.parametrize("caller", ["+46708168770", None, "alice@sip.example.com"])
def test_the_servers_line_is_log_callbacks_line(served_logger, caller) -> None:
    """log_answer builds the line of every answered callback its own way: the same line as log_callback's."""
    logger, stream = served_logger
    extras = {"digits": "1234", "number": "+46701234567", "api_secret": "x",
              "requests": [{"name": "verify", "status": 200, "headers": {"Authorization": "Bearer t"}}]}
    core = {"callid": "c1", "flow": "support", "version": "abc", "state": "menu", "event": "pie",
            "outcome": "menu", "duration_ms": 0.25, "error": None, "caller": caller}
    fast = log_answer(logger, *core.values(), extras)
    general = log_callback(logger, **core, **extras)
    assert fast.split(",", 1)[1] == general.split(",", 1)[1]  # all but the time, key order included
    assert "api_secret" not in fast and "Bearer" not in fast and "+46701234567" not in fast
    assert stream.writes == [fast + "\n" + general + "\n"] or stream.writes == [fast + "\n", general + "\n"]
