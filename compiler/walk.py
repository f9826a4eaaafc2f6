"""Generic walks over the IR: every prompt, every template text."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from . import ir


def _children(obj: Any) -> Iterator[Any]:
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.compare:  # positions are metadata, not children
                yield getattr(obj, f.name)
    elif isinstance(obj, (tuple, list)):
        yield from obj


def nodes(obj: Any) -> Iterator[Any]:
    """Every IR object below obj, depth first, in the order the author wrote them."""
    stack = [obj]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(_children(node))))


def prompts(flow: ir.Flow) -> Iterator[ir.Prompt]:
    for node in nodes(flow):
        if isinstance(node, ir.Prompt):
            yield node


def texts(flow: ir.Flow) -> Iterator[tuple[str, ir.Text]]:
    """Every template with its kind: tts, ssml, audio, file, condition or value."""
    for node in nodes(flow):
        if isinstance(node, ir.Part):
            yield node.kind, node.text
        elif isinstance(node, ir.Case) and node.condition is not None:
            yield "condition", node.condition
        elif isinstance(node, ir.Assignment):
            yield "value", node.value


def collected(flow: ir.Flow) -> dict[str, ir.Collect]:
    """Variables filled by digit collection, by name (the first collect that fills each)."""
    found: dict[str, ir.Collect] = {}
    for state in flow.states:
        if isinstance(state.action, ir.Collect):
            found.setdefault(state.action.into, state.action)
    return found
