"""The Starlette app: one Sinch callback endpoint, plus health, a flow listing and metrics."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ivrc.runtime.engine.events import BadCallback, parse_callback
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.render import Clock, system_clock
from ivrc.runtime.engine.step import Engine
from ivrc.runtime.signing import Credentials, verify

from .connections import QuietAcceptErrors
from .logs import log_callback
from .metrics import CONTENT_TYPE, RuntimeMetrics
from .replay import Cached, ReplayGuard

CALLBACK_PATH = "/sinch/callback"
MAX_BODY_BYTES = 64 * 1024  # Sinch callbacks are around 1 kB; cookies add at most 1 kB

callback_log = logging.getLogger("ivrc.callbacks")
# One encoder for every answer: json.dumps with arguments would build a new one per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode
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
    extra: dict[str, Any] = field(default_factory=dict)


def _error(status: int, error: str, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "reason": reason, "message": message}, status_code=status)


async def _read_body(request: Request, headers: dict[str, str], limit: int) -> bytes | None:
    """The raw body, or None past the limit (read message by message, so a huge body is never held)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size, more = [], 0, True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _headers(request: Request) -> dict[str, str]:
    """The request's headers once, as a plain dict (ASGI gives names in lower case).

    A repeated header keeps its first value, as Starlette's Headers.get does."""
    found: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def create_app(library: Library, settings: Settings) -> Starlette:
    if settings.verify_signatures and settings.credentials is None:
        raise ValueError("signature checks need credentials")
    metrics = RuntimeMetrics()
    engine = Engine(library, clock=settings.clock, env=settings.env, metrics=metrics)
    replays = ReplayGuard()

    def reject(status: int, error: str, reason: str, message: str) -> JSONResponse:
        metrics.rejected_requests.inc(reason=reason)
        log.warning("rejected callback: %s (%s)", reason, message)
        return _error(status, error, reason, message)

    async def callback(request: Request) -> Response:
        started = time.perf_counter()
        headers = _headers(request)
        try:
            body = await _read_body(request, headers, settings.max_body_bytes)
        except ClientDisconnect:
            return Response(status_code=400)
        if body is None:
            return reject(413, "payload-too-large", "too-large",
                          f"callback bodies are at most {settings.max_body_bytes} bytes")
        if settings.verify_signatures:
            now = settings.clock()
            # The public path Sinch signed (request.url would parse a whole URL just for this).
            path = request.scope.get("root_path", "") + request.scope["path"]
            verdict = verify(headers, body, path, request.method, settings.credentials, now)
            if not verdict:
                return reject(401, "unauthorized", verdict.reason, "the request is not signed by this Sinch application")
            cached = replays.answer_for(verdict.signature, verdict.timestamp)
            if cached is not None:
                # Delivered again (a lost answer, a retrying load balancer): the same answer, never a refusal.
                metrics.duplicate_requests.inc()
                log.info("duplicate delivery of a signed callback: answered as the first time")
                return Response(cached.body, status_code=cached.status, media_type=cached.media_type)
            response = _answer(body, started)
            replays.remember(verdict.signature, verdict.timestamp,
                             Cached(response.status_code, response.body, response.media_type))
            return response
        log.warning("signature check skipped (--insecure-no-signatures): do not run this in production")
        return _answer(body, started)

    def _answer(body: bytes, started: float) -> Response:
        try:
            cb = parse_callback(body)
        except BadCallback as err:
            return reject(400, "bad-request", err.reason, str(err))
        answer = engine.step(cb)
        elapsed = time.perf_counter() - started
        metrics.step_seconds.observe(elapsed)
        metrics.callbacks.inc(event=cb.event, flow=answer.flow or "", state=answer.state or "")
        log_callback(callback_log, callid=cb.callid, flow=answer.flow, version=answer.version, state=answer.state,
                     event=cb.event, outcome=answer.outcome, duration_ms=round(elapsed * 1000, 3),
                     error=answer.error, caller=cb.caller, **answer.details)
        if answer.svaml is None:
            return Response(status_code=200)
        return Response(_encode(answer.svaml), media_type="application/json")

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
        watcher = settings.extra.get("watcher")  # `ivrc serve --reload` (reloader.py)
        task = asyncio.create_task(watcher.run()) if watcher is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    app = Starlette(lifespan=lifespan, routes=[
        Route(settings.callback_path, callback, methods=["POST"]),
        Route(settings.callback_path, wrong_method, methods=["GET", "PUT", "DELETE", "PATCH"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/flows", flows, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ])
    app.state.engine = engine
    app.state.metrics = metrics
    return app
