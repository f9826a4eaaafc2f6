"""The parts of answers that are the same in every call, kept per machine version so each is made once.

A walk through states that only play fixed prompts and end in a fixed action (no `set`, branch,
repeat, request, template or opening-hours check) gives the same instructions and action for a
given start state and locale, whoever calls and whenever: the engine keeps them (`Walked`) and
skips the walk the next time. The prompts and actions a machine's templates keep per locale are
the same objects in every answer, so their JSON is made once too (`Svaml.fixed`); only what
belongs to one call (its cookies, their seal, anything rendered for it) is written per answer.
Every store hangs off the machine version's Templates: a reloaded flow starts with none, and each
is bounded by the machine (states and prompts times its locales).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Walked:
    """Where a walk of fixed states ends, and what it adds to the answer."""

    path: tuple[str, ...]  # the states it enters, in order, ending in the wait state it stops in
    kind: str  # that state's kind: the answer's outcome
    instructions: tuple[dict, ...]  # the prompts and tones played on the way and in the wait state
    action: dict


class Svaml(dict):
    """An answer's SVAML (an ordinary dict to every reader), which also knows which of its
    instructions and action are shared by every call, so the server reuses their JSON."""

    # id(part) -> [part, its JSON or None until first written]; the part is kept, so its id is never reused.
    # None until the engine hands over its machine version's registry (never a dict shared by all answers).
    fixed: dict[int, list[Any]] | None = None


def remember(fixed: dict[int, list[Any]], part: Any) -> None:
    """Marks an instruction or action (or each instruction of a list) as the same in every call."""
    for item in part if isinstance(part, list) else (part,):
        if id(item) not in fixed:
            fixed[id(item)] = [item, None]
