"""A business's call-event receiver for tests: a real HTTP server on loopback that records what it is sent."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WAIT_SECONDS = 30.0  # an upper bound for things that happen at once, never an expectation


@dataclass
class Delivery:
    """One POST as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers POST /events with the statuses given in order, then `default`; `hang` holds every answer until release().

    `redirect` statuses carry a Location pointing at /elsewhere, which records a delivery too if
    anyone follows it. Use as a context manager: the server runs in its own thread and loop."""

    def __init__(self, statuses: tuple[int, ...] = (), default: int = 200, hang: bool = False) -> None:
        self._statuses = list(statuses)
        self.default = default
        self.hang = hang
        self.deliveries: list[Delivery] = []
        self.answered = 0
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._released: asyncio.Event | None = None
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.url = self.base + "/events"
        self._server = uvicorn.Server(uvicorn.Config(self._app(), log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._run, name="event-receiver", daemon=True)

    def _app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            with self._changed:
                self.deliveries.append(Delivery(request.url.path, dict(request.headers), body))
                status = self._statuses.pop(0) if self._statuses else self.default
                self._changed.notify_all()
            if self.hang:
                assert self._released is not None
                await self._released.wait()
            headers = {"location": "/elsewhere"} if 300 <= status < 400 else {}
            with self._changed:
                self.answered += 1
                self._changed.notify_all()
            return Response(status_code=status, headers=headers)

        return Starlette(routes=[Route("/events", receive, methods=["POST"]),
                                 Route("/elsewhere", receive, methods=["POST", "GET"])])

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._released = asyncio.Event()
            await self._server.serve(sockets=[self._socket])

        asyncio.run(main())

    def __enter__(self) -> "Receiver":
        self._thread.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while not self._server.started:  # uvicorn sets a flag and signals nothing: look, briefly and boundedly
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the event receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.release()
        self._server.should_exit = True
        self._thread.join(WAIT_SECONDS)
        self._socket.close()

    def release(self) -> None:
        """Lets every held answer (and every later one) go."""
        self.hang = False
        if self._loop is not None and self._released is not None:
            self._loop.call_soon_threadsafe(self._released.set)

    def wait_for(self, count: int) -> list[Delivery]:
        """The deliveries, once at least `count` have arrived (fails the test if they never do)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.deliveries) >= count, WAIT_SECONDS):
                raise AssertionError(f"the receiver got {len(self.deliveries)} event(s), expected {count}")
            return list(self.deliveries)
