"""Shared helpers for the runtime tests: where Sinch's sample payloads live."""
from __future__ import annotations

from pathlib import Path

import pytest

# The repository sits beside /work/shared; the fixtures are not copied into the repo.
SINCH_FIXTURES = Path(__file__).resolve().parents[3] / "shared/reference/sinch-fixtures"


def sinch_fixtures_dir() -> Path:
    """The sinch-fixtures folder, or skip the test saying where it was looked for."""
    if not SINCH_FIXTURES.is_dir():
        pytest.skip(f"Sinch sample payloads not found at {SINCH_FIXTURES}")
    return SINCH_FIXTURES


@pytest.fixture
def sinch_events() -> Path:
    """The folder of Sinch's sample callback bodies (sinchevents/*.json)."""
    return sinch_fixtures_dir() / "sinchevents"
