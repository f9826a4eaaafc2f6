"""Call events out: each call's report POSTed to the business as signed JSON, in the background, after the answer."""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import time
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Mapping

import httpx

from ivrc.compiler.compiled import EventsOut
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.masking import mask_numbers

from .metrics import RuntimeMetrics

EVENTS_SECRET_ENV = "IVRC_EVENTS_SECRET"
SECRET_PREFIX = "whsec_"  # how Standard Webhooks writes a secret; optional here
MIN_SECRET_BYTES = 24  # the Standard Webhooks minimum (192 bits)

log = logging.getLogger("ivrc.events")
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing: a cookie a receiver set must not go out with later events."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


@dataclass(frozen=True)
class EventsConfig:
    """Where call events go (the server-wide receiver, if any), the key they are signed with, and how hard the server tries."""

    url: str = ""  # no server-wide receiver: only flows with their own `events:` send events
    secret: bytes = b""
    queue_size: int = 1000  # events waiting to be sent; past this they are dropped, never waited for
    senders: int = 4  # events in flight at once, one pooled connection each
    attempt_timeout: float = 10.0  # seconds for one POST, connecting included
    retry_for: float = 120.0  # no new attempt starts later than this after the first one
    max_attempts: int = 8
    first_backoff: float = 1.0  # doubled after every failed attempt, with jitter
    max_backoff: float = 30.0
    drain_seconds: float = 5.0  # how long a shutdown waits for events still queued or in flight


def parse_secret(text: str, name: str = EVENTS_SECRET_ENV, needed_by: str = "--events-url") -> bytes:
    """The HMAC key in the variable `name`: Base64, optionally prefixed `whsec_` as Standard Webhooks writes it."""
    value = text.strip()
    if not value:
        raise ValueError(f"{needed_by} needs a signing secret in {name}, and it is not set. Generate "
                         "one with: python -c \"import base64, os; print('whsec_' + "
                         "base64.b64encode(os.urandom(32)).decode())\"")
    body = value.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name} is not valid Base64 (expected whsec_ followed by Base64, "
                         "as Standard Webhooks secrets are written)") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"{name} is too short: it decodes to {len(key)} bytes, and at least "
                         f"{MIN_SECRET_BYTES} are needed (32 random bytes recommended)")
    return key


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, given_as: str = "--events-url") -> str:
    """The events URL, or ValueError saying what is wrong: https, or http on a loopback host only."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as err:
        raise ValueError(f"{given_as} {url!r} is not a URL: {err}") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise ValueError(f"{given_as} {url!r} must be an https:// URL with a host")
    if parsed.scheme == "http" and not _is_loopback(parsed.host):
        # Events carry call details and are signed, not encrypted: plain http only where it never leaves the machine.
        raise ValueError(f"{given_as} {url!r} uses plain http; use https (http is allowed only for loopback hosts)")
    return url


def flow_destination(flow: str, events: EventsOut, env: Mapping[str, str] = os.environ) -> "Destination":
    """A flow's own receiver (`events:` in the flow) with its key from the environment; ValueError says what is wrong."""
    url = check_url(events.url, given_as=f"flow {flow}: events.url")
    return Destination(url, parse_secret(env.get(events.secret_env, ""), events.secret_env,
                                         f"flow {flow} (its `events:`)"))


def sign(secret: bytes, event_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: `v1,` and the Base64 HMAC-SHA256 of `id.timestamp.body` (Standard Webhooks)."""
    digest = hmac.new(secret, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def event_id(report: dict[str, Any]) -> str:
    """The same event always gets the same id, so a receiver can drop repeats.

    A retry, a second delivery of the same DiCE by Sinch, or the same Notify answered by another
    replica all carry the id of the first."""
    parts = (report.get("type"), report.get("callid"), report.get("notification"), report.get("destination"))
    return "evt_" + hashlib.sha256("\n".join(str(p or "") for p in parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Destination:
    """A receiver of call events and the key that signs what it is sent."""

    url: str
    secret: bytes


@dataclass
class _Event:
    id: str
    type: str
    flow: str
    body: bytes
    to: Destination


class EventSender:
    """A bounded queue of call events and the tasks that POST them; submitting never waits."""

    def __init__(self, config: EventsConfig | None, metrics: RuntimeMetrics, library: Library | None = None,
                 env: Mapping[str, str] = os.environ) -> None:
        self.config = config = config if config is not None else EventsConfig()
        self.metrics = metrics
        self.library = library  # where a flow's own `events:` receiver is read, per version
        self.env = env
        self._default = Destination(config.url, config.secret) if config.url else None
        self._per_flow: dict[EventsOut, Destination | str] = {}  # a receiver, or why it cannot be used
        self._queue: asyncio.Queue[_Event] = asyncio.Queue(maxsize=config.queue_size)
        self._tasks: list[asyncio.Task] = []
        self._client: httpx.AsyncClient | None = None
        self._open = False
        self._stopped = False

    # -- the callback side: never blocks ------------------------------------------------------

    def wants(self, report: dict[str, Any]) -> bool:
        """Whether this report goes anywhere: its flow has its own receiver, or the server has one."""
        return self._own_receiver(report) is not None or self._default is not None

    def _own_receiver(self, report: dict[str, Any]) -> EventsOut | None:
        flow, version = report.get("flow"), report.get("version")
        if self.library is None or not flow or not version:
            return None
        loaded = self.library.version(str(flow), str(version))
        return loaded.machine.events if loaded is not None else None

    def _destination(self, report: dict[str, Any]) -> Destination | str | None:
        """Where the report goes: the flow's own receiver before the server's; a string says why it cannot be sent."""
        own = self._own_receiver(report)
        if own is None:
            return self._default
        found = self._per_flow.get(own)
        if found is None:
            # Checked at start-up; a flow reloaded with a new receiver is checked here, once.
            try:
                found = flow_destination(str(report.get("flow")), own, self.env)
            except ValueError as err:
                found = str(err)
            self._per_flow[own] = found
        return found

    def submit(self, report: dict[str, Any]) -> None:
        """Queue one report to be sent; when the queue is full or the sender is not running, it is dropped and counted."""
        destination = self._destination(report)
        if destination is None:
            return
        ident = event_id(report)
        stamp = datetime.datetime.now(datetime.timezone.utc)
        body = _encode({"id": ident, "timestamp": stamp.isoformat(timespec="seconds").replace("+00:00", "Z"),
                        **report}).encode()
        event = _Event(ident, str(report.get("type")), str(report.get("flow") or ""), body,
                       destination if isinstance(destination, Destination) else Destination("", b""))
        if isinstance(destination, str):
            self._drop(event, "unusable-receiver", destination)
            return
        if not self._open:
            if self._stopped:
                self._drop(event, "shutdown", "the server is stopping")
            else:  # an ASGI server that never ran the app's lifespan, which starts the sender
                self._drop(event, "not-running", "the event sender was never started")
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drop(event, "queue-full", f"{self.config.queue_size} events already waiting")

    async def enqueue(self, report: dict[str, Any]) -> None:
        """submit, as a Starlette background task: it runs once the answer has gone to Sinch."""
        self.submit(report)

    # -- the app's lifespan ------------------------------------------------------------------

    async def start(self) -> None:
        # A new queue per start: an app whose lifespan runs again (another event loop) starts clean.
        self._queue = asyncio.Queue(maxsize=self.config.queue_size)
        self._stopped = False
        self._client = httpx.AsyncClient(
            follow_redirects=False, timeout=httpx.Timeout(self.config.attempt_timeout),
            limits=httpx.Limits(max_connections=self.config.senders, max_keepalive_connections=self.config.senders),
            # identity: the answer's body is never read, and a compressed one must not be inflated by the client.
            headers={"content-type": "application/json", "user-agent": "ivrc-events", "accept-encoding": "identity"},
            cookies=no_cookies())
        self._tasks = [asyncio.create_task(self._work(), name=f"ivrc-events-{n}") for n in range(self.config.senders)]
        self._open = True

    async def stop(self) -> None:
        """Waits up to drain_seconds for what is queued or in flight; whatever is left then is dropped and counted."""
        self._open, self._stopped = False, True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), self.config.drain_seconds)
        for task in self._tasks:
            task.cancel()  # an event in flight is counted as dropped by its task
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        while not self._queue.empty():
            self._drop(self._queue.get_nowait(), "shutdown", "the server stopped before it was sent")
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- sending -----------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._deliver(event)
            except asyncio.CancelledError:
                self._drop(event, "shutdown", "the server stopped while it was being sent")
                raise
            except Exception as err:  # a bug here must cost one event, never the sender
                self._drop(event, "error", type(err).__name__, exc_info=True)
            finally:
                self._queue.task_done()

    async def _deliver(self, event: _Event) -> None:
        config = self.config
        deadline = time.monotonic() + config.retry_for
        backoff = config.first_backoff
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.metrics.events_retried.inc(type=event.type)
            wait, failure = await self._attempt(event)
            if failure is None:
                self.metrics.events_sent.inc(type=event.type)
                return
            if wait is None:  # the receiver refused it: sending it again would be refused again
                self._drop(event, "rejected", failure)
                return
            wait = max(wait, backoff * random.uniform(0.5, 1.0))
            if attempt >= config.max_attempts or time.monotonic() + wait > deadline:
                self._drop(event, "gave-up", f"{failure} after {attempt} attempt(s)")
                return
            log.debug("call event %s: %s; trying again in %.1f s", event.id, failure, wait)
            await asyncio.sleep(wait)
            backoff = min(backoff * 2, config.max_backoff)

    async def _attempt(self, event: _Event) -> tuple[float | None, str | None]:
        """One POST: (0, None) when delivered, (seconds to wait at least, why) to retry, (None, why) to give up."""
        assert self._client is not None
        stamp = int(time.time())
        headers = {"webhook-id": event.id, "webhook-timestamp": str(stamp),
                   "webhook-signature": sign(event.to.secret, event.id, stamp, event.body)}
        try:
            # The whole attempt within attempt_timeout (httpx's timeout bounds each read, so a receiver that
            # sends a byte now and then could hold a sender for ever); only the status and headers are
            # read, never the body, which the receiver may make as large as it likes.
            async with asyncio.timeout(self.config.attempt_timeout), \
                    self._client.stream("POST", event.to.url, content=event.body, headers=headers) as response:
                status = response.status_code
        except TimeoutError:
            return 0.0, "attempt-timeout"
        except httpx.TransportError as err:  # connection refused or reset, protocol errors
            return 0.0, type(err).__name__
        if 200 <= status < 300:
            return 0.0, None
        if status == 429 or status == 408 or status >= 500:
            return self._retry_after(response), f"HTTP {status}"
        # 3xx included: redirects are not followed, so a moved endpoint is a configuration problem.
        return None, f"HTTP {status}"

    def _retry_after(self, response: httpx.Response) -> float:
        text = response.headers.get("retry-after", "")
        return min(float(text), self.config.max_backoff) if text.isdigit() else 0.0

    def _drop(self, event: _Event, reason: str, detail: str, exc_info: bool = False) -> None:
        self.metrics.events_dropped.inc(type=event.type, reason=reason)
        # Never the body (it holds the caller's variables) nor the URL (it may hold a token).
        log.warning("call event %s (%s, flow %s) dropped: %s: %s", event.id, event.type, event.flow or "-", reason,
                    mask_numbers(detail), exc_info=exc_info)
