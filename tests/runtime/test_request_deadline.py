"""The request deadline of `ivrc serve`'s connections: a request that never finishes is closed, an answered one never."""
from __future__ import annotations

import asyncio

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from ivrc.runtime.server import connections
from ivrc.runtime.server.connections import GuardedH11Protocol

DEADLINE = 0.5  # seconds: the sweep looks a quarter of that apart; requests below come a fifth of it apart


async def _app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 5555)}.get(name, default)

    def write(self, data) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture()
def short_deadline():
    before = connections.REQUEST_TIMEOUT
    connections.configure(DEADLINE)
    yield
    connections.configure(before)


async def _connected() -> tuple[GuardedH11Protocol, _Transport]:
    config = Config(app=_app, http="h11", access_log=False, log_level="warning", timeout_keep_alive=60)
    config.load()
    protocol = GuardedH11Protocol(config=config, server_state=ServerState(), app_state={},
                                  _loop=asyncio.get_running_loop())
    transport = _Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def _until(condition, seconds: float = 10.0) -> bool:
    """Polls the condition while the loop runs (never a fixed sleep judged by itself)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition() and loop.time() < end:
        await asyncio.sleep(0.01)
    return condition()


def test_a_request_that_never_finishes_is_closed(short_deadline) -> None:
    async def half_sent() -> bool:
        protocol, transport = await _connected()
        protocol.data_received(b"POST /sinch/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ev")
        closed = await _until(lambda: transport.closed)
        protocol.connection_lost(None)
        return closed and transport.written == []

    assert asyncio.run(half_sent())


def test_each_keep_alive_request_has_its_own_deadline(short_deadline) -> None:
    async def requests_spread_over_several_deadlines() -> tuple[int, bool]:
        protocol, transport = await _connected()
        loop = asyncio.get_running_loop()
        started = loop.time()
        answered = 0
        # Whole requests, one every fifth of the deadline, for three deadlines: none is late, so none is cut.
        while loop.time() - started < 3 * DEADLINE and not transport.closed:
            protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answered += await _until(lambda n=answered: sum(b"200 OK" in w for w in transport.written) > n)
            await asyncio.sleep(DEADLINE / 5)  # far inside the deadline, even on a busy machine
        still_open = not transport.closed
        protocol.connection_lost(None)
        return answered, still_open

    answered, still_open = asyncio.run(requests_spread_over_several_deadlines())
    assert answered >= 3 and still_open


def test_the_sweep_stops_with_the_last_connection(short_deadline) -> None:
    async def connect_and_leave() -> bool:
        protocol, _ = await _connected()
        loop = asyncio.get_running_loop()
        assert connections._Sweep.of(loop).timer is not None
        protocol.connection_lost(None)
        return loop not in connections._Sweep._by_loop

    assert asyncio.run(connect_and_leave())
