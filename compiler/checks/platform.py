"""Sinch's platform rules: what each callback's answer may contain, and options Sinch ignores."""
from __future__ import annotations

from typing import Iterator

from .. import ir, svaml
from ..diagnostics import Diagnostic
from ..graph import describe_path, visits
from ..loader import Document

_EVENT_WORDS = {
    "ICE": "when answering the incoming call (ICE)",
    "ACE": "when the outbound call is answered (ACE)",
    "PIE": "after caller input (PIE)",
}


def _allowed_words(allowed: frozenset[str]) -> str:
    return " or ".join(_EVENT_WORDS[e].split(" (")[0] for e in ("ICE", "ACE", "PIE") if e in allowed)


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    reported: set[str] = set()
    for (name, event), visit in visits(flow).items():
        if name in reported:
            continue
        state = flow.state_map[name]
        elements = [(a, svaml.ACTIONS_ALLOWED[a]) for a in [svaml.action_name(state)] if a]
        elements += [(i, svaml.INSTRUCTIONS_ALLOWED[i]) for i in svaml.instruction_names(state)]
        for element, allowed in elements:
            if event in allowed:
                continue
            reported.add(name)
            what = _describe(state, element)
            yield Diagnostic(
                "IVR060",
                f"{what} in state '{name}' is only allowed {_allowed_words(allowed)}, but the call can reach it "
                f"{_EVENT_WORDS[event]}: {describe_path(visit)}",
                doc.span(state.path, key=True),
                help=_fix(state, event))
            break
    for state in flow.states:
        yield from _recordings(state, doc)


_TRANSFER_WORDS = {"user": "an in-app user", "stream": "a WebSocket stream (connectStream)"}


def _describe(state: ir.State, element: str) -> str:
    action = state.action
    if element == "sendDtmf":
        return "sending keys (`send_digits`)"
    if isinstance(action, ir.Transfer):
        return f"a transfer to {_TRANSFER_WORDS.get(action.kind, 'a ' + action.kind)}"
    return {"park": "park (hold)", "runMenu": "a menu", "hangup": "hang-up", "startRecording": "recording",
            "playFiles": "a prompt"}.get(element, element)


def _fix(state: ir.State, event: str) -> str:
    if isinstance(state.action, ir.Park):
        return "park only works in the answer to the incoming call: reach it before any menu or digit input"
    if isinstance(state.action, ir.Transfer) and state.action.kind == "stream":
        return "Sinch accepts connectStream only in its answer to the incoming call (ICE): stream the call from " \
               "the start, through say, set, next, branch and request states only, before any menu or digit input"
    if isinstance(state.action, ir.Transfer) and state.action.kind == "user":
        return "transfers to in-app users only work in the answer to the incoming call: reach it before any input"
    if event == "ACE":
        return "an outbound flow's first answer may only play prompts, run a menu, join a conference or hang up; " \
               "put a menu before this state"
    return "reach this state from a different point of the flow"


def _recordings(state: ir.State, doc: Document) -> Iterator[Diagnostic]:
    action = state.action
    recordings = []
    if isinstance(action, ir.Record):
        recordings.append(action.recording)
    if isinstance(action, ir.Transfer) and action.record is not None:
        if action.kind == "user":
            yield Diagnostic("IVR061", "Sinch does not record transfers to in-app users; nothing would be recorded",
                             doc.span(action.path + ("record",), key=True),
                             help="remove `record`, or transfer to a number or SIP address")
        recordings.append(action.record)
    for rec in recordings:
        if rec.destination.startswith("s3://") and not rec.credentials_env:
            yield Diagnostic("IVR063", "an s3:// destination needs credentials, or Sinch cannot store the file",
                             doc.span(rec.path, key=True),
                             help="add `credentials_env: NAME` and set NAME=AccessKey:SecretKey:Region on the server")
