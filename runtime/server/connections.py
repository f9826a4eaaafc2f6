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
    """A deadline for receiving each request in full, for any of uvicorn's HTTP protocols.

    Each connection notes when it began waiting for a request; one sweep per event loop, a few
    times per deadline, closes those past it. A timer per request (armed and cancelled on every
    callback) cost about 5 us of each callback's CPU; the sweep costs that per connection per sweep."""

    _since = 0.0  # loop time the current request (or the wait for one) began
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._since = self.loop.time()
        _Sweep.of(self.loop).watch(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._since = self.loop.time()  # the next request on this keep-alive connection gets its own time

    def connection_lost(self, exc: Exception | None) -> None:
        _Sweep.of(self.loop).forget(self)
        super().connection_lost(exc)  # type: ignore[misc]

    def _receiving(self) -> bool:
        """Whether the connection is waiting for a request or the rest of one (not answering one)."""
        raise NotImplementedError

    def _too_slow(self, now: float) -> bool:
        return now - self._since > REQUEST_TIMEOUT and self._receiving() and not self.transport.is_closing()


class _Sweep:
    """The connections of one event loop that have a request deadline, checked a few times per deadline."""

    _by_loop: dict[asyncio.AbstractEventLoop, _Sweep] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.watched: set[RequestDeadline] = set()
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Sweep:
        sweep = cls._by_loop.get(loop)
        if sweep is None:
            sweep = cls._by_loop[loop] = cls(loop)
        return sweep

    def watch(self, connection: RequestDeadline) -> None:
        self.watched.add(connection)
        if self.timer is None:
            self._schedule()

    def forget(self, connection: RequestDeadline) -> None:
        self.watched.discard(connection)
        if not self.watched:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self._by_loop.pop(self.loop, None)  # a closed loop (tests, workers) is not kept alive here

    def _schedule(self) -> None:
        # A quarter of the deadline (at most a second): a slow request is closed at most that late.
        self.timer = self.loop.call_later(min(1.0, REQUEST_TIMEOUT / 4), self._sweep)

    def _sweep(self) -> None:
        now = self.loop.time()
        for connection in [c for c in self.watched if c._too_slow(now)]:
            connection.transport.close()
        self.timer = None
        if self.watched:
            self._schedule()


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
