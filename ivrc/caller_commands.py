"""ivrc call, simulate and test: playing a caller against a server or a flow."""
from __future__ import annotations

import argparse
import os
import sys

from .common import FAILED, KEY_ENV, OK, PROBLEMS, SECRET_ENV, UsageError


def _credentials(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """Key and secret from the environment, as `ivrc serve` reads them; (None, None) with --unsigned."""
    if args.unsigned:
        return None, None
    # While a secret is rotated the variable lists several; the first is the current one.
    key, secret = os.environ.get(KEY_ENV, "").strip(), os.environ.get(SECRET_ENV, "").split(",")[0].strip()
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise UsageError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; callbacks are "
                         "signed with the application key and secret the server uses. Set them, or pass --unsigned "
                         "for a server started with --insecure-no-signatures.")
    from ivrc.runtime.signing import Credentials

    try:
        Credentials(key, secret)
    except ValueError as err:
        raise UsageError(f"{SECRET_ENV} or {KEY_ENV} is not usable: {err}") from None
    return key, secret


def _live(line) -> None:
    print(line, flush=True)


def _quiet_engine() -> None:
    """In-process runs show the engine's failures in the transcript; its log lines would say it twice."""
    import logging

    logger = logging.getLogger("ivrc")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _converse(call, args: argparse.Namespace) -> None:
    """Scripted when the command line gives steps; otherwise from the terminal, or from stdin lines."""
    from ivrc.runtime.emulation.conversation import run_interactive, run_script

    if args.script:
        run_script(call, args.script)
    elif sys.stdin.isatty():
        def ask(prompt: str) -> str | None:
            try:
                return input(prompt)
            except EOFError:
                return None

        run_interactive(call, ask, lambda text: print(text, flush=True))
    else:
        def next_line(prompt: str) -> str | None:
            line = sys.stdin.readline()
            return line.rstrip("\n") if line else None

        run_interactive(call, next_line, lambda text: print(f"ivrc: {text}", file=sys.stderr), intro=False)


def _call_failed(err, unsigned: bool = False) -> int:
    from ivrc.runtime.emulation.emulator import CallerMistake, Unreachable

    if isinstance(err, Unreachable):
        raise UsageError(f"{err} (is the server running, and is the URL its callback URL?)")
    if isinstance(err, CallerMistake):
        print(f"ivrc: the caller cannot do this: {err}", file=sys.stderr)
        return PROBLEMS
    print(f"ivrc: the call failed: {err}", file=sys.stderr)
    for problem in err.problems:
        print(f"  - {problem}", file=sys.stderr)
    if " HTTP 401" in str(err):
        print("  (the server wants signed callbacks: drop --unsigned and set "
              f"{KEY_ENV} and {SECRET_ENV})" if unsigned else
              f"  (a 401 usually means {KEY_ENV}/{SECRET_ENV} differ from the server's)", file=sys.stderr)
    return PROBLEMS


def cmd_call(args: argparse.Namespace) -> int:
    from ivrc.runtime.emulation.emulator import Call, CallFailed, HttpTransport, served_flows

    key, secret = _credentials(args)
    if not args.outbound and not args.to:
        flows = served_flows(args.url)
        numbers = [n for f in flows or [] for n in f.get("numbers", []) if f.get("direction") == "inbound"]
        raise UsageError("say which number the caller dials, with --to NUMBER"
                         + (f" (this server answers {', '.join(numbers)})" if numbers else ""))
    if args.outbound and not args.custom:
        raise UsageError("an outbound call needs --custom: the flow id, or JSON {\"flow\": ID, \"vars\": {...}}")
    transport = HttpTransport(args.url, key, secret, timeout=args.timeout)
    call = Call(transport, called=args.to or "", caller=args.caller, outbound=args.outbound, custom=args.custom,
                amd=args.amd, key=key, observer=_live)
    try:
        _converse(call, args)
    except CallFailed as err:
        return _call_failed(err, args.unsigned)
    finally:
        transport.close()
    return OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from ivrc.compiler.errors import FlowErrors
    from ivrc.compiler.project import compile_paths
    from ivrc.runtime.emulation.emulator import Call, CallFailed
    from ivrc.runtime.emulation.simulate import (
        InProcess,
        PlaceholderEnv,
        env_from_pairs,
        frozen_clock,
        parse_now,
        pick,
        setup,
    )
    from ivrc.runtime.emulation.stubs import Stubs

    try:
        machines = compile_paths(args.paths)
    except FlowErrors as err:
        print(f"{err}\nivrc: the flows have errors; fix them before simulating", file=sys.stderr)
        return PROBLEMS
    machine = pick(machines, to=args.to, flow=args.flow)
    now = parse_now(args.now) if args.now else None
    env = PlaceholderEnv(env_from_pairs(args.env))
    variables = env_from_pairs(args.var)
    _quiet_engine()
    if args.custom and variables:
        raise UsageError("give either --var (ivrc builds the callout's custom) or --custom, not both")
    unknown = sorted(set(variables) - set(machine.variables))
    if unknown:
        from ivrc.compiler.diagnostics import did_you_mean

        hint = did_you_mean(unknown[0], list(machine.variables), "variables")
        raise UsageError(f"--var {unknown[0]}: flow {machine.flow} declares no such variable"
                         + (f"; {hint}" if hint else f" (it declares: {', '.join(machine.variables) or 'none'})"))
    stubs = Stubs(_stubs(args, machines))
    world = InProcess(machines, frozen_clock(now, machine.timezone), env, backend=stubs)
    how = setup(machine, called=args.to, outbound=True if args.outbound else None, custom=args.custom,
                variables=variables, amd=args.amd)
    call = Call(world.transport(), caller=args.caller, clock=world.clock, observer=_live, **how.call_kwargs())
    try:
        _converse(call, args)
    except CallFailed as err:
        return _call_failed(err)
    finally:
        for state in dict.fromkeys(stubs.unstubbed):
            print(f"ivrc: note: state '{state}' made a request with no stub, so it took its failure path "
                  f"(give one with --stub {state}='{{\"status\": 200, \"json\": {{...}}}}')", file=sys.stderr)
        for name in sorted(env.used):
            print(f"ivrc: note: the flow read {name} from the server's environment; the simulation used a "
                  f"placeholder (give a value with --env {name}=VALUE)", file=sys.stderr)
    if any(line.kind == "flow-error" for line in call.lines):
        # The caller heard the apology: the call failed, which is what exit 1 says (docs/testing.md).
        print("ivrc: the call took the flow's error path (see the ✗ line above)", file=sys.stderr)
        return PROBLEMS
    return OK


def _stubs(args: argparse.Namespace, machines: list) -> dict:
    """--stubs FILE and --stub STATE=JSON, as a scenario's `requests:` (later ones win), each for a request
    state of the flows simulated (a misspelt name would otherwise make no difference at all)."""
    import json

    import yaml

    from ivrc.compiler.diagnostics import did_you_mean
    from ivrc.runtime.emulation.stubs import parse_stubs

    known = sorted({state.name for machine in machines for state in machine.requests})
    found = {}
    if args.stubs:
        try:
            with open(args.stubs, encoding="utf-8") as fh:
                loaded = yaml.safe_load(fh)
            if (isinstance(loaded, dict) and list(loaded) == ["requests"] and isinstance(loaded["requests"], dict)
                    and "requests" not in known):
                loaded = loaded["requests"]  # a scenario's own `requests:` block, copied with its key
            found.update(parse_stubs(loaded, args.stubs))
        except OSError as err:
            raise UsageError(f"{args.stubs}: {err.strerror or err}") from None
        except yaml.YAMLError as err:
            raise UsageError(f"{args.stubs}: not YAML: {err}") from None
    for pair in args.stub:
        state, sep, text = pair.partition("=")
        if not sep or not state:
            raise UsageError(f"--stub {pair!r} should be STATE=JSON, e.g. verify='{{\"status\": 200}}'")
        try:
            found.update(parse_stubs({state: json.loads(text)}, f"--stub {state}"))
        except ValueError as err:
            raise UsageError(f"--stub {state}: not JSON: {err}") from None
    for name in found:
        if name not in known:
            hint = did_you_mean(name, known, "request states")
            raise UsageError(f"a stub is given for '{name}', which is no request state of the flows simulated"
                             + (f"; {hint}" if hint else f" (their request states: {', '.join(known) or 'none'})"))
    return found


def cmd_test(args: argparse.Namespace) -> int:
    from ivrc.runtime.emulation import flowreport
    from ivrc.runtime.emulation.flowtest import ToolError, run_paths

    from .flow_commands import settings

    if args.url and args.min_coverage is not None:
        raise UsageError("--min-coverage needs in-process runs: coverage is not visible from a live server (--url)")
    if args.min_coverage is not None and not 0 <= args.min_coverage <= 100:
        raise UsageError("--min-coverage is a percentage, 0 to 100")
    key, secret = _credentials(args) if args.url else (None, None)
    settings(args)  # the paths to test, when none are given
    if args.verbose:
        _report_skipped(args.paths)
    _quiet_engine()
    try:
        results = run_paths(args.paths, url=args.url, key=key, secret=secret,
                            on_outcome=flowreport.Progress(sys.stdout.write))
    except ToolError as err:
        print(f"{err}\nivrc: error: the flow tests could not run", file=sys.stderr)
        return FAILED
    sys.stdout.write(flowreport.text(results, args.min_coverage, live=True))
    for flow in results.uncompiled:
        print(f"ivrc: note: {flow} has no scenarios and does not compile, so it has no coverage "
              f"(`ivrc lint {flow}` says why)", file=sys.stderr)
    if args.junit:
        from ivrc.runtime.emulation import junit

        junit.write(results, args.junit)
    if results.failed or flowreport.below(results.coverage, args.min_coverage):
        return PROBLEMS
    if results.uncompiled and args.min_coverage:
        print(f"ivrc: {len(results.uncompiled)} flow(s) count at 0% (--min-coverage {args.min_coverage:g}%)",
              file=sys.stderr)
        return PROBLEMS
    return OK


def _report_skipped(paths: list[str]) -> None:
    """--verbose: the YAML files in the named folders that are neither flows nor flow tests."""
    from ivrc.compiler.project import NOT_A_FLOW, PathError, find_flows

    from .flow_commands import report_skipped

    try:
        found = find_flows([p for p in paths if os.path.isdir(p)])
    except PathError:
        return  # the test run reports a missing path itself
    report_skipped([(path, why) for path, why in found.skipped if why == NOT_A_FLOW], True)


class _Script(argparse.Action):
    """--press/--say/--silence/--hangup, kept in the order given: the caller's script."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        script = list(getattr(namespace, "script", None) or [])
        script.append((self.const, values if self.nargs != 0 else None))
        namespace.script = script


def _keys(text: str) -> str:
    import re

    if not re.fullmatch(r"[0-9#*]+", text):
        raise argparse.ArgumentTypeError(f"keys are digits, # and * (quote # in the shell), not {text!r}")
    return text


def _caller_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--caller", default="+46700000001", metavar="NUMBER",
                   help="the caller's number (default %(default)s)")
    p.add_argument("--amd", choices=("human", "machine", "notsure", "hangup"), default="human",
                   help="outbound: the answering-machine verdict in the ACE (default human)")
    p.add_argument("--custom", metavar="TEXT",
                   help="outbound: the callout's custom: a flow id or JSON {\"flow\", \"vars\"}")
    script = p.add_argument_group("script (in order; without one, keys are read from the terminal)")
    script.add_argument("--press", action=_Script, const="press", type=_keys, metavar="KEYS",
                        help="press keys, e.g. --press 1 or --press '1234#'")
    script.add_argument("--say", action=_Script, const="say", metavar="WORDS", help="speak (menus with keywords)")
    script.add_argument("--silence", action=_Script, const="silence", nargs=0,
                        help="stay silent until the menu times out")
    script.add_argument("--hangup", action=_Script, const="hangup", nargs=0, help="hang up")
    p.set_defaults(script=[])


# `ivrc callout`, `ivrc calls`, `ivrc conference`, `ivrc deploy`: the Sinch REST API



def add_parsers(sub) -> None:
    call = sub.add_parser("call", help="be Sinch and a caller: call a callback server over HTTP",
                          description="Plays Sinch's side of a call against a callback server: signed callbacks "
                                      f"(key and secret from {KEY_ENV} and {SECRET_ENV}), cookies echoed, "
                                      "Sinch's rules enforced. Prints what the caller hears and what happens.")
    call.add_argument("url", metavar="URL", help="the callback URL, e.g. http://127.0.0.1:8080/sinch/callback")
    call.add_argument("--to", metavar="NUMBER", help="the number the caller dials (inbound)")
    call.add_argument("--outbound", action="store_true", help="a callout: start with the ACE of an answered call")
    call.add_argument("--unsigned", action="store_true",
                      help="do not sign (for servers run with --insecure-no-signatures)")
    call.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per callback (default 10)")
    _caller_options(call)
    call.set_defaults(run=cmd_call)

    sim = sub.add_parser("simulate", help="talk to a flow in-process, without a server",
                         description="The same conversation as `ivrc call`, with the flow compiled and run in this "
                                     "process: the quickest way to try a flow.")
    sim.add_argument("paths", nargs="+", metavar="FLOW", help="a flow file, or a folder of flows")
    sim.add_argument("--to", metavar="NUMBER", help="the number dialled (default: the flow's first number)")
    sim.add_argument("--flow", metavar="ID", help="which flow, by id, when a folder holds several")
    sim.add_argument("--outbound", action="store_true", help="a callout (automatic for outbound flows)")
    sim.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                     help="outbound: a value the callout gives the flow (repeatable)")
    sim.add_argument("--now", metavar="ISO-8601", help="freeze the clock, e.g. 2026-03-02T10:30 (no offset: the "
                                                       "flow's time zone)")
    sim.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                     help="a server environment variable the flow reads (others get a placeholder)")
    sim.add_argument("--stub", action="append", default=[], metavar="STATE=JSON",
                     help='what a request state gets back, e.g. verify=\'{"status": 200, "json": {"ok": true}}\' '
                          "(no network is used; a request without a stub takes its failure path)")
    sim.add_argument("--stubs", metavar="FILE",
                     help="stubs for every request state, as a scenario's `requests:` (YAML or JSON)")
    _caller_options(sim)
    sim.set_defaults(run=cmd_simulate)

    test = sub.add_parser("test", help="run flow tests (NAME.test.yaml scenarios) with coverage",
                          description="Runs every scenario in the scenario files (NAME.test.yaml) under PATH, "
                                      "in-process by default. Exit 0 all pass, 1 failures or coverage too low, "
                                      "2 the tests could not run.")
    test.add_argument("paths", nargs="*", metavar="PATH",
                      help="scenario files, flows (their NAME.test.yaml) or folders (default: the `paths` setting, or .)")
    test.add_argument("--url", metavar="URL", help="run against a live callback server instead of in-process")
    test.add_argument("--unsigned", action="store_true", help="with --url: do not sign callbacks")
    test.add_argument("--min-coverage", type=float, metavar="PCT",
                      help="fail (exit 1) if any flow's coverage (states and transitions) is below PCT percent")
    test.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    test.add_argument("--config", metavar="FILE",
                      help="a settings file (.ivrc.toml, or pyproject.toml with [tool.ivrc]) for the default paths")
    test.add_argument("-v", "--verbose", action="store_true",
                      help="say which YAML files in the folders were skipped as not flows (no top-level `ivrc:` key)")
    test.set_defaults(run=cmd_test)

