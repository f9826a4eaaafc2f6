"""The `ivrc` command: parses arguments, calls the library, prints, and returns an exit code."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ivrc.compiler.errors import IvrcError

from . import caller_commands, flow_commands, serve_command, sinch_commands, studio_command
from .common import FAILED, OK, PROBLEMS, UsageError, version

__all__ = ["main", "build_parser", "UsageError", "OK", "PROBLEMS", "FAILED"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivrc", description="Phone IVRs as code for the Sinch Voice API.")
    parser.add_argument("--version", action="version", version=f"ivrc {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (flow_commands, serve_command, caller_commands, sinch_commands, studio_command):
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors, 0 for --help/--version
        return int(exit_.code or 0)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return FAILED
    try:
        return args.run(args)
    except IvrcError as err:  # a problem the user can fix: the message says what and where
        print(f"ivrc: error: {err}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return OK
    except Exception as err:  # a bug in ivrc: say so plainly instead of a traceback
        print(f"ivrc: internal error: {type(err).__name__}: {err}\n"
              "This is a bug in ivrc; please report it with the input that caused it. "
              "Set IVRC_DEBUG=1 to see the traceback.", file=sys.stderr)
        if os.environ.get("IVRC_DEBUG"):
            raise
        return FAILED
