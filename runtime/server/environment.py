"""The server environment variables the loaded flows read, and which of them are unset."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ENV_KEY = "$env"  # compiled SVAML marks a value read from the environment as {"$env": NAME}


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
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


def needed(machines: list[dict[str, Any]]) -> list[Needed]:
    """Every (variable, flow, state) the machines read, in flow and state order, each once."""
    found: dict[Needed, None] = {}
    for machine in machines:
        for state, spec in machine.get("states", {}).items():
            for name in _names(spec):
                found[Needed(name, machine["flow"], state)] = None
    return list(found)


def unset(machines: list[dict[str, Any]], env: Mapping[str, str]) -> list[Needed]:
    """What the flows read that the environment lacks (or holds empty): those states will fail."""
    return [need for need in needed(machines) if not env.get(need.name, "").strip()]
