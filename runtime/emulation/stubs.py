"""Stand-ins for the business's systems in flow tests and simulations: request states never reach the network.

A stub says what one request state gets back: a status and JSON, a delay, or a failure
(timeout, connection). Several replies for one state are used in order; the last one repeats.
A request with no stub fails the scenario and names the state, and every request sent is kept
so a scenario can check what the flow sent.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

from ivrc.compiler.errors import IvrcError
from ivrc.runtime.engine.requests import Outgoing, Reply

FAILURES = ("timeout", "connection")
STUB_KEYS = ("status", "json", "body", "delay", "error")


class StubError(IvrcError):
    """A stub that cannot be used as written; the message says why."""


@dataclass(frozen=True)
class Stub:
    status: int = 200
    json: Any = None
    has_json: bool = False
    body: str | None = None  # a non-JSON answer, as text
    delay: float = 0.0
    error: str | None = None  # timeout | connection

    @classmethod
    def parse(cls, data: Any, where: str) -> "Stub":
        """A stub from a scenario's `requests:` entry; StubError names what is wrong."""
        if not isinstance(data, Mapping):
            raise StubError(f"{where}: a stub is a mapping like {{status: 200, json: {{...}}}}")
        unknown = sorted(set(data) - set(STUB_KEYS))
        if unknown:
            raise StubError(f"{where}: unknown key {unknown[0]!r}; a stub has " + ", ".join(STUB_KEYS))
        status = data.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise StubError(f"{where}: `status` is an HTTP status from 100 to 599, found {status!r}")
        error = data.get("error")
        if error is not None and error not in FAILURES:
            raise StubError(f"{where}: `error` is one of {', '.join(FAILURES)}, found {error!r}")
        delay = data.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise StubError(f"{where}: `delay` is a number of seconds, found {delay!r}")
        body = data.get("body")
        if body is not None and not isinstance(body, str):
            raise StubError(f"{where}: `body` is the answer as text (use `json:` for JSON)")
        if "json" in data and body is not None:
            raise StubError(f"{where}: give `json` or `body`, not both")
        return cls(status, data.get("json"), "json" in data, body, float(delay), error)

    def reply(self, timeout: float) -> Reply:
        if self.error == "timeout" or self.delay >= timeout:
            return Reply(error="timeout", seconds=timeout)
        if self.error == "connection":
            return Reply(error="connection", seconds=self.delay)
        if self.has_json:
            return Reply(status=self.status, data=self.json, json_ok=True, seconds=self.delay)
        return Reply(status=self.status, json_ok=False, seconds=self.delay)


def parse_stubs(data: Any, where: str = "requests") -> dict[str, list[Stub]]:
    """`requests:` of a scenario: state name -> one stub or a list of stubs."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise StubError(f"{where}: `requests` maps request states to what they get back, e.g. "
                        "{verify: {status: 200, json: {ok: true}}}")
    out: dict[str, list[Stub]] = {}
    for state, value in data.items():
        replies = value if isinstance(value, list) else [value]
        if not replies:
            raise StubError(f"{where}.{state}: give at least one reply")
        out[str(state)] = [Stub.parse(r, f"{where}.{state}") for r in replies]
    return out


@dataclass(frozen=True)
class Sent:
    """A request as the backend would have received it (secret header values left out)."""

    state: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]

    def describe(self) -> str:
        return f"{self.method} {self.path}" + (f" (state {self.state})" if self.state else "")


@dataclass
class Stubs:
    """The backend of an emulated call: stubbed replies in order, and a record of what was sent."""

    replies: dict[str, list[Stub]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    unstubbed: list[str] = field(default_factory=list)  # states that made a request nobody stubbed
    used: dict[str, int] = field(default_factory=dict)

    def __call__(self, outgoing: Outgoing) -> Reply:
        parts = urlsplit(outgoing.url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        query.update(outgoing.query)
        try:
            body = json.loads(outgoing.body) if outgoing.body else None
        except ValueError:
            body = None
        headers = {k: v for k, v in outgoing.headers.items() if k not in outgoing.secret_names}
        self.sent.append(Sent(outgoing.state, outgoing.method, parts.path, query, body, headers))
        stubs = self.replies.get(outgoing.state)
        if not stubs:
            self.unstubbed.append(outgoing.state)
            return Reply(error="unstubbed")
        index = self.used.get(outgoing.state, 0)
        self.used[outgoing.state] = index + 1
        return stubs[min(index, len(stubs) - 1)].reply(outgoing.timeout)
