"""ivrc serve: the command that runs the callback server."""
from __future__ import annotations

import argparse

from .common import OK, UsageError


def cmd_serve(args: argparse.Namespace) -> int:
    from ivrc.runtime.server.startup import ServeOptions, serve

    options = ServeOptions(paths=args.paths, host=args.host, port=args.port, workers=args.workers, reload=args.reload,
                           default_flow=args.default_flow, machines_dir=args.machines_dir,
                           callback_path=args.callback_path, insecure_no_signatures=args.insecure_no_signatures,
                           log_level=args.log_level, log_format=args.log_format,
                           request_budget=args.request_budget, call_events=args.call_events,
                           events_url=args.events_url, keep_alive_timeout=args.keep_alive_timeout,
                           request_timeout=args.request_timeout, limit_concurrency=args.limit_concurrency,
                           graceful_shutdown_timeout=args.graceful_shutdown_timeout, http=args.http,
                           loop=args.loop)
    for name in ("keep_alive_timeout", "request_timeout", "limit_concurrency", "graceful_shutdown_timeout"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be more than 0")
    serve(options)  # a StartupError is an IvrcError: the command line prints it
    return OK


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 4.5:
        raise argparse.ArgumentTypeError("the budget must be more than 0 and at most 4.5 seconds (Sinch waits 5)")
    return value


def add_parsers(sub) -> None:
    srv = sub.add_parser("serve", help="serve flows as the Sinch callback webhook")
    srv.add_argument("paths", nargs="+", metavar="PATH",
                     help="flow files (.yaml), compiled machines (.json, from `ivrc compile -o`) or folders of them")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    srv.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    srv.add_argument("--reload", action="store_true", help="restart when a flow file changes (development)")
    srv.add_argument("--default-flow", metavar="FLOW", help="flow for calls to numbers no flow claims")
    srv.add_argument("--machines-dir", default=".ivrc/machines", metavar="DIR",
                     help="where compiled versions are kept, so calls in progress survive reloads")
    srv.add_argument("--callback-path", default="/sinch/callback", metavar="PATH",
                     help="the URL path Sinch posts callbacks to (default /sinch/callback)")
    srv.add_argument("--insecure-no-signatures", action="store_true",
                     help="DEVELOPMENT ONLY: accept unsigned callbacks (every callback logs a warning)")
    srv.add_argument("--call-events", action="store_true",
                     help="stream calls state by state at /events for `ivrc studio --live` (numbers masked; "
                          "needs a token in IVRC_EVENTS_TOKEN)")
    srv.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"),
                     help="the least severe log lines written (default info)")
    srv.add_argument("--log-format", default="text", choices=("text", "json"),
                     help="json: warnings and uvicorn's own lines as JSON too, like the callback lines (default text)")
    srv.add_argument("--request-budget", type=_budget, default=3.0, metavar="SECONDS",
                     help="time all requests of one callback may take together (default 3; Sinch's deadline is 5)")
    srv.add_argument("--events-url", metavar="URL",
                     help="POST signed call events (call ended, recording ready) to URL; the signing secret is "
                          "read from IVRC_EVENTS_SECRET")
    srv.add_argument("--keep-alive-timeout", type=int, default=5, metavar="SECONDS",
                     help="close a connection idle this long between requests (default 5)")
    srv.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                     help="close a connection that takes longer to send one whole request, headers and body "
                          "(default 10)")
    srv.add_argument("--http", default="auto", choices=("auto", "h11", "httptools"),
                     help="HTTP/1.1 parser: httptools (C, from `pip install 'uvicorn[standard]'`) or h11 (pure "
                          "Python); auto takes httptools when it is installed (default auto)")
    srv.add_argument("--loop", default="auto", choices=("auto", "asyncio", "uvloop"),
                     help="event loop: uvloop (from `pip install 'uvicorn[standard]'`) or asyncio; auto takes "
                          "uvloop when it is installed (default auto)")
    srv.add_argument("--limit-concurrency", type=int, default=1000, metavar="N",
                     help="connections and requests served at once; more get 503 (default 1000, lowered to fit "
                          "the open-file limit)")
    srv.add_argument("--graceful-shutdown-timeout", type=int, default=10, metavar="SECONDS",
                     help="on SIGTERM, wait at most this long for answers in progress (default 10)")
    srv.set_defaults(run=cmd_serve)
