"""`ivrc studio`: checks the paths, binds a local port, prints the address, and runs the app under uvicorn."""
from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from dataclasses import dataclass

from .workspace import Workspace, WorkspaceError


class StudioError(Exception):
    """The studio cannot start; the message says why."""


@dataclass
class StudioOptions:
    paths: list[str]
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port, printed at start-up
    open_browser: bool = False
    live: str | None = None  # a running `ivrc serve --call-events` to follow


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts so that port 0 can be printed as the real port."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise StudioError(f"cannot listen on {host!r}: {err.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise StudioError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def run(options: StudioOptions) -> None:
    import uvicorn

    from .app import build_app

    try:
        workspace = Workspace(options.paths)
    except WorkspaceError as err:
        raise StudioError(str(err)) from None
    feed = None
    if options.live:
        import os

        from .live import TOKEN_ENV, LiveFeed

        token = os.environ.get(TOKEN_ENV, "").strip()
        if not options.live.startswith(("http://", "https://")):
            raise StudioError(f"--live {options.live}: give the server's address, like http://127.0.0.1:8080")
        if not token:
            raise StudioError(f"--live needs the server's call-event token in {TOKEN_ENV}")
        feed = LiveFeed(options.live, token)
    sock = bind(options.host, options.port)
    url = url_of(sock)
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"ivrc studio: listening on {options.host}: anyone who can reach it can read these flows "
              "and write their test files", file=sys.stderr)
    print(f"ivrc studio: {len(workspace.flows)} flow(s) from {', '.join(options.paths)} on {url}", flush=True)
    if options.open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    if feed is not None:
        print(f"ivrc studio: following live calls from {feed.url}", flush=True)
    local = options.host in ("127.0.0.1", "localhost", "::1")
    hosts = None if local else ["*"] if options.host in ("0.0.0.0", "::") else [options.host]
    config = uvicorn.Config(build_app(workspace, live=feed, hosts=hosts), log_level="warning", timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])
