"""Makes tests/support importable from every test folder, and provides the `ivrc` fixture everywhere."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No per-example deadline and no "too slow" health check: on a busy shared machine an example
# may take seconds, and a test must fail for what the code does, never for how busy CI is.
settings.register_profile("ivrc", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ivrc")

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from ivrctest import Run, ivrc_runner, leave_example_backend, use_example_backend  # noqa: E402


def pytest_sessionstart(session: pytest.Session) -> None:
    """The stand-in bank and order desk the example flows' requests reach, up before any test module
    is collected (some record example calls when they are imported). Runs side by side share one,
    which stops by itself after the last of them (tests/support/ivrctest.py)."""
    import tempfile

    use_example_backend(Path(tempfile.mkdtemp(prefix="ivrc-backend-")))


def pytest_sessionfinish(session: pytest.Session) -> None:
    leave_example_backend()


@pytest.fixture
def ivrc(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """Runs `ivrc ARGS...` in-process (see tests/support/ivrctest.py)."""
    return ivrc_runner(capsys, monkeypatch)


__all__ = ["Run"]
