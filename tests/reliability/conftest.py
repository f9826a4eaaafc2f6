"""Fixtures for the reliability tests: real `ivrc serve` processes that are always stopped afterwards."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from ivrctest import serve_env as server_env
from relykit import load_script


def _launcher(log_dir: Path) -> Iterator[Callable[..., object]]:
    load = load_script()
    started = []

    def start(paths: list[str | Path], machines_dir: str | Path, port: int = 0, **options) -> object:
        server = load.ServerProcess([str(p) for p in paths], str(machines_dir), port=port, env=server_env(),
                                    log_dir=str(log_dir), **options)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop(timeout=5)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., object]]:
    """launch(paths, machines_dir, port=0) starts `ivrc serve` on 127.0.0.1 and waits for /healthz.

    Every process started here is stopped when the test ends, whatever happened (SIGTERM, then SIGKILL).
    """
    yield from _launcher(tmp_path)


@pytest.fixture(scope="module")
def launch_for_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., object]]:
    """The same, for servers shared by the tests of one module."""
    yield from _launcher(tmp_path_factory.mktemp("servers"))
