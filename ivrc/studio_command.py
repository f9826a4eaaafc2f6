"""ivrc studio: the local web app that shows flows, calls them from the browser and draws coverage."""
from __future__ import annotations

import argparse

from .common import OK, UsageError


def cmd_studio(args: argparse.Namespace) -> int:
    from ivrc.runtime.studio.startup import StudioError, StudioOptions, run

    try:
        run(StudioOptions(paths=args.paths, host=args.host, port=args.port, open_browser=args.open,
                          live=args.live))
    except StudioError as err:
        raise UsageError(str(err)) from None
    return OK


def add_parsers(sub) -> None:
    studio = sub.add_parser("studio", help="see flows as diagrams, call them from the browser, watch coverage")
    studio.add_argument("paths", nargs="+", metavar="PATH", help="flow files or folders")
    studio.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    studio.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one, printed)")
    studio.add_argument("--open", action="store_true", help="open the studio in the web browser")
    studio.add_argument("--live", metavar="URL",
                        help="also show the live calls of `ivrc serve --call-events` at URL (token in IVRC_EVENTS_TOKEN)")
    studio.set_defaults(run=cmd_studio)
