"""uvicorn's httptools protocol with the request deadline of connections.py, used when httptools is installed."""
from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .connections import RequestDeadline


class GuardedHttpToolsProtocol(RequestDeadline, HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's C-parsed HTTP/1.1 (httptools), where h11 parses every request and response in Python."""

    # The current request has arrived in full. Between requests it stays True: an idle keep-alive
    # connection is uvicorn's keep-alive timeout's to close; the first byte of the next one resets it.
    _complete = False

    def on_message_begin(self) -> None:
        self._complete = False
        super().on_message_begin()

    def on_message_complete(self) -> None:
        self._complete = True
        super().on_message_complete()

    def _receiving(self) -> bool:
        return not self._complete
