"""A call's state as carried in Sinch cookies: read leniently, validated, written back compactly."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ivrc.compiler import cookies as layout
from ivrc.compiler.compiled import Machine


@dataclass(frozen=True)
class Pin:
    """What the state cookie says: which flow version and state the call is in."""

    flow: str
    version: str
    state: str
    attempt: int
    locale: str


def read_pin(cookies: Mapping[str, str]) -> Pin | None:
    """The state cookie, or None if it is absent or malformed (never an exception)."""
    raw = cookies.get(layout.STATE_KEY)
    if not raw:
        return None
    parts = raw.split(layout.SEPARATOR)
    if len(parts) != 5 or not all(parts[:3]):
        return None
    flow, version, state, attempt, locale = parts
    if not attempt.isdigit() or len(attempt) != 1:
        return None
    return Pin(flow, version, state, int(attempt), locale)


@dataclass
class Call:
    """The call as one step sees and changes it."""

    flow: str
    version: str
    state: str
    attempt: int
    locale: str
    variables: dict[str, str]
    amd: str | None = None
    changed: set[str] = field(default_factory=set)  # variables written during this step
    requests: list = field(default_factory=list)  # requests made during this step (engine.requests.Made)

    def set(self, name: str, value: str) -> None:
        if self.variables.get(name) != value:
            self.variables[name] = value
            self.changed.add(name)


def read_variables(machine: Machine, cookies: Mapping[str, str]) -> dict[str, str]:
    """Variables from cookies, each checked against its declared bound; bad ones keep their default."""
    declared = machine.variables
    values = {name: spec.default for name, spec in declared.items()}
    for name, spec in declared.items():
        raw = cookies.get(layout.var_key(name))
        size = _utf8_size(raw) if raw is not None else None
        if raw is not None and size is not None and size <= spec.max_length:
            values[name] = raw
    for state, repeat in machine.repeats.items():
        raw = cookies.get(layout.var_key(layout.counter(state)))
        if raw is not None and raw.isdigit() and int(raw) < repeat.times:
            values[layout.counter(state)] = raw
    return values


def _utf8_size(text: str) -> int | None:
    """Bytes of text as UTF-8, or None if it is not text Sinch could have stored (a lone surrogate)."""
    try:
        return len(text.encode())
    except UnicodeEncodeError:
        return None


def cookie_instructions(call: Call, incoming: Mapping[str, str]) -> list[tuple[str, str]]:
    """The setCookie pairs this answer must carry: the state cookie, and only what changed."""
    pairs = [(layout.STATE_KEY, layout.state_value(call.flow, call.version, call.state, call.attempt, call.locale))]
    if call.amd is not None and incoming.get(layout.AMD_KEY) != call.amd:
        pairs.append((layout.AMD_KEY, call.amd))
    for name in sorted(call.changed):
        key = layout.var_key(name)
        if incoming.get(key) != call.variables[name]:
            pairs.append((key, call.variables[name]))
    return pairs


def total_bytes(incoming: Mapping[str, str], pairs: Iterable[tuple[str, str]]) -> int:
    """Bytes Sinch will hold after this answer: every cookie ever set, the newest value of each."""
    merged = dict(incoming)
    merged.update(pairs)
    # surrogatepass: a malformed echoed cookie must count, not raise.
    return sum(len(k.encode("utf-8", "surrogatepass")) + len(v.encode("utf-8", "surrogatepass"))
               for k, v in merged.items())


def fit(value: str, max_length: int) -> str:
    """A value cut to at most max_length bytes of UTF-8 at a character boundary; lone surrogates dropped.

    A caller id stored by `set:` may be longer than the variable holds (30 emoji are 120 bytes):
    the call keeps going with the first max_length bytes, rather than taking the error path."""
    raw = value.encode("utf-8", "ignore")  # "ignore": a lone surrogate cannot travel in a cookie
    if len(raw) <= max_length:
        return raw.decode("utf-8")
    return raw[:max_length].decode("utf-8", "ignore")  # "ignore": the cut may split a character
