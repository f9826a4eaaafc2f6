"""Checks an SVAML answer the way Sinch would: envelope, allowed-in tables, fields and types, cookie cap."""
from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ivrc.compiler.svaml import ACTIONS_ALLOWED, INSTRUCTIONS_ALLOWED

COOKIE_LIMIT = 1024
MAX_DURATION = 14400
_DTMF = re.compile(r"[0-9#w]*")
_MENU_ACTION = re.compile(r"(menu|return)\((.*)\)")

# Field name -> expected JSON type, per element (reference sections 3 and 4).
STR, INT, BOOL, OBJ, LIST = str, int, bool, dict, list
_FIELDS: dict[str, dict[str, type]] = {
    "hangup": {},
    "continue": {},
    "connectPstn": {"number": STR, "locale": STR, "maxDuration": INT, "dialTimeout": INT, "cli": STR,
                    "suppressCallbacks": BOOL, "dtmf": STR, "indications": STR, "amd": OBJ},
    "connectMxp": {"destination": OBJ, "callHeaders": LIST},
    "connectConf": {"conferenceId": STR, "conferenceDtmfOptions": OBJ, "moh": STR},
    "connectSip": {"destination": OBJ, "maxDuration": INT, "cli": STR, "transport": STR, "suppressCallbacks": BOOL,
                   "callHeaders": LIST, "moh": STR},
    "connectStream": {"destination": OBJ, "streamingOptions": OBJ, "maxDuration": INT, "callHeaders": LIST},
    "runMenu": {"barge": BOOL, "locale": STR, "mainMenu": STR, "enableVoice": BOOL, "menus": LIST},
    "park": {"locale": STR, "introPrompt": STR, "holdPrompt": STR, "maxDuration": INT},
    "playFiles": {"ids": LIST, "locale": STR},
    "say": {"text": STR, "locale": STR},
    "sendDtmf": {"value": STR},
    "setCookie": {"key": STR, "value": STR},
    "answer": {},
    "startRecording": {"options": OBJ},
    "stopRecording": {},
}
_REQUIRED = {"connectConf": ("conferenceId",), "connectSip": ("destination",), "connectStream": ("destination",),
             "playFiles": ("ids",), "setCookie": ("key", "value"), "say": ("text",)}
_MENU_FIELDS = {"id": STR, "mainPrompt": STR, "repeatPrompt": STR, "repeats": INT, "maxDigits": INT,
                "timeoutMills": INT, "maxTimeoutMills": INT, "options": LIST}
_RECORDING_FIELDS = {"destinationUrl": STR, "credentials": STR, "format": STR, "notificationEvents": BOOL,
                     "transcriptionOptions": OBJ}
_MOH = {"ring", "music1", "music2", "music3"}
# connectPstn's ringback tone countries (reference section 3, `indications`).
_INDICATIONS = frozenset("at au bg br be ch cl cn cz de dk ee es fi fr gr hu il in it lt jp mx my nl no nz ph pl pt ru "
                         "se sg th uk us tw ve za".split())
_CONFERENCE_DTMF: dict[str, type] = {"mode": STR, "maxDigits": INT, "timeoutMills": INT}
_STREAMING: dict[str, type] = {"version": INT, "sampleRate": INT}


def _type_ok(value: Any, expected: type) -> bool:
    if expected is INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _fields(where: str, element: Mapping[str, Any], spec: dict[str, type]) -> Iterator[str]:
    for key, value in element.items():
        if key == "name":
            continue
        if key not in spec:
            yield f"{where}: unknown field '{key}'"
        elif not _type_ok(value, spec[key]):
            yield f"{where}: '{key}' must be {spec[key].__name__}, not {type(value).__name__}"


def problems(answer: Any, event: str, incoming_cookies: Mapping[str, str] | None = None) -> list[str]:
    """Everything Sinch would reject or silently ignore in this answer to `event` (ICE, ACE or PIE)."""
    return list(_problems(answer, event.upper(), dict(incoming_cookies or {})))


def _problems(answer: Any, event: str, cookies: dict[str, str]) -> Iterator[str]:
    if not isinstance(answer, dict):
        yield "the answer is not a JSON object"
        return
    for key in answer:
        if key not in ("instructions", "action"):
            yield f"unknown top-level field '{key}'"
    instructions = answer.get("instructions", [])
    action = answer.get("action")
    if not isinstance(instructions, list):
        yield "'instructions' must be a list"
        instructions = []
    if not isinstance(action, dict):
        yield "the answer needs exactly one 'action' object (instructions do nothing without one)"
        action = {}
    for i, instruction in enumerate(instructions):
        where = f"instructions[{i}]"
        if not isinstance(instruction, dict) or not isinstance(instruction.get("name"), str):
            yield f"{where}: an instruction is an object with a 'name'"
            continue
        name = instruction["name"]
        if name not in INSTRUCTIONS_ALLOWED:
            yield f"{where}: unknown instruction '{name}'"
            continue
        where = f"{where} ({name})"
        if event not in INSTRUCTIONS_ALLOWED[name]:
            yield f"{where}: not allowed in an answer to {event}"
        yield from _fields(where, instruction, _FIELDS[name])
        yield from _required(where, instruction, name)
        if name == "setCookie" and isinstance(instruction.get("key"), str) and isinstance(instruction.get("value"), str):
            cookies[instruction["key"]] = instruction["value"]
        if name == "playFiles" and isinstance(instruction.get("ids"), list):
            if not all(isinstance(i, str) and i for i in instruction["ids"]):
                yield f"{where}: every id must be a non-empty string"
            if any(isinstance(i, str) and i.startswith(("#tts[", "#ssml[")) for i in instruction["ids"]) \
                    and not instruction.get("locale"):
                yield f"{where}: 'locale' is required with TTS or SSML"
        if name == "sendDtmf" and not (isinstance(instruction.get("value"), str)
                                       and _DTMF.fullmatch(instruction["value"])):
            yield f"{where}: value may hold only 0-9, # and w"
        if name == "startRecording" and isinstance(instruction.get("options"), dict):
            yield from _fields(f"{where}.options", instruction["options"], _RECORDING_FIELDS)
    if action:
        name = action.get("name")
        if name not in ACTIONS_ALLOWED:
            yield f"action: unknown action {name!r}"
        else:
            where = f"action ({name})"
            if event not in ACTIONS_ALLOWED[name]:
                yield f"{where}: not allowed in an answer to {event}"
            yield from _fields(where, action, _FIELDS[name])
            yield from _required(where, action, name)
            yield from _action_rules(where, name, action)
    # surrogatepass: an odd echoed cookie must be measured, not crash the check.
    size = sum(len(k.encode("utf-8", "surrogatepass")) + len(v.encode("utf-8", "surrogatepass"))
               for k, v in cookies.items())
    if size > COOKIE_LIMIT:
        yield f"cookies total {size} bytes after this answer; Sinch keeps at most {COOKIE_LIMIT}"


def _required(where: str, element: Mapping[str, Any], name: str) -> Iterator[str]:
    for key in _REQUIRED.get(name, ()):
        if key not in element:
            yield f"{where}: '{key}' is required"


def _action_rules(where: str, name: str, action: Mapping[str, Any]) -> Iterator[str]:
    if name in ("connectPstn", "connectSip", "connectStream", "park") and isinstance(action.get("maxDuration"), int):
        if not 0 < action["maxDuration"] <= MAX_DURATION:
            yield f"{where}: maxDuration must be 1..{MAX_DURATION}"
    if name == "connectPstn":
        number = action.get("number")
        if number is not None and not re.fullmatch(r"\+[1-9][0-9]{1,14}", str(number)):
            yield f"{where}: number must be E.164"
        if isinstance(action.get("dtmf"), str) and not _DTMF.fullmatch(action["dtmf"]):
            yield f"{where}: dtmf may hold only 0-9, # and w"
        if action.get("indications") not in (None, *_INDICATIONS):
            yield f"{where}: indications must be a country Sinch has ringback tones for"
    if name in ("connectSip", "connectMxp", "connectStream") and isinstance(action.get("callHeaders"), list):
        for header in action["callHeaders"]:
            if not isinstance(header, dict) or set(header) != {"key", "value"} \
                    or not all(isinstance(v, str) for v in header.values()):
                yield f"{where}: callHeaders are {{key, value}} strings"
    if name == "connectStream" and isinstance(action.get("destination"), dict):
        dest = action["destination"]
        if str(dest.get("type", "")).lower() != "websocket" or not str(dest.get("endpoint", "")).startswith("wss://"):
            yield f"{where}: destination must be {{type: Websocket, endpoint: wss://...}}"
    if name == "connectStream" and isinstance(action.get("streamingOptions"), dict):
        yield from _fields(f"{where}.streamingOptions", action["streamingOptions"], _STREAMING)
    if name == "connectConf" and isinstance(action.get("conferenceDtmfOptions"), dict):
        options = action["conferenceDtmfOptions"]
        yield from _fields(f"{where}.conferenceDtmfOptions", options, _CONFERENCE_DTMF)
        if options.get("mode") not in (None, "ignore", "forward", "detect"):
            yield f"{where}: conferenceDtmfOptions.mode must be ignore, forward or detect"
    if name in ("connectSip", "connectMxp") and isinstance(action.get("destination"), dict):
        dest = action["destination"]
        if not isinstance(dest.get("endpoint"), str) or not dest.get("endpoint"):
            yield f"{where}: destination.endpoint is required"
    if name == "connectSip" and action.get("transport") not in (None, "UDP", "TCP", "TLS"):
        yield f"{where}: transport must be UDP, TCP or TLS"
    if name in ("connectConf", "connectSip") and action.get("moh") not in (None, *_MOH):
        yield f"{where}: moh must be one of {', '.join(sorted(_MOH))}"
    if name == "connectConf" and isinstance(action.get("conferenceId"), str) and len(action["conferenceId"]) > 64:
        yield f"{where}: conferenceId is at most 64 characters"
    if name == "runMenu":
        yield from _menus(where, action)


def _menus(where: str, action: Mapping[str, Any]) -> Iterator[str]:
    menus = action.get("menus")
    if not isinstance(menus, list) or not menus:
        yield f"{where}: 'menus' must be a non-empty list"
        return
    if action.get("enableVoice") and not action.get("locale"):
        yield f"{where}: 'locale' is required when enableVoice is true"
    ids = [m.get("id") for m in menus if isinstance(m, dict)]
    if "main" not in ids:
        yield f"{where}: one menu must have the id 'main'"
    if len(set(ids)) != len(ids):
        yield f"{where}: menu ids must be unique"
    if action.get("mainMenu") not in (None, *ids):
        yield f"{where}: mainMenu {action.get('mainMenu')!r} names no menu"
    for i, menu in enumerate(menus):
        mwhere = f"{where}.menus[{i}]"
        if not isinstance(menu, dict):
            yield f"{mwhere}: a menu is an object"
            continue
        if not isinstance(menu.get("id"), str):
            yield f"{mwhere}: 'id' is required"
        yield from _fields(mwhere, menu, _MENU_FIELDS)
        for j, option in enumerate(menu.get("options") or []):
            owhere = f"{mwhere}.options[{j}]"
            if not isinstance(option, dict) or set(option) - {"dtmf", "action"}:
                yield f"{owhere}: an option is {{dtmf, action}}"
                continue
            if not isinstance(option.get("dtmf"), str) or not re.fullmatch(r"[0-9#*]", option["dtmf"]):
                yield f"{owhere}: dtmf must be one key as a string"
            match = _MENU_ACTION.fullmatch(str(option.get("action", "")))
            if match is None:
                yield f"{owhere}: action must be menu(ID) or return(VALUE)"
            elif match.group(1) == "menu" and match.group(2) not in ids:
                yield f"{owhere}: menu({match.group(2)}) names no menu in this runMenu"
