"""Draws a flow's states and transitions as a Mermaid or Graphviz DOT diagram."""
from __future__ import annotations

import re
import textwrap

from . import ir
from .graph import END, edges, error_target

_IS_OPEN = re.compile(r"""^\s*is_open\(\s*['"]([^'"]+)['"]\s*\)\s*$""")
_NOT_OPEN = re.compile(r"""^\s*not\s+is_open\(\s*['"]([^'"]+)['"]\s*\)\s*$""")


def _label(edge_label: str) -> str:
    """Edge labels in the caller's words: keys, outcomes, business hours open/closed."""
    if edge_label.startswith("if "):
        condition = edge_label[3:]
        if m := _IS_OPEN.match(condition):
            return f"{m.group(1)} open"
        if m := _NOT_OPEN.match(condition):
            return f"{m.group(1)} closed"
        return condition
    return edge_label


def _repeat_label(state: ir.State, label: str) -> str:
    """A repeat's exits with its count: "again (runs 3 times)", "after 3 runs"."""
    action = state.action
    if not isinstance(action, ir.Repeat):
        return _label(label)
    return f"again (runs {action.times} times)" if label == "again" else f"after {action.times} runs"


def _else_label(state: ir.State) -> str:
    """An else after a lone is_open() case reads as 'closed'."""
    cases = state.action.cases  # type: ignore[union-attr]
    conditions = [c.condition.source for c in cases if c.condition is not None]
    if len(conditions) == 1 and (m := _IS_OPEN.match(conditions[0])):
        return f"{m.group(1)} closed"
    return "else"


def describe(state: ir.State) -> str:
    """A state's one-line caption: its name and, for endings and inputs, what it does."""
    return _describe(state)


def _describe(state: ir.State) -> str:
    action = state.action
    if isinstance(action, ir.Transfer):
        return f"{state.name}: transfer to {action.kind} {action.target}"
    if isinstance(action, ir.Collect):
        return f"{state.name}: collect {action.into}"
    if isinstance(action, ir.Record):
        return f"{state.name}: record"
    if isinstance(action, ir.Park):
        return f"{state.name}: park"
    if isinstance(action, ir.Request):
        return f"{state.name}: {action.method} {action.url.source.split('?')[0]}"
    if isinstance(action, ir.Hangup):
        return f"{state.name}: hang up"
    return state.name


def labelled_edges(flow: ir.Flow):
    """(state, graph edge, label for people) for every drawn transition; a target of None is the error path."""
    for state in flow.states:
        for edge in edges(state):
            if edge.target is END and isinstance(state.action, (ir.Transfer, ir.Park, ir.Hangup)):
                continue  # the node's shape already says the call ends there
            yield state, edge, _else_label(state) if edge.label == "else" else _repeat_label(state, edge.label)


def _edges(flow: ir.Flow):
    for state, edge, label in labelled_edges(flow):
        yield state, edge.target, label


def _grouped(flow: ir.Flow):
    """Edges between the same two states as one edge with all their labels, in first-seen order:
    drawn separately, parallel edges lay their labels over each other."""
    grouped: dict[tuple[str, object], list[str]] = {}
    sources: dict[tuple[str, object], ir.State] = {}
    for state, target, label in _edges(flow):
        key = (state.name, target)
        sources.setdefault(key, state)
        labels = grouped.setdefault(key, [])
        if label not in labels:
            labels.append(label)
    return [(sources[key], key[1], labels) for key, labels in grouped.items()]


FONT = "Helvetica"  # one font for states, transitions and the graph's own text
WRAP = 24  # characters per line of a DOT label; longer ones make wide, hard-to-read nodes


def _wrapped(text: str) -> list[str]:
    return textwrap.wrap(text, WRAP, break_long_words=False, break_on_hyphens=False) or [text]


def mermaid(flow: ir.Flow) -> str:
    ids = {s.name: f"s{i}" for i, s in enumerate(flow.states)}

    def text(value: str) -> str:
        # Mermaid renders labels as HTML: quotes and angle brackets from a condition are written as
        # its entity codes, so `tier == "<b>x</b>"` shows as written.
        return '"' + value.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") + '"'

    def lines_of(labels: list[str]) -> str:
        """Several exits' labels on one arrow, a line each (the <br> is Mermaid's, the labels' own text is not)."""
        return '"' + "<br>".join(text(label)[1:-1] for label in labels) + '"'

    lines = ["flowchart TD", f"  start((start)) --> {ids.get(flow.start.target, 'missing')}"]
    for state in flow.states:
        label, node = text(_describe(state)), ids[state.name]
        action = state.action
        if isinstance(action, ir.Branch):
            lines.append(f"  {node}{{{label}}}")
        elif isinstance(action, (ir.Menu, ir.Collect, ir.Record)):
            lines.append(f"  {node}([{label}])")
        elif isinstance(action, (ir.Transfer, ir.Park, ir.Hangup)):
            lines.append(f"  {node}[/{label}/]")
        elif isinstance(action, ir.Request):
            lines.append(f"  {node}[[{label}]]")
        else:
            lines.append(f"  {node}[{label}]")
    uses_end = False
    for state, target, labels in _grouped(flow):
        if target is END:
            uses_end = True
        destination = "stop" if target is END else ids.get(target, "missing")
        lines.append(f"  {ids[state.name]} -->|{lines_of(labels)}| {destination}")
    goto = error_target(flow)
    if uses_end or goto is not None:
        lines.append("  stop((error path))")
    if goto is not None:
        lines.append(f"  stop -.->|{text('on_error')}| {ids[goto]}")
    return "\n".join(lines) + "\n"


def dot(flow: ir.Flow) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"')

    def quote(value: str) -> str:
        return f'"{escape(value)}"'

    def label(parts: list[str]) -> str:
        """Each part on its own lines, wrapped; \\n is DOT's line break, added after escaping."""
        return '"' + "\\n".join(escape(line) for part in parts for line in _wrapped(part)) + '"'

    shapes = {ir.Branch: "diamond", ir.Menu: "box", ir.Collect: "box", ir.Record: "box",
              ir.Transfer: "parallelogram", ir.Park: "parallelogram", ir.Hangup: "parallelogram",
              ir.Request: "component"}
    lines = [f"digraph {quote(flow.id)} {{", "  rankdir=TB;", f'  graph [fontname="{FONT}"];',
             f'  node [fontname="{FONT}"];', f'  edge [fontname="{FONT}"];',
             '  "__start" [shape=circle, label="start"];', f"  \"__start\" -> {quote(flow.start.target)};"]
    for state in flow.states:
        shape = shapes.get(type(state.action), "ellipse")
        style = ', style="rounded"' if isinstance(state.action, (ir.Menu, ir.Collect, ir.Record)) else ""
        lines.append(f"  {quote(state.name)} [shape={shape}{style}, label={label([_describe(state)])}];")
    uses_end = False
    for state, target, labels in _grouped(flow):
        uses_end |= target is END
        destination = '"__end"' if target is END else quote(target)
        lines.append(f"  {quote(state.name)} -> {destination} [label={label(labels)}];")
    goto = error_target(flow)
    if uses_end or goto is not None:
        lines.append('  "__end" [shape=doublecircle, label="error path"];')
    if goto is not None:
        lines.append(f'  "__end" -> {quote(goto)} [label="on_error", style=dashed];')
    lines.append("}")
    return "\n".join(lines) + "\n"
