"""ivrc lint, compile, graph, diff, explain and codes: commands about flow files."""
from __future__ import annotations

import argparse
import os
import sys

from .common import OK, PROBLEMS, UsageError, add_color_option
from .common import color as _color
from .common import version as _version
from .config import LINT_FORMATS


def _codes_option(values: list[str] | None) -> list[str]:
    """--select/--ignore take codes, prefixes (IVR04) or names, repeated or comma-separated."""
    from ivrc.compiler.codes import BY_NAME, CODES

    found = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    for value in found:
        if value.lower() not in BY_NAME and not any(code.startswith(value.upper()) for code in CODES):
            raise UsageError(f"'{value}' matches no diagnostic code (run `ivrc codes` for the list)")
    return found


def settings(args: argparse.Namespace):
    """The repository's settings (--config, or the nearest .ivrc.toml or [tool.ivrc]), and the
    paths to work on: those given, else the configured ones, else the current folder."""
    from . import config

    found = config.load(args.config or config.find())
    if args.verbose and found.file:
        print(f"settings from {found.file}", file=sys.stderr)
    if not args.paths:
        args.paths = [found.resolve(p) for p in found.paths] or ["."]
    return found


def cmd_lint(args: argparse.Namespace) -> int:
    from ivrc.compiler import check_bytes, formats
    from ivrc.compiler.loader import MAX_BYTES
    from ivrc.compiler.project import PathError, check_files, find_flows
    from ivrc.compiler.suppress import select

    config = settings(args)
    # An option on the command line replaces the setting, as in ruff.
    try:
        chosen = _codes_option(args.select if args.select is not None else config.select)
        ignored = _codes_option(args.ignore if args.ignore is not None else config.ignore)
    except UsageError as err:
        raise UsageError(f"{config.file}: {err}" if config.file else str(err)) from None
    try:
        if args.paths == ["-"]:
            results = [check_bytes(sys.stdin.buffer.read(MAX_BYTES + 1), args.stdin_filename)]
        else:
            found = find_flows(args.paths, only_flows=args.only_flows, globs=config.flows, base=config.base)
            report_skipped(found.skipped, args.verbose)
            results = check_files(found.flows)
    except PathError as err:
        raise UsageError(str(err)) from None
    if not results:
        if args.only_flows:
            # The pre-commit hook names every YAML file a commit touches; none being a flow is fine.
            print("No flows to check.", file=sys.stderr)
            return OK
        raise UsageError("no flow files found in " + ", ".join(args.paths) + " (a flow is a .yaml or .yml file "
                         "with the top-level `ivrc:` key; files ending .test.yaml are flow tests, run them with "
                         "`ivrc test`; --verbose lists what was skipped)")
    for result in results:
        result.diagnostics = select(result.diagnostics, chosen, ignored)
    fmt = args.format or config.output_format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    writers = {
        "text": lambda: formats.text(results, color=_color(sys.stdout, args.color)),
        "concise": lambda: formats.concise(results),
        "json": lambda: formats.json_report(results),
        "github": lambda: formats.github(results),
        "sarif": lambda: formats.sarif(results, _version()),
        "junit": lambda: formats.junit(results),
    }
    sys.stdout.write(writers[fmt]())
    errors, warnings = formats.counts(results)
    return PROBLEMS if errors or ((args.strict or config.strict) and warnings) else OK


def report_skipped(skipped: list[tuple[str, str]], verbose: bool) -> None:
    """With --verbose, say which YAML files were passed over and why, on stderr."""
    if verbose:
        for path, why in skipped:
            print(f"skipped {path}: {why}", file=sys.stderr)


def _require_file(path: str) -> None:
    """One flow file, as these commands take: a folder or a missing path is named as what it is."""
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder; this command takes one flow file (`ivrc lint` and `ivrc test` take folders)")
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")


def _one_flow(path: str, color_choice: str = "auto"):
    from ivrc.compiler import check_file

    _require_file(path)
    result = check_file(path)
    if result.flow is None or result.errors:
        from ivrc.compiler import formats

        sys.stderr.write(formats.text([result], color=_color(sys.stderr, color_choice)))
        raise UsageError(f"{path} has errors; fix them first (see above)")
    return result.flow


def cmd_graph(args: argparse.Namespace) -> int:
    from ivrc.compiler import diagram

    flow = _one_flow(args.flow, args.color)
    sys.stdout.write(diagram.mermaid(flow) if args.format == "mermaid" else diagram.dot(flow))
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from ivrc.compiler.diff import diff

    result = diff(_one_flow(args.old, args.color), _one_flow(args.new, args.color))
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(result.text())
    # Like `git diff --exit-code`: a review gate can fail when behaviour changed.
    return PROBLEMS if args.exit_code and result.changes else OK


def cmd_compile(args: argparse.Namespace) -> int:
    from ivrc.compiler import compile_file, formats
    from ivrc.compiler.machine import dumps

    _require_file(args.flow)
    result = compile_file(args.flow)
    if result.diagnostics:
        sys.stderr.write(formats.text([result], color=_color(sys.stderr, args.color)))
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



def cmd_explain(args: argparse.Namespace) -> int:
    from ivrc.compiler.codes import BY_NAME, CODES

    code = CODES.get(args.code.upper()) or BY_NAME.get(args.code.lower())
    if code is None:
        raise UsageError(f"unknown code '{args.code}'; codes look like IVR020 (run `ivrc codes` for the list)")

    def indent(text: str) -> str:
        return "\n".join("    " + line for line in text.rstrip().splitlines())

    print(f"{code.code} {code.name} ({code.severity})\n\n{code.summary}\n\nWhy it matters: {code.why}\n\n"
          f"Example:\n{indent(code.example)}\n\nFix: {code.fix}\n\n{indent(code.fixed)}")
    return OK


def cmd_codes(args: argparse.Namespace) -> int:
    if getattr(args, "markdown", False):
        from ivrc.compiler.codes import markdown

        sys.stdout.write(markdown())
        return OK
    from ivrc.compiler.codes import CODES

    for code in CODES.values():
        print(f"{code.code}  {code.name:<28} {code.severity:<8} {code.summary}")
    return OK


# `ivrc call`, `ivrc simulate`, `ivrc test`: the emulator and flow tests




def add_parsers(sub) -> None:
    lint = sub.add_parser("lint", help="check flows and report problems with file:line:column")
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="flow files or folders; - reads one flow from stdin (default: the `paths` setting, or .)")
    lint.add_argument("--output-format", "--format", dest="format", choices=LINT_FORMATS, default=None,
                      help="output format (default text; github when GITHUB_ACTIONS=true)")
    lint.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    lint.add_argument("--select", action="append", metavar="CODES",
                      help="report only these codes, prefixes (IVR04) or names; repeat or comma-separate")
    lint.add_argument("--ignore", action="append", metavar="CODES", help="do not report these codes, prefixes or names")
    lint.add_argument("--stdin-filename", default="<stdin>", help="the file name to report for a flow read from stdin")
    lint.add_argument("--only-flows", action="store_true",
                      help="skip named files that are not flows (no top-level `ivrc:` key) instead of reporting them; "
                           "the pre-commit hook uses this")
    lint.add_argument("-v", "--verbose", action="store_true", help="say which YAML files were skipped, and why")
    lint.add_argument("--config", metavar="FILE",
                      help="a settings file (.ivrc.toml, or pyproject.toml with [tool.ivrc]); default: the nearest "
                           "one from the current folder up")
    add_color_option(lint)
    lint.set_defaults(run=cmd_lint)

    graph = sub.add_parser("graph", help="draw a flow's states and transitions")
    graph.add_argument("flow", metavar="FLOW", help="the flow file to draw")
    graph.add_argument("--output-format", "--format", dest="format", choices=("mermaid", "dot"), default="mermaid",
                       help="mermaid (for Markdown on GitHub and GitLab) or dot (Graphviz); default mermaid")
    add_color_option(graph)
    graph.set_defaults(run=cmd_graph)

    dif = sub.add_parser("diff", help="what changed in behaviour between two versions of a flow")
    dif.add_argument("old", metavar="OLD", help="the flow file before the change")
    dif.add_argument("new", metavar="NEW", help="the flow file after the change")
    dif.add_argument("--output-format", "--format", dest="format", choices=("text", "json"), default="text",
                     help="text (one line per change) or json (for scripts); default text")
    dif.add_argument("--exit-code", action="store_true",
                     help="exit 1 when behaviour changed, 0 when not (as git diff --exit-code), for review gates")
    add_color_option(dif)
    dif.set_defaults(run=cmd_diff)

    comp = sub.add_parser("compile", help="compile a flow into its state machine (JSON)")
    comp.add_argument("flow", metavar="FLOW", help="the flow file to compile")
    comp.add_argument("-o", "--output", metavar="OUT.json", help="where to write the machine (default: stdout)")
    add_color_option(comp)
    comp.set_defaults(run=cmd_compile)


    explain = sub.add_parser("explain", help="explain a diagnostic code, e.g. ivrc explain IVR020")
    explain.add_argument("code", metavar="CODE", help="a code (IVR020) or a name (unknown-state)")
    explain.set_defaults(run=cmd_explain)

    codes = sub.add_parser("codes", help="list every diagnostic code")
    codes.add_argument("--markdown", action="store_true", help="print the documentation page of every code (docs/codes.md)")
    codes.set_defaults(run=cmd_codes)
