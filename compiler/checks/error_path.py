"""The error path: an `on_error` state that exists, and that never leads back into the error path."""
from __future__ import annotations

from collections import deque
from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic, Related, did_you_mean
from ..graph import END, edges, error_target
from ..loader import Document

# Exits to END that are the error path itself, not a hang-up, transfer or park the author wrote.
_IMPLICIT = {"exhausted": "its attempts run out with no `exhausted` state", "failure": "it fails with no `on_failure`"}


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    goto = flow.on_error_goto
    if goto is None:
        return
    if goto.target not in flow.state_map:
        yield Diagnostic("IVR020", f"state '{goto.target}' is not defined", doc.span(goto.path),
                         help=did_you_mean(goto.target, flow.state_map, "states"))
        return
    found = _back_into_the_error_path(flow, error_target(flow) or goto.target)
    if found is not None:
        state, why, path = found
        yield Diagnostic("IVR171", f"the error path goes on in '{goto.target}', and from there the call can take the "
                                   f"error path again: '{state.name}' leads back when {why}"
                                   + (f" (the way there: {' → '.join(path)})" if len(path) > 1 else ""),
                         doc.span(goto.path),
                         related=(Related(doc.span(state.path, key=True), f"'{state.name}' is here"),),
                         help="give it an `exhausted` or `on_failure` state, or send the error path to a state "
                              "that always ends the call, such as a transfer to an agent")


def _back_into_the_error_path(flow: ir.Flow, start: str) -> tuple[ir.State, str, list[str]] | None:
    """The first state (breadth first from `start`) with an exit that is the error path, and the way there."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        state = flow.state_map[name]
        for edge in edges(state):
            if edge.target is END and edge.label in _IMPLICIT and edge.ref is None:
                path = [name]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])  # type: ignore[arg-type]
                return state, _IMPLICIT[edge.label], list(reversed(path))
            if edge.target in flow.state_map and edge.target not in came_from:
                came_from[edge.target] = name
                queue.append(edge.target)
    return None
