"""Transfers to a number or SIP address held in a variable: a template that can give one, checked where it fails."""
from __future__ import annotations

import re
from typing import Iterator

from .. import ir
from ..destinations import E164_LONGEST
from ..diagnostics import Diagnostic, Related
from ..loader import Document
from .cookies import variable_bounds
from .prompts import _replace_tags

# `{{ name }}` alone: the only tag whose longest value lint knows (the variable's max_length).
_PLAIN_TAG = re.compile(r"\{\{-?\s*([a-z][a-z0-9_]*)\s*-?\}\}")
_NUMBER_TEXT = re.compile(r"\+?[0-9]*")


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    bounds = variable_bounds(flow)
    for state in flow.states:
        transfer = state.action
        if not isinstance(transfer, ir.Transfer):
            continue
        here = state.path + ("transfer",)
        if transfer.destination is None:
            if transfer.on_invalid is not None:
                yield Diagnostic("IVR175", "`on_invalid` is never taken: only a number or SIP address written as a "
                                           "template can be invalid", doc.span(here + ("on_invalid",), key=True),
                                 help="remove `on_invalid`")
            continue
        yield from _destination(flow, transfer, transfer.destination, bounds, doc)
        if transfer.on_invalid is None and flow.on_error_goto is None:  # else the author chose where it goes
            what = {"number": "phone number", "sip": "SIP address"}.get(transfer.kind, "conference id")
            yield Diagnostic("IVR173", f"the {what} comes from a template and this transfer has no `on_invalid`: "
                                       f"a value that is not a {what} takes the flow's error path",
                             doc.span(here, key=True),
                             help="add `on_invalid: STATE`, e.g. a state that offers the reception instead")


def _destination(flow: ir.Flow, transfer: ir.Transfer, text: ir.Text, bounds: dict[str, int],
                 doc: Document) -> Iterator[Diagnostic]:
    fixed = _replace_tags(text.source, "")
    if transfer.kind == "number" and not _NUMBER_TEXT.fullmatch(fixed):
        bad = next(c for c in fixed if not (c.isdigit() or c == "+")) if fixed.strip("0123456789+") else "+"
        yield Diagnostic("IVR172", f"'{bad}' in the fixed text of this number can never be part of a phone number "
                                   "(E.164: '+' first, then digits only)",
                         doc.locate(text.path, 1, bad) if bad != "+" else doc.span(text.path),
                         help="write '+' and the digits around the template, e.g. \"+4681234{{ extension }}\"")
        return
    if transfer.kind == "sip" and any(c.isspace() for c in fixed):
        yield Diagnostic("IVR172", "a SIP address has no spaces, so this one can never be valid", doc.span(text.path),
                         help="write the address as user@host around the template, e.g. \"{{ desk }}@pbx.example.com\"")
        return
    names = _PLAIN_TAG.findall(text.source)
    plain = bool(names) and not ir.Text(_PLAIN_TAG.sub("", text.source)).is_template
    if transfer.kind != "number" or not plain or any(n not in bounds for n in names):
        return  # lint knows the longest value only of fixed text and plain variables
    longest = len(fixed) + sum(bounds[n] for n in names)
    variables = flow.variable_map
    if longest < 3:
        yield Diagnostic("IVR172", f"this number is at most {longest} characters long, and a phone number has at "
                                   "least 3 (E.164)", doc.span(text.path),
                         related=tuple(Related(doc.span(variables[n].path, key=True), f"'{n}' declared here")
                                       for n in names if n in variables),
                         help="raise the variable's max_length to hold the whole number")
    elif len(names) == 1 and not fixed and bounds[names[0]] < E164_LONGEST:
        name = names[0]
        where = variables[name].path if name in variables else None
        yield Diagnostic("IVR174", f"'{name}' holds at most {bounds[name]} bytes, and a phone number can have "
                                   f"{E164_LONGEST} characters: a longer number set into it is cut, and a cut number "
                                   "can still dial someone else", doc.span(text.path),
                         related=(Related(doc.span(where, key=True), f"'{name}' declared here"),) if where else (),
                         help=f"raise max_length of '{name}' to {E164_LONGEST}")
