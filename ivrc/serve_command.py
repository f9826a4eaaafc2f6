"""ivrc serve: the command that runs the callback server."""
from __future__ import annotations

import argparse

from .common import OK, UsageError


def cmd_serve(args: argparse.Namespace) -> int:
    from ivrc.runtime.server.startup import ServeOptions, StartupError, serve

    options = ServeOptions(paths=args.paths, host=args.host, port=args.port, workers=args.workers, reload=args.reload,
                           default_flow=args.default_flow, machines_dir=args.machines_dir,
                           callback_path=args.callback_path, insecure_no_signatures=args.insecure_no_signatures,
                           log_level=args.log_level, log_format=args.log_format)
    try:
        serve(options)
    except StartupError as err:
        raise UsageError(str(err)) from None
    return OK


def add_parsers(sub) -> None:
    srv = sub.add_parser("serve", help="serve flows as the Sinch callback webhook")
    srv.add_argument("paths", nargs="+", metavar="PATH", help="flow files or folders")
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
    srv.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"),
                     help="the least severe log lines written (default info)")
    srv.add_argument("--log-format", default="text", choices=("text", "json"),
                     help="json: warnings and uvicorn's own lines as JSON too, like the callback lines (default text)")
    srv.set_defaults(run=cmd_serve)
