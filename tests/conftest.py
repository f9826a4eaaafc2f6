"""Makes tests/support importable from every test folder, and provides the `ivrc` fixture everywhere."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from ivrctest import Run, ivrc_runner  # noqa: E402


@pytest.fixture
def ivrc(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """Runs `ivrc ARGS...` in-process (see tests/support/ivrctest.py)."""
    return ivrc_runner(capsys, monkeypatch)


__all__ = ["Run"]
