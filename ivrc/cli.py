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


LINT_FORMATS = ("text", "concise", "json", "github", "sarif", "junit")


def _codes_option(values: list[str] | None) -> list[str]:
    """--select/--ignore take codes, prefixes (IVR04) or names, repeated or comma-separated."""
    from compiler.codes import BY_NAME, CODES

    found = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    for value in found:
        if value.lower() not in BY_NAME and not any(code.startswith(value.upper()) for code in CODES):
            raise UsageError(f"'{value}' matches no diagnostic code (run `ivrc codes` for the list)")
    return found


def cmd_lint(args: argparse.Namespace) -> int:
    from compiler import check_bytes, formats
    from compiler.loader import MAX_BYTES
    from compiler.project import PathError, check_paths
    from compiler.suppress import select

    chosen, ignored = _codes_option(args.select), _codes_option(args.ignore)
    try:
        if args.paths == ["-"]:
            results = [check_bytes(sys.stdin.buffer.read(MAX_BYTES + 1), args.stdin_filename)]
        else:
            results = check_paths(args.paths)
    except PathError as err:
        raise UsageError(str(err)) from None
    if not results:
        raise UsageError("no flow files found in " + ", ".join(args.paths) + " (flows end in .yaml or .yml; "
                         "files ending .test.yaml are flow tests, run them with `ivrc test`)")
    for result in results:
        result.diagnostics = select(result.diagnostics, chosen, ignored)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    writers = {
        "text": lambda: formats.text(results, color=_color(sys.stdout)),
        "concise": lambda: formats.concise(results),
        "json": lambda: formats.json_report(results),
        "github": lambda: formats.github(results),
        "sarif": lambda: formats.sarif(results, _version()),
        "junit": lambda: formats.junit(results),
    }
    sys.stdout.write(writers[fmt]())
    errors, warnings = formats.counts(results)
    return PROBLEMS if errors or (args.strict and warnings) else OK


def _one_flow(path: str):
    from compiler import check_file

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    result = check_file(path)
    if result.flow is None or result.errors:
        from compiler import formats

        sys.stderr.write(formats.text([result], color=_color(sys.stderr)))
        raise UsageError(f"{path} has errors; fix them first (see above)")
    return result.flow


def cmd_graph(args: argparse.Namespace) -> int:
    from compiler import diagram

    flow = _one_flow(args.flow)
    sys.stdout.write(diagram.mermaid(flow) if args.format == "mermaid" else diagram.dot(flow))
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from compiler.diff import diff

    result = diff(_one_flow(args.old), _one_flow(args.new))
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(result.text())
    return OK


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


# `ivrc call`, `ivrc simulate`, `ivrc test`: the emulator and flow tests

KEY_ENV, SECRET_ENV = "SINCH_APPLICATION_KEY", "SINCH_APPLICATION_SECRET"  # as `ivrc serve` reads them


def _credentials(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """Key and secret from the environment, as `ivrc serve` reads them; (None, None) with --unsigned."""
    if args.unsigned:
        return None, None
    key, secret = os.environ.get(KEY_ENV, "").strip(), os.environ.get(SECRET_ENV, "").strip()
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise UsageError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; callbacks are "
                         "signed with the application key and secret the server uses. Set them, or pass --unsigned "
                         "for a server started with --insecure-no-signatures.")
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
    from runtime.conversation import run_interactive, run_script

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
    from runtime.emulator import CallerMistake, Unreachable

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
    from runtime.emulator import Call, CallFailed, HttpTransport, served_flows

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
    from runtime.emulator import Call, CallFailed
    from runtime.simulate import (FlowProblems, InProcess, PlaceholderEnv, compile_flows, env_from_pairs,
                                  frozen_clock, parse_now, pick, setup)

    try:
        results = compile_flows(args.paths)
        chosen = pick(results, to=args.to, flow=args.flow)
        now = parse_now(args.now) if args.now else None
        env = PlaceholderEnv(env_from_pairs(args.env))
        variables = env_from_pairs(args.var)
    except FlowProblems as err:
        print(f"{err}\nivrc: the flows have errors; fix them before simulating", file=sys.stderr)
        return PROBLEMS
    except (FileNotFoundError, LookupError, ValueError) as err:
        raise UsageError(str(err).strip("'\"")) from None
    machine = chosen.machine
    _quiet_engine()
    if args.custom and variables:
        raise UsageError("give either --var (ivrc builds the callout's custom) or --custom, not both")
    world = InProcess([r.machine for r in results], frozen_clock(now, machine["timezone"]), env)
    how = setup(machine, called=args.to, outbound=True if args.outbound else None, custom=args.custom,
                variables=variables, amd=args.amd)
    call = Call(world.transport(), caller=args.caller, clock=world.clock, observer=_live, **how.call_kwargs())
    try:
        _converse(call, args)
    except CallFailed as err:
        return _call_failed(err)
    finally:
        for name in sorted(env.used):
            print(f"ivrc: note: the flow read {name} from the server's environment; the simulation used a "
                  f"placeholder (give a value with --env {name}=VALUE)", file=sys.stderr)
    return OK


def cmd_test(args: argparse.Namespace) -> int:
    from runtime import flowreport
    from runtime.flowtest import ToolError, run_paths

    if args.url and args.min_coverage is not None:
        raise UsageError("--min-coverage needs in-process runs: coverage is not visible from a live server (--url)")
    if args.min_coverage is not None and not 0 <= args.min_coverage <= 100:
        raise UsageError("--min-coverage is a percentage, 0 to 100")
    key, secret = _credentials(args) if args.url else (None, None)
    _quiet_engine()
    try:
        results = run_paths(args.paths, url=args.url, key=key, secret=secret,
                            on_outcome=flowreport.Progress(sys.stdout.write))
    except ToolError as err:
        print(f"{err}\nivrc: error: the flow tests could not run", file=sys.stderr)
        return FAILED
    sys.stdout.write(flowreport.text(results, args.min_coverage, live=True))
    if args.junit:
        from runtime import junit

        try:
            junit.write(results, args.junit)
        except OSError as err:
            raise UsageError(str(err)) from None
    if results.failed or flowreport.below(results.coverage, args.min_coverage):
        return PROBLEMS
    return OK


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


def _api(args: argparse.Namespace):
    from runtime.sinch_api import SinchApi, credentials_from_env

    try:
        return SinchApi(credentials_from_env(), region=args.region, api_url=args.api_url,
                        config_url=args.config_api_url, auth="basic" if args.basic_auth else "signed",
                        timeout=args.timeout)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _api_failed(err) -> int:
    print(f"ivrc: error: {err}", file=sys.stderr)
    if err.status == 401:
        print(f"  (check that {KEY_ENV} and {SECRET_ENV} are this Sinch application's key and secret)",
              file=sys.stderr)
    elif err.status == 404 and "/calls/" in err.path:
        print("  (no such call: it may have ended long ago, or live in another region; try --region)",
              file=sys.stderr)
    return PROBLEMS


def _with_api(args: argparse.Namespace, work) -> int:
    """Runs work(api): Sinch refusing is exit 1 with its code and message; no answer at all is exit 2."""
    from runtime.sinch_api import ApiError, ApiUnreachable

    api = _api(args)
    try:
        return work(api)
    except ApiError as err:
        return _api_failed(err)
    except ApiUnreachable as err:
        raise UsageError(str(err)) from None
    finally:
        api.close()


def _pairs(values: list[str]) -> dict[str, str]:
    from runtime.simulate import env_from_pairs

    try:
        return env_from_pairs(values)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _place(args: argparse.Namespace, build, what: str) -> int:
    """Builds the callout request (checked before any call to Sinch), prints it with --dry-run, else places it."""
    import json

    from runtime.callouts import CalloutProblem

    try:
        request = build()
    except CalloutProblem as err:
        raise UsageError(str(err)) from None
    if args.dry_run:
        sys.stdout.write(json.dumps(request, indent=2, ensure_ascii=False) + "\n")
        print("ivrc: dry run: the callout was not placed", file=sys.stderr)
        return OK

    def place(api) -> int:
        call_id = api.callout(request)
        print(call_id)
        print(f"ivrc: placed {what}; call id {call_id}", file=sys.stderr)
        return OK

    return _with_api(args, place)


def cmd_callout_tts(args: argparse.Namespace) -> int:
    from runtime.callouts import tts_request

    return _place(args, lambda: tts_request(args.to, args.cli, text=args.text, prompts=args.prompts,
                                            locale=args.locale, dtmf=args.dtmf, custom=args.custom, ace=args.ace,
                                            dice=args.dice, pie=args.pie),
                  f"a text-to-speech callout to {args.to}")


def cmd_callout_conference(args: argparse.Namespace) -> int:
    from runtime.callouts import conference_request

    return _place(args, lambda: conference_request(
        args.to, args.cli, args.conference, greeting=args.greeting, locale=args.locale, moh=args.moh,
        dtmf=args.dtmf, dtmf_mode=args.dtmf_mode, max_duration=args.max_duration, custom=args.custom,
        ace=args.ace, dice=args.dice, pie=args.pie), f"a conference callout to {args.to} into {args.conference}")


def cmd_callout_flow(args: argparse.Namespace) -> int:
    from runtime.callouts import CalloutProblem, flow_request, outbound_machine
    from runtime.simulate import FlowProblems

    try:
        machine = outbound_machine(args.flow, args.flow_id)
    except FlowProblems as err:
        print(f"{err}\nivrc: the flows have errors; fix them before placing a callout", file=sys.stderr)
        return PROBLEMS
    except (FileNotFoundError, CalloutProblem) as err:
        raise UsageError(str(err)) from None
    variables = _pairs(args.var)
    return _place(args, lambda: flow_request(machine, args.to, cli=args.cli, variables=variables,
                                             max_duration=args.max_duration, dial_timeout=args.dial_timeout,
                                             callback_url=args.callback_url),
                  f"flow {machine['flow']} (version {machine['version']}) to {args.to}")


def _show(data, fields: list[tuple[str, str]]) -> None:
    """One `label value` line per field Sinch gave: identities by endpoint, money with its currency."""
    for label, key in fields:
        value = data.get(key)
        if isinstance(value, dict) and "endpoint" in value:
            value = value["endpoint"]
        elif isinstance(value, dict) and "amount" in value:
            value = f"{value['amount']} {value.get('currencyId', '')}".strip()
        elif key == "duration" and isinstance(value, int):
            value = f"{value} s"
        if value not in (None, "", {}):
            print(f"{label:<9} {value}")


def cmd_calls_show(args: argparse.Namespace) -> int:
    import json

    def show(api) -> int:
        info = api.call(args.callid)
        if args.json:
            sys.stdout.write(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        else:
            _show(info, [("call", "callId"), ("from", "from"), ("to", "to"), ("domain", "domain"),
                         ("status", "status"), ("result", "result"), ("reason", "reason"),
                         ("duration", "duration"), ("started", "timestamp"), ("custom", "custom"),
                         ("rate", "userRate"), ("debit", "debit")])
        return OK

    return _with_api(args, show)


def cmd_calls_hangup(args: argparse.Namespace) -> int:
    def hangup(api) -> int:
        api.hangup(args.callid)
        print(f"ivrc: hung up call {args.callid}", file=sys.stderr)
        return OK

    return _with_api(args, hangup)


def cmd_calls_unpark(args: argparse.Namespace) -> int:
    import json

    from runtime.simulate import FlowProblems, compile_flows
    from runtime.unpark import UnparkProblem, pick_flow, unpark_svaml

    variables = _pairs(args.var)

    def svaml_for(api) -> dict:
        try:
            machines = [r.machine for r in compile_flows([args.flow])]
            called = (lambda: (api.call(args.callid).get("to") or {}).get("endpoint")) if api else None
            machine = pick_flow(machines, flow_id=args.flow_id, called=called)
            return unpark_svaml(machine, args.state, variables=variables, locale=args.locale, call_id=args.callid)
        except (FileNotFoundError, UnparkProblem) as err:
            raise UsageError(str(err)) from None

    try:
        if args.dry_run:
            sys.stdout.write(json.dumps(svaml_for(None), indent=2, ensure_ascii=False) + "\n")
            print("ivrc: dry run: the call was not changed", file=sys.stderr)
            return OK

        def unpark(api) -> int:
            svaml = svaml_for(api)
            api.update_call(args.callid, svaml)
            print(f"ivrc: call {args.callid} resumed in state {args.state} ({svaml['action']['name']})",
                  file=sys.stderr)
            return OK

        return _with_api(args, unpark)
    except FlowProblems as err:
        print(f"{err}\nivrc: the flows have errors; fix them first", file=sys.stderr)
        return PROBLEMS


def cmd_conference_show(args: argparse.Namespace) -> int:
    import json

    def show(api) -> int:
        info = api.conference(args.conference)
        if args.json:
            sys.stdout.write(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
            return OK
        participants = info.get("participants") or []
        print(f"conference {args.conference}: {len(participants)} participant(s)")
        if participants:
            print(f"  {'CALL ID':<36} {'CLI':<16} {'SECONDS':>7}  STATE")
        for p in participants:
            state = ", ".join(word for word, on in (("muted", p.get("muted")), ("on hold", p.get("onhold"))) if on)
            print(f"  {str(p.get('id', '')):<36} {str(p.get('cli', '')):<16} {str(p.get('duration', '')):>7}  "
                  f"{state or 'talking'}")
        return OK

    return _with_api(args, show)


def cmd_conference_kick(args: argparse.Namespace) -> int:
    if bool(args.callid) == bool(args.all):
        raise UsageError("name the participant's call id, or --all to remove everyone")

    def kick(api) -> int:
        if args.all:
            api.kick_all(args.conference)
            print(f"ivrc: removed everyone from conference {args.conference}", file=sys.stderr)
        else:
            api.kick(args.conference, args.callid)
            print(f"ivrc: removed {args.callid} from conference {args.conference}", file=sys.stderr)
        return OK

    return _with_api(args, kick)


def cmd_conference_mute(args: argparse.Namespace) -> int:
    def mute(api) -> int:
        (api.mute if args.command_name == "mute" else api.unmute)(args.conference, args.callid)
        print(f"ivrc: {args.command_name}d {args.callid} in conference {args.conference}", file=sys.stderr)
        return OK

    return _with_api(args, mute)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("standard input is not a terminal, so ivrc cannot ask; pass --yes to apply the plan "
                         "above, or --dry-run to only show it")
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_deploy(args: argparse.Namespace) -> int:
    from runtime.deploy import DeployProblem, apply, callback_url, claimed_numbers, make_plan
    from runtime.simulate import FlowProblems, compile_flows

    try:
        callback_url(args.url)
        results = compile_flows(args.paths)
    except (DeployProblem, FileNotFoundError) as err:
        raise UsageError(str(err)) from None
    except FlowProblems as err:
        print(f"{err}\nivrc: the flows have errors; nothing was deployed", file=sys.stderr)
        return PROBLEMS
    machines = [r.machine for r in results]
    print(f"Checked {len(machines)} flow(s): " + ", ".join(f"{m['flow']} ({m['direction']})" for m in machines))

    def deploy(api) -> int:
        plan = make_plan(api, args.url, claimed_numbers(machines))
        sys.stdout.write(plan.text())
        if plan.problems:
            return PROBLEMS
        if not plan.changes:
            return OK
        if args.dry_run:
            print("Dry run: nothing was changed.")
            return OK
        if not args.yes and not _confirm("Apply these changes to the Sinch application? [y/N] "):
            print("Nothing was changed.")
            return PROBLEMS
        apply(api, plan, report=lambda step: print(f"done: {step}", flush=True))
        return OK

    return _with_api(args, deploy)


def _api_options() -> argparse.ArgumentParser:
    from runtime.sinch_api import API_URL_ENV, CONFIG_URL_ENV, REGION_ENV, REGION_NAMES, REGIONS

    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group(f"Sinch API (the application key and secret come from {KEY_ENV} and "
                                      f"{SECRET_ENV})")
    group.add_argument("--region", choices=tuple(REGIONS), metavar="REGION",
                       help="where calls are handled: " + ", ".join(f"{c} ({n})" for c, n in REGION_NAMES.items())
                            + f"; default global, or {REGION_ENV}")
    group.add_argument("--api-url", metavar="URL",
                       help=f"the Voice API base URL instead of the region's (or {API_URL_ENV})")
    group.add_argument("--config-api-url", metavar="URL",
                       help=f"the configuration API base URL (default https://callingapi.sinch.com, or {CONFIG_URL_ENV})")
    group.add_argument("--basic-auth", action="store_true",
                       help="send the key and secret with Basic authentication instead of signing each request")
    group.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                       help="per request (default 10, at most 120)")
    return parent


def _callback_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ace", action="store_true", help="send an ACE to the application's callback URL on answer")
    p.add_argument("--dice", action="store_true", help="send a DiCE to the callback URL when the call ends")
    p.add_argument("--pie", action="store_true", help="send PIEs to the callback URL after menus")


def _add_api_parsers(sub) -> None:
    api = _api_options()

    callout = sub.add_parser("callout", help="place a call: text-to-speech, conference, or an outbound flow")
    kinds = callout.add_subparsers(dest="callout_kind", metavar="KIND")
    kinds.required = True

    tts = kinds.add_parser("tts", parents=[api], help="call a number and speak a text")
    tts.add_argument("--to", required=True, metavar="NUMBER", help="the number to call (E.164)")
    tts.add_argument("--cli", required=True, metavar="NUMBER", help="the caller id shown (a number of your account)")
    words = tts.add_mutually_exclusive_group(required=True)
    words.add_argument("--text", help="what to say (at most 600 characters)")
    words.add_argument("--prompts", help="Sinch prompts instead: #tts[...];#ssml[...];file-id")
    tts.add_argument("--locale", default="en-US", help="the voice (default en-US)")
    tts.add_argument("--dtmf", help="keys to send when answered: digits, #, w = half a second")
    tts.add_argument("--custom", metavar="TEXT", help="a value Sinch passes back in the call's events")
    _callback_flags(tts)
    tts.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    tts.set_defaults(run=cmd_callout_tts)

    conf = kinds.add_parser("conference", parents=[api], help="call a number into a conference")
    conf.add_argument("--to", required=True, metavar="NUMBER", help="the number to call (E.164)")
    conf.add_argument("--cli", required=True, metavar="NUMBER", help="the caller id shown")
    conf.add_argument("--conference", required=True, metavar="ID", help="the conference (made if new)")
    conf.add_argument("--greeting", metavar="TEXT", help="spoken when the call is answered")
    conf.add_argument("--locale", help="the greeting's voice, e.g. en-US")
    conf.add_argument("--moh", choices=("ring", "music1", "music2", "music3"), help="music while alone")
    conf.add_argument("--dtmf", help="keys to send when answered")
    conf.add_argument("--dtmf-mode", choices=("ignore", "forward", "detect"), help="what keys in the conference do")
    conf.add_argument("--max-duration", type=int, metavar="SECONDS", help="end the call after this long")
    conf.add_argument("--custom", metavar="TEXT", help="a value Sinch passes back in the call's events")
    _callback_flags(conf)
    conf.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    conf.set_defaults(run=cmd_callout_conference)

    flow = kinds.add_parser("flow", parents=[api], help="call a number and run an outbound flow (served by ivrc serve)",
                            description="Places a custom callout: Sinch calls the number (with answering-machine "
                                        "detection if the flow's outbound.amd is true), and the answered call's "
                                        "events go to the application's callback URL, where `ivrc serve` runs the "
                                        "flow named in the callout's custom value.")
    flow.add_argument("flow", metavar="FLOW", help="the flow file (or a folder, with --flow-id)")
    flow.add_argument("--to", required=True, metavar="NUMBER", help="the number to call (E.164)")
    flow.add_argument("--cli", metavar="NUMBER", help="the caller id (default: the flow's outbound.caller_id)")
    flow.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                      help="a value for one of the flow's variables (repeatable; checked against max_length)")
    flow.add_argument("--flow-id", metavar="ID", help="which flow, when FLOW is a folder with several")
    flow.add_argument("--max-duration", type=int, metavar="SECONDS", help="end the call after this long")
    flow.add_argument("--dial-timeout", type=int, metavar="SECONDS", help="give up ringing after this long")
    flow.add_argument("--callback-url", metavar="URL",
                      help="send the ACE and PIEs here instead of the application's callback URL")
    flow.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    flow.set_defaults(run=cmd_callout_flow)

    calls = sub.add_parser("calls", help="look at or control a call in progress")
    verbs = calls.add_subparsers(dest="calls_verb", metavar="VERB")
    verbs.required = True
    show = verbs.add_parser("show", parents=[api], help="a call's status, numbers, duration and cost")
    show.add_argument("callid", metavar="CALLID")
    show.add_argument("--json", action="store_true", help="print Sinch's answer as JSON")
    show.set_defaults(run=cmd_calls_show)
    hang = verbs.add_parser("hangup", parents=[api], help="end a call")
    hang.add_argument("callid", metavar="CALLID")
    hang.set_defaults(run=cmd_calls_hangup)
    unpark = verbs.add_parser("unpark", parents=[api], help="take a parked call off hold into a state of its flow",
                              description="Sends the SVAML ivrc serve would answer on entering STATE, as the answer "
                                          "to the parked call's incoming-call event (Sinch's manage-call PATCH).")
    unpark.add_argument("callid", metavar="CALLID")
    unpark.add_argument("--flow", required=True, metavar="PATH",
                        help="the flow (or folder of flows: the call's number picks one, as for an incoming call)")
    unpark.add_argument("--state", required=True, metavar="STATE", help="the state to resume in")
    unpark.add_argument("--flow-id", metavar="ID", help="which flow, when PATH is a folder")
    unpark.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable's value for the resumed call (default: the flow's default)")
    unpark.add_argument("--locale", help="the call's language (default: the flow's locale)")
    unpark.add_argument("--dry-run", action="store_true", help="print the SVAML instead of sending it")
    unpark.set_defaults(run=cmd_calls_unpark)

    conference = sub.add_parser("conference", help="look at or control a conference")
    verbs = conference.add_subparsers(dest="conference_verb", metavar="VERB")
    verbs.required = True
    cshow = verbs.add_parser("show", parents=[api], help="a conference's participants")
    cshow.add_argument("conference", metavar="CONFERENCE")
    cshow.add_argument("--json", action="store_true", help="print Sinch's answer as JSON")
    cshow.set_defaults(run=cmd_conference_show)
    kick = verbs.add_parser("kick", parents=[api], help="remove a participant (or --all)")
    kick.add_argument("conference", metavar="CONFERENCE")
    kick.add_argument("callid", metavar="CALLID", nargs="?", help="the participant's call id")
    kick.add_argument("--all", action="store_true", help="remove every participant")
    kick.set_defaults(run=cmd_conference_kick)
    for verb in ("mute", "unmute"):
        cmd = verbs.add_parser(verb, parents=[api], help=f"{verb} a participant")
        cmd.add_argument("conference", metavar="CONFERENCE")
        cmd.add_argument("callid", metavar="CALLID", help="the participant's call id")
        cmd.set_defaults(run=cmd_conference_mute, command_name=verb)

    deploy = sub.add_parser("deploy", parents=[api], help="point a Sinch application at a server and assign its numbers",
                            description="Checks the flows (refusing if any has errors), reads the application's "
                                        "callback URL and the account's numbers, prints what will change, asks, "
                                        "then sets the callback URL and assigns the numbers the flows claim.")
    deploy.add_argument("paths", nargs="+", metavar="PATH", help="the flows the server serves (files or folders)")
    deploy.add_argument("--url", required=True, metavar="PUBLIC_URL",
                        help="the server's public URL; /sinch/callback is added unless it has a path")
    deploy.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    deploy.add_argument("--yes", action="store_true", help="apply without asking")
    deploy.set_defaults(run=cmd_deploy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivrc", description="Phone IVRs as code for the Sinch Voice API.")
    parser.add_argument("--version", action="version", version=f"ivrc {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lint = sub.add_parser("lint", help="check flows and report problems with file:line:column")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="flow files or folders; - reads one flow from stdin")
    lint.add_argument("--format", choices=LINT_FORMATS, default=None,
                      help="output format (default text; github when GITHUB_ACTIONS=true)")
    lint.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    lint.add_argument("--select", action="append", metavar="CODES",
                      help="report only these codes, prefixes (IVR04) or names; repeat or comma-separate")
    lint.add_argument("--ignore", action="append", metavar="CODES", help="do not report these codes, prefixes or names")
    lint.add_argument("--stdin-filename", default="<stdin>", help="the file name to report for a flow read from stdin")
    lint.set_defaults(run=cmd_lint)

    graph = sub.add_parser("graph", help="draw a flow's states and transitions")
    graph.add_argument("flow", metavar="FLOW")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.set_defaults(run=cmd_graph)

    dif = sub.add_parser("diff", help="what changed in behaviour between two versions of a flow")
    dif.add_argument("old", metavar="OLD")
    dif.add_argument("new", metavar="NEW")
    dif.add_argument("--format", choices=("text", "json"), default="text")
    dif.set_defaults(run=cmd_diff)

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
    _caller_options(sim)
    sim.set_defaults(run=cmd_simulate)

    test = sub.add_parser("test", help="run flow tests (NAME.test.yaml scenarios) with coverage",
                          description="Runs every scenario in the scenario files (NAME.test.yaml) under PATH, "
                                      "in-process by default. Exit 0 all pass, 1 failures or coverage too low, "
                                      "2 the tests could not run.")
    test.add_argument("paths", nargs="+", metavar="PATH",
                      help="scenario files, flows (their NAME.test.yaml) or folders")
    test.add_argument("--url", metavar="URL", help="run against a live callback server instead of in-process")
    test.add_argument("--unsigned", action="store_true", help="with --url: do not sign callbacks")
    test.add_argument("--min-coverage", type=float, metavar="PCT",
                      help="fail (exit 1) if any flow's coverage (states and transitions) is below PCT percent")
    test.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    test.set_defaults(run=cmd_test)

    _add_api_parsers(sub)
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
