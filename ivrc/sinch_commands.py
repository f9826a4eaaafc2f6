"""ivrc callout, calls, conference and deploy: commands that talk to the Sinch REST API."""
from __future__ import annotations

import argparse
import sys

from .common import KEY_ENV, OK, PROBLEMS, SECRET_ENV, UsageError


def _api(args: argparse.Namespace):
    from ivrc.runtime.sinch.api import SinchApi, credentials_from_env

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
    from ivrc.runtime.sinch.api import ApiError, ApiUnreachable

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
    from ivrc.runtime.emulation.simulate import env_from_pairs

    try:
        return env_from_pairs(values)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _place(args: argparse.Namespace, build, what: str) -> int:
    """Builds the callout request (checked before any call to Sinch), prints it with --dry-run, else places it."""
    import json

    from ivrc.runtime.sinch.callouts import CalloutProblem

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
    from ivrc.runtime.sinch.callouts import tts_request

    return _place(args, lambda: tts_request(args.to, args.cli, text=args.text, prompts=args.prompts,
                                            locale=args.locale, dtmf=args.dtmf, custom=args.custom, ace=args.ace,
                                            dice=args.dice, pie=args.pie),
                  f"a text-to-speech callout to {args.to}")


def cmd_callout_conference(args: argparse.Namespace) -> int:
    from ivrc.runtime.sinch.callouts import conference_request

    return _place(args, lambda: conference_request(
        args.to, args.cli, args.conference, greeting=args.greeting, locale=args.locale, moh=args.moh,
        dtmf=args.dtmf, dtmf_mode=args.dtmf_mode, max_duration=args.max_duration, custom=args.custom,
        ace=args.ace, dice=args.dice, pie=args.pie), f"a conference callout to {args.to} into {args.conference}")


def cmd_callout_flow(args: argparse.Namespace) -> int:
    from ivrc.compiler.errors import FlowErrors
    from ivrc.runtime.sinch.callouts import flow_request, outbound_machine

    try:
        machine = outbound_machine(args.flow, args.flow_id)
    except FlowErrors as err:
        print(f"{err}\nivrc: the flows have errors; fix them before placing a callout", file=sys.stderr)
        return PROBLEMS
    variables = _pairs(args.var)
    return _place(args, lambda: flow_request(machine, args.to, cli=args.cli, variables=variables,
                                             max_duration=args.max_duration, dial_timeout=args.dial_timeout,
                                             callback_url=args.callback_url),
                  f"flow {machine.flow} (version {machine.version}) to {args.to}")


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


def _sealer():
    """The server's state key: the call's state cookies must carry a seal the server accepts."""
    import os

    from ivrc.runtime.engine.sealing import STATE_KEY_ENV, Sealer, keys_from_env

    try:
        keys = keys_from_env(os.environ.get(STATE_KEY_ENV))
    except ValueError as err:
        raise UsageError(str(err)) from None
    if not keys:
        raise UsageError(f"{STATE_KEY_ENV} is not set: give it the value the server has, so the server trusts the "
                         "call's state after it is taken off hold")
    return Sealer(keys)


def cmd_calls_unpark(args: argparse.Namespace) -> int:
    import json

    from ivrc.compiler.errors import FlowErrors
    from ivrc.compiler.project import compile_paths
    from ivrc.runtime.sinch.unpark import pick_flow, unpark_svaml

    variables = _pairs(args.var)
    sealer = _sealer()

    def svaml_for(api) -> dict:
        machines = compile_paths([args.flow])
        called = (lambda: (api.call(args.callid).get("to") or {}).get("endpoint")) if api else None
        machine = pick_flow(machines, flow_id=args.flow_id, called=called)
        return unpark_svaml(machine, args.state, variables=variables, locale=args.locale, call_id=args.callid,
                            sealer=sealer, legacy_2020_actions=args.legacy_2020_actions)

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
    except FlowErrors as err:
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
    from ivrc.compiler.errors import FlowErrors
    from ivrc.compiler.project import compile_paths
    from ivrc.runtime.sinch.deploy import apply, callback_url, claimed_numbers, make_plan

    callback_url(args.url)
    try:
        machines = compile_paths(args.paths)
    except FlowErrors as err:
        print(f"{err}\nivrc: the flows have errors; nothing was deployed", file=sys.stderr)
        return PROBLEMS
    print(f"Checked {len(machines)} flow(s): " + ", ".join(f"{m.flow} ({m.direction})" for m in machines))

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
    from ivrc.runtime.sinch.hosts import API_URL_ENV, CONFIG_URL_ENV, REGION_ENV, REGION_NAMES, REGIONS

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
    show.add_argument("callid", metavar="CALLID", help="the call's id (callid in the callbacks and in ivrc serve's logs)")
    show.add_argument("--json", action="store_true", help="print Sinch's answer as JSON")
    show.set_defaults(run=cmd_calls_show)
    hang = verbs.add_parser("hangup", parents=[api], help="end a call")
    hang.add_argument("callid", metavar="CALLID", help="the id of the call to end")
    hang.set_defaults(run=cmd_calls_hangup)
    unpark = verbs.add_parser("unpark", parents=[api], help="take a parked call off hold into a state of its flow",
                              description="Sends the SVAML ivrc serve would answer on entering STATE, as the answer "
                                          "to the parked call's incoming-call event (Sinch's manage-call PATCH).")
    unpark.add_argument("callid", metavar="CALLID", help="the id of the parked call")
    unpark.add_argument("--flow", required=True, metavar="PATH",
                        help="the flow (or folder of flows: the call's number picks one, as for an incoming call)")
    unpark.add_argument("--state", required=True, metavar="STATE", help="the state to resume in")
    unpark.add_argument("--flow-id", metavar="ID", help="which flow, when PATH is a folder")
    unpark.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable's value for the resumed call (default: the flow's default)")
    unpark.add_argument("--locale", help="the call's language (default: the flow's locale)")
    unpark.add_argument("--dry-run", action="store_true", help="print the SVAML instead of sending it")
    unpark.add_argument("--legacy-2020-actions", action="store_true",
                        help="also send menus and transfers, as Sinch's 2020 docs allowed (the current API "
                             "takes only hangup, continue and park)")
    unpark.set_defaults(run=cmd_calls_unpark)

    conference = sub.add_parser("conference", help="look at or control a conference")
    verbs = conference.add_subparsers(dest="conference_verb", metavar="VERB")
    verbs.required = True
    cshow = verbs.add_parser("show", parents=[api], help="a conference's participants")
    cshow.add_argument("conference", metavar="CONFERENCE", help="the conference id")
    cshow.add_argument("--json", action="store_true", help="print Sinch's answer as JSON")
    cshow.set_defaults(run=cmd_conference_show)
    kick = verbs.add_parser("kick", parents=[api], help="remove a participant (or --all)")
    kick.add_argument("conference", metavar="CONFERENCE", help="the conference id")
    kick.add_argument("callid", metavar="CALLID", nargs="?", help="the participant's call id")
    kick.add_argument("--all", action="store_true", help="remove every participant")
    kick.set_defaults(run=cmd_conference_kick)
    for verb in ("mute", "unmute"):
        cmd = verbs.add_parser(verb, parents=[api], help=f"{verb} a participant")
        cmd.add_argument("conference", metavar="CONFERENCE", help="the conference id")
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




def add_parsers(sub) -> None:
    _add_api_parsers(sub)
