"""The compiler's front door: text or file in, diagnostics, IR and machine out."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import ir
from .checks import run_all
from .diagnostics import Diagnostic, suggestion_budget
from .loader import MAX_DIAGNOSTICS, Document, LoadResult, load_bytes, load_file, load_text
from .lower import lower
from .rootcause import fold
from .schema import check_schema
from .suppress import apply_comments
from .yamltraps import fold_consequences


@dataclass
class Result:
    """Everything the compiler learnt about one flow file."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    document: Document | None = None
    flow: ir.Flow | None = None
    machine: dict[str, Any] | None = None
    text: str | None = None  # the source, for showing lines even when it did not load

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def _check(loaded: LoadResult, file: str) -> Result:
    with suggestion_budget():
        result = _check_unsuppressed(loaded, file)
    # Only a flow that loaded and has the right shape can have findings waved through: hiding a
    # shape error would make a flow that cannot compile look clean.
    if result.flow is not None and result.document is not None:
        result.diagnostics = apply_comments(result.diagnostics, result.document.text)
    if len(result.diagnostics) > MAX_DIAGNOSTICS:
        # Errors are never the ones cut: a flow with an error must never look clean for its warnings' sake.
        errors = [d for d in result.diagnostics if d.is_error][:MAX_DIAGNOSTICS]
        others = [d for d in result.diagnostics if not d.is_error][:MAX_DIAGNOSTICS - len(errors)]
        result.diagnostics = sorted(errors + others, key=Diagnostic.sort_key)
    return result


def _check_unsuppressed(loaded: LoadResult, file: str) -> Result:
    result = Result(file, list(loaded.diagnostics), loaded.document, text=loaded.text)
    doc = loaded.document
    if doc is None:
        return result
    result.diagnostics.extend(check_schema(doc))
    result.diagnostics = fold(fold_consequences(result.diagnostics, doc.text))
    # Past a shape error the flow is not compiled. The later checks still run where the shape allows
    # (bad values; shape errors inside states, those states set aside), so one run reports what it can.
    if result.errors:
        if all(d.code in _VALUE_ERRORS for d in result.errors):
            result.diagnostics.extend(_checks_past_bad_values(doc, result.errors))
        else:
            result.diagnostics.extend(_checks_past_broken_states(doc, result.errors))
        result.diagnostics = fold(result.diagnostics)
        result.diagnostics.sort(key=Diagnostic.sort_key)
        return result
    result.flow = lower(doc)
    result.diagnostics.extend(run_all(result.flow, doc))
    result.diagnostics = fold(result.diagnostics)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


# Schema errors about a value (out of range, not matching its pattern) where every key and type is
# right: the flow's shape is sound, so the later checks can still run and report all at once.
_VALUE_ERRORS = frozenset({"IVR013", "IVR050", "IVR121", "IVR122"})


def _checks_past_bad_values(doc: Document, errors: list[Diagnostic]) -> list[Diagnostic]:
    """The later checks' findings on a flow whose only errors are bad values, except where those are
    (a finding on the same line is most likely the bad value's consequence). The flow is not compiled."""
    try:
        found = run_all(lower(doc), doc)
    except Exception:  # a bad value the lowering could not take: the value errors say enough
        return []
    taken = {(d.span.file, d.span.line) for d in errors}
    return [d for d in found if (d.span.file, d.span.line) not in taken]


# What depends on the paths through the flow (reachability, endings, loops, the callback a state runs in,
# the cookies on the way, what was collected before a template): with a state set aside, these would be
# about the stand-in.
_GRAPH_CODES = frozenset({"IVR030", "IVR031", "IVR032", "IVR033", "IVR060", "IVR070", "IVR083", "IVR144",
                          "IVR171", "IVR177"})


def _checks_past_broken_states(doc: Document, errors: list[Diagnostic]) -> list[Diagnostic]:
    """The later checks' findings on a flow whose shape errors all lie inside states (bad values may lie
    anywhere): each such state is set aside (a stand-in that hangs up keeps it a valid target), and
    nothing is said about it or about the paths through it. A shape error elsewhere (a variable, a
    prompt, the top level) leaves too much to guess: then nothing more is said, as before."""
    states = doc.data.get("states") if isinstance(doc.data, dict) else None
    if not isinstance(states, dict):
        return []
    blocks = {}
    for name in states:
        key, value = doc.key_spans.get(("states", name)), doc.value_spans.get(("states", name))
        if key is not None and value is not None:
            blocks[name] = (key.line, max(value.end_line, value.line))
    broken = set()
    for error in errors:
        if error.code in _VALUE_ERRORS:  # a bad value the lowering takes as it is (see _checks_past_bad_values)
            continue
        inside = [name for name, (first, last) in blocks.items() if first <= error.span.line <= last]
        if not inside:
            return []
        broken.update(inside)
    repaired = replace(doc, data={**doc.data, "states": {name: ({"hangup": True} if name in broken else body)
                                                          for name, body in states.items()}})
    try:
        found = run_all(lower(repaired), repaired)
    except Exception:  # a shape the lowering could not take even so: the shape errors say enough
        return []
    taken = {(d.span.file, d.span.line) for d in errors}
    kept = [d for d in found if (d.span.file, d.span.line) not in taken and d.code not in _GRAPH_CODES
            and not any(first <= d.span.line <= last for name, (first, last) in blocks.items() if name in broken)]
    return apply_comments(kept, doc.text)


def check_text(text: str, file: str = "<string>") -> Result:
    return _check(load_text(text, file), file)


def check_bytes(raw: bytes, file: str = "<stdin>") -> Result:
    return _check(load_bytes(raw, file), file)


def check_file(path: str) -> Result:
    return _check(load_file(path), path)


def _with_machine(result: Result) -> Result:
    if result.ok and result.flow is not None:
        from .machine import build

        result.machine = build(result.flow)
    return result


def compile_text(text: str, file: str = "<string>") -> Result:
    return _with_machine(check_text(text, file))


def compile_file(path: str) -> Result:
    return _with_machine(check_file(path))
