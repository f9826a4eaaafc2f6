"""The server environment variables the loaded flows read, and which of them are unset."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ivrc.compiler.compiled import ENV as ENV_KEY
from ivrc.compiler.compiled import Machine


@dataclass(frozen=True)
class Needed:
    """One state of one flow that reads an environment variable."""

    name: str
    flow: str
    state: str


def _names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get(ENV_KEY), str):
            yield value[ENV_KEY]
        for item in value.values():
            yield from _names(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _names(item)


def needed(machines: list[Machine]) -> list[Needed]:
    """Every (variable, flow, state) the machines' SVAML reads, in flow and state order, each once."""
    found: dict[Needed, None] = {}
    for machine in machines:
        for name, state in machine.states.items():
            for variable in _names([state.instructions, state.action, getattr(state, "after", ())]):
                found[Needed(variable, machine.flow, name)] = None
    return list(found)


def unset(machines: list[Machine], env: Mapping[str, str]) -> list[Needed]:
    """What the flows read that the environment lacks (or holds empty): those states will fail."""
    return [need for need in needed(machines) if not env.get(need.name, "").strip()]
