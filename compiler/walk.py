"""Generic walks over the IR: every prompt, every template text."""
from __future__ import annotations

import dataclasses
from typing import Any

from . import ir

_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_names(cls: type) -> tuple[str, ...]:
    """The fields of an IR class that hold children, last first (positions are metadata)."""
    names = _FIELDS.get(cls)
    if names is None:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        names = _FIELDS[cls] = tuple(reversed([f.name for f in fields if f.compare]))
    return names


def _walk(obj: Any, out: list[Any]) -> None:
    stack = [obj]
    pop, push, extend, add = stack.pop, stack.append, stack.extend, out.append
    while stack:
        node = pop()
        add(node)
        cls = type(node)
        if cls is tuple or cls is list:
            extend(reversed(node))
        elif cls is not str:
            for name in _child_names(cls):
                push(getattr(node, name))


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


def _cached(flow: ir.Flow, name: str, build) -> list:
    found = flow.__dict__.get(name)
    if found is None:
        found = build()
        object.__setattr__(flow, name, found)
    return found


def prompts(flow: ir.Flow) -> list[ir.Prompt]:
    return _cached(flow, "_prompts", lambda: [n for n in nodes(flow) if type(n) is ir.Prompt])


def texts(flow: ir.Flow) -> list[tuple[str, ir.Text]]:
    """Every template with its kind: tts, ssml, audio, file, condition or value."""

    def build() -> list[tuple[str, ir.Text]]:
        found = []
        for node in nodes(flow):
            cls = type(node)
            if cls is ir.Part:
                found.append((node.kind, node.text))
            elif cls is ir.Case and node.condition is not None:
                found.append(("condition", node.condition))
            elif cls is ir.Assignment:
                found.append(("value", node.value))
            elif cls is ir.Request:
                found.extend(("value", text) for text in request_texts(node))
            elif cls is ir.Transfer:
                found.extend(("value", text) for _, text in node.headers)
                if node.destination is not None:
                    found.append(("value", node.destination))
        return found

    return _cached(flow, "_texts", build)


def request_texts(request: ir.Request) -> list[ir.Text]:
    """A request's templates: the URL, query values, header values and every string in the body."""
    found = [request.url, *(text for _, text in request.query),
             *(h.value for h in request.headers if h.value is not None)]
    body = [request.body]
    while body:
        node = body.pop()
        if isinstance(node, ir.Text):
            found.append(node)
        elif isinstance(node, ir.JsonObject):
            body.extend(value for _, value in reversed(node.items))
        elif isinstance(node, ir.JsonArray):
            body.extend(reversed(node.items))
    return found


def collected(flow: ir.Flow) -> dict[str, ir.Collect]:
    """Variables filled by digit collection, by name (the first collect that fills each)."""
    found: dict[str, ir.Collect] = {}
    for state in flow.states:
        if isinstance(state.action, ir.Collect):
            found.setdefault(state.action.into, state.action)
    return found
