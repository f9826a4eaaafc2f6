"""Counted repetition: a repeat whose count can matter, that is, whose `again` leads back to it."""
from __future__ import annotations

from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic
from ..graph import edges
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for state in flow.states:
        repeat = state.action
        if not isinstance(repeat, ir.Repeat):
            continue
        here = state.path + ("repeat",)
        again = repeat.goto.target if repeat.goto is not None else state.name
        if again == repeat.then.target:
            yield Diagnostic("IVR176", f"`goto` and `then` are both '{again}': the count changes nothing",
                             doc.span(here, key=True),
                             help="send `then` where the call should go once the state has run "
                                  f"{repeat.times} times, or use `next: {again}`")
        elif again in flow.state_map and not _leads_back(flow, again, state.name):
            yield Diagnostic("IVR177", f"the call never comes back to '{state.name}' from '{again}', so it runs "
                                       f"once and never reaches `then` ('{repeat.then.target}')",
                             doc.span(here + ("goto",)) if repeat.goto is not None else doc.span(here, key=True),
                             help=f"lead a way from '{again}' back to '{state.name}' (a `no_input`, say), "
                                  "or use `next:`")


def _leads_back(flow: ir.Flow, start: str, home: str) -> bool:
    """Whether some way on from `start` reaches `home` again."""
    seen = {start}
    work = [start]
    while work:
        name = work.pop()
        if name == home:
            return True
        for edge in edges(flow.state_map[name]):
            if edge.target in flow.state_map and edge.target not in seen:
                seen.add(edge.target)
                work.append(edge.target)
    return False
