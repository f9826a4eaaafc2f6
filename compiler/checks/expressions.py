"""What templates do on a call: methods left uncalled, text compared with numbers, values a name never has."""
from __future__ import annotations

import datetime
from typing import Iterator, cast

from jinja2 import TemplateSyntaxError, nodes

from .. import ir, walk
from ..diagnostics import Diagnostic, did_you_mean
from ..loader import Document
from ..templates import CALL_FIELDS, RESERVED, condition_source, parse, template_references
from .samples import constant_values, first_failure

# Sinch's answering-machine verdicts (reference: the ACE event's amd.status), as call.amd holds them.
AMD_VALUES = ("human", "machine", "notsure", "hangup")

_NUMBER_ATTRS = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_METHODS = tuple(sorted(name for name in dir(datetime.datetime)
                        if not name.startswith("_") and callable(getattr(datetime.datetime, name))))
_NOW_ATTRS = _NUMBER_ATTRS + ("tzinfo", "fold") + _METHODS
_NUMBER_METHODS = ("weekday", "isoweekday", "timestamp", "toordinal")
_TEXT_METHODS = ("strftime", "isoformat", "ctime", "tzname")
_NUMBER_FILTERS = ("int", "float", "length", "count", "round", "sum", "abs", "wordcount")
_TEXT_FILTERS = ("string", "upper", "lower", "title", "capitalize", "trim", "replace", "format", "join",
                 "striptags", "truncate", "center", "indent", "wordwrap", "urlencode")
_ORDER = {"lt": "<", "gt": ">", "lteq": "<=", "gteq": ">="}
_EQUALITY = {"eq": "==", "ne": "!="}
# Python raises TypeError for these between text and a number; `*` and `%` mean repeat and format.
_ARITHMETIC = {nodes.Add: "+", nodes.Sub: "-", nodes.Div: "/", nodes.FloorDiv: "//", nodes.Pow: "**"}


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    text_names = set(flow.variable_map) | set(walk.collected(flow)) | {"locale"}
    amd_on = flow.outbound is not None and flow.outbound.amd
    for kind, text in walk.texts(flow):
        if kind not in ("tts", "ssml", "condition", "value") or (kind != "condition" and not text.is_template):
            continue
        try:
            tree = parse(condition_source(text.source) if kind == "condition" else text.source)
        except (TemplateSyntaxError, RecursionError):
            continue  # the template check reports it
        try:
            found = list(_Reader(text, doc, text_names, amd_on).read(tree))
            if not any(d.code == "IVR083" for d in found):  # one mistake, one error
                found += list(_sampled(kind, text, flow, doc))
        except RecursionError:
            continue  # too deep to walk: the template check reports it (IVR080)
        yield from found
    yield from _locale_switches(flow, doc)


def _sampled(kind: str, text: ir.Text, flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    try:
        refs = template_references(kind, text.source)
    except Exception:
        return  # the template check reports it
    known = set(RESERVED) | set(flow.variable_map) | set(walk.collected(flow))
    if any(ref.kind == "bad-schedule-arg" or (ref.kind == "name" and ref.name not in known)
           or (ref.kind == "call-field" and ref.name not in CALL_FIELDS)
           or (ref.kind == "schedule" and ref.name not in flow.schedule_map) for ref in refs):
        return  # an unknown name is reported as such (IVR081, IVR023): one mistake, one error
    reads = {ref.name if ref.kind == "name" else f"call.{ref.name}" for ref in refs if ref.kind in ("name", "call-field")}
    state = str(text.path[1]) if len(text.path) > 1 and text.path[0] == "states" else None
    failure = first_failure(kind, text.source, flow, reads, state)
    if failure is not None:
        what = "condition" if kind == "condition" else _value_kind(text.path) if kind == "value" else "prompt"
        yield Diagnostic("IVR083", f"this {what} fails {failure.describe()}: {failure.error}",
                         doc.locate(text.path, 1, None if kind == "condition" else "{{"),
                         help="a failing template sends the call to the error path; make it work for every value "
                              "the names can have (variables start empty, digits are text)")


_REQUEST_PARTS = {"url": "request URL", "query": "request query value", "headers": "request header",
                  "body": "request body value"}


def _value_kind(path: tuple) -> str:
    """A value template is a `set` value or a part of a request: name it as the author wrote it."""
    if "request" in path[:-1]:
        return _REQUEST_PARTS.get(str(path[path.index("request") + 1]), "request value")
    return "`set` value"


class _Reader:
    """Infers what each part of one template is (text, number, a time, a method) and reports misuse."""

    def __init__(self, text: ir.Text, doc: Document, text_names: set[str], amd_on: bool) -> None:
        self.text, self.doc, self.text_names, self.amd_on = text, doc, text_names, amd_on

    def span(self, node: nodes.Node, needle: str | None):
        return self.doc.locate(self.text.path, node.lineno or 1, needle)

    def read(self, tree: nodes.Template) -> Iterator[Diagnostic]:
        called = {id(call.node) for call in tree.find_all(nodes.Call)}
        for node in tree.find_all(nodes.Getattr):
            if self.kind(node.node) != "time":
                if _is_call_field(node, "amd") and not self.amd_on:
                    yield Diagnostic("IVR085", "call.amd is always empty here: this flow does not ask Sinch for "
                                               "answering-machine detection", self.span(node, "amd"),
                                     help="answering-machine detection needs an outbound flow with "
                                          "`outbound: {amd: true}`; remove the test of call.amd otherwise")
                continue
            if node.attr not in _NOW_ATTRS:
                yield Diagnostic("IVR083", f"now has no attribute '{node.attr}'", self.span(node, node.attr),
                                 help=did_you_mean(node.attr, _NOW_ATTRS, "attributes")
                                 or "now is a date and time: now.hour, now.minute, now.weekday() and so on")
            elif node.attr in _METHODS and id(node) not in called:
                yield Diagnostic("IVR083", f"now.{node.attr} is a method, so it must be called: now.{node.attr}()",
                                 self.span(node, node.attr),
                                 help=f"write now.{node.attr}(); without the brackets it is the method itself, "
                                      "which cannot be compared or spoken")
        for comparison in tree.find_all(nodes.Compare):
            left = comparison.expr
            for operand in comparison.ops:
                yield from self.compare(left, operand)
                left = operand.expr
        for op_type, symbol in _ARITHMETIC.items():
            for binary in tree.find_all(op_type):
                kinds = {self.kind(binary.left), self.kind(binary.right)}
                if kinds == {"text", "number"}:
                    yield Diagnostic("IVR083", f"`{symbol}` between text and a number fails on every call",
                                     self.span(binary, None),
                                     help="variables and call fields are text: convert with `| int` first, "
                                          "e.g. (count | int) + 1")

    def compare(self, left: nodes.Node, operand: nodes.Operand) -> Iterator[Diagnostic]:
        right = operand.expr
        kinds = (self.kind(left), self.kind(right))
        if operand.op in _ORDER and set(kinds) == {"text", "number"}:
            name = _describe(left if kinds[0] == "text" else right)
            yield Diagnostic("IVR083", f"`{_ORDER[operand.op]}` compares {name}, which is text, with a number: "
                                       "this fails on every call", self.span(left, _needle(left)),
                             help=f"convert it first: ({name} | int) {_ORDER[operand.op]} ...")
        elif operand.op in _ORDER and "time" in kinds and kinds != ("time", "time"):
            yield Diagnostic("IVR083", f"`{_ORDER[operand.op]}` compares now, a date and time, with something else",
                             self.span(left, _needle(left)), help="compare a part of it: now.hour, now.weekday()")
        elif operand.op in _EQUALITY and set(kinds) == {"text", "number"}:
            name = _describe(left if kinds[0] == "text" else right)
            verdict = "never true" if operand.op == "eq" else "always true"
            yield Diagnostic("IVR084", f"{name} is text, so `{_EQUALITY[operand.op]}` with a number is {verdict}",
                             self.span(left, _needle(left)),
                             help=f"compare with text in quotes, e.g. {name} {_EQUALITY[operand.op]} \"1\", "
                                  f"or convert: ({name} | int)")
        elif operand.op in _EQUALITY | {"in": "in"}:
            amd, other = (left, right) if _is_call_field(left, "amd") else (right, left)
            if _is_call_field(amd, "amd"):
                values = _constants(other)
                for value in values or ():
                    if value not in AMD_VALUES:
                        yield Diagnostic("IVR084", f"call.amd is never {value!r}", self.span(other, str(value)),
                                         help=did_you_mean(str(value), AMD_VALUES, "values")
                                         or "call.amd is one of " + ", ".join(AMD_VALUES))

    def kind(self, node: nodes.Node) -> str | None:
        """'text', 'number', 'bool', 'time', 'method' or None when it cannot be told."""
        if isinstance(node, nodes.Const):
            value = node.value
            if isinstance(value, bool):
                return "bool"
            return "text" if isinstance(value, str) else "number" if isinstance(value, (int, float)) else None
        if isinstance(node, nodes.Name):
            return "time" if node.name == "now" else "text" if node.name in self.text_names else None
        if isinstance(node, nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name == "call":
                return "text"
            if self.kind(node.node) == "time":
                return ("number" if node.attr in _NUMBER_ATTRS else "method" if node.attr in _METHODS else None)
            return None
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and self.kind(node.node.node) == "time":
            attr = node.node.attr
            return "number" if attr in _NUMBER_METHODS else "text" if attr in _TEXT_METHODS else None
        if isinstance(node, nodes.Filter):
            if node.name in _NUMBER_FILTERS:
                return "number"
            if node.name in _TEXT_FILTERS:
                return "text"
            return self.kind(node.node) if node.name in ("default", "d") and node.node is not None else None
        if isinstance(node, nodes.Concat):
            return "text"
        if isinstance(node, (nodes.Compare, nodes.And, nodes.Or, nodes.Not, nodes.Test)):
            return "bool"
        if isinstance(node, (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)):
            kinds = {self.kind(node.left), self.kind(node.right)}
            return "number" if kinds == {"number"} else None
        if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
            a, b = self.kind(node.expr1), self.kind(node.expr2)
            return a if a == b else None
        return None


def _is_call_field(node: nodes.Node, field: str) -> bool:
    return (isinstance(node, nodes.Getattr) and node.attr == field
            and isinstance(node.node, nodes.Name) and node.node.name == "call")


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}.{node.attr}"
    return "the value"


def _needle(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return node.attr
    return None


def _constants(node: nodes.Node) -> tuple | None:
    """The constant values of a literal, or of a literal list or tuple (for `in`); None otherwise."""
    if isinstance(node, nodes.Const):
        return (node.value,)
    if isinstance(node, (nodes.List, nodes.Tuple)) and all(isinstance(item, nodes.Const) for item in node.items):
        return tuple(cast(nodes.Const, item).value for item in node.items)
    return None


def _possible(node: nodes.Node, locales: tuple[str, ...], constants: dict[str, set[str]]) -> set[str] | None:
    """Every text an expression can give, when that can be told from the flow: constants, the
    locale, and variables the flow only ever sets to constants."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, nodes.Name) and node.name == "locale":
        return set(locales)
    if isinstance(node, nodes.Name) and node.name in constants:
        return constants[node.name]
    if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
        a, b = _possible(node.expr1, locales, constants), _possible(node.expr2, locales, constants)
        return None if a is None or b is None else a | b
    return None


def _locale_switches(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    """A templated `set: {locale: ...}` must give one of the flow's locales on every call, or the call fails."""
    for state in flow.states:
        for assignment in state.sets:
            if assignment.name != "locale" or not assignment.value.is_template:
                continue
            try:
                tree = parse(assignment.value.source)
            except (TemplateSyntaxError, RecursionError):
                continue
            outputs = list(tree.body)
            values = None
            if len(outputs) == 1 and isinstance(outputs[0], nodes.Output) and len(outputs[0].nodes) == 1:
                values = _possible(outputs[0].nodes[0], flow.locales, constant_values(flow))
            if values is None:
                yield Diagnostic("IVR072", "ivrc cannot tell that this locale is always one of the flow's locales "
                                           f"({', '.join(flow.locales)}); any other value fails the call",
                                 doc.span(assignment.path),
                                 help="choose the language with a branch, and give each case a state with "
                                      "a constant, e.g. `set: {locale: sv-SE}`")
                continue
            for value in sorted(values - set(flow.locales)):
                held = "" if value in assignment.value.source else ", a value the variable it reads is set to,"
                yield Diagnostic("IVR072", f"'{value}'{held} is not one of the flow's locales ({', '.join(flow.locales)})",
                                 doc.locate(assignment.value.path, 1, value),
                                 help=did_you_mean(value, flow.locales, "locales") or "add it to `locales:`")
