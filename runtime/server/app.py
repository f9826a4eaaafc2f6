"""The Starlette app: one Sinch callback endpoint, plus health, a flow listing and metrics."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ivrc.compiler.errors import IvrcError
from ivrc.runtime.engine.events import BadCallback, parse_callback
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.render import Clock, system_clock
from ivrc.runtime.engine.sealing import Sealer
from ivrc.runtime.engine.step import Engine
from ivrc.runtime.signing import Credentials, verify

from .backend import DEFAULT_BUDGET, Backend
from .callevents import CallEvents, not_enabled
from .connections import QuietAcceptErrors
from .events_out import EventsConfig, EventSender
from .fastjson import answer_bytes
from .logs import log_answer
from .metrics import CONTENT_TYPE, RuntimeMetrics
from .replay import Cached, ReplayGuard

CALLBACK_PATH = "/sinch/callback"
MAX_BODY_BYTES = 64 * 1024  # Sinch callbacks are around 1 kB; cookies add at most 1 kB

callback_log = logging.getLogger("ivrc.callbacks")
log = logging.getLogger("ivrc.server")


@dataclass
class Settings:
    """How the server checks and answers callbacks."""

    credentials: Credentials | tuple[Credentials, ...] | None  # several while a secret is rotated; None only unsigned
    verify_signatures: bool = True
    callback_path: str = CALLBACK_PATH
    max_body_bytes: int = MAX_BODY_BYTES
    clock: Clock = system_clock
    env: dict[str, str] | None = None
    # Keys that seal the call's state (IVRC_STATE_KEY); empty only in-process (tests), never for `ivrc serve`.
    state_keys: tuple[bytes, ...] = ()
    request_budget: float = DEFAULT_BUDGET  # seconds of requests to backends per callback
    call_events: CallEvents | None = None  # the opt-in /events stream (ivrc serve --call-events)
    events: EventsConfig | None = None  # where call events go (`--events-url`), or nowhere
    watcher: Any = None  # `ivrc serve --reload`: reloads flow files as they change (reloader.py)


class StartupError(IvrcError):
    """The server must not start; the message says why and what to do."""


def _error(status: int, error: str, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "reason": reason, "message": message}, status_code=status)


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes | None:
    """The raw body, or None past the limit (read message by message, so a huge body is never held)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers once, as a plain dict (ASGI gives names in lower case).

    A repeated header keeps its first value, as Starlette's Headers.get does."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


async def _respond(send: Send, status: int, body: bytes | memoryview, media_type: str | None) -> None:
    """An answer with the headers Starlette's Response would give it (length, then type), without building one."""
    headers = [] if status < 200 or status in (204, 304) else [(b"content-length", str(len(body)).encode())]
    if media_type is not None:
        headers.append((b"content-type", media_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Endpoint:
    """A plain ASGI handler as a route's endpoint (a function would be given Starlette's Request)."""

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


class CallbackApp(Starlette):
    """Starlette, with Sinch's callbacks answered by a plain ASGI handler in front of the router.

    Callbacks are nearly all the traffic; Starlette's middleware, routing, Request and Response
    objects cost about as much again as the bare endpoint they wrap, so POSTs to the callback
    path skip them. Everything else (and the callback path's other methods) goes through routes."""

    def __init__(self, callback_path: str, callback: Callable[[Scope, Receive, Send], Awaitable[None]],
                 **options: Any) -> None:
        super().__init__(**options)
        # A path with {parameters} is a pattern for the router, never compared as text here.
        self.callback_path = callback_path if "{" not in callback_path else ""
        self.callback = callback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a proxy's root_path the router works out the route path, as it always has.
        if (scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == self.callback_path
                and self.callback_path and not scope.get("root_path")):
            scope["app"] = self
            await self.callback(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(library: Library, settings: Settings) -> Starlette:
    if settings.verify_signatures and settings.credentials is None:
        raise StartupError("signature checks need credentials (or turn them off explicitly, for development only)")
    metrics = RuntimeMetrics()
    engine = Engine(library, clock=settings.clock, env=settings.env, metrics=metrics,
                    sealer=Sealer(settings.state_keys) if settings.state_keys else None)
    backend = Backend()
    replays = ReplayGuard()
    # A sender when events can go anywhere: the server's --events-url, a flow's own `events:`, or a
    # flow reloaded later with one.
    events = (EventSender(settings.events, metrics, library, env=engine.env)
              if settings.events is not None or settings.watcher is not None
              or any(loaded.machine.events for loaded in library.versions.values()) else None)

    def reject(status: int, error: str, reason: str, message: str) -> JSONResponse:
        metrics.rejected_requests.inc(reason=reason)
        log.warning("rejected callback: %s (%s)", reason, message)
        return _error(status, error, reason, message)

    async def callback(scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = _headers(scope)
        try:
            body = await _read_body(receive, headers, settings.max_body_bytes)
        except ClientDisconnect:
            await _respond(send, 400, b"", None)
            return
        if body is None:
            await reject(413, "payload-too-large", "too-large",
                         f"callback bodies are at most {settings.max_body_bytes} bytes")(scope, receive, send)
            return
        if settings.verify_signatures:
            now = settings.clock()
            # The public path Sinch signed (request.url would parse a whole URL just for this).
            path = signed_path(scope)
            assert settings.credentials is not None  # create_app refuses to check signatures without credentials
            verdict = verify(headers, body, path, scope["method"], settings.credentials, now)
            if not verdict:
                assert verdict.reason is not None  # a refusal always says why
                await reject(401, "unauthorized", verdict.reason,
                             "the request is not signed by this Sinch application")(scope, receive, send)
                return
            assert verdict.signature is not None and verdict.timestamp is not None  # an accepted request carries both
            cached = replays.answer_for(verdict.signature, verdict.timestamp)
            # Delivered again while a delivery is still being answered (waiting on a backend, say): its
            # answer, when it comes, rather than the flow and its requests run twice. If that delivery ends
            # without one, the first repeat to wake answers, and the others wait for it in turn.
            while cached is None and (first := replays.being_answered(verdict.signature, verdict.timestamp)):
                cached = await asyncio.shield(first)
            if cached is not None:
                # Delivered again (a lost answer, a retrying load balancer): the same answer, never a refusal.
                metrics.duplicate_requests.inc()
                log.info("duplicate delivery of a signed callback: answered as the first time")
                await _respond(send, cached.status, cached.body, cached.media_type)
                return
            replays.answering(verdict.signature, verdict.timestamp)
            made: Cached | None = None
            try:
                status, answer, media_type, report = await _answer(body, started)
                made = Cached(status, answer, media_type)
                replays.remember(verdict.signature, verdict.timestamp, made)
            finally:
                replays.answered(verdict.signature, verdict.timestamp, made)
        else:
            log.warning("signature check skipped (--insecure-no-signatures): do not run this in production")
            status, answer, media_type, report = await _answer(body, started)
        await _respond(send, status, answer, media_type)
        if report is not None and events is not None:
            await events.enqueue(report)  # queued only once Sinch has its answer, and never waited for (events_out.py)

    async def _answer(body: bytes, started: float) -> tuple[int, bytes | memoryview, str | None, dict | None]:
        """Status, body, media type and the call event to send after answering (or None)."""
        try:
            cb = parse_callback(body)
        except BadCallback as err:
            refused = reject(400, "bad-request", err.reason, str(err))
            return refused.status_code, refused.body, refused.media_type, None
        answer = await engine.step_async(cb, backend.for_callback(settings.request_budget))
        elapsed = time.perf_counter() - started
        metrics.step_seconds.observe(elapsed)
        metrics.callbacks.inc(event=cb.event, flow=answer.flow or "", state=answer.state or "")
        extras = {**answer.details, "requests": [made.log() for made in answer.requests]} if answer.requests \
            else answer.details
        log_answer(callback_log, cb.callid, answer.flow, answer.version, answer.state, cb.event, answer.outcome,
                   round(elapsed * 1000, 3), answer.error, cb.caller, extras)
        if settings.call_events is not None:
            settings.call_events.publish(callid=cb.callid, event=cb.event, flow=answer.flow, version=answer.version,
                                         state=answer.state, outcome=answer.outcome, caller=cb.caller,
                                         error=answer.error, reason=cb.dice_reason)
        if answer.svaml is None:
            return 200, b"", None, answer.report
        return 200, answer_bytes(answer.svaml), "application/json", answer.report

    async def wrong_method(request: Request) -> Response:
        return _error(405, "method-not-allowed", "method", f"Sinch callbacks are POSTed to {settings.callback_path}")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "flows": len(library.current)})

    async def flows(request: Request) -> Response:
        return JSONResponse({"flows": library.listing(), "default_flow": library.default_flow})

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Out of file descriptors, asyncio reports every refused accept with a traceback: once per minute is enough.
        asyncio.get_running_loop().set_exception_handler(QuietAcceptErrors())
        backend.open()
        watcher = settings.watcher  # `ivrc serve --reload` (reloader.py)
        task = asyncio.create_task(watcher.run()) if watcher is not None else None
        if events is not None:
            await events.start()
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            if events is not None:
                await events.stop()
            await backend.aclose()

    app = CallbackApp(settings.callback_path, callback, lifespan=lifespan, routes=[
        # Reached only when the path is a pattern; otherwise CallbackApp answers POSTs itself.
        Route(settings.callback_path, _Endpoint(callback), methods=["POST"]),
        Route(settings.callback_path, wrong_method, methods=["GET", "PUT", "DELETE", "PATCH"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/flows", flows, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/events", settings.call_events.endpoint if settings.call_events is not None else not_enabled,
              methods=["GET"]),
    ])
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.events = events
    return app


def signed_path(scope: Mapping[str, Any]) -> str:
    """The path Sinch signed: the full path of the request. ASGI servers now put root_path inside
    `path` (uvicorn 0.26 and later, Starlette's Mount); older ones left it out: take both as they come."""
    root, path = scope.get("root_path", ""), scope["path"]
    return path if not root or path.startswith(root) else root + path
