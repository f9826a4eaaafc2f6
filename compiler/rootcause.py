"""One mistake, one error: a finding that only follows from another becomes a note on it."""
from __future__ import annotations

import re
from typing import Any

from .diagnostics import Diagnostic, Related, suggest

_UNKNOWN = re.compile(r"unknown key '(?P<key>[^']*)' in (?P<where>.+)$")
_MISSING = re.compile(r"(?P<where>.+) is missing the required key '(?P<key>[^']*)'$")
_DOES_NOTHING = re.compile(r"(?P<where>.+) (?P<lack>does nothing|has no destination): it needs one of (?P<keys>.+)$")
_NEVER_ENDS = re.compile(r"a call in state '(?P<state>[^']*)' can never end")
_LOOP = re.compile(r"states loop without waiting for the caller: (?P<loop>.+)$")


def fold(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    out = _drop_repeats(diagnostics)
    _fold_misspelt_keys(out)
    _fold_endless_loops(out)
    return out


def _drop_repeats(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One finding at one place, once: text shared through a YAML anchor is checked at every alias."""
    seen: set[tuple] = set()
    out = []
    for d in diagnostics:
        key = (d.code, d.span.file, d.span.line, d.span.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _note(diagnostic: Diagnostic, consequence: Diagnostic, note: str, **changes: Any) -> Diagnostic:
    fields: dict[str, Any] = {"code": diagnostic.code, "message": diagnostic.message, "span": diagnostic.span, "help": diagnostic.help,
                              "related": diagnostic.related + (Related(consequence.span, note),)}
    fields.update(changes)
    return Diagnostic(**fields)


def _fold_misspelt_keys(out: list[Diagnostic]) -> None:
    """`strat:` is an unknown key, and so `start` is missing: one error, with the missing key as a note."""
    for missing in [d for d in out if d.code in ("IVR011", "IVR014")]:
        match = (_MISSING if missing.code == "IVR011" else _DOES_NOTHING).match(missing.message)
        if match is None:
            continue
        wanted = [match["key"]] if missing.code == "IVR011" else match["keys"].split(", ")
        for i, unknown in enumerate(out):
            found = _UNKNOWN.match(unknown.message) if unknown.code == "IVR010" else None
            if found is None or found["where"] != match["where"]:
                continue
            meant = suggest(found["key"], wanted)
            if meant is None:
                continue
            consequence = (f"so {match['where']} is missing the required key '{meant}'" if missing.code == "IVR011"
                           else f"so {match['where']} has no action" if match["lack"] == "does nothing"
                           else f"so {match['where']} has no destination")
            out[i] = _note(unknown, missing, consequence,
                           message=f"unknown key '{found['key']}' in {found['where']}: did you mean '{meant}'?",
                           help=f"rename it to '{meant}'")
            out.remove(missing)
            break


def _fold_endless_loops(out: list[Diagnostic]) -> None:
    """A state that loops to itself without waiting can never end either: that is the loop, said once."""
    for loop in [d for d in out if d.code == "IVR032"]:
        match = _LOOP.match(loop.message)
        if match is None:
            continue
        members = set(match["loop"].split(" → "))
        for never in [d for d in out if d.code == "IVR031"]:
            ends = _NEVER_ENDS.match(never.message)
            if ends is not None and ends["state"] in members:
                out.remove(never)
                noted = _note(loop, never, f"so a call in state '{ends['state']}' can never end")
                out[out.index(loop)] = noted
                loop = noted
