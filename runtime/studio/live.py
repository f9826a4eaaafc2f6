"""Live calls of a running `ivrc serve`: follows its token-protected /events stream and keeps a heat map per state."""
from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any, AsyncIterator

from starlette.requests import Request

TOKEN_ENV = "IVRC_EVENTS_TOKEN"  # the name `ivrc serve --call-events` reads too (the studio never imports the server)
RECENT_CALLS = 30  # calls listed on the page; older ones only count in the heat map
RETRY_SECONDS = (0.5, 1, 2, 5)  # waits between reconnection attempts, the last one repeated
HEARTBEAT_SECONDS = 15.0


def events_url(server: str) -> str:
    """The server's base address or its /events address, as the /events address."""
    server = server.rstrip("/")
    return server if server.endswith("/events") else server + "/events"


class LiveFeed:
    """What the studio knows about a server's calls: recent calls state by state, visits and hang-ups per state."""

    def __init__(self, server: str, token: str) -> None:
        self.url = events_url(server)
        self._token = token  # sent to the server only; never to the page
        self.status = "connecting"
        self.calls: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.heat: dict[str, dict[str, dict[str, int]]] = {}
        self.received = 0
        self._listeners: set[asyncio.Queue] = set()

    # the server's stream

    async def follow(self) -> None:
        import httpx

        attempt = 0
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client:
            while True:
                try:
                    async with client.stream("GET", self.url, headers={"authorization": f"Bearer {self._token}"}) as r:
                        if r.status_code != 200:
                            body = (await r.aread()).decode("utf-8", "replace")
                            self.status = f"{self.url} answered {r.status_code}: {_message(body)}"
                        else:
                            self.status = "following"
                            attempt = 0
                            self._tell({"status": self.status})
                            await self._read(r)
                            self.status = "the server closed the stream; reconnecting"
                except httpx.HTTPError as err:
                    self.status = f"cannot reach {self.url}: {type(err).__name__}; retrying"
                self._tell({"status": self.status})
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1

    async def _read(self, response) -> None:
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "call":
                try:
                    item = json.loads(line[5:])
                except ValueError:
                    continue
                if isinstance(item, dict):
                    self.record(item)
            elif not line:
                event = ""

    def record(self, item: dict[str, Any]) -> None:
        """One callback of one call: where it now is, and one more visit (or hang-up) on the heat map."""
        self.received += 1
        key, flow, state, event = str(item.get("call")), item.get("flow"), item.get("state"), item.get("event")
        call = self.calls.pop(key, None) or {"call": key, "caller": item.get("caller"), "flow": flow, "path": [],
                                             "ended": False}
        call.update({"flow": flow or call["flow"], "event": event, "outcome": item.get("outcome"),
                     "time": item.get("time")})
        if flow and state:
            counts = self.heat.setdefault(flow, {}).setdefault(state, {"visits": 0, "hangups": 0})
            if event == "DICE":
                call["ended"] = True
                if item.get("reason") == "callerhangup":  # the caller gave up here
                    counts["hangups"] += 1
            elif not call["path"] or call["path"][-1] != state:
                call["path"].append(state)
                counts["visits"] += 1
            call["state"] = state
        elif event == "DICE":
            call["ended"] = True
        self.calls[key] = call
        while len(self.calls) > RECENT_CALLS:
            self.calls.popitem(last=False)
        self._tell({"call": call})

    # the page

    def summary(self) -> dict[str, Any]:
        return {"server": self.url, "status": self.status, "received": self.received,
                "calls": list(reversed(self.calls.values())), "heat": self.heat}

    def _tell(self, item: dict[str, Any]) -> None:
        for queue in list(self._listeners):
            if not queue.full():
                queue.put_nowait(item)

    async def stream(self, request: Request) -> AsyncIterator[str]:
        queue: asyncio.Queue = asyncio.Queue(100)
        self._listeners.add(queue)
        try:
            yield f"event: hello\ndata: {json.dumps({'status': self.status})}\n\n"
            while not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except asyncio.TimeoutError:
                    yield ": still here\n\n"
                    continue
                yield f"event: live\ndata: {json.dumps(item)}\n\n"
        finally:
            self._listeners.discard(queue)


def _message(body: str) -> str:
    try:
        return str(json.loads(body).get("message") or body)[:200]
    except (ValueError, AttributeError):
        return body[:200]
