"""The server's requests to the business's systems: one pooled async HTTP client, a budget per callback.

Every request is bounded: by its state's timeout, by what is left of the callback's budget (so the
whole answer reaches Sinch in time), by a size cap on the answer; redirects are never followed,
TLS is verified, and only the scheme, host and port written in the loaded flows are contacted.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Iterable

from ivrc.compiler.request_url import origin_of
from ivrc.runtime.engine.requests import MAX_ANSWER_BYTES, REQUEST_BUDGET, Outgoing, Reply
from ivrc.runtime.engine.step import AsyncFetch

from .http_client import HttpClient, HttpError

DEFAULT_BUDGET = REQUEST_BUDGET  # seconds of requests per callback (engine/requests.py says why)


def trusted_roots() -> ssl.SSLContext:
    """TLS as httpx verified it: the default context (host names checked) over certifi's CA bundle."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class Backend:
    """What request states reach: the origins the flows name, through one connection pool."""

    def __init__(self, origins: Iterable[str] | None = None, *, max_connections: int = 200,
                 max_per_origin: int | None = None, tls: ssl.SSLContext | None = None) -> None:
        # Every request's origin is the literal one its state was compiled with (a flow the server
        # loaded, also after a reload); `origins`, when given, narrows that to a fixed list.
        self.origins = frozenset(origin_of(o) for o in origins) if origins is not None else None
        self._max_connections = max_connections
        # Half the pool at most to one origin: a backend that stops answering holds each connection
        # until its request's timeout, and must not leave the other backends' requests none.
        self._max_per_origin = max(1, max_connections // 2) if max_per_origin is None else max_per_origin
        self._tls = tls  # tests trust their own certificate authority; None: trusted_roots()
        self._client: HttpClient | None = None

    def open(self) -> None:
        """Makes the pool (the server does at start-up: loading CA certificates takes tens of milliseconds)."""
        if self._client is None:
            self._client = HttpClient(max_connections=self._max_connections, max_per_origin=self._max_per_origin,
                                      max_answer_bytes=MAX_ANSWER_BYTES,
                                      tls=self._tls or trusted_roots())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None

    def for_callback(self, budget: float) -> AsyncFetch:
        """A fetch for one callback: every request it makes shares `budget` seconds."""
        deadline = time.monotonic() + budget

        async def fetch(outgoing: Outgoing) -> Reply:
            return await self.send(outgoing, deadline)

        return fetch

    async def send(self, outgoing: Outgoing, deadline: float) -> Reply:
        started = time.monotonic()
        remaining = deadline - started
        if remaining <= 0:
            return Reply(error="budget")
        origin = origin_of(outgoing.url)
        if (origin != origin_of(outgoing.origin) or not outgoing.url.startswith(outgoing.origin)
                or (self.origins is not None and origin not in self.origins)):
            return Reply(error="host-not-allowed")
        timeout = min(outgoing.timeout, remaining)
        try:
            async with asyncio.timeout(timeout):  # the whole exchange, body included
                return await self._exchange(outgoing, started)
        except TimeoutError:
            return Reply(error="timeout" if timeout == outgoing.timeout else "budget",
                         seconds=time.monotonic() - started)
        except (HttpError, OSError, ValueError):  # OSError: refused, unreachable, TLS not verified; ValueError: a host IDNA refuses
            return Reply(error="connection", seconds=time.monotonic() - started)

    async def _exchange(self, outgoing: Outgoing, started: float) -> Reply:
        self.open()  # made on first use if the server has not yet
        assert self._client is not None
        answer = await self._client.request(outgoing.method, outgoing.url, origin=outgoing.origin, query=outgoing.query,
                                            headers=outgoing.headers, body=outgoing.body)
        seconds = time.monotonic() - started
        if answer.redirect:
            return Reply(status=answer.status, error="redirect", seconds=seconds)
        if answer.too_large:
            return Reply(status=answer.status, error="too-large", seconds=seconds)
        try:
            data, ok = json.loads(answer.body) if answer.body else None, bool(answer.body)
        except (ValueError, RecursionError):
            data, ok = None, False
        return Reply(status=answer.status, data=data, json_ok=ok, seconds=seconds)
