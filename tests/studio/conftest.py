"""Fixtures for the studio's tests: a private copy of the examples the tests may edit."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """The example flows and their tests, copied so a test can edit them and save calls into them."""
    target = tmp_path / "flows"
    shutil.copytree(EXAMPLES, target)
    return target
