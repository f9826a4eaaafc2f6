"""A bounded in-memory cache that answers a signed callback delivered again with the answer it got the first time."""
from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

DEFAULT_WINDOW = timedelta(minutes=5)
DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # answers are about 1 kB; this is the cache's memory bound


@dataclass(frozen=True)
class Cached:
    """The answer one signed request got: status, body and media type, sent again byte for byte."""

    status: int
    body: bytes | memoryview  # as starlette's Response.body is typed
    media_type: str | None


class ReplayGuard:
    """Remembers the answer to each signed request (signature, x-timestamp) for as long as it could come again.

    Sinch, a load balancer or a proxy may deliver one request twice, for instance when the first
    answer was lost with its connection. A step has no side effects, so the second delivery gets
    the first delivery's answer, unchanged; refusing it would drop a real call. A request whose
    timestamp is outside the window never gets here: signing.verify() refuses it.

    Entries expire on a monotonic clock, `2 x window` after they arrive: the wall clock may be
    stepped forward and back (NTP, a VM resumed), and an entry expired by a jump forward would
    let an exact replay in after the jump back. 2 x window covers the whole time verify() could
    accept a timestamp (window before it to window after it), wherever the wall clock goes.

    Entries are kept in arrival order, which is expiry order (one TTL for all), and the cache is
    bounded by entry count and answer bytes; past either bound the oldest entries go first. A
    forgotten request is simply answered again by a fresh step. Each replica has its own cache.
    """

    def __init__(self, window: timedelta = DEFAULT_WINDOW, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_bytes: int = DEFAULT_MAX_BYTES, monotonic: Callable[[], float] = time.monotonic) -> None:
        if window <= timedelta(0):
            raise ValueError("replay window must be positive")
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("replay guard needs room for at least one entry")
        self.window = window
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._ttl = 2 * window.total_seconds()
        self._monotonic = monotonic
        # Values are plain tuples of numbers, bytes and text, which the cycle collector stops
        # tracking: a cache of Cached objects (100,000 at most) was walked by every full collection.
        self._entries: OrderedDict[tuple[str, datetime], tuple[float, int, bytes | memoryview, str | None]] = OrderedDict()
        self._bytes = 0
        # Requests being answered now: a second delivery waits for the first one's answer rather than
        # run the flow again (a request state's POST must not reach the business twice). The future is made
        # only when a repeat comes (None until then): every callback passes here, and repeats are rare.
        self._answering: dict[tuple[str, datetime], asyncio.Future[Cached | None] | None] = {}
        # uvicorn serves callbacks on one event loop, but a threaded server must not corrupt it.
        self._lock = threading.Lock()

    def answer_for(self, signature: str, timestamp: datetime) -> Cached | None:
        """The answer this exact signed request got before, if it is still remembered."""
        with self._lock:
            self._evict_expired()
            entry = self._entries.get((signature, timestamp))
            return Cached(*entry[1:]) if entry is not None else None

    def being_answered(self, signature: str, timestamp: datetime) -> asyncio.Future[Cached | None] | None:
        """The answer to come for this exact signed request, if a delivery of it is being answered now."""
        key = (signature, timestamp)
        if key not in self._answering:
            return None
        waiting = self._answering[key]
        if waiting is None:
            waiting = self._answering[key] = asyncio.get_running_loop().create_future()
        return waiting

    def answering(self, signature: str, timestamp: datetime) -> None:
        """This delivery is answering the request: later ones wait for its answer (call `answered` after)."""
        key = (signature, timestamp)
        if key in self._answering:  # the caller checks being_answered first, with no await between
            raise RuntimeError("this request is already being answered")
        self._answering[key] = None

    def answered(self, signature: str, timestamp: datetime, answer: Cached | None) -> None:
        """The delivery that was answering the request is done; None when it gave no answer to share."""
        waiting = self._answering.pop((signature, timestamp), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(answer)

    def remember(self, signature: str, timestamp: datetime, answer: Cached) -> None:
        with self._lock:
            key = (signature, timestamp)
            if key in self._entries:  # two deliveries answered at once: the first answer stays
                return
            self._entries[key] = (self._monotonic() + self._ttl, answer.status, answer.body, answer.media_type)
            self._bytes += len(answer.body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._forget_oldest()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _evict_expired(self) -> None:
        now = self._monotonic()
        while self._entries and next(iter(self._entries.values()))[0] < now:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        _, (_, _, body, _) = self._entries.popitem(last=False)
        self._bytes -= len(body)
