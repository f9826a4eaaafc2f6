"""Connection limits for `ivrc serve`: a request deadline per connection, the fd soft limit, quiet fd-exhaustion logs.

uvicorn closes a connection that idles *between* requests (its keep-alive timeout), but not one
that never finishes sending a request: 1,100 idle connections under `ulimit -n 1024` left every
real callback unanswered, and asyncio logged a traceback for each refused accept (106k lines in
40 s). Here a connection has `request_timeout` seconds to deliver each whole request (headers and
body) or it is closed; the fd soft limit is raised to the hard limit at start; and "out of
system resource" accept errors are logged once per interval with a count.
"""
from __future__ import annotations

import asyncio
import importlib.util
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("ivrc.server")

REQUEST_TIMEOUT = 10.0  # seconds a connection has to send one whole request; `ivrc serve --request-timeout`
FD_LOG_INTERVAL = 60.0  # seconds between two "out of file descriptors" log lines


def configure(request_timeout: float) -> None:
    """Sets the request deadline for every connection this process accepts from now on."""
    global REQUEST_TIMEOUT
    REQUEST_TIMEOUT = request_timeout


class RequestDeadline:
    """A deadline for receiving each request in full, for any of uvicorn's HTTP protocols."""

    _deadline: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm()  # the next request on this keep-alive connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(REQUEST_TIMEOUT, self._request_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _receiving(self) -> bool:
        """Whether the connection is waiting for a request or the rest of one (not answering one)."""
        raise NotImplementedError

    def _request_too_slow(self) -> None:
        self._deadline = None
        if self._receiving() and not self.transport.is_closing():
            self.transport.close()


class GuardedH11Protocol(RequestDeadline, H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol, plus a deadline for receiving each request in full."""

    def _receiving(self) -> bool:
        # IDLE: not even the headers yet; SEND_BODY: the body stopped short. DONE: the request is
        # complete and being answered, which the step's own bounds take care of.
        return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)


def http_protocol(choice: str = "auto") -> str:
    """The uvicorn `http` setting for `ivrc serve --http` (serve() has refused httptools when it is missing)."""
    if choice == "h11" or importlib.util.find_spec("httptools") is None:  # uvicorn[standard] installs it
        return "ivrc.runtime.server.connections:GuardedH11Protocol"
    return "ivrc.runtime.server.fast_http:GuardedHttpToolsProtocol"


def raise_fd_limit() -> tuple[int, int]:
    """Raises this process's open-file soft limit to its hard limit, where allowed; returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as err:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, err)
    return soft, hard


class QuietAcceptErrors:
    """A loop exception handler that reports running out of file descriptors once per interval, not per accept."""

    def __init__(self, interval: float = FD_LOG_INTERVAL, clock=time.monotonic) -> None:
        self.interval, self.clock = interval, clock
        self.last: float | None = None
        self.suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and "out of system resource" in context.get("message", ""):
            now = self.clock()
            if self.last is not None and now - self.last < self.interval:
                self.suppressed += 1
                return
            more = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
            log.error("cannot accept connections: %s%s; raise `ulimit -n` or lower --limit-concurrency", error, more)
            self.last, self.suppressed = now, 0
            return
        if isinstance(error, ValueError) and "_start_serving" in repr(context.get("handle")):
            # asyncio retries accepting a second after running out of descriptors; when the server has
            # closed its socket in the meantime (shutting down), the retry finds no socket. Nothing is lost.
            log.debug("accept retry after shutdown: %s", error)
            return
        loop.default_exception_handler(context)
