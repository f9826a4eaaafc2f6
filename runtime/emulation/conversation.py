"""Drives an emulated call from a script (--press 1 --silence --hangup) or from a person at a keyboard."""
from __future__ import annotations

import re
from typing import Callable

from .emulator import Call, CallerMistake

Action = tuple[str, "str | None"]  # ("press", "1234#"), ("say", "yes"), ("silence", None), ("hangup", None)
_KEYS = re.compile(r"[0-9#*]+")

HELP = ("keys (0-9, #, *) press them; an empty line stays silent; `say WORDS` speaks; "
        "`q` hangs up; `?` shows this")


def act(call: Call, action: Action) -> None:
    """One thing the caller does."""
    kind, value = action
    if kind == "press":
        call.press(value or "")
    elif kind == "say":
        call.say(value or "")
    elif kind == "silence":
        call.silence()
    elif kind == "hangup":
        call.hangup()
    else:  # pragma: no cover - the CLI builds only the kinds above
        raise ValueError(f"unknown caller action {kind!r}")


def run_script(call: Call, script: list[Action]) -> Call:
    """Starts the call, plays the script, and hangs up at the end if the call is still on."""
    call.start()
    for action in script:
        act(call, action)
    if not call.ended:
        call.hangup()
    return call


def parse_command(text: str) -> Action | None:
    """A line typed in interactive mode; None asks for help. ValueError for anything else."""
    line = text.strip()
    if line == "":
        return ("silence", None)
    if line.lower() in ("q", "quit", "hangup", "exit"):
        return ("hangup", None)
    if line in ("?", "help"):
        return None
    if line.lower().startswith("say "):
        return ("say", line[4:].strip())
    keys = line.replace(" ", "")
    if _KEYS.fullmatch(keys):
        return ("press", keys)
    raise ValueError(f"not understood: {line!r} ({HELP})")


def status(call: Call) -> str:
    """Where the call stands, in the caller's words."""
    if call.ended:
        # How it ended: a test expecting the error path is told the flow hung up normally, not only "ended".
        if any(line.kind == "flow-error" for line in call.lines):
            return "the call ended on the flow's error path"
        by = next((str(line.data.get("by")) for line in reversed(call.lines) if line.kind == "hangup"), "")
        return {"flow": "the flow hung up", "caller": "the caller hung up"}.get(by, "the call has ended")
    if call.transferred:
        t = call.transferred
        if call.keypad is not None:
            return f"in conference {t['target']}: keys pressed reach the flow"
        return f"the call is transferred to {t['kind']} {t['target']}"
    if call.parked:
        return "the call is parked"
    if call.menu is not None:
        return "waiting for keys" + (" or speech" if call.menu.action.get("enableVoice") else "")
    return "nothing is waiting for the caller"


def run_interactive(call: Call, read: Callable[[str], "str | None"], write: Callable[[str], None], *,
                    intro: bool = True) -> Call:
    """A person plays the caller: `read(prompt)` returns a typed line, or None at end of input (hangs up)."""
    call.start()
    if intro:
        write(f"({HELP})")
    while not call.ended:
        line = read(f"[{status(call)}] > ")
        if line is None:
            call.hangup()
            break
        try:
            action = parse_command(line)
        except ValueError as err:
            write(str(err))
            continue
        if action is None:
            write(HELP)
            continue
        try:
            act(call, action)
        except CallerMistake as err:  # a slip of the person at the keyboard, not a broken server
            write(f"({err})")
    return call
