"""Flow coverage: which states and transitions (state, exit) a set of emulated calls exercised."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ivrc.compiler import graph, ir, svaml
from ivrc.compiler.compiled import Machine, Menu
from ivrc.compiler.machine import KEY_NAMES

from .emulator import Line
from .tracing import Step

_KEYS_BY_NAME = {name: key for key, name in KEY_NAMES.items()}


@dataclass(frozen=True)
class Transition:
    """One way out of a state, as compiler.graph names it: "key 1", "no input", "else", "next"..."""

    source: str
    label: str
    target: str | None  # None: the call leaves the flow (hang-up, transfer, park, error path)

    def __str__(self) -> str:
        # A failed request without on_failure, or a menu's attempts running out without `exhausted`, takes
        # the flow's error path (which may go on in a state of its own): not what a hang-up or transfer does.
        end = "(the flow's error path)" if self.label in ("failure", "exhausted") else "(end of call)"
        return f"{self.source} --{self.label}--> {self.target or end}"


@dataclass
class FlowCoverage:
    """One flow's states and transitions, and the ones some call went through."""

    flow: str
    file: str
    states: list[str]
    transitions: list[Transition]
    hit_states: set[str] = field(default_factory=set)
    hit_transitions: set[Transition] = field(default_factory=set)
    calls: int = 0

    @property
    def missed_states(self) -> list[str]:
        return [s for s in self.states if s not in self.hit_states]

    @property
    def covered_transitions(self) -> list[Transition]:
        """The transitions some call went through, in the flow's order (hit_transitions is a set)."""
        return [t for t in self.transitions if t in self.hit_transitions]

    @property
    def missed_transitions(self) -> list[Transition]:
        return [t for t in self.transitions if t not in self.hit_transitions]

    @property
    def percent(self) -> float:
        """States and transitions together, as coverage.py counts statements and branches."""
        total = len(self.states) + len(self.transitions)
        hit = len(self.hit_states) + len(self.hit_transitions)
        return 100.0 * hit / total if total else 100.0

    @staticmethod
    def ratio(hit: int, total: int) -> str:
        return f"{hit}/{total} {100.0 * hit / total if total else 100.0:.0f}%"

    def summary(self) -> str:
        return (f"states {self.ratio(len(self.hit_states), len(self.states))}, "
                f"transitions {self.ratio(len(self.hit_transitions), len(self.transitions))}, "
                f"total {self.percent:.0f}%")


class Coverage:
    """Coverage of every flow registered, fed one call's journal at a time."""

    def __init__(self) -> None:
        self.flows: dict[str, FlowCoverage] = {}
        self._ir: dict[str, ir.Flow] = {}
        self._machines: dict[str, Machine] = {}

    def add_flow(self, flow: ir.Flow, machine: Machine, file: str) -> None:
        if flow.id in self.flows:
            return
        transitions = [Transition(e.source, e.label, e.target) for s in flow.states for e in graph.edges(s)]
        self.flows[flow.id] = FlowCoverage(flow.id, file, [s.name for s in flow.states], transitions)
        self._ir[flow.id] = flow
        self._machines[flow.id] = machine

    def record_call(self, journal: Iterable[Step | Line]) -> None:
        """One call, in order: the engine's steps and the emulator's moves between fused menus."""
        root: tuple[str, str] | None = None  # (flow, state) whose runMenu the caller is in
        counted: set[str] = set()
        for entry in journal:
            if isinstance(entry, Step):
                if entry.flow in self.flows:
                    if entry.flow not in counted:
                        counted.add(entry.flow)
                        self.flows[entry.flow].calls += 1
                    self._step(entry)
                state = entry.answer.state if entry.answer is not None else None
                root = (entry.flow, state) if entry.flow and state else root
            elif isinstance(entry, Line) and entry.kind == "menu" and root is not None and root[0] in self.flows:
                flow, state = root
                source = svaml.state_of_menu(entry.data.get("from") or "")[1] or state
                target = svaml.state_of_menu(entry.data.get("to") or "")[1] or state
                self._hit(flow, target)
                self._hit_edge(flow, source, target, prefer=[f"key {entry.data.get('key')}"])

    # one engine step

    def _step(self, step: Step) -> None:
        flow = step.flow
        assert flow is not None
        for name in step.entered:
            self._hit(flow, name)
        # With `on_error: {goto}` one step is two walks: up to the failure, then on from the error state.
        cut = len(step.entered) if step.recovered_at is None else step.recovered_at
        entered, recovered = step.entered[:cut], step.entered[cut:]
        if step.event == "PIE" and step.member:
            if entered:
                self._hit_edge(flow, step.member, entered[0], prefer=self._pie_labels(flow, step))
            elif step.failed == "exhausted":
                self._hit_edge(flow, step.member, None, prefer=["exhausted"])
        outcomes = {made.state: made for made in (step.answer.requests if step.answer else [])}
        for walked in (entered, recovered):
            for source, target in zip(walked, walked[1:]):
                self._hit_edge(flow, source, target, prefer=_request_labels(outcomes.get(source)))
        if step.failed == "request" and entered:
            self._hit_edge(flow, entered[-1], None, prefer=["failure"])
        if step.entered and step.answer is not None and step.answer.outcome != "error":
            last = self._ir[flow].state(step.entered[-1])
            if last is not None and isinstance(last.action, (ir.Transfer, ir.Park, ir.Hangup)):
                self._hit_edge(flow, last.name, None)

    def _pie_labels(self, flow: str, step: Step) -> list[str]:
        """The exits this menu result could have taken, most likely first."""
        if step.result_type == "timeout":
            return ["no input", "exhausted"]
        labels = []
        value = step.result_value or ""
        if step.result_type == "sequence" and value:  # a menu with keys like 10
            labels.append(f"key {value.rstrip('#')}")
        if step.result_type == "return" and value.count(".") == 2:
            choice = value.rsplit(".", 1)[1]
            labels.append(f"key {_KEYS_BY_NAME.get(choice, choice)}")
        elif step.input_method == "voice":
            state = self._machines[flow].states.get(step.member or "")
            key = state.keywords.get(value.strip().casefold()) if isinstance(state, Menu) else None
            if key:
                labels.append(f"key {key}")
        return labels + ["digits", "recorded", "invalid", "exhausted"]

    def _hit(self, flow: str, state: str | None) -> None:
        if state is not None and state in self._ir[flow].state_map:
            self.flows[flow].hit_states.add(state)

    def _hit_edge(self, flow: str, source: str | None, target: str | None, prefer: Sequence[str] = ()) -> None:
        state = self._ir[flow].state(source) if source else None
        if state is None:
            return
        candidates = [Transition(e.source, e.label, e.target) for e in graph.edges(state) if e.target == target]
        if not candidates:
            return
        # Two exits can lead to the same state (a key and "invalid"); the menu result says which.
        chosen = next((c for label in prefer for c in candidates if c.label == label), candidates[0])
        self.flows[flow].hit_transitions.add(chosen)


def _request_labels(made) -> list[str]:  # type: ignore[no-untyped-def]
    """The exit a request state took, as graph.edges labels it: ok, status 404 / status 4xx, failure."""
    if made is None:
        return []
    if made.outcome == "ok":
        return ["ok"]
    if made.outcome == "status" and made.status is not None:
        return [f"status {made.status}", f"status {made.status // 100}xx"]
    return ["failure"]
