"""The flow as a graph: each state's exits, labelled, and the Sinch callback each exit continues in."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterator

from . import ir

# Sinch callbacks a flow's states can run in.
ICE, ACE, PIE = "ICE", "ACE", "PIE"
SAME = "same"  # the exit continues inside the same callback (pass-through)
END = None  # the call ends (hang-up, transfer, park, or the error path)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str | None  # None: the call ends
    label: str  # for people: "key 1", "no input", "else", ...
    event: str  # SAME, or PIE when the exit follows caller input
    ref: ir.Ref | None = None
    counted: bool = False  # a repeat's `again`: taken a bounded number of times in a row


def edges(state: ir.State) -> Iterator[Edge]:
    """Every way out of a state, in the order the author wrote them."""
    action, name = state.action, state.name
    if isinstance(action, ir.Next):
        yield Edge(name, action.goto.target, "next", SAME, action.goto)
    elif isinstance(action, ir.Branch):
        for case in action.cases:
            label = "else" if case.condition is None else f"if {case.condition.source}"
            yield Edge(name, case.goto.target, label, SAME, case.goto)
    elif isinstance(action, (ir.Menu, ir.Collect)):
        if isinstance(action, ir.Menu):
            for option in action.options:
                yield Edge(name, option.goto.target, f"key {option.key}", PIE, option.goto)
        else:
            yield Edge(name, action.next.target, "digits", PIE, action.next)
        for label, handler in (("no input", action.no_input), ("invalid", action.invalid)):
            if handler is not None and handler.goto is not None:
                yield Edge(name, handler.goto.target, label, PIE, handler.goto)
        if action.exhausted is not None:
            yield Edge(name, action.exhausted.target, "exhausted", PIE, action.exhausted)
        elif retries(action):  # when every failed try leaves the menu, attempts never run out
            yield Edge(name, END, "exhausted", PIE)
    elif isinstance(action, ir.Record):
        yield Edge(name, action.next.target, "recorded", PIE, action.next)
    elif isinstance(action, ir.Repeat):
        # Counted: `again` is taken at most times - 1 times in a row, so a loop through it ends.
        again = action.goto.target if action.goto is not None else name
        yield Edge(name, again, "again", SAME, action.goto, counted=True)
        yield Edge(name, action.then.target, "then", SAME, action.then)
    elif isinstance(action, ir.Request):
        # All within the callback that reached the request: the caller waits on the line.
        yield Edge(name, action.next.target, "ok", SAME, action.next)
        for exit_ in action.on_status:
            yield Edge(name, exit_.goto.target, f"status {exit_.status}", SAME, exit_.goto)
        if action.on_failure is not None:
            yield Edge(name, action.on_failure.target, "failure", SAME, action.on_failure)
        else:
            yield Edge(name, END, "failure", SAME)
    else:  # transfer, park, hang-up: the call leaves the flow
        if isinstance(action, ir.Transfer) and action.kind == "conference" and action.keypad is not None:
            # Keys pressed in the conference come back as a PIE, like a menu's (in detect mode; keys in
            # another mode are an error of their own, IVR152, not a reason to call their states unreachable).
            for key in action.keypad.keys:
                yield Edge(name, key.goto.target, f"keys {key.keys}", PIE, key.goto)
        if isinstance(action, ir.Transfer) and action.on_invalid is not None:
            # A number held in a variable that is not a number: on, in the same callback.
            yield Edge(name, action.on_invalid.target, "invalid destination", SAME, action.on_invalid)
        yield Edge(name, END, state.kind, SAME)


def retries(action: ir.Menu | ir.Collect) -> bool:
    """Whether a failed try can ask again (a handler without `goto`), so the attempts can run out."""
    return any(handler is None or handler.goto is None for handler in (action.no_input, action.invalid))


def entry_event(flow: ir.Flow) -> str:
    """The callback in which a call enters the start state."""
    return ACE if flow.outbound is not None else ICE


def error_target(flow: ir.Flow) -> str | None:
    """The state the error path goes on in (`on_error: {goto: ...}`), when it names one that exists."""
    goto = flow.on_error_goto
    return goto.target if goto is not None and goto.target in flow.state_map else None


def error_events(flow: ir.Flow) -> list[str]:
    """The callbacks the error path can be taken in: the first one, and input's if the flow waits for any."""
    waits = any(isinstance(s.action, (ir.Menu, ir.Collect, ir.Record)) for s in flow.states)
    return [entry_event(flow)] + ([PIE] if waits else [])


def reachable(flow: ir.Flow, resolve=None) -> set[str]:
    """States a call can reach from the start. `resolve` may map an unknown name to the state
    the author probably meant, so one typo does not also make that state look unreachable."""
    start = flow.start.target
    if resolve is not None and start not in flow.state_map:
        start = resolve(start) or start
    if start not in flow.state_map:
        return set()
    seen = {start}
    failed = error_target(flow)
    if failed is not None:
        seen.add(failed)  # the error path can be taken anywhere, so it leads there from the start
    queue = deque(seen)
    while queue:
        for edge in edges(flow.state_map[queue.popleft()]):
            target = edge.target
            if target is not END and target not in flow.state_map and resolve is not None:
                target = resolve(target)
            if target is not END and target in flow.state_map and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


@dataclass(frozen=True)
class Visit:
    """A state reached in a callback, and the visit it was reached from (for explaining paths)."""

    state: str
    event: str
    parent: "Visit | None"
    via: str = ""

    def path(self) -> list[tuple[str, str]]:
        steps: list[tuple[str, str]] = []
        visit: Visit | None = self
        while visit is not None:
            steps.append((visit.state, visit.via))
            visit = visit.parent
        return list(reversed(steps))


def visits(flow: ir.Flow) -> dict[tuple[str, str], Visit]:
    """For each (state, callback) pair a call can reach, the shortest path there."""
    start = flow.start.target
    if start not in flow.state_map:
        return {}
    first = Visit(start, entry_event(flow), None)
    found = {(start, first.event): first}
    failed = error_target(flow)
    if failed is not None:
        for event in error_events(flow):
            found.setdefault((failed, event), Visit(failed, event, None, "on_error"))
    queue = deque(found.values())
    while queue:
        visit = queue.popleft()
        for edge in edges(flow.state_map[visit.state]):
            if edge.target is END or edge.target not in flow.state_map:
                continue
            event = visit.event if edge.event == SAME else edge.event
            key = (edge.target, event)
            if key not in found:
                found[key] = Visit(edge.target, event, visit, edge.label)
                queue.append(found[key])
    return found


def describe_path(visit: Visit) -> str:
    parts = []
    for state, via in visit.path():
        parts.append(f"{state}" if not via else f"({via}) {state}")
    return " → ".join(parts)
