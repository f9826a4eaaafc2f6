"""Shared helpers for the compiler and CLI tests: where things live (`ivrc` itself comes from tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from ivrctest import REPO


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, so paths in output are relative and the same on every machine."""
    monkeypatch.chdir(REPO)
    return REPO
