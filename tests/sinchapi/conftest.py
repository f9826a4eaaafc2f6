"""Shared helpers for the Sinch REST API tests: the stand-in, a client aimed at it, `ivrc` in-process."""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Callable, Iterator

import pytest

from standin import FIXTURES, KEY, REPO, SECRET, SinchStandIn


@pytest.fixture(scope="session", autouse=True)
def _fixtures_present() -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"Sinch sample callout bodies not found at {FIXTURES}")


@pytest.fixture
def standin() -> Iterator[SinchStandIn]:
    with SinchStandIn() as running:
        yield running


@pytest.fixture
def sinch_env(standin: SinchStandIn, monkeypatch: pytest.MonkeyPatch) -> SinchStandIn:
    """The environment `ivrc` reads, aimed at the stand-in (and nothing left over from the real one)."""
    for name in ("SINCH_REGION", "SINCH_API_URL", "SINCH_CONFIG_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in standin.env().items():
        monkeypatch.setenv(name, value)
    return standin


@pytest.fixture
def api(standin: SinchStandIn) -> Iterator:
    """A client aimed at the stand-in that never really sleeps between retries (waits are recorded)."""
    from runtime.signing import Credentials
    from runtime.sinch_api import SinchApi

    waits: list[float] = []
    client = SinchApi(Credentials(KEY, SECRET), api_url=standin.traffic_url, config_url=standin.config_url,
                      env={}, sleep=waits.append)
    client.waits = waits  # type: ignore[attr-defined]
    yield client
    client.close()


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def ivrc(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Runs `ivrc ARGS...` through ivrc.cli.main from the repository root; `stdin` feeds it text."""
    from ivrc.cli import main

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv: str, stdin: str | None = None, tty: bool = False) -> Run:
        feed = io.StringIO(stdin or "")
        feed.isatty = lambda: tty  # type: ignore[method-assign]
        monkeypatch.setattr(sys, "stdin", feed)
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
