"""Shared helpers for the emulator and flow-test tests: the repo, `ivrc` in-process, servers on loopback."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from ivrctest import EXAMPLES, KEY, SECRET, Server, free_port, start_serve


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The environment `ivrc call` and `ivrc test --url` sign with, set to the test-vector pair."""
    monkeypatch.setenv("SINCH_APPLICATION_KEY", KEY)
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", SECRET)
    return KEY, SECRET


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `ivrc serve examples` process on a free loopback port, signed with the test-vector pair."""
    server = start_serve(tmp_path_factory.mktemp("served"), EXAMPLES, extra=("--log-level", "warning"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[..., Path]:
    """A folder with copies of example flows; write(name, text) adds a file and returns its path."""
    def write(name: str, text: str | None = None) -> Path:
        path = tmp_path / name
        if text is None:  # an example flow, copied
            text = (EXAMPLES / name).read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        return path

    return write
