"""The server's requests to the business's systems: one pooled async HTTP client, a budget per callback.

Every request is bounded: by its state's timeout, by what is left of the callback's budget (so the
whole answer reaches Sinch in time), by a size cap on the answer; redirects are never followed,
TLS is verified, and only the scheme, host and port written in the loaded flows are contacted.
"""
from __future__ import annotations

import asyncio
import json
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Iterable

import httpx

from ivrc.compiler.request_url import origin_of
from ivrc.runtime.engine.requests import MAX_ANSWER_BYTES, REQUEST_BUDGET, Outgoing, Reply
from ivrc.runtime.engine.step import AsyncFetch

DEFAULT_BUDGET = REQUEST_BUDGET  # seconds of requests per callback (engine/requests.py says why)
# httpcore's pool walks all its connections, and for each idle one all of them again, on every
# request and answer: with 100 calls waiting on one backend that was most of the server's CPU
# (bench/slow_backend.py, docs/benchmarks.md section 6). Several smaller pools keep each walk short.
POOLS = 8


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing: the client is shared by every call, so a cookie one call's
    backend set would otherwise go out with another caller's requests."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Backend:
    """What request states reach: the origins the flows name, through one connection pool."""

    def __init__(self, origins: Iterable[str] | None = None, *, transport: httpx.AsyncBaseTransport | None = None,
                 max_connections: int = 200) -> None:
        # Every request's origin is the literal one its state was compiled with (a flow the server
        # loaded, also after a reload); `origins`, when given, narrows that to a fixed list.
        self.origins = frozenset(origin_of(o) for o in origins) if origins is not None else None
        self._transport = transport
        self._max_connections = max_connections
        self._clients: list[httpx.AsyncClient] = []
        self._in_flight: list[int] = []

    def open(self) -> None:
        """Makes the pools (the server does at start-up: loading CA certificates takes tens of milliseconds)."""
        if self._clients:
            return
        # A given transport (tests) is one pool: it may hold state of its own.
        pools = 1 if self._transport is not None else min(POOLS, self._max_connections)
        per_pool = max(1, self._max_connections // pools)
        tls = httpx.create_ssl_context(verify=True, trust_env=False)  # one for all pools: it is the same
        self._clients = [httpx.AsyncClient(
            transport=self._transport, follow_redirects=False, verify=tls, trust_env=False, timeout=None,
            limits=httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool),
            cookies=no_cookies())
            for _ in range(pools)]
        self._in_flight = [0] * pools

    def _pick(self) -> int:
        """The pool with the fewest requests in flight (made on first use if the server has not yet)."""
        self.open()
        return min(range(len(self._clients)), key=self._in_flight.__getitem__)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients, self._in_flight = [], []

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
        except httpx.TimeoutException:
            return Reply(error="timeout", seconds=time.monotonic() - started)
        except (httpx.HTTPError, OSError, ValueError):  # ValueError: a URL or header httpx refuses
            return Reply(error="connection", seconds=time.monotonic() - started)

    async def _exchange(self, outgoing: Outgoing, started: float) -> Reply:
        pool = self._pick()
        self._in_flight[pool] += 1
        try:
            return await self._exchange_on(self._clients[pool], outgoing, started)
        finally:
            if self._in_flight:  # aclose() at shutdown may have emptied the pools meanwhile
                self._in_flight[pool] -= 1

    async def _exchange_on(self, client: httpx.AsyncClient, outgoing: Outgoing, started: float) -> Reply:
        url = httpx.URL(outgoing.url)
        if outgoing.query:  # added to a query written in the URL, never in its place (as flow tests see it)
            url = url.copy_merge_params(outgoing.query)
        request = client.build_request(outgoing.method, url, headers=outgoing.headers, content=outgoing.body)
        response = await client.send(request, stream=True)
        try:
            if response.is_redirect:
                return Reply(status=response.status_code, error="redirect", seconds=time.monotonic() - started)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    return Reply(status=response.status_code, error="too-large", seconds=time.monotonic() - started)
        finally:
            await response.aclose()
        try:
            data, ok = json.loads(body) if body else None, bool(body)
        except (ValueError, RecursionError):
            data, ok = None, False
        return Reply(status=response.status_code, data=data, json_ok=ok, seconds=time.monotonic() - started)
