"""`import ivrc` gives the documented public API: every name resolves, is documented, and works."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import ivrc

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.mark.parametrize("name", ivrc.__all__)
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    assert getattr(ivrc, name) is not None
    assert re.search(rf"`ivrc\.{re.escape(name)}\b", (REPO / "docs" / "api.md").read_text()), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ivrc.nope  # noqa: B018


def test_check_and_compile_through_the_api() -> None:
    result = ivrc.check_text("ivrc: 1\nflow: x\nstart: a\nstates:\n  a: {hangup: true, say: hi}\n  b: {next: zz}\n")
    assert [d.code for d in result.diagnostics if d.is_error] == ["IVR020"]
    machines = ivrc.compile_paths([str(EXAMPLES / "support.yaml")])
    assert [m.flow for m in machines] == ["support"] and isinstance(machines[0], ivrc.Machine)


def test_flow_errors_are_ivrc_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("ivrc: 1\nflow: x\nstart: nowhere\nstates:\n  a: {hangup: true}\n")
    with pytest.raises(ivrc.IvrcError, match="IVR020"):
        ivrc.compile_paths([str(broken)])


def test_the_app_answers_a_signed_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    from ivrc.runtime.emulation.emulator import Call, HttpTransport

    monkeypatch.setenv("IVRC_STATE_KEY", "test-state-key-0123456789abcdef")
    key, secret = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
    app = ivrc.app([str(EXAMPLES / "support.yaml")], credentials=ivrc.Credentials(key, secret))
    with TestClient(app, base_url="http://ivrc.test") as client:
        transport = HttpTransport("http://ivrc.test/sinch/callback", key, secret, client=client)
        number = ivrc.compile_paths([str(EXAMPLES / "support.yaml")])[0].numbers[0]
        call = Call(transport, called=number, key=key).start()
        assert ("hear", "Welcome to Acme support.") in [(line.kind, line.text) for line in call.lines]


def test_the_app_without_a_state_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IVRC_STATE_KEY", raising=False)
    with pytest.raises(ivrc.StartupError, match="IVRC_STATE_KEY is not set"):
        ivrc.app([str(EXAMPLES / "support.yaml")], credentials=ivrc.Credentials(
            "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="))


def test_the_app_without_credentials_says_which_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SINCH_APPLICATION_KEY", raising=False)
    monkeypatch.delenv("SINCH_APPLICATION_SECRET", raising=False)
    with pytest.raises(ivrc.StartupError, match="SINCH_APPLICATION_KEY and SINCH_APPLICATION_SECRET are not set"):
        ivrc.app([str(EXAMPLES / "support.yaml")])
