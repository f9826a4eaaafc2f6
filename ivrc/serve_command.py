"""ivrc serve: the command that runs the callback server."""
from __future__ import annotations

import argparse

from .common import OK


def cmd_serve(args: argparse.Namespace) -> int:
    from ivrc.runtime.server.startup import ServeOptions, serve

    options = ServeOptions(paths=args.paths, host=args.host, port=args.port, workers=args.workers, reload=args.reload,
                           default_flow=args.default_flow, machines_dir=args.machines_dir,
                           callback_path=args.callback_path, insecure_no_signatures=args.insecure_no_signatures,
                           log_level=args.log_level, events_url=args.events_url)
    serve(options)  # a StartupError is an IvrcError: the command line prints it
    return OK


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
    srv.add_argument("--events-url", metavar="URL",
                     help="POST signed call events (call ended, recording ready) to URL; the signing secret is "
                          "read from IVRC_EVENTS_SECRET")
    srv.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    srv.set_defaults(run=cmd_serve)
