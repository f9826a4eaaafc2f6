"""The studio's Starlette app: the page, its JSON API and a server-sent event stream of changes on disk."""
from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .phone import Phone, PhoneError, UnknownCall
from .savetest import SaveError, save
from .testcoverage import flow_coverage
from .workspace import Flow, Workspace

POLL_SECONDS = 0.25  # how often the files are looked at; the page updates well within a second
HEARTBEAT_SECONDS = 15.0  # keeps idle event streams open through proxies


class _Problem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Studio:
    """One studio: the workspace, the phone, and the tasks that watch the files."""

    def __init__(self, workspace: Workspace, *, live: Any = None) -> None:
        self.workspace = workspace
        self.phone = Phone()
        self.live = live  # a live.LiveFeed when the studio follows a running `ivrc serve`
        self.changed = asyncio.Event()

    # watching the files

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self.fresh()

    async def fresh(self) -> None:
        """Recompiles if a file changed, and tells every open page; each read calls it, so none is stale."""
        if await asyncio.to_thread(self.workspace.refresh):
            self.changed.set()
            self.changed = asyncio.Event()

    async def events(self, request: Request) -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            generation = self.workspace.generation
            yield f"event: hello\ndata: {json.dumps({'generation': generation})}\n\n"
            while not await request.is_disconnected():
                waiter = self.changed
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(waiter.wait(), HEARTBEAT_SECONDS)
                if self.workspace.generation != generation:
                    generation = self.workspace.generation
                    yield f"event: changed\ndata: {json.dumps({'generation': generation})}\n\n"
                else:
                    yield ": still here\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})

    # flows

    async def _flow(self, request: Request) -> Flow:
        await self.fresh()
        file = request.query_params.get("file", "")
        flow = self.workspace.find(file)
        if flow is None:
            raise _Problem(404, f"no flow file {file!r} in this studio")
        return flow

    async def flows(self, request: Request) -> JSONResponse:
        await self.fresh()
        return JSONResponse({"generation": self.workspace.generation, "paths": self.workspace.paths,
                             "flows": [f.summary() for f in self.workspace.flows],
                             "live": self.live is not None})

    async def flow(self, request: Request) -> JSONResponse:
        flow = await self._flow(request)
        return JSONResponse({"generation": self.workspace.generation, "flow": flow.summary(),
                             "problems": flow.problems(), "diagram": flow.diagram()})

    async def state(self, request: Request) -> JSONResponse:
        flow = await self._flow(request)
        name = request.query_params.get("name", "")
        found = flow.state(name)
        if found is None:
            raise _Problem(404, f"flow {flow.id} has no state {name!r}")
        return JSONResponse(found)

    async def coverage(self, request: Request) -> JSONResponse:
        flow = await self._flow(request)
        return JSONResponse(await asyncio.to_thread(flow_coverage, flow))

    # calls

    async def _body(self, request: Request) -> dict[str, Any]:
        # JSON only: another web site cannot send it from a visitor's browser without a CORS
        # preflight, which the studio never answers, so it cannot drive calls or write test files.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise _Problem(415, "send the request body as JSON (content-type: application/json)")
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _Problem(400, "the request body is not JSON") from None
        if not isinstance(body, dict):
            raise _Problem(400, "the request body should be a JSON object")
        return body

    async def dial(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        await self.fresh()
        flow = self.workspace.find(str(body.get("file", "")))
        if flow is None:
            raise _Problem(404, f"no flow file {body.get('file')!r} in this studio")
        phone = self.phone.dial(flow, caller=str(body.get("caller") or "+46700000001"),
                                called=str(body.get("called") or "") or None, now=str(body.get("now") or "") or None,
                                locale=str(body.get("locale") or "") or None, stubs=body.get("stubs"))
        return JSONResponse(phone.view())

    async def act(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        phone = self.phone.get(request.path_params["call"])
        key = body.get("key")
        phone.act(str(body.get("action", "")), None if key is None else str(key))
        return JSONResponse(phone.view())

    async def save(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        phone = self.phone.get(request.path_params["call"])
        saved = await asyncio.to_thread(save, phone, str(body.get("name") or ""))
        await self.fresh()
        return JSONResponse(saved)

    # live calls of a running server

    async def live_events(self, request: Request) -> Response:
        if self.live is None:
            return _error(404, "this studio does not follow a server; start it with --live URL")
        return StreamingResponse(self.live.stream(request), media_type="text/event-stream",
                                 headers={"cache-control": "no-store"})

    async def live_summary(self, request: Request) -> JSONResponse:
        if self.live is None:
            return _error(404, "this studio does not follow a server; start it with --live URL")
        return JSONResponse(self.live.summary())


def _guarded(handler):
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except _Problem as err:
            return _error(err.status, str(err))
        except UnknownCall as err:
            return _error(404, str(err))
        except (PhoneError, SaveError) as err:
            return _error(400, str(err))

    return run


def _static_dir() -> str:
    return str(resources.files("ivrc.runtime.studio") / "static")


LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


def build_app(workspace: Workspace, *, live: Any = None, hosts: list[str] | None = None) -> Starlette:
    """The studio over a workspace. `hosts`: the Host names it answers (this machine's by default),
    so a web page that rebinds its own name to 127.0.0.1 still cannot read the flows."""
    studio = Studio(workspace, live=live)
    static = _static_dir()

    async def index(request: Request) -> FileResponse:
        return FileResponse(f"{static}/index.html", headers={"cache-control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(studio.watch())]
        if live is not None:
            tasks.append(asyncio.create_task(live.follow()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes = [
        Route("/", index),
        Route("/api/flows", _guarded(studio.flows)),
        Route("/api/flow", _guarded(studio.flow)),
        Route("/api/state", _guarded(studio.state)),
        Route("/api/coverage", _guarded(studio.coverage)),
        Route("/api/events", studio.events),
        Route("/api/calls", _guarded(studio.dial), methods=["POST"]),
        Route("/api/calls/{call}", _guarded(studio.act), methods=["POST"]),
        Route("/api/calls/{call}/save", _guarded(studio.save), methods=["POST"]),
        Route("/api/live", _guarded(studio.live_summary)),
        Route("/api/live/events", studio.live_events),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts or LOCAL_HOSTS)])
    app.state.studio = studio
    return app
