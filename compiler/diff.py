"""A semantic diff of two versions of a flow: what a reviewer needs to know, not which lines moved."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import ir
from .graph import END, edges
from .machine import json_of


@dataclass(frozen=True)
class Change:
    kind: str  # flow-changed, state-added, state-removed, kind-changed, transition-repointed, transition-added,
    # transition-removed, prompt-changed, setting-changed, option-added, option-removed, number-added,
    # number-removed, start-changed, variable-added, variable-removed
    subject: str  # the state, prompt or field it is about
    before: Any = None
    after: Any = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "before": self.before, "after": self.after}

    def __str__(self) -> str:
        words = {
            "state-added": f"+ state {self.subject} ({self.after})",
            "state-removed": f"- state {self.subject} ({self.before})",
            "kind-changed": f"~ state {self.subject}: {self.before} -> {self.after}",
            "transition-repointed": f"~ {self.subject}: {self.before} -> {self.after}",
            "transition-added": f"+ {self.subject} -> {self.after}",
            "transition-removed": f"- {self.subject} -> {self.before}",
            "prompt-changed": f"~ {self.subject}: {self.before!r} -> {self.after!r}",
            "option-added": f"+ {self.subject} -> {self.after}",
            "option-removed": f"- {self.subject} (was -> {self.before})",
            "number-added": f"+ number {self.subject}",
            "number-removed": f"- number {self.subject}",
            "start-changed": f"~ start: {self.before} -> {self.after}",
        }
        if self.kind == "variable-added":
            return f"+ variable {self.subject} ({_described(self.after)})"
        if self.kind == "variable-removed":
            return f"- variable {self.subject} (was {_described(self.before)})"
        return words.get(self.kind, f"~ {self.subject}: {self.before!r} -> {self.after!r}")


@dataclass
class FlowDiff:
    old: ir.Flow
    new: ir.Flow
    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"flow": self.new.id, "changes": [c.to_json() for c in self.changes]}

    def text(self) -> str:
        if not self.changes:
            return f"flow {self.new.id}: no changes in behaviour\n"
        return f"flow {self.new.id}: {len(self.changes)} change(s)\n" + "".join(f"  {c}\n" for c in self.changes)


def _prompt_text(flow: ir.Flow, prompt: ir.Prompt | None) -> dict[str, str] | None:
    """A prompt as {locale: text}, following catalogue references, for comparing what callers hear."""
    if prompt is None:
        return None
    if prompt.ref is not None:
        prompt = flow.prompt_map.get(prompt.ref, prompt)
        if prompt.ref is not None:
            return {"*": f"{{prompt: {prompt.ref}}}"}
    return {loc or "*": " ".join(f"{p.kind}:{p.text.source}" if p.kind != "tts" else p.text.source for p in parts)
            for loc, parts in prompt.by_locale}


def _state_prompts(flow: ir.Flow, state: ir.State) -> dict[str, dict[str, str] | None]:
    found = {"say": _prompt_text(flow, state.say)}
    action = state.action
    if isinstance(action, (ir.Menu, ir.Collect)):
        found["prompt"] = _prompt_text(flow, action.prompt)
        found["reprompt"] = _prompt_text(flow, action.reprompt)
        for name in ("no_input", "invalid"):
            handler = getattr(action, name)
            found[f"{name}.say"] = _prompt_text(flow, handler.say) if handler else None
    if isinstance(action, ir.Menu):
        for option in action.options:
            found[f"option {option.key}.say"] = _prompt_text(flow, option.say)
    if isinstance(action, ir.Record):
        found["prompt"] = _prompt_text(flow, action.prompt)
    if isinstance(action, ir.Park):
        found["intro"] = _prompt_text(flow, action.intro)
        found["hold"] = _prompt_text(flow, action.hold)
    return found


def _settings(action: ir.Action) -> dict[str, Any]:
    """An action's own settings (targets, limits, recording), leaving out prompts and exits."""
    import dataclasses

    found: dict[str, Any] = {}
    if not dataclasses.is_dataclass(action):
        return found
    for f in dataclasses.fields(action):
        value = getattr(action, f.name)
        if (not f.compare or isinstance(value, (ir.Prompt, ir.Ref, ir.Handler))
                or f.name in ("options", "cases", "on_status")):
            continue
        if isinstance(action, (ir.Request, ir.Transfer)):
            value = _plain(value)
        if isinstance(value, ir.Recording):
            value = {"destination": value.destination, "credentials_env": value.credentials_env,
                     "transcribe": value.transcribe_locale}
        found[f.name] = value
    return found


def _plain(value: Any) -> Any:
    """A request's settings as the author wrote them: templates as their source, in order."""
    if isinstance(value, (ir.Text, ir.JsonObject, ir.JsonArray)):
        return json_of(value)
    if isinstance(value, ir.Header):
        return {value.name: _plain(value.value) if value.value is not None else f"${{{value.env}}}"}
    if isinstance(value, ir.Save):
        return {value.variable: value.field}
    if isinstance(value, ir.Keypad):  # its keys are exits, compared as transitions
        return {"mode": value.mode, "max_digits": value.max_digits, "timeout": value.timeout}
    if isinstance(value, ir.Streaming):
        return {"version": value.version, "sample_rate": value.sample_rate}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _variable(variable: ir.Variable) -> dict[str, Any]:
    return {"max_length": variable.max_length, "default": variable.default, "report": variable.report}


def _hours(schedule: ir.Schedule, flow_timezone: str) -> dict[str, Any]:
    """A schedule as the caller meets it: its own time zone (the flow's is reported once, as the
    flow's), each day's hours, the holidays, the dated hours."""
    found: dict[str, Any] = {"holidays": sorted(schedule.holidays)}
    if schedule.timezone != flow_timezone:
        found["timezone"] = schedule.timezone
    found.update({day: [f"{a}-{b}" for a, b in ranges] for day, ranges in schedule.weekly})
    found.update({f"on {date}": [f"{a}-{b}" for a, b in ranges] or "closed" for date, ranges in schedule.dates})
    return found


def _receiver(events: ir.EventsOut | None) -> dict[str, str] | None:
    return None if events is None else {"url": events.url, "secret": events.secret_env}


def _exits(state: ir.State) -> dict[str, str | None]:
    return {edge.label: edge.target for edge in edges(state) if not (edge.target is END and edge.label == state.kind)}


def diff(old: ir.Flow, new: ir.Flow) -> FlowDiff:
    result = FlowDiff(old, new)
    add = result.changes.append
    if old.id != new.id:
        add(Change("flow-changed", "flow", old.id, new.id))
    if old.start.target != new.start.target:
        add(Change("start-changed", "start", old.start.target, new.start.target))
    for number in new.numbers:
        if number not in old.numbers:
            add(Change("number-added", number))
    for number in old.numbers:
        if number not in new.numbers:
            add(Change("number-removed", number))
    if old.events != new.events:  # where the flow's call events go (ir.EventsOut compares url and secret)
        add(Change("setting-changed", "events", _receiver(old.events), _receiver(new.events)))
    old_vars, new_vars = {v.name: _variable(v) for v in old.variables}, {v.name: _variable(v) for v in new.variables}
    for name in sorted(set(old_vars) | set(new_vars)):
        before_v, after_v = old_vars.get(name), new_vars.get(name)
        if before_v is None:
            add(Change("variable-added", name, after=after_v))
            continue
        if after_v is None:
            add(Change("variable-removed", name, before=before_v))
            continue
        for key in sorted(before_v):  # report: what leaves the server at the end of a call
            if before_v[key] != after_v[key]:
                add(Change("setting-changed", f"variable {name} {key}", before_v[key], after_v[key]))
    if old.timezone != new.timezone:
        add(Change("setting-changed", "timezone", old.timezone, new.timezone))
    old_hours = {s.name: _hours(s, old.timezone) for s in old.schedules}
    new_hours = {s.name: _hours(s, new.timezone) for s in new.schedules}
    for schedule in sorted(set(old_hours) | set(new_hours)):
        before_h, after_h = old_hours.get(schedule, {}), new_hours.get(schedule, {})
        for key in sorted(set(before_h) | set(after_h)):
            if before_h.get(key) != after_h.get(key):
                add(Change("setting-changed", f"hours {schedule} {key}", before_h.get(key), after_h.get(key)))
    old_error, new_error = _flat(_prompt_text(old, old.on_error)), _flat(_prompt_text(new, new.on_error))
    if old_error != new_error:
        add(Change("prompt-changed", "on_error say", old_error, new_error))
    old_goto = old.on_error_goto.target if old.on_error_goto else None
    new_goto = new.on_error_goto.target if new.on_error_goto else None
    if old_goto != new_goto:
        add(Change("transition-repointed", "on_error", old_goto or "end", new_goto or "end"))
    old_states, new_states = old.state_map, new.state_map
    for name, state in new_states.items():
        if name not in old_states:
            add(Change("state-added", name, after=state.kind))
    for name, state in old_states.items():
        if name not in new_states:
            add(Change("state-removed", name, before=state.kind))
    for name, state in new_states.items():
        before = old_states.get(name)
        if before is None:
            continue
        if before.kind != state.kind:
            # Another kind has other settings, so those are not compared; what callers hear and where
            # the state leads still are, or a reviewer would never see the new words or routes.
            add(Change("kind-changed", name, before.kind, state.kind))
        else:
            old_settings, new_settings = _settings(before.action), _settings(state.action)
            for key in sorted(set(old_settings) | set(new_settings)):
                if old_settings.get(key) != new_settings.get(key):
                    add(Change("setting-changed", f"{name} {state.kind}.{key}", old_settings.get(key),
                               new_settings.get(key)))
        old_sets = {a.name: a.value.source for a in before.sets}
        new_sets = {a.name: a.value.source for a in state.sets}
        if old_sets != new_sets:
            add(Change("setting-changed", f"{name} set", old_sets, new_sets))
        if before.send_digits != state.send_digits:
            add(Change("setting-changed", f"{name} send_digits", before.send_digits, state.send_digits))
        old_exits, new_exits = _exits(before), _exits(state)
        for label, target in new_exits.items():
            subject = f"{name} ({label})"
            if label not in old_exits:
                kind = "option-added" if label.startswith("key ") else "transition-added"
                add(Change(kind, subject, after=target or "end"))
            elif old_exits[label] != target:
                add(Change("transition-repointed", subject, old_exits[label] or "end", target or "end"))
        for label, target in old_exits.items():
            if label not in new_exits:
                kind = "option-removed" if label.startswith("key ") else "transition-removed"
                add(Change(kind, f"{name} ({label})", before=target or "end"))
        old_prompts, new_prompts = _state_prompts(old, before), _state_prompts(new, state)
        for slot in sorted(set(old_prompts) | set(new_prompts)):
            if old_prompts.get(slot) != new_prompts.get(slot):
                add(Change("prompt-changed", f"{name} {slot}", _flat(old_prompts.get(slot)), _flat(new_prompts.get(slot))))
    return result


def _described(variable: dict[str, Any] | None) -> str:
    """A variable's declaration in the flow's own words: `max_length 16, default '', report false`."""
    words = {True: "true", False: "false"}
    return ", ".join(f"{key} {words[value] if isinstance(value, bool) else repr(value)}"
                     for key, value in (variable or {}).items())


def _flat(text: dict[str, str] | None) -> str | None:
    if text is None:
        return None
    if set(text) == {"*"}:
        return text["*"]
    return "; ".join(f"{loc}: {value}" for loc, value in sorted(text.items()))
