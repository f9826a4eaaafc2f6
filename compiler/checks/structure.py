"""The shape of the call graph: unreachable states, states with no way to end, loops without input."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic, Related, suggest
from ..graph import END, SAME, edges, reachable
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    if flow.start.target not in flow.state_map:
        return  # references already reported it; nothing below would be meaningful
    live = reachable(flow)
    # A misspelt reference is reported once, as unknown-state; its intended target is not "unreachable".
    meant = reachable(flow, resolve=lambda name: suggest(name, flow.state_map))
    for state in flow.states:
        if state.name not in meant:
            yield Diagnostic("IVR030", f"state '{state.name}' is never reached from the start state '{flow.start.target}'",
                             doc.span(state.path, key=True), help="link to it from another state, or remove it")
    yield from _no_way_to_end(flow, doc, live)
    yield from _eventless_cycles(flow, doc, live)


def _no_way_to_end(flow: ir.Flow, doc: Document, live: set[str]) -> Iterator[Diagnostic]:
    incoming: dict[str | None, list[str]] = defaultdict(list)
    for state in flow.states:
        for edge in edges(state):
            # An exit to an unknown state is already IVR020; counting it as an end keeps one typo
            # from also reading as a trap ("can never end") on every state before it.
            target = edge.target if edge.target in flow.state_map else END
            incoming[target].append(edge.source)
    can_end: set[str] = set()
    stack = list(incoming[END])
    while stack:
        name = stack.pop()
        if name not in can_end:
            can_end.add(name)
            stack.extend(incoming[name])
    trapped = [s for s in flow.states if s.name in live and s.name not in can_end]
    # States that lead into each other are one trap, said once at the first of them (in file order).
    group = {s.name: s.name for s in trapped}

    def root(name: str) -> str:
        while group[name] != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    for state in trapped:
        for edge in edges(state):
            if edge.target in group:
                group[root(edge.target)] = root(state.name)
    traps: dict[str, list[ir.State]] = defaultdict(list)
    for state in trapped:
        traps[root(state.name)].append(state)
    for members in traps.values():
        first, others = members[0], members[1:]
        also = f" (through {', '.join(repr(s.name) for s in others)})" if others else ""
        yield Diagnostic("IVR031", f"a call in state '{first.name}' can never end: every way on leads back into a "
                                   f"loop{also}", doc.span(first.path, key=True),
                         help="give the loop an exit: an `exhausted` state, `hangup: true`, or a transfer",
                         related=tuple(Related(doc.span(s.path, key=True), f"a call in '{s.name}' cannot end either")
                                       for s in others))


def _eventless_cycles(flow: ir.Flow, doc: Document, live: set[str]) -> Iterator[Diagnostic]:
    """Tarjan's strongly connected components over the exits that stay inside one callback."""
    graph: dict[str, list[str]] = {
        # A repeat's `again` exit is counted, so a loop through it ends: only uncounted exits can loop for ever.
        s.name: [e.target for e in edges(s) if e.event == SAME and not e.counted and e.target in flow.state_map]
        for s in flow.states if s.name in live
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(component)
    order = {s.name: i for i, s in enumerate(flow.states)}
    for component in components:
        members = sorted(component, key=order.__getitem__)
        first = flow.state_map[members[0]]
        loop = " → ".join(members + [members[0]])
        yield Diagnostic("IVR032", f"states loop without waiting for the caller: {loop}",
                         doc.span(first.path, key=True),
                         help="say, set and branch states run inside one Sinch callback; put a menu or digit "
                              "collection in the loop, or break it",
                         related=tuple(Related(doc.span(flow.state_map[m].path, key=True), f"'{m}' is part of the loop")
                                       for m in members[1:]))
