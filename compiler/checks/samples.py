"""Runs each template as a call would, with sample values of what it reads: a failure here is a failure on a call.

The type reading in expressions.py names the common mistakes in the author's terms; this catches
the rest (a filter given a value it cannot take, `now.hour | length`, an index into empty digits)
by doing what the runtime does, in the same sandbox, with values a real call can have.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

from .. import ir, walk
from ..digitpattern import compile_pattern
from ..graph import edges
from ..hours import zone
from ..templates import condition_source, environment, parse

# What the flow's names can hold on a call. Digits from callers, text from `set`, Sinch's fields:
# the empty value first, since a variable is empty until something sets it.
_TEXT = ("", "1234", "0", "*", "Main Street 1")
_CALLER = ("+46700000001", "", "private", "+14155550100", "anonymous")
_MOMENTS = (datetime.datetime(2026, 12, 24, 9, 30), datetime.datetime(2026, 6, 1, 0, 0),
            datetime.datetime(2026, 3, 29, 23, 59), datetime.datetime(2027, 1, 1, 12, 0),
            datetime.datetime(2026, 10, 25, 2, 30))
_AMD = ("human", "machine", "notsure", "hangup", "")
_SAMPLES = len(_TEXT)
# Sampling runs the author's template at lint time: one that repeats text or raises to a power,
# or holds a large number, could be made to do unbounded work, so it is not sampled.
_HEAVY = (nodes.Mul, nodes.Pow)
_LARGEST_CONSTANT = 10_000


@dataclass(frozen=True)
class Failure:
    """A template that raised with these sample values."""

    error: str
    values: tuple[tuple[str, str], ...]  # (name, value) of the names it reads, as the call had them

    tried: tuple[str, ...] = ()  # the names read, when every sample of them failed

    def describe(self) -> str:
        shown = ", ".join(f"{name} is {value!r}" for name, value in self.values)
        if shown:
            return f"when {shown}"
        if self.tried:
            return f"for every value ivrc tried for {', '.join(self.tried)} (empty, digits, text)"
        return "on every call"


def first_failure(kind: str, source: str, flow: ir.Flow, reads: set[str], state: str | None = None) -> Failure | None:
    """Renders the template (or tests the condition) with each set of sample values; the first failure.

    In `state`, a variable every way there has filled by a digit collection holds digits that
    collection accepts, never the empty text."""
    try:
        tree = parse(condition_source(source) if kind == "condition" else source)
    except Exception:
        return None  # the template check reports it
    if any(True for _ in tree.find_all(_HEAVY)) or any(
            isinstance(c.value, (int, float)) and not isinstance(c.value, bool) and abs(c.value) > _LARGEST_CONSTANT
            for c in tree.find_all(nodes.Const)):
        return None
    try:
        if kind == "condition":
            compiled = environment("plain").compile_expression(source)
            run = lambda names: compiled(**names)  # noqa: E731
        else:
            template = environment(kind).from_string(source)
            run = template.render
    except Exception:
        return None
    keyed = collected_before(flow).get(state or "", {})
    failures: list[Failure] = []
    for i in range(_SAMPLES):
        names, shown = _names(flow, i, keyed)
        try:
            run(names)
        except Exception as err:  # what the runtime turns into the error path
            values = tuple((name, shown[name]) for name in sorted(shown) if name in reads)
            failures.append(Failure(f"{type(err).__name__}: {err}", values))
    if len(failures) == _SAMPLES:
        errors = [failure.error for failure in failures]
        common = max(errors, key=errors.count)
        if len(set(errors)) > 1 and errors.count(common) * 2 > _SAMPLES:
            # Some samples' own failure (an empty pin in `pin[0]`) beside one most samples meet alike, once
            # past it: that is a mistake of its own, whatever the values (`now.hour | length`). Blaming the
            # values would send the author after the wrong expression.
            return Failure(common, ())
        # Every sample failed: say so, without claiming no value could work (`{"1": "one"}[n]` works for n=1).
        # Names of fixed type (now, locale, call fields) fail alike for any value: that is every call.
        return Failure(failures[0].error, (), tuple(sorted(reads & set(_choices(flow)))))
    return failures[0] if failures else None


def _names(flow: ir.Flow, i: int, keyed: dict[str, tuple[str, ...]] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    amd = _AMD[i % len(_AMD)] if flow.outbound is not None and flow.outbound.amd else ""
    # The called number can be empty: on an outbound call, or when a later event does not carry it.
    called = ((flow.numbers or ("+46812345670",))[0], "")[i % 2]
    call = {"caller": _CALLER[i % len(_CALLER)], "called": called,
            "callid": "4398599d1ba84ef3bde0a82dfb61abed", "amd": amd, "custom": ""}
    choices = _choices(flow)
    variables = {name: values[i % len(values)] for name, values in {**choices, **(keyed or {})}.items()}
    locale = flow.locales[i % len(flow.locales)]
    try:
        timezone: datetime.tzinfo = zone(flow.timezone)
    except Exception:  # an unknown time zone is reported by the hours check
        timezone = datetime.timezone.utc
    moment = _MOMENTS[i % len(_MOMENTS)].replace(tzinfo=timezone)
    open_now = i % 2 == 0
    names = {**variables, "call": call, "locale": locale, "now": moment, "is_open": lambda _name: open_now}
    shown = {**variables, "locale": locale, "now": moment.isoformat(timespec="minutes"),
             **{f"call.{field}": value for field, value in call.items()}}
    return names, shown


def _choices(flow: ir.Flow) -> dict[str, tuple[str, ...]]:
    """The values each variable can hold on a call: any text, unless the flow itself decides them all.

    A declared variable that only ever gets constants (its default, `set` with plain text) holds one
    of those; digits collected and values a callout may give can be anything, the empty text first.
    """
    cached = flow.__dict__.get("_sample_choices")
    if cached is not None:
        return cached
    constants: dict[str, set[str] | None] = {var.name: {var.default} for var in flow.variables}
    for state in flow.states:
        for assignment in state.sets:
            known = constants.get(assignment.name)
            if known is not None:
                if assignment.value.is_template:
                    constants[assignment.name] = None
                else:
                    known.add(assignment.value.source)
    choices: dict[str, tuple[str, ...]] = {}
    for name, values in constants.items():
        fixed = flow.outbound is None  # a callout may give any declared variable
        choices[name] = tuple(sorted(values)) if values is not None and fixed else _TEXT
    for name in walk.collected(flow):
        choices[name] = _TEXT
    for state in flow.states:  # a backend's answer can be any text
        if isinstance(state.action, ir.Request):
            for save in state.action.save:
                choices[save.variable] = _TEXT
    object.__setattr__(flow, "_sample_choices", choices)
    return choices


def collected_before(flow: ir.Flow) -> dict[str, dict[str, tuple[str, ...]]]:
    """For each state, the variables that every way there has filled by a digit collection (and no `set`
    since), with digits those collections accept: what a template there can really read."""
    cached = flow.__dict__.get("_collected_before")
    if cached is not None:
        return cached
    keyed: dict[str, set[str]] = {}
    for state in flow.states:
        if isinstance(state.action, ir.Collect):
            keyed.setdefault(state.action.into, set()).update(_keyed_digits(state.action))
    before: dict[str, frozenset[str]] = {}
    start = flow.start.target
    if start in flow.state_map:
        before[start] = frozenset()
        work = [start]
        while work:  # a must-analysis: a variable counts only if every way in filled it
            name = work.pop()
            state = flow.state_map[name]
            overwritten = {a.name for a in state.sets}
            here = before[name] - overwritten
            for edge in edges(state):
                if edge.target not in flow.state_map:
                    continue
                filled = ({state.action.into} if isinstance(state.action, ir.Collect) and edge.label == "digits"
                          else set())
                out = frozenset((here | filled) - overwritten)
                known = before.get(edge.target)
                new = out if known is None else known & out
                if new != known:
                    before[edge.target] = new
                    work.append(edge.target)
    result = {name: {v: tuple(sorted(keyed[v])) for v in names - {a.name for a in flow.state_map[name].sets}
                     if keyed.get(v)}
              for name, names in before.items()}
    object.__setattr__(flow, "_collected_before", result)
    return result


def _keyed_digits(collect: ir.Collect) -> set[str]:
    """A few digit strings this collection accepts: the shortest and longest, of different digits."""
    try:
        pattern = compile_pattern(collect.pattern) if collect.pattern else None
    except Exception:  # a bad pattern is reported by the menus check
        return set()
    found = set()
    for length in {max(collect.min_digits, 1), collect.max_digits}:
        for digits in ("1" * length, "0" * length, "9" * length, ("1234567890" * 4)[:length]):
            if pattern is None or pattern.fullmatch(digits):
                found.add(digits)
    return found


def constant_values(flow: ir.Flow) -> dict[str, set[str]]:
    """The variables that only ever hold constants the flow wrote (a default, `set` of plain text), with them."""
    return {name: set(values) for name, values in _choices(flow).items() if values is not _TEXT}
