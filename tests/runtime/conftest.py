"""Shared helpers for the runtime tests: where Sinch's sample payloads live."""
from __future__ import annotations

from pathlib import Path

import pytest

# Sinch's own sample payloads (Apache-2.0, see tests/fixtures/sinch/NOTICE), kept in the repository.
SINCH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/sinch"


@pytest.fixture
def sinch_events() -> Path:
    """The folder of Sinch's sample callback bodies (sinchevents/*.json)."""
    return SINCH_FIXTURES / "sinchevents"


# -- engines over the examples and the small inline flows (tests/runtime/callkit.py) ---------

import copy  # noqa: E402
import json  # noqa: E402
from typing import Any, Callable  # noqa: E402

from callkit import (  # noqa: E402
    ENV,
    TUESDAY_10,
    Phone,
    backend_fetch,
    example_machines,
    fixed,
    inline_machines,
    library_of,
)

SAMPLE_FILES = {"ice": "IncomingCallEventDto.json", "ace": "AnsweredCallEventDto.json",
                "pie": "PromptInputEventDto.json", "dice": "DisconnectedCallEventDto.json",
                "notify": "NotificationEventDto.json"}


@pytest.fixture(scope="session")
def all_machines() -> list[dict[str, Any]]:
    """Every example and every inline test flow, compiled once per session."""
    return example_machines() + inline_machines()


@pytest.fixture
def library(all_machines: list[dict[str, Any]]):
    # Deep copies: a test may change a machine without touching the others.
    return library_of(*copy.deepcopy(all_machines))


@pytest.fixture
def make_engine(library) -> Callable[..., Any]:
    """An engine over `library` with a frozen clock (a working Tuesday unless told) and test env."""
    from ivrc.runtime.engine.step import Engine
    from ivrc.runtime.server.metrics import RuntimeMetrics

    def make(moment=TUESDAY_10, env=None, metrics=None):
        return Engine(library, clock=fixed(moment), env=ENV if env is None else env,
                      metrics=metrics if metrics is not None else RuntimeMetrics(), backend=backend_fetch)

    return make


@pytest.fixture
def sinch_body(sinch_events: Path) -> Callable[..., dict[str, Any]]:
    """A callback body built on Sinch's own sample for the event, with fields replaced."""

    def build(event: str, **fields: Any) -> dict[str, Any]:
        body = json.loads((sinch_events / SAMPLE_FILES[event]).read_text())
        body.update(fields)
        return body

    return build


@pytest.fixture
def engine(make_engine):
    """An engine over every example and inline flow, on a working Tuesday."""
    return make_engine()


@pytest.fixture
def phone(engine, sinch_body) -> Phone:
    """Sinch's sample callbacks, sent to `engine` one at a time."""
    return Phone(engine, sinch_body)
