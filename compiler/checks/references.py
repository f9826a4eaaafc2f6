"""Names that must exist: states, catalogue prompts, variables, and the shape of branches."""
from __future__ import annotations

from typing import Iterator

from .. import ir, walk
from ..diagnostics import Diagnostic, Related, did_you_mean
from ..graph import edges
from ..loader import Document
from .prompts import _replace_tags


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    states = flow.state_map
    if flow.start.target not in states:
        yield Diagnostic("IVR020", f"the start state '{flow.start.target}' is not defined" + _hint(flow.start.target, states),
                         doc.span(flow.start.path), help=None if _hint(flow.start.target, states) else did_you_mean(flow.start.target, states, "states"))
    for state in flow.states:
        for edge in edges(state):
            if edge.ref is not None and edge.target is not None and edge.target not in states:  # an edge with a ref has its target
                yield Diagnostic("IVR020", f"state '{edge.target}' is not defined" + _hint(edge.target, states),
                                 doc.span(edge.ref.path), help=None if _hint(edge.target, states) else did_you_mean(edge.target, states, "states"),
                                 related=(Related(doc.span(state.path, key=True), f"in state '{state.name}'"),))
        # handler gotos without say are edges too; edges() covers them.
        if isinstance(state.action, ir.Branch):
            yield from _branch(state, doc)
    catalogue = flow.prompt_map
    for prompt in walk.prompts(flow):
        if prompt.ref is not None and prompt.ref not in catalogue:
            yield Diagnostic("IVR021", f"prompt '{prompt.ref}' is not in the catalogue",
                             doc.span(prompt.path + ("prompt",)), help=did_you_mean(prompt.ref, catalogue, "prompts"))
    yield from _variables(flow, doc)


def _branch(state: ir.State, doc: Document) -> Iterator[Diagnostic]:
    assert isinstance(state.action, ir.Branch)  # check() calls this for branch states only
    cases = state.action.cases
    elses = [i for i, c in enumerate(cases) if c.condition is None]
    if not elses:
        yield Diagnostic("IVR024", f"the branch in state '{state.name}' has no else case",
                         doc.span(state.path + ("branch",), key=True),
                         help="add `- else: STATE` as the last case, for calls that match no condition")
    for i in elses:
        if i != len(cases) - 1:
            yield Diagnostic("IVR024", f"in state '{state.name}', `else` must be the last case: the cases after it never run",
                             doc.span(state.path + ("branch", i)), help="move the else case to the end")


def _variables(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    declared = flow.variable_map
    collected = walk.collected(flow)
    for state in flow.states:
        action = state.action
        if isinstance(action, ir.Collect):
            var = declared.get(action.into)
            if var is not None and var.max_length < action.max_digits:
                yield Diagnostic("IVR073", f"'{action.into}' holds at most {var.max_length} bytes, but this collects up to "
                                           f"{action.max_digits} digits", doc.span(action.path + ("max_digits",)),
                                 related=(Related(doc.span(var.path, key=True), f"'{var.name}' declared here"),),
                                 help=f"raise max_length of '{var.name}' to {action.max_digits}")
        for assignment in state.sets:
            name, value = assignment.name, assignment.value
            if name == "locale":
                if not value.is_template and value.source not in flow.locales:
                    yield Diagnostic("IVR072", f"'{value.source}' is not one of the flow's locales ({', '.join(flow.locales)})",
                                     doc.span(assignment.path), help=did_you_mean(value.source, flow.locales, "locales")
                                     or "add it to `locales:`")
                continue
            var = declared.get(name)
            if var is None:
                if name in collected:
                    continue
                yield Diagnostic("IVR071", f"variable '{name}' is set but not declared",
                                 doc.span(assignment.path, key=True),
                                 help=f"declare it under `variables:`, e.g. {name}: {{max_length: 32}}")
            elif not value.is_template and len(value.source.encode()) > var.max_length:
                yield Diagnostic("IVR073", f"the value is {len(value.source.encode())} bytes; '{name}' holds at most {var.max_length}",
                                 doc.span(assignment.path), related=(Related(doc.span(var.path, key=True), f"'{name}' declared here"),),
                                 help=f"raise max_length of '{name}' to {len(value.source.encode())}, or shorten the value")
            elif value.is_template and len((fixed := _replace_tags(value.source, "")).encode()) > var.max_length:
                # What a call fills in is cut to fit at run time; the fixed text alone never fits.
                yield Diagnostic("IVR073", f"the value's fixed text alone is {len(fixed.encode())} bytes; '{name}' holds "
                                           f"at most {var.max_length}",
                                 doc.span(assignment.path), related=(Related(doc.span(var.path, key=True), f"'{name}' declared here"),),
                                 help=f"raise max_length of '{name}' to {len(fixed.encode())}, or shorten the fixed text")
    for var in flow.variables:
        if len(var.default.encode()) > var.max_length:
            size = len(var.default.encode())
            yield Diagnostic("IVR073", f"the default of '{var.name}' is {size} bytes; '{var.name}' holds at most "
                                       f"{var.max_length}", doc.span(var.path + ("default",)),
                             help=f"raise max_length to {size}, or shorten the default (sizes are bytes of UTF-8: "
                                  "å and é take two)")


def _hint(word: str, names) -> str:
    """The suggestion in the message itself, so one line says what was meant."""
    from ..diagnostics import suggest

    best = suggest(word, names)
    return f"; did you mean '{best}'?" if best else ""
