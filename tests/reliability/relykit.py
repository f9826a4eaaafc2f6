"""Shared pieces for the reliability tests: credentials, signing, flows, in-process apps and real servers."""
from __future__ import annotations

import datetime
import importlib.util
import itertools
import json
import sys
import textwrap
import warnings
from functools import lru_cache
from types import ModuleType
from typing import Any

from ivrctest import BANK_TOKEN, EXAMPLES, KEY, REPO, S3_CREDENTIALS, SECRET, backend_fetch  # noqa: F401 (re-exported)

from ivrc.compiler import compile_file, compile_text, formats
from ivrc.runtime.emulation.emulator import HttpTransport
from ivrc.runtime.engine.library import Library
from ivrc.runtime.server.app import CALLBACK_PATH, Settings, create_app
from ivrc.runtime.signing import Credentials, sign

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's test client may prefer another httpx
    from starlette.testclient import TestClient

UTC = datetime.timezone.utc
TUESDAY_10 = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 11:00 in Stockholm, every office open

# The verified test vector of reference section 6.3; OTHER_SECRET is valid Base64 of another application.
OTHER_KEY = "11111111-2222-3333-4444-555555555555"
OTHER_SECRET = "c2VjcmV0LW9mLWFub3RoZXItYXBw"
ENV = {"VOICEMAIL_S3_CREDENTIALS": S3_CREDENTIALS, "BANK_API_TOKEN": BANK_TOKEN}

SUPPORT, VOICEMAIL, ACCOUNT_PIN, MULTILINGUAL, PARTNER_LINE = (
    "+46812345670", "+46812345690", "+46812345700", "+46812345710", "+46812345711")


def fixed(moment: datetime.datetime):
    return lambda: moment


@lru_cache(maxsize=None)
def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"ivrc_{name}_script", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def load_script() -> ModuleType:
    """scripts/load.py as a module: its server launcher and scenarios are the ones users run."""
    return _script("load")


def fuzz_script() -> ModuleType:
    """scripts/fuzz.py as a module: its mutations and worst inputs."""
    return _script("fuzz")


@lru_cache(maxsize=1)
def _example_machines() -> str:
    from ivrc.compiler.project import flow_files

    machines = []
    for path in flow_files([str(EXAMPLES)]):
        result = compile_file(path)
        assert result.machine is not None, formats.text([result])
        machines.append(result.machine)
    return json.dumps(machines)


def example_machines() -> list[dict[str, Any]]:
    """Fresh copies of the compiled examples (compiled once per session)."""
    return json.loads(_example_machines())


def compile_flow(text: str) -> dict[str, Any]:
    result = compile_text(textwrap.dedent(text), "<inline>")
    assert result.ok and result.machine is not None, formats.text([result])
    return result.machine


def library_of(*machines: dict[str, Any]) -> Library:
    library = Library()
    for machine in machines:
        library.add(machine)
    return library


_ticks = itertools.count(1)


def stamp(moment: datetime.datetime) -> str:
    """An x-timestamp as Sinch writes it (7 fractional digits), unique per call so no two requests collide."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{next(_ticks) % 10_000_000:07d}Z"


def signed_headers(body: bytes, moment: datetime.datetime, *, key: str = KEY, secret: str = SECRET,
                   path: str = CALLBACK_PATH, content_type: str = "application/json",
                   method: str = "POST") -> dict[str, str]:
    timestamp = stamp(moment)
    return {"content-type": content_type, "x-timestamp": timestamp,
            "authorization": sign(key, secret, method, path, content_type, timestamp, body)}


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def make_client(library: Library, moment: datetime.datetime = TUESDAY_10, **overrides: Any) -> TestClient:
    options: dict[str, Any] = {"credentials": Credentials(KEY, SECRET), "clock": fixed(moment), "env": ENV}
    options.update(overrides)
    return TestClient(create_app(library, Settings(**options)), raise_server_exceptions=False)


class Recorder:
    """A transport that passes callbacks on and keeps every (body, answer) it saw."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.exchanges: list[tuple[dict[str, Any], Any]] = []

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        status, answer = self.inner.send(body)
        self.exchanges.append((json.loads(json.dumps(body)), answer))
        return status, answer


class Switchboard:
    """Sinch's side of a load balancer: each callback goes to the next server in turn (or always the one chosen).

    `point_at` swaps the servers, e.g. after a restart, with fresh HTTP connections.
    """

    def __init__(self, callbacks: list[str], key: str = KEY, secret: str = SECRET, first: int = 0) -> None:
        self.key, self.secret = key, secret
        self.transports: list[HttpTransport] = []
        self.sent: dict[str, int] = {}
        self._turn = itertools.count(first)
        self.point_at(callbacks)

    def point_at(self, callbacks: list[str]) -> None:
        self.close()
        self.transports = [HttpTransport(url, self.key, self.secret, timeout=10) for url in callbacks]

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        transport = self.transports[next(self._turn) % len(self.transports)]
        self.sent[transport.url] = self.sent.get(transport.url, 0) + 1
        return transport.send(body)

    def close(self) -> None:
        for transport in self.transports:
            transport.close()


class ClientTransport:
    """The emulator's transport over an in-process app: every callback signed, like HttpTransport."""

    def __init__(self, client: TestClient, moment: datetime.datetime = TUESDAY_10, **sign_options: Any) -> None:
        self.client, self.moment, self.sign_options = client, moment, sign_options
        self.authorizations: list[str] = []

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        content = encode(body)
        headers = signed_headers(content, self.moment, **self.sign_options)
        self.authorizations.append(headers["authorization"])
        response = self.client.post(CALLBACK_PATH, content=content, headers=headers)
        return response.status_code, (response.json() if response.content else None)
