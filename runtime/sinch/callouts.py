"""Callout requests for Sinch (text-to-speech, conference, custom), and starting an outbound flow as a custom callout."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ivrc.compiler.compiled import Machine
from ivrc.compiler.errors import IvrcError
from ivrc.compiler.svaml import TTS_LIMIT

CUSTOM_LIMIT = 1024  # bytes Sinch keeps of a callout's custom (reference section 5.8)
CONFERENCE_ID_LIMIT = 64
MAX_DURATION = 14400  # seconds; Sinch's limit for any call (reference section 1)
MOH_CLASSES = ("ring", "music1", "music2", "music3")
DTMF_MODES = ("ignore", "forward", "detect")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_DTMF = re.compile(r"[0-9#w]*")
_LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}(-[A-Z]{3})?")


class CalloutProblem(IvrcError):
    """A callout that cannot be placed as asked; the message says what to change."""


def check_number(number: str, what: str) -> str:
    number = (number or "").strip()
    if not _E164.fullmatch(number):
        raise CalloutProblem(f"{what} {number!r} is not an E.164 number like +46701234567")
    return number


def _check_dtmf(dtmf: str | None) -> None:
    if dtmf is not None and not _DTMF.fullmatch(dtmf):
        raise CalloutProblem(f"DTMF {dtmf!r} may hold only digits, # and w (a half-second pause)")


def _check_custom(custom: str | None) -> None:
    if custom is not None and len(custom.encode()) > CUSTOM_LIMIT:
        raise CalloutProblem(f"custom is {len(custom.encode())} bytes; Sinch keeps at most {CUSTOM_LIMIT}")


def _check_locale(locale: str | None) -> None:
    if locale is not None and not _LOCALE.fullmatch(locale):
        raise CalloutProblem(f"locale {locale!r} should look like en-US")


def _check_duration(seconds: int | None, what: str = "max duration") -> None:
    if seconds is not None and not 1 <= seconds <= MAX_DURATION:
        raise CalloutProblem(f"{what} must be between 1 and {MAX_DURATION} seconds")


def _callbacks(ace: bool, dice: bool, pie: bool) -> dict[str, bool]:
    return {"enableAce": ace, "enableDice": dice, "enablePie": pie}


def _optional(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _dialling(to: str, cli: str, dtmf: str | None, custom: str | None, locale: str | None) -> dict[str, Any]:
    """What the two simple callouts share: checked options, and who calls whom over the phone network."""
    _check_dtmf(dtmf)
    _check_custom(custom)
    _check_locale(locale)
    return {"cli": check_number(cli, "the caller id (--cli)"),
            "destination": {"type": "number", "endpoint": check_number(to, "the number to call (--to)")},
            "domain": "pstn"}


def tts_request(to: str, cli: str, *, text: str | None = None, prompts: str | None = None, locale: str = "en-US",
                dtmf: str | None = None, custom: str | None = None, ace: bool = False, dice: bool = False,
                pie: bool = False) -> dict[str, Any]:
    """A ttsCallout: Sinch calls `to` from `cli` and speaks `text` (or plays `prompts`)."""
    if (text is None) == (prompts is None):
        raise CalloutProblem("give the words to speak as text, or prompts (#tts[...];#ssml[...];file), not both")
    if text is not None and not text.strip():
        raise CalloutProblem("the text is empty")
    if text is not None and len(text) > TTS_LIMIT:
        raise CalloutProblem(f"the text is {len(text)} characters; Sinch speaks at most {TTS_LIMIT} by default")
    body = {**_dialling(to, cli, dtmf, custom, locale), "locale": locale,
            **_optional(text=text, prompts=prompts, dtmf=dtmf, custom=custom), **_callbacks(ace, dice, pie)}
    return {"method": "ttsCallout", "ttsCallout": body}


def conference_request(to: str, cli: str, conference_id: str, *, greeting: str | None = None,
                       locale: str | None = None, moh: str | None = None, dtmf: str | None = None,
                       dtmf_mode: str | None = None, max_duration: int | None = None, custom: str | None = None,
                       ace: bool = False, dice: bool = False, pie: bool = False) -> dict[str, Any]:
    """A conferenceCallout: Sinch calls `to` and connects the answered call to the conference (made if new)."""
    if not conference_id or len(conference_id) > CONFERENCE_ID_LIMIT:
        raise CalloutProblem(f"the conference id must have 1 to {CONFERENCE_ID_LIMIT} characters")
    if moh is not None and moh not in MOH_CLASSES:
        raise CalloutProblem(f"music on hold must be one of {', '.join(MOH_CLASSES)}")
    if dtmf_mode is not None and dtmf_mode not in DTMF_MODES:
        raise CalloutProblem(f"the conference DTMF mode must be one of {', '.join(DTMF_MODES)}")
    if greeting is not None and len(greeting) > TTS_LIMIT:
        raise CalloutProblem(f"the greeting is {len(greeting)} characters; Sinch speaks at most {TTS_LIMIT}")
    _check_duration(max_duration)
    body = {**_dialling(to, cli, dtmf, custom, locale), "conferenceId": conference_id,
            **_optional(greeting=greeting, locale=locale, mohClass=moh, dtmf=dtmf, maxDuration=max_duration,
                        custom=custom,
                        conferenceDtmfOptions={"mode": dtmf_mode} if dtmf_mode else None),
            **_callbacks(ace, dice, pie)}
    return {"method": "conferenceCallout", "conferenceCallout": body}


def flow_custom(machine: Machine, variables: Mapping[str, str] | None = None) -> str:
    """The callout's `custom`: {"flow": ID, "vars": {...}}, checked as the server will check it on the ACE."""
    declared = machine.variables
    values: dict[str, str] = {}
    for name, value in (variables or {}).items():
        spec = declared.get(name)
        if spec is None:
            known = ", ".join(sorted(declared)) or "none"
            raise CalloutProblem(f"flow '{machine.flow}' declares no variable '{name}' (it declares: {known})")
        if not isinstance(value, str):
            raise CalloutProblem(f"the value for '{name}' must be text")
        size = len(value.encode())
        if size > spec.max_length:
            raise CalloutProblem(f"the value for '{name}' is {size} bytes; the flow's max_length is {spec.max_length}")
        values[name] = value
    custom = json.dumps({"flow": machine.flow, "vars": values}, ensure_ascii=False, separators=(",", ":"))
    _check_custom(custom)
    return custom


def flow_request(machine: Machine, to: str, *, cli: str | None = None,
                 variables: Mapping[str, str] | None = None, max_duration: int | None = None,
                 dial_timeout: int | None = None, callback_url: str | None = None) -> dict[str, Any]:
    """A customCallout that starts an outbound flow, answered by `ivrc serve`.

    The ICE is answered inline by Sinch itself: a connectPstn to `to`, with answering-machine
    detection when the flow's `outbound.amd` is true (synchronous, so the verdict arrives in
    the ACE, where the flow's `call.amd` reads it). The ACE and PIEs go to the application's
    callback URL, or to `callback_url`, and `custom` tells the server which flow and values.
    `cli` and `destination` stay out of the request: with inline ICE SVAML, Sinch's current
    docs say the connectPstn decides them.
    """
    if machine.outbound is None:
        raise CalloutProblem(f"flow '{machine.flow}' is not an outbound flow (it has no `outbound:` section); "
                             "only outbound flows can be started with a callout")
    caller_id = cli or machine.outbound.caller_id
    if not caller_id:
        raise CalloutProblem(f"give the caller id with --cli: flow '{machine.flow}' sets no outbound.caller_id")
    _check_duration(max_duration)
    _check_duration(dial_timeout, "dial timeout")
    connect: dict[str, Any] = {"name": "connectPstn", "number": check_number(to, "the number to call (--to)"),
                               "cli": check_number(caller_id, "the caller id"),
                               **_optional(maxDuration=max_duration, dialTimeout=dial_timeout)}
    if machine.outbound.amd:
        connect["amd"] = {"enabled": True, "async": False}
    ice = {"action": connect}  # the shape of Sinch's own sample (CalloutRequestCustomDto.json)
    body: dict[str, Any] = {"ice": json.dumps(ice, separators=(",", ":")), "custom": flow_custom(machine, variables)}
    if max_duration is not None:
        body["maxDuration"] = max_duration
    if callback_url is not None:
        # `dice` appears only in the 2020 docs, so DiCE keeps going to the application's callback URL.
        body["ace"] = body["pie"] = callback_url
    return {"method": "customCallout", "customCallout": body}


def outbound_machine(path: str, flow_id: str | None = None) -> Machine:
    """Compiles the flows under `path` and returns the outbound one (by id when there are several).

    Raises ivrc.compiler.errors.FlowErrors with the diagnostics when a flow has errors.
    """
    from ivrc.compiler.project import compile_paths

    machines = compile_paths([path])
    if flow_id is not None:
        chosen = [m for m in machines if m.flow == flow_id]
        if not chosen:
            raise CalloutProblem(f"no flow '{flow_id}' in {path} (found: {', '.join(m.flow for m in machines)})")
        return chosen[0]
    outbound = [m for m in machines if not m.inbound]
    if len(machines) == 1:
        return machines[0]
    if len(outbound) == 1:
        return outbound[0]
    raise CalloutProblem(f"{path} holds {len(outbound) or 'no'} outbound flows"
                         + (f" ({', '.join(m.flow for m in outbound)}); choose one with --flow ID"
                            if outbound else ""))


def start_flow(flow: str | Machine | Mapping[str, Any], to: str, *, cli: str | None = None,
               variables: Mapping[str, str] | None = None, flow_id: str | None = None, api: Any = None,
               **request_options: Any) -> str:
    """Places a custom callout that runs an outbound flow; returns Sinch's callId.

    `flow` is a flow file (or a folder, with `flow_id`), or an already compiled machine. Without
    `api`, a SinchApi is made from SINCH_APPLICATION_KEY / SINCH_APPLICATION_SECRET and the
    SINCH_* URL settings. Everything is checked before Sinch is called.
    """
    from .api import SinchApi

    if isinstance(flow, str):
        machine = outbound_machine(flow, flow_id)
    else:
        machine = flow if isinstance(flow, Machine) else Machine.load(flow)
    request = flow_request(machine, to, cli=cli, variables=variables, **request_options)
    if api is not None:
        return api.callout(request)
    with SinchApi.from_env() as own:
        return own.callout(request)
