"""The opt-in stream of call events (state by state, numbers masked) that `ivrc studio --live` follows.

Off unless `ivrc serve --call-events` is given, and then only for requests that carry the token
from the environment (IVRC_EVENTS_TOKEN) as `Authorization: Bearer TOKEN`. An event says which
flow and state a call is in and what happened; it never carries secrets, cookies, prompts or a
full phone number. Publishing never waits: a listener that falls behind loses events, a
callback never slows down for one.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ivrc.runtime.engine.masking import mask_number

TOKEN_ENV = "IVRC_EVENTS_TOKEN"
MIN_TOKEN_LENGTH = 16
QUEUE_SIZE = 1000  # events a slow listener may fall behind by before it starts losing them
HEARTBEAT_SECONDS = 15.0


def call_key(callid: str | None) -> str:
    """A short stand-in for the call id: enough to follow one call, not the id Sinch's API would take."""
    return hashlib.sha256((callid or "").encode()).hexdigest()[:10]


class CallEvents:
    """Listeners of this worker's callbacks."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._listeners: set[asyncio.Queue] = set()
        self.lost = 0  # events dropped because a listener was too slow

    def publish(self, *, callid: str | None, event: str, flow: str | None, version: str | None, state: str | None,
                outcome: str, caller: str | None, error: str | None = None, reason: str | None = None) -> None:
        if not self._listeners:
            return
        item = {"time": round(time.time(), 3), "call": call_key(callid), "event": event.upper(), "flow": flow,
                "version": version, "state": state, "outcome": outcome,
                "caller": mask_number(caller) if caller else None,
                "error": error.split(":", 1)[0] if error else None, "reason": reason}
        for queue in self._listeners:
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self.lost += 1

    def allowed(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token)

    async def endpoint(self, request: Request) -> Response:
        if not self.allowed(request):
            return JSONResponse({"error": "unauthorized", "reason": "token",
                                 "message": f"send the token from {TOKEN_ENV} as `Authorization: Bearer TOKEN`"},
                                status_code=401, headers={"www-authenticate": "Bearer"})
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self._listeners.add(queue)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "event: hello\ndata: {}\n\n"
                while not await request.is_disconnected():
                    try:
                        item = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                    except asyncio.TimeoutError:
                        yield ": still here\n\n"
                        continue
                    yield f"event: call\ndata: {json.dumps(item, separators=(',', ':'))}\n\n"
            finally:
                self._listeners.discard(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})


async def not_enabled(request: Request) -> Response:
    return JSONResponse({"error": "not-found", "reason": "call-events-off",
                         "message": "the call-event stream is off; start ivrc serve with --call-events"},
                        status_code=404)


def token_from_env(env: Any) -> str:
    """The token, checked: ValueError says what is wrong with it."""
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValueError(f"--call-events needs a token in {TOKEN_ENV} (for example the output of "
                         "`python -c 'import secrets; print(secrets.token_urlsafe())'`)")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"{TOKEN_ENV} is too short to guess-proof the stream; use at least "
                         f"{MIN_TOKEN_LENGTH} characters")
    return token

