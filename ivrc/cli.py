"""The `ivrc` command: parses arguments, calls the library, prints, and returns an exit code."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

# Exit codes, as ruff and yamllint use them.
OK, PROBLEMS, FAILED = 0, 1, 2


class UsageError(Exception):
    """Something the user asked for cannot be done; the message says what and why."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ivrc")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def cmd_lint(args: argparse.Namespace) -> int:
    from compiler import check_bytes
    from compiler import formats
    from compiler.project import PathError, check_paths

    try:
        if args.paths == ["-"]:
            results = [check_bytes(sys.stdin.buffer.read(), args.stdin_filename)]
        else:
            results = check_paths(args.paths)
    except PathError as err:
        raise UsageError(str(err)) from None
    if not results:
        raise UsageError("no flow files found in " + ", ".join(args.paths) + " (flows end in .yaml or .yml)")
    if args.format == "json":
        sys.stdout.write(formats.json_report(results))
    else:
        sys.stdout.write(formats.text(results, color=_color(sys.stdout)))
    errors, warnings = formats.counts(results)
    return PROBLEMS if errors or (args.strict and warnings) else OK


def cmd_compile(args: argparse.Namespace) -> int:
    from compiler import compile_file, formats
    from compiler.machine import dumps

    if not os.path.isfile(args.flow):
        raise UsageError(f"{args.flow}: no such file")
    result = compile_file(args.flow)
    if result.diagnostics:
        sys.stderr.write(formats.text([result], color=_color(sys.stderr)))
    if result.machine is None:
        return PROBLEMS
    text = dumps(result.machine)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        _write_atomically(args.output, text)
        print(f"wrote {args.output} (flow {result.machine['flow']}, version {result.machine['version']}, "
              f"{len(result.machine['states'])} states)", file=sys.stderr)
    return OK


def _write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written machine."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{path}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".ivrc-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def cmd_serve(args: argparse.Namespace) -> int:
    from runtime.server import ServeOptions, StartupError, serve

    options = ServeOptions(paths=args.paths, host=args.host, port=args.port, workers=args.workers, reload=args.reload,
                           default_flow=args.default_flow, machines_dir=args.machines_dir,
                           callback_path=args.callback_path, insecure_no_signatures=args.insecure_no_signatures,
                           log_level=args.log_level)
    try:
        serve(options)
    except StartupError as err:
        raise UsageError(str(err)) from None
    return OK


def cmd_explain(args: argparse.Namespace) -> int:
    from compiler.codes import BY_NAME, CODES

    code = CODES.get(args.code.upper()) or BY_NAME.get(args.code.lower())
    if code is None:
        raise UsageError(f"unknown code '{args.code}'; codes look like IVR020 (run `ivrc explain --list`)")
    print(f"{code.code} {code.name} ({code.severity})\n\n{code.summary}\n\nWhy: {code.why}\n\nFix: {code.fix}")
    return OK


def cmd_codes(args: argparse.Namespace) -> int:
    from compiler.codes import CODES

    for code in CODES.values():
        print(f"{code.code}  {code.name:<28} {code.severity:<8} {code.summary}")
    return OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivrc", description="Phone IVRs as code for the Sinch Voice API.")
    parser.add_argument("--version", action="version", version=f"ivrc {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lint = sub.add_parser("lint", help="check flows and report problems with file:line:column")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="flow files or folders; - reads one flow from stdin")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    lint.add_argument("--stdin-filename", default="<stdin>", help="the file name to report for a flow read from stdin")
    lint.set_defaults(run=cmd_lint)

    comp = sub.add_parser("compile", help="compile a flow into its state machine (JSON)")
    comp.add_argument("flow", metavar="FLOW")
    comp.add_argument("-o", "--output", metavar="OUT.json", help="where to write the machine (default: stdout)")
    comp.set_defaults(run=cmd_compile)

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
    srv.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    srv.set_defaults(run=cmd_serve)

    explain = sub.add_parser("explain", help="explain a diagnostic code, e.g. ivrc explain IVR020")
    explain.add_argument("code", metavar="CODE")
    explain.set_defaults(run=cmd_explain)

    codes = sub.add_parser("codes", help="list every diagnostic code")
    codes.set_defaults(run=cmd_codes)
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
    except UsageError as err:
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
