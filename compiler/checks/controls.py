"""Sinch's call controls in transfers and states: stream URLs, conference keypads, keys sent on the call."""
from __future__ import annotations

from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic
from ..loader import Document
from ..request_url import _ORIGIN

# Sinch's documented pattern for keys it plays (sendDtmf, connectPstn's dtmf) is [0-9#w]
# (reference section 3; the Java SDK validates with it): `*` is not in it.
_DOCUMENTED_KEYS = frozenset("0123456789#w")


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for state in flow.states:
        if state.send_digits is not None:
            yield from _keys_sent(state.send_digits, state.path + ("send_digits",), doc)
        action = state.action
        if not isinstance(action, ir.Transfer):
            continue
        here = state.path + ("transfer",)
        if action.kind == "stream":
            yield from _stream_url(action.target, here + ("stream",), doc)
        if action.digits_on_answer is not None:
            yield from _keys_sent(action.digits_on_answer, here + ("digits_on_answer",), doc)
        if action.keypad is not None and action.kind == "conference":
            yield from _keypad(action.keypad, doc)


def _stream_url(url: str, path: tuple, doc: Document) -> Iterator[Diagnostic]:
    if "{{" in url or "{%" in url:
        yield Diagnostic("IVR151", "a stream URL cannot be a template: Sinch connects to the server written in the "
                                   "flow, and per-call data belongs in the stream's headers",
                         doc.span(path), help="write the URL out, and send call data as `headers: {X-Account: "
                                              "\"{{ account }}\"}`")
        return
    match = _ORIGIN.match(url)
    if match is None or match.group("scheme").lower() != "wss" or url[match.end():][:1] not in ("", "/", "?"):
        yield Diagnostic("IVR150", f"'{url}' is not a secure WebSocket URL: Sinch streams the call's audio only to "
                                   "wss://host/path", doc.span(path),
                         help="write the WebSocket server's address as wss://bot.example.com/path")


def _keys_sent(keys: str, path: tuple, doc: Document) -> Iterator[Diagnostic]:
    odd = sorted(set(keys) - _DOCUMENTED_KEYS)
    if odd:
        yield Diagnostic("IVR154", f"'{keys}' has {', '.join(repr(k) for k in odd)}: Sinch documents only the digits, "
                                   "# and w (a half-second pause) for keys it sends", doc.span(path),
                         help="check on a test call that the other side receives the key, or leave it out")


def _keypad(keypad: ir.Keypad, doc: Document) -> Iterator[Diagnostic]:
    if keypad.mode == "detect" and not keypad.keys:
        yield Diagnostic("IVR152", "a conference keypad in `detect` mode has no `keys`: every key pressed would be "
                                   "reported and lead nowhere", doc.span(keypad.path, key=True),
                         help="add `keys:` (\"*6\": mute_line), or use mode `ignore` or `forward`")
        return
    if keypad.mode != "detect" and keypad.keys:
        yield Diagnostic("IVR152", f"conference `keys` work only in `detect` mode; in `{keypad.mode}` mode Sinch never "
                                   "reports the keys", doc.span(keypad.path + ("keys",), key=True),
                         help="add `mode: detect`")
        return
    for key in keypad.keys:
        if "#" in key.keys and key.keys != "#":
            yield Diagnostic("IVR153", f"key sequence '{key.keys}' cannot be pressed: Sinch ends a sequence at `#`",
                             doc.span(key.path, key=True),
                             help="use `#` only on its own (\"#\": leave), or leave it out of the sequence")
        elif len(key.keys) > keypad.digits:
            yield Diagnostic("IVR153", f"key sequence '{key.keys}' is longer than `max_digits` ({keypad.digits}): "
                                       "Sinch reports the keys before it is complete",
                             doc.span(key.path, key=True),
                             help=f"raise `max_digits` to {len(key.keys)}, or shorten the sequence")
