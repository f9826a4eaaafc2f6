"""SVAML: the only module that knows Sinch's element names, fields and where each is allowed."""
from __future__ import annotations

from typing import Any

from . import ir
from .compiled import DESTINATION, ENV, LOCALE, PROMPT, PROMPT_IDS, TEXT

# Sinch's allowed-in tables (reference section 2.1): which answer may carry which element.
ACTIONS_ALLOWED: dict[str, frozenset[str]] = {
    "hangup": frozenset({"ICE", "ACE", "PIE"}),
    "continue": frozenset({"ACE", "PIE"}),
    "connectPstn": frozenset({"ICE", "PIE"}),
    "connectMxp": frozenset({"ICE"}),
    "connectConf": frozenset({"ICE", "ACE", "PIE"}),
    "connectSip": frozenset({"ICE", "PIE"}),
    "connectStream": frozenset({"ICE"}),
    "runMenu": frozenset({"ICE", "ACE", "PIE"}),
    "park": frozenset({"ICE"}),
}
INSTRUCTIONS_ALLOWED: dict[str, frozenset[str]] = {
    "playFiles": frozenset({"ICE", "ACE", "PIE"}),
    "say": frozenset({"ICE", "ACE", "PIE"}),
    "sendDtmf": frozenset({"ICE", "PIE"}),
    "setCookie": frozenset({"ICE", "ACE", "PIE"}),
    "answer": frozenset({"ICE"}),
    "startRecording": frozenset({"ICE", "ACE", "PIE"}),
    "stopRecording": frozenset({"ICE", "ACE", "PIE"}),
}

TTS_LIMIT = 600  # characters Sinch speaks per text part by default (reference section 7)

TRANSFER_ACTIONS = {"number": "connectPstn", "sip": "connectSip", "user": "connectMxp", "conference": "connectConf",
                    "stream": "connectStream"}

# Skeletons carry placeholders the runtime fills per call; their names live in compiler/compiled.py.
MENU_MAIN = "main"  # Sinch starts runMenu at the menu with this id


MENU_ID_MAX = 64  # characters in a menu id (Sinch's legacy server SDK; no current source gives a limit)


def menu_id(state: str, root: str, flow: str) -> str:
    """The id of a state's menu inside the runMenu rooted at `root`.

    The root is always `main`, as Sinch requires. A fused sub-menu is FLOW.STATE, so a PIE from
    it names flow and state even when Sinch echoes no cookies; if that is longer than Sinch
    keeps, its state name (a state called "main" becomes "main.": state names have no dots).
    """
    if state == root:
        return MENU_MAIN
    named = f"{flow}.{state}"
    if len(named) <= MENU_ID_MAX:
        return named
    return state + "." if state == MENU_MAIN else state


def state_of_menu(menu: str) -> tuple[str | None, str | None]:
    """The (flow, state) a PIE's menuId names: (None, None) for the root menu, no flow for a bare state name."""
    if menu == MENU_MAIN:
        return None, None
    if menu == MENU_MAIN + ".":
        return None, MENU_MAIN
    flow, dot, state = menu.partition(".")
    return (flow, state) if dot and flow and state else (None, menu)


def prompt(prompt_id: str) -> dict:
    return {PROMPT: prompt_id}


def prompts(prompt_ids: list[str]) -> dict:
    """Several prompts played back to back, as one Sinch prompt string."""
    return {PROMPT: prompt_ids[0] if len(prompt_ids) == 1 else list(prompt_ids)}


def locale() -> dict:
    return {LOCALE: None}


def action_name(state: ir.State) -> str:
    action = state.action
    if isinstance(action, (ir.Menu, ir.Collect, ir.Record)):
        return "runMenu"
    if isinstance(action, ir.Transfer):
        return TRANSFER_ACTIONS[action.kind]
    if isinstance(action, ir.Park):
        return "park"
    if isinstance(action, ir.Hangup):
        return "hangup"
    return ""  # pass-through states end no answer themselves


def instruction_names(state: ir.State) -> list[str]:
    names = []
    if state.say is not None:
        names.append("playFiles")
    action = state.action
    if isinstance(action, ir.Record):
        if action.prompt is not None:
            names.append("playFiles")
        names.append("startRecording")
    if isinstance(action, ir.Transfer) and action.record is not None:
        names.append("startRecording")
    if state.send_digits is not None:
        names.append("sendDtmf")
    return names


def play(prompt_id: str) -> dict:
    return {"name": "playFiles", "ids": {PROMPT_IDS: prompt_id}, "locale": locale()}


def set_cookie(key: str, value: str) -> dict:
    return {"name": "setCookie", "key": key, "value": value}


def send_dtmf(keys: str) -> dict:
    return {"name": "sendDtmf", "value": keys}


def answer() -> dict:
    return {"name": "answer"}


def hangup() -> dict:
    return {"name": "hangup"}


def cont() -> dict:
    return {"name": "continue"}


def stop_recording() -> dict:
    return {"name": "stopRecording"}


def start_recording(rec: ir.Recording) -> dict:
    options: dict[str, Any] = {"destinationUrl": rec.destination}
    if rec.credentials_env:
        options["credentials"] = {ENV: rec.credentials_env}
    options["format"] = rec.format
    options["notificationEvents"] = True
    if rec.transcribe_locale is not None:
        options["transcriptionOptions"] = {"enabled": True, "locale": rec.transcribe_locale or locale()}
    return {"name": "startRecording", "options": options}


def menu(menu_id: str, main_prompt: dict | None, timeout_s: int, options: list[dict],
         max_digits: int | None = None, repeats: int = 0, repeat_prompt: dict | None = None) -> dict:
    item: dict[str, Any] = {"id": menu_id}
    if main_prompt is not None:
        item["mainPrompt"] = main_prompt
    # Sinch replays repeatPrompt `repeats` times on no input or a key that is no option, without a
    # callback; with 0, every retry comes back as a PIE and the flow counts and speaks its handlers.
    if repeat_prompt is not None:
        item["repeatPrompt"] = repeat_prompt
    item["repeats"] = repeats
    if max_digits is not None:
        item["maxDigits"] = max_digits
    item["timeoutMills"] = timeout_s * 1000
    item["options"] = options
    return item


def run_menu(menus: list[dict], barge: bool, voice: bool) -> dict:
    action: dict[str, Any] = {"name": "runMenu", "barge": barge, "locale": locale(), "mainMenu": MENU_MAIN}
    if voice:
        action["enableVoice"] = True
    action["menus"] = menus
    return action


def option(key: str, action: str) -> dict:
    return {"dtmf": key, "action": action}


def goto_menu(menu_id: str) -> str:
    return f"menu({menu_id})"


def give_back(value: str) -> str:
    return f"return({value})"


def _call_headers(headers: tuple[tuple[str, ir.Text], ...]) -> list[dict]:
    """Call headers; a value with a template is rendered per call."""
    return [{"key": k, "value": {TEXT: v.source} if v.is_template else v.source} for k, v in headers]


def transfer(t: ir.Transfer) -> dict:
    target: Any = t.target
    if t.destination is not None:
        target = {DESTINATION: {"kind": t.kind, "template": t.destination.source}}
    if t.kind == "number":
        out: dict[str, Any] = {"name": "connectPstn", "number": target, "locale": locale()}
        if t.caller_id:
            out["cli"] = t.caller_id
        if t.dial_timeout:
            out["dialTimeout"] = t.dial_timeout
        if t.max_duration:
            out["maxDuration"] = t.max_duration
        if t.suppress_callbacks is not None:
            out["suppressCallbacks"] = t.suppress_callbacks
        if t.digits_on_answer:
            out["dtmf"] = t.digits_on_answer
        if t.ringback:
            out["indications"] = t.ringback
        return out
    if t.kind == "sip":
        out = {"name": "connectSip", "destination": {"type": "Sip", "endpoint": target}}
        if t.caller_id:
            out["cli"] = t.caller_id
        if t.max_duration:
            out["maxDuration"] = t.max_duration
        if t.transport:
            out["transport"] = t.transport.upper()
        if t.suppress_callbacks is not None:
            out["suppressCallbacks"] = t.suppress_callbacks
        if t.headers:
            out["callHeaders"] = _call_headers(t.headers)
        if t.music_on_hold:
            out["moh"] = t.music_on_hold
        return out
    if t.kind == "user":
        out = {"name": "connectMxp", "destination": {"type": "username", "endpoint": t.target}}
        if t.headers:
            out["callHeaders"] = _call_headers(t.headers)
        return out
    if t.kind == "stream":
        # Field names as in Sinch's connectStream model (reference section 3; SDK fixture
        # SvamlActionConnectStreamDto.json).
        out = {"name": "connectStream", "destination": {"type": "Websocket", "endpoint": t.target}}
        if t.max_duration:
            out["maxDuration"] = t.max_duration
        if t.headers:
            out["callHeaders"] = _call_headers(t.headers)
        if t.streaming is not None and (t.streaming.version or t.streaming.sample_rate):
            options: dict[str, Any] = {}
            if t.streaming.version:
                options["version"] = t.streaming.version
            if t.streaming.sample_rate:
                options["sampleRate"] = t.streaming.sample_rate
            out["streamingOptions"] = options
        return out
    out = {"name": "connectConf", "conferenceId": target}
    if t.keypad is not None:
        dtmf: dict[str, Any] = {"mode": t.keypad.mode}
        if t.keypad.mode == "detect":
            dtmf["maxDigits"] = t.keypad.digits
            dtmf["timeoutMills"] = t.keypad.timeout * 1000
        out["conferenceDtmfOptions"] = dtmf
    if t.music_on_hold:
        out["moh"] = t.music_on_hold
    return out


def park(intro_id: str | None, hold_id: str, max_duration: int | None) -> dict:
    out: dict[str, Any] = {"name": "park", "locale": locale()}
    if intro_id is not None:
        out["introPrompt"] = prompt(intro_id)
    out["holdPrompt"] = prompt(hold_id)
    if max_duration:
        out["maxDuration"] = max_duration
    return out
