"""A bounded in-memory guard that spots a signed callback delivered a second time."""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

DEFAULT_WINDOW = timedelta(minutes=5)
DEFAULT_MAX_ENTRIES = 100_000


class ReplayGuard:
    """Remembers (signature, x-timestamp) pairs for as long as the timestamp check accepts them.

    `window` must be at least the max_skew given to signing.verify(): a request stays
    acceptable until its timestamp + max_skew, so that is when its entry may be forgotten.

    Entries are kept in arrival order and expired from the oldest end, so each entry is
    added and removed once (O(1) amortised). Arrival order is not expiry order when
    timestamps vary, so an early arrival with a late expiry can hold back the removal of
    later ones; that costs memory only, which `max_entries` bounds. When the cap is hit the
    oldest entry goes first, so a flood can push out an entry before its time: the guard
    is a defence in depth behind the timestamp window, not a guarantee.
    Each replica has its own guard; a replay sent to another replica is not caught.
    """

    def __init__(
        self, window: timedelta = DEFAULT_WINDOW, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("replay window must be positive")
        if max_entries < 1:
            raise ValueError("replay guard needs room for at least one entry")
        self.window = window
        self.max_entries = max_entries
        self._expiry: OrderedDict[tuple[str, datetime], datetime] = OrderedDict()
        # uvicorn serves callbacks on one event loop, but a threaded server must not corrupt it.
        self._lock = threading.Lock()

    def seen_before(self, signature: str, timestamp: datetime, now: datetime) -> bool:
        """True if this pair was seen inside the window; otherwise remember it and say False."""
        key = (signature, timestamp)
        expires = timestamp + self.window
        with self._lock:
            self._evict_expired(now)
            if key in self._expiry:
                return True
            if expires < now:
                # Already outside the window: the timestamp check rejects it, nothing to keep.
                return False
            self._expiry[key] = expires
            while len(self._expiry) > self.max_entries:
                self._expiry.popitem(last=False)
            return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def _evict_expired(self, now: datetime) -> None:
        while self._expiry:
            oldest_key = next(iter(self._expiry))
            if self._expiry[oldest_key] >= now:
                break
            del self._expiry[oldest_key]
