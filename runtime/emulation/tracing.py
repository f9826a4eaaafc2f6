"""An engine that also records which states each step walked through, for flow-test coverage."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ivrc.runtime.engine.callstate import Call
from ivrc.runtime.engine.events import Callback
from ivrc.runtime.engine.step import Answer, Engine


@dataclass
class Step:
    """One callback as the engine handled it: the states it entered, in order."""

    event: str  # ICE, ACE, PIE, DICE, NOTIFY
    flow: str | None = None
    member: str | None = None  # PIE: the menu state that took the input
    result_type: str | None = None  # PIE: return, sequence, timeout, invalidinput...
    result_value: str | None = None
    input_method: str | None = None
    entered: list[str] = field(default_factory=list)  # states walked into (attempt 0), in order
    retried: list[str] = field(default_factory=list)  # states that asked again (no transition)
    recovered_at: int | None = None  # on an `on_error: {goto}` path: where in `entered` the error walk began
    answer: Answer | None = None

    @property
    def failed(self) -> str | None:
        """The error kind when the step ended in the flow's error path."""
        if self.answer is not None and self.answer.outcome in ("error", "on-error") and self.answer.error:
            return self.answer.error.split(":", 1)[0]
        return None


class _TracedCall(Call):
    """A callstate.Call that tells its step whenever the engine moves it to a state.

    The engine sets `call.state` and then `call.attempt` for every state it walks into
    (attempt 0) and for every retry of a menu (attempt 1, 2...); watching `attempt` sees both.
    """

    _step: Step | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        step = self.__dict__.get("_step")
        if name == "attempt" and step is not None:
            (step.entered if value == 0 else step.retried).append(self.state)


def _traced(call: Call, step: Step | None) -> Call:
    traced = _TracedCall(**{f.name: getattr(call, f.name) for f in dataclasses.fields(call) if f.init})
    object.__setattr__(traced, "_step", step)
    return traced


class TracingEngine(Engine):
    """The production engine, unchanged, plus a journal of every step it took."""

    def __init__(self, *args: Any, journal: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal: list = journal if journal is not None else []
        self._step: Step | None = None

    def step(self, cb: Callback) -> Answer:
        record = Step(cb.event.upper())
        if cb.menu_result is not None:
            record.result_type = cb.menu_result.type
            record.result_value = cb.menu_result.value
            record.input_method = cb.menu_result.input_method
        self._step = record
        try:
            answer = super().step(cb)
        finally:
            self._step = None
        record.answer = answer
        record.flow = answer.flow
        self.journal.append(record)
        return answer

    # The two places the engine creates the call it walks; everything else is the parent's.

    def _new_call(self, loaded, cb):  # type: ignore[override]
        return _traced(super()._new_call(loaded, cb), self._step)

    def _recover(self, cb, loaded, call, err):  # type: ignore[override]
        if self._step is not None and loaded.machine.error_goto is not None:
            self._step.recovered_at = len(self._step.entered)
        return (yield from super()._recover(cb, loaded, call, err))

    def _resume(self, loaded, cb, pin, member):  # type: ignore[override]
        if self._step is not None:
            self._step.member = member
        return _traced(super()._resume(loaded, cb, pin, member), self._step)
