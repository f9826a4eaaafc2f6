"""Shared helpers for the Sinch REST API tests: the stand-in and a client aimed at it (`ivrc` is in tests/conftest.py)."""
from __future__ import annotations

from typing import Iterator

import pytest
from standin import KEY, SECRET, SinchStandIn


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
    monkeypatch.setenv("IVRC_STATE_KEY", "test-state-key-0123456789abcdef")  # unpark seals as the server does
    return standin


@pytest.fixture
def api(standin: SinchStandIn) -> Iterator:
    """A client aimed at the stand-in that never really sleeps between retries (waits are recorded)."""
    from ivrc.runtime.signing import Credentials
    from ivrc.runtime.sinch.api import SinchApi

    waits: list[float] = []
    client = SinchApi(Credentials(KEY, SECRET), api_url=standin.traffic_url, config_url=standin.config_url,
                      env={}, sleep=waits.append)
    client.waits = waits  # type: ignore[attr-defined]
    yield client
    client.close()
