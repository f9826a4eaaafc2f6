"""Calls without a server: compiled flows in an in-process engine, a frozen clock, placeholder secrets."""
from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterator

from ivrc.compiler.compiled import Machine
from ivrc.compiler.errors import IvrcError
from ivrc.compiler.hours import zone
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.render import Clock, system_clock

from .emulator import EngineTransport
from .tracing import TracingEngine


class UsageProblem(IvrcError):
    """A simulated call cannot be set up as asked (no such flow, a malformed option)."""


class PlaceholderEnv(Mapping):
    """The server's environment for a simulated call: given values, and a stand-in for any other.

    Flows read secrets such as recording credentials from the server's environment; a
    simulation must not need (or leak) real ones, so unknown names get a visible placeholder.
    """

    def __init__(self, given: Mapping[str, str] | None = None) -> None:
        self.given = dict(given or {})
        self.used: set[str] = set()

    def __getitem__(self, name: str) -> str:
        if name in self.given:
            return self.given[name]
        self.used.add(name)
        return f"simulated-{name}"

    def __iter__(self) -> Iterator[str]:
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)


def parse_now(text: str) -> datetime.datetime:
    """ISO-8601; without an offset the time is read in the flow's own zone (see frozen_clock)."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise UsageProblem(f"{text!r} is not an ISO-8601 time like 2026-03-02T10:30:00+01:00") from None


def frozen_clock(now: datetime.datetime | None, timezone: str) -> Clock:
    """A clock stopped at `now` (naive: in `timezone`), or the real clock when now is None."""
    if now is None:
        return system_clock
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone(timezone))
    moment = now.astimezone(datetime.timezone.utc)
    return lambda: moment


def pick(machines: list[Machine], *, to: str | None = None, flow: str | None = None) -> Machine:
    """The flow a simulated call reaches: by id, by the number called, or the only one there is."""
    if flow is not None:
        for machine in machines:
            if machine.flow == flow:
                return machine
        raise UsageProblem(f"no flow '{flow}' (found: {', '.join(m.flow for m in machines)})")
    if to is not None:
        for machine in machines:
            if to in machine.numbers:
                return machine
        if len(machines) == 1:
            return machines[0]  # a number the flow does not claim: the call hears the routing error
        raise UsageProblem(f"no flow answers {to}; numbers: " + _numbers(machines))
    if len(machines) == 1:
        return machines[0]
    raise UsageProblem("several flows; choose one with --to NUMBER or --flow ID: " + _numbers(machines))


def _numbers(machines: list[Machine]) -> str:
    return "; ".join(f"{m.flow} ({', '.join(m.numbers) or m.direction})" for m in machines)


@dataclass
class CallSetup:
    """Everything to start an emulated call to one flow."""

    called: str
    outbound: bool
    custom: str | None
    amd: str

    def call_kwargs(self) -> dict[str, Any]:
        return {"called": self.called, "outbound": self.outbound, "custom": self.custom, "amd": self.amd}


def setup(machine: Machine, *, called: str | None = None, outbound: bool | None = None,
          custom: str | None = None, variables: Mapping[str, str] | None = None, amd: str = "human") -> CallSetup:
    """How to call this flow: its first number, or a callout whose `custom` names it (and its values)."""
    if outbound is None:
        outbound = not machine.inbound
    if outbound and custom is None:
        custom = json.dumps({"flow": machine.flow, "vars": dict(variables)}) if variables else machine.flow
    numbers = machine.numbers or ("",)
    return CallSetup(called if called is not None else numbers[0], outbound, custom, amd)


@dataclass
class InProcess:
    """An engine serving some machines in this process, and the call journal it writes."""

    machines: list[Machine]
    clock: Clock = system_clock
    env: PlaceholderEnv = field(default_factory=PlaceholderEnv)
    journal: list = field(default_factory=list)
    backend: Any = None  # answers request states (emulation.stubs.Stubs); None: every request fails

    def transport(self) -> EngineTransport:
        library = Library()
        for machine in self.machines:
            library.add(machine)
        inbound = [m for m in self.machines if m.inbound]
        if len(inbound) == 1 and not inbound[0].numbers:
            library.default_flow = inbound[0].flow  # a flow without numbers still answers a simulated call
        return EngineTransport(TracingEngine(library, clock=self.clock, env=self.env, journal=self.journal,
                                             backend=self.backend))


def env_from_pairs(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE options into a mapping (UsageProblem names the bad one)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageProblem(f"{pair!r} should be NAME=VALUE")
        out[name] = value
    return out

