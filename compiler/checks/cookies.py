"""The cookie budget: prove that the call's state never exceeds Sinch's 1024 bytes, state by state."""
from __future__ import annotations

from typing import Iterator

from jinja2 import TemplateSyntaxError

from .. import cookies, ir, walk
from ..diagnostics import Diagnostic
from ..graph import edges, error_target
from ..loader import Document
from ..templates import template_references


def assigned(state: ir.State) -> set[str]:
    """Variables a state writes: its `set` entries (not locale, which rides in the state cookie),
    and a repeat state's count."""
    written = {a.name for a in state.sets if a.name != "locale"}
    if isinstance(state.action, ir.Repeat):
        written.add(cookies.counter(state.name))
    return written


def counter_bounds(flow: ir.Flow) -> dict[str, int]:
    return {cookies.counter(s.name): cookies.COUNTER_MAX for s in flow.states if isinstance(s.action, ir.Repeat)}


def _filled(state: ir.State) -> set[str]:
    """Variables a state's own action fills on the way out: a collection's digits, a request's saved fields.

    Counted on every exit, the failure ones too: the budget is an upper bound."""
    if isinstance(state.action, ir.Collect):
        return {state.action.into}
    if isinstance(state.action, ir.Request):
        return {save.variable for save in state.action.save}
    return set()


def carried_call_fields(flow: ir.Flow) -> list[str]:
    """Call fields (caller, called) that some template uses, so they must outlive the ICE.

    Uses the template check's parses (cached by source) and is kept on the flow: the budget and
    the machine builder both ask."""
    cached = flow.__dict__.get("_carried")
    if cached is None:
        used: set[str] = set()
        for kind, text in walk.texts(flow):
            if kind in ("audio", "file") or "call" not in text.source:
                continue
            try:
                refs = template_references(kind, text.source)
            except (TemplateSyntaxError, RecursionError):
                continue  # reported by the template check
            used |= {ref.name for ref in refs if ref.kind == "call-field"}
        cached = sorted(used & set(cookies.CALL_KEYS))
        object.__setattr__(flow, "_carried", cached)
    return cached


def variable_bounds(flow: ir.Flow) -> dict[str, int]:
    bounds = {name: c.max_digits for name, c in walk.collected(flow).items()}
    bounds.update({v.name: v.max_length for v in flow.variables})
    return bounds


def budget(flow: ir.Flow) -> dict[str, tuple[int, list[str]]]:
    """For each reachable state: the most cookie bytes a call can hold there, and the variables counted.

    Computed once per flow (the checks and the machine builder both need it)."""
    cached = flow.__dict__.get("_budget")
    if cached is None:
        cached = _budget(flow)
        object.__setattr__(flow, "_budget", cached)
    return cached


def _budget(flow: ir.Flow) -> dict[str, tuple[int, list[str]]]:
    if flow.start.target not in flow.state_map:
        return {}
    # Forward data flow: variables that may have been written before entering each state.
    # An outbound callout may give a value for any declared variable before the start state runs,
    # and the runtime stores each one in a cookie; inbound calls start with none written.
    initial = {v.name for v in flow.variables} if flow.outbound is not None else set()
    before: dict[str, set[str]] = {flow.start.target: initial}
    failed = error_target(flow)
    if failed is not None:
        # The error path can be taken anywhere, with whatever the call has written by then.
        before[failed] = before.get(failed, set()) | set(variable_bounds(flow)) | set(counter_bounds(flow))
    work = list(before)
    while work:
        name = work.pop()
        state = flow.state_map[name]
        written = before[name] | assigned(state)
        for edge in edges(state):
            target = edge.target
            if target is None or target not in flow.state_map:
                continue
            carried = written | _filled(state)
            if target not in before or not carried <= before[target]:
                before[target] = before.get(target, set()) | carried
                work.append(target)
    bounds = {**variable_bounds(flow), **counter_bounds(flow)}
    locale_max = max(len(loc) for loc in flow.locales)
    carried_bound = sum(cookies.call_cookie_bound(f) for f in carried_call_fields(flow))
    result = {}
    for name, seen in before.items():
        variables = sorted((seen | assigned(flow.state_map[name])) & set(bounds))
        total = cookies.state_cookie_bound(flow.id, name, locale_max) + cookies.mac_cookie_bound() + carried_bound
        total += sum(cookies.var_cookie_bound(v, bounds[v]) for v in variables)
        if flow.outbound is not None and flow.outbound.amd:
            total += cookies.amd_cookie_bound()
        result[name] = (total, variables)
    return result


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    per_state = budget(flow)
    bounds = {**variable_bounds(flow), **counter_bounds(flow)}
    for state in flow.states:
        total, variables = per_state.get(state.name, (0, []))
        if total > cookies.LIMIT:
            biggest = sorted(variables, key=lambda v: -bounds[v])[:3]
            yield Diagnostic(
                "IVR070",
                f"in state '{state.name}' the call's cookies could reach {total} bytes; Sinch keeps at most {cookies.LIMIT}",
                doc.span(state.path, key=True),
                help="the largest variables here are " + ", ".join(f"{v} ({bounds[v]} bytes)" for v in biggest)
                     + "; lower their max_length")
            return  # one report is enough: the same variables overflow every later state
