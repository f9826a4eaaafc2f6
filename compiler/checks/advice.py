"""Mistakes that break no rule but do not do what the author meant: warnings, each with the fix."""
from __future__ import annotations

import re
from typing import Iterator

from .. import ir, walk
from ..diagnostics import Diagnostic, Related
from ..loader import Document
from .prompts import _replace_tags

# Which transfer kinds use each option (docs/language.md, transfer; compiler/svaml.py writes them).
_USED_WITH = {
    "caller_id": ("number", "sip"),
    "dial_timeout": ("number",),
    "max_duration": ("number", "sip", "stream"),
    "transport": ("sip",),
    "music_on_hold": ("conference", "sip"),
    "headers": ("sip", "user", "stream"),
    "streaming": ("stream",),
    "digits_on_answer": ("number",),
    "ringback": ("number",),
    "suppress_callbacks": ("number", "sip"),
    "keypad": ("conference",),
}
# SSML elements an author might write into plain text, where the voice would read them out.
_SSML_TAG = re.compile(r"</?(?:speak|break|say-as|emphasis|prosody|phoneme|sub|audio|voice|lang|mark|p|s)\b[^<>]*>")


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for state in flow.states:
        action = state.action
        if isinstance(action, ir.Transfer):
            yield from _transfer(flow, state, action, doc)
        if isinstance(action, (ir.Menu, ir.Collect)):
            yield from _exhausted_loop(flow, state, action, doc)
    for kind, text in walk.texts(flow):
        if kind == "tts":
            # Linear in the text, however many tags are left unclosed (a regex would rescan from each).
            found = _SSML_TAG.search(_replace_tags(text.source, " ", keep_length=True))
            if found:
                yield Diagnostic("IVR095", f"'{found.group()}' is SSML in plain text: the voice would read it out",
                                 doc.locate(text.path, 1, found.group()),
                                 help="write the part as `ssml: \"<speak>...</speak>\"`, or remove the tag")


def _transfer(flow: ir.Flow, state: ir.State, transfer: ir.Transfer, doc: Document) -> Iterator[Diagnostic]:
    here = state.path + ("transfer",)
    for option, kinds in _USED_WITH.items():
        if transfer.kind not in kinds and getattr(transfer, option) not in (None, ()):
            users = " and ".join(kinds)
            yield Diagnostic("IVR064", f"`{option}` has no effect on a transfer to a {transfer.kind}: Sinch uses it "
                                       f"only for {users} transfers", doc.span(here + (option,), key=True),
                             help=f"remove `{option}`")
    if transfer.kind == "sip" and transfer.target.lower().startswith(("sip:", "sips:")):
        address = transfer.target.split(":", 1)[1]
        yield Diagnostic("IVR051", f"'{transfer.target}' starts with a scheme: ivrc gives Sinch the address as "
                                   "user@host, and the scheme would become part of the user name",
                         doc.span(here + ("sip",)), help=f"write sip: {address}")
    if transfer.kind == "number" and transfer.target in flow.numbers:
        yield Diagnostic("IVR052", f"{transfer.target} is one of this flow's own numbers: the call would come back "
                                   "into this flow, not reach a person", doc.span(here + ("number",)),
                         related=(Related(doc.span(("numbers",), key=True), "the flow answers it here"),),
                         help="transfer to the number of the person or desk that should answer")


def _exhausted_loop(flow: ir.Flow, state: ir.State, action: ir.Menu | ir.Collect,
                    doc: Document) -> Iterator[Diagnostic]:
    """`exhausted` that leads straight back to the same menu: a caller who stays silent is asked forever."""
    if action.exhausted is None:
        return
    seen = set()
    target = action.exhausted.target
    while target not in seen and target in flow.state_map:
        if target == state.name:
            kind = "menu" if isinstance(action, ir.Menu) else "collect"
            yield Diagnostic("IVR033", f"when its attempts run out, the {kind} in state '{state.name}' starts again: "
                                       "a caller who stays silent hears it over and over", doc.span(action.exhausted.path),
                             help="send `exhausted` somewhere that ends the call: an operator, voicemail, or a goodbye "
                                  "with `hangup: true`")
            return
        seen.add(target)
        after = flow.state_map[target].action
        if not isinstance(after, ir.Next):
            return  # a branch, or a state that waits: the caller may get out
        target = after.goto.target
