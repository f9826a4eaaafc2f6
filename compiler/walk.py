"""Generic walks over the IR: every prompt, every template text."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from . import ir


_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        # Positions are metadata, not children.
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
    return names


def _walk(obj: Any, out: list[Any]) -> None:
    stack = [obj]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (tuple, list)):
            stack.extend(reversed(node))
        elif dataclasses.is_dataclass(node):
            stack.extend(getattr(node, name) for name in reversed(_child_names(type(node))))


def nodes(obj: Any) -> list[Any]:
    """Every IR object below obj, depth first, in the order the author wrote them.

    A flow is walked once and the list kept on it, since every check walks it again."""
    if isinstance(obj, ir.Flow):
        cached = obj.__dict__.get("_nodes")
        if cached is None:
            cached = []
            _walk(obj, cached)
            object.__setattr__(obj, "_nodes", cached)
        return cached
    out: list[Any] = []
    _walk(obj, out)
    return out


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
