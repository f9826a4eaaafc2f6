"""Request states in the engine: the HTTP request a state asks for, and where its answer leads.

The engine does no I/O: walking a flow yields an Outgoing request, and whoever drives the walk
(the server with its pooled HTTP client, or flow-test stubs) sends back a Reply.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote, unquote

from ivrc.compiler.compiled import Machine, Request

from .render import Context, StepError

MAX_ANSWER_BYTES = 64 * 1024  # a larger answer is refused: one call must not hold megabytes


# Seconds all requests of one callback may take together (`ivrc serve --request-budget`); Sinch's
# ICE deadline is 5 s (reference 5.1), and the answer still has to be written and sent.
REQUEST_BUDGET = 3.0


@dataclass(frozen=True)
class Outgoing:
    """One HTTP request, ready to send."""

    state: str
    method: str
    url: str  # with the path and query filled in and percent-encoded
    origin: str  # scheme://host[:port] as written in the flow: the only place it may go
    query: dict[str, str]
    headers: dict[str, str]
    secret_names: frozenset[str]  # header names whose values are secrets: never logged
    body: bytes | None
    timeout: float


@dataclass(frozen=True)
class Reply:
    """What came back: a status and the parsed JSON, or the reason there is none."""

    status: int | None = None
    data: Any = None
    json_ok: bool = False  # the body was JSON (data may still be null)
    error: str | None = None  # timeout, connection, too-large, redirect, budget, unstubbed
    seconds: float = 0.0


@dataclass
class Made:
    """A request as the callback's log line tells it: never a body, a header or a number."""

    state: str
    outcome: str  # ok, status, failure
    status: int | None
    error: str | None
    duration_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    def log(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state, "outcome": self.outcome, "duration_ms": self.duration_ms}
        if self.status is not None:
            out["status"] = self.status
        if self.error is not None:
            out["error"] = self.error
        return out


class BadPath(Exception):
    """A value would make a whole path segment empty, '.' or '..': the request is not sent (its failure path)."""


# What a path segment must not be when a value made it: '//', '/./' and '/../' (also percent-encoded, in
# part or whole, which RFC 3986 and WHATWG URL parsers treat as the same) change which resource it names.
_NOT_A_NAME = frozenset({"", ".", ".."})


def build(state: Request, ctx: Context, env: Mapping[str, str]) -> Outgoing:
    """The request the state makes for this call: templates rendered, values encoded, secrets read.

    Raises BadPath when a value (a SIP caller id, a backend's answer) would make a whole path segment
    empty or a dot segment."""
    path = []
    templated = False
    for is_expression, text in state.url_pieces:
        if is_expression:
            # Percent-encoded, slashes too: a caller's digits can never add a path segment or a query.
            path.append(quote(_text(ctx.evaluate(text)), safe=""))
            templated = True
        else:
            path.append(text)
    if templated:
        _check_segments(state, "".join(path))
    headers = {name: _header(name, ctx.render("plain", source)) for name, source in state.headers.items()}
    for name, secret in state.secret_headers.items():
        # Stripped as at start-up: a secret mounted from a file often ends with a line feed.
        value = (env.get(secret.env) or "").strip()
        if not value:
            raise StepError("config", f"environment variable {secret.env} is not set on the server")
        headers[name] = secret.prefix + value
    body = None
    if state.has_body:
        headers.setdefault("content-type", "application/json")
        body = json.dumps(_render_json(state.body, ctx), ensure_ascii=False, separators=(",", ":")).encode()
    headers.setdefault("accept", "application/json")
    return Outgoing(state.name, state.method, state.origin + "".join(path), state.origin,
                    {name: ctx.render("plain", source) for name, source in state.query.items()},
                    headers, frozenset(state.secret_headers), body, state.timeout)


def _check_segments(state: Request, rendered: str) -> None:
    """BadPath if a value made a path segment that names no resource ('', '.', '..'). Values never hold an
    unencoded '/', so the segments line up one for one with those of the URL as written in the flow."""
    written = "".join("x" if is_expression else text for is_expression, text in state.url_pieces)
    for as_written, made in zip(written.split("?", 1)[0].split("/"), rendered.split("?", 1)[0].split("/")):
        if made != as_written and unquote(made) in _NOT_A_NAME:
            raise BadPath(f"a value would make the path segment {made!r}")


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        raise StepError("template", f"a URL part evaluated to {type(value).__name__}, not text")
    return str(value)


def _header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise StepError("template", f"header {name!r} would hold a line break")
    return value


def _render_json(value: Any, ctx: Context) -> Any:
    if isinstance(value, str):
        return ctx.render("plain", value)
    if isinstance(value, dict):
        return {k: _render_json(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, ctx) for v in value]
    return value


def outcome(state: Request, reply: Reply, machine: Machine) -> tuple[str | None, dict[str, str], Made]:
    """Where the call goes (None: nowhere, the error path), the variables to save, and the log record."""
    ms = round(reply.seconds * 1000, 3)
    if reply.error == "redirect" and reply.status is not None:
        # Never followed, but a status like any other: a flow that names it in on_status goes there,
        # as its flow tests (which stub the status) say.
        target = state.after_status(reply.status)
        if target is not None:
            return target, {}, Made(state.name, "status", reply.status, None, ms)
    if reply.error is not None:
        return state.on_failure, {}, Made(state.name, "failure", reply.status, reply.error, ms)
    status = reply.status or 0
    if not 200 <= status < 300:
        target = state.after_status(status)
        if target is not None:
            return target, {}, Made(state.name, "status", status, None, ms)
        return state.on_failure, {}, Made(state.name, "failure", status, "status", ms)
    saved: dict[str, str] = {}
    for variable, path in state.save.items():
        if not reply.json_ok:
            return state.on_failure, {}, Made(state.name, "failure", status, "not-json", ms)
        found, value = _field(reply.data, path)
        spec = machine.variables.get(variable)
        if not found or spec is None:
            return state.on_failure, {}, Made(state.name, "failure", status, "missing-field",
                                              ms, {"field": ".".join(path)})
        if len(value.encode("utf-8", "surrogatepass")) > spec.max_length:
            return state.on_failure, {}, Made(state.name, "failure", status, "too-long", ms,
                                              {"field": ".".join(path)})
        saved[variable] = value
    return state.next, saved, Made(state.name, "ok", status, None, ms)


def _field(data: Any, path: tuple[str, ...]) -> tuple[bool, str]:
    """A scalar at a dotted path, as text: strings as they are, numbers and booleans as JSON writes them."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False, ""
    if isinstance(data, str):
        return True, data
    if isinstance(data, bool) or isinstance(data, (int, float)):
        return True, json.dumps(data)
    return False, ""  # null, an object or a list: nothing a variable can hold
