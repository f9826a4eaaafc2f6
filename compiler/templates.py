"""Jinja2 for prompts and conditions: one sandboxed, strict environment, and what a template refers to."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

# Names every template may use, besides the flow's variables.
RESERVED = ("call", "now", "is_open", "locale")
CALL_FIELDS = ("caller", "called", "callid", "amd", "custom")


@lru_cache(maxsize=2)
def environment(autoescape: bool = False) -> SandboxedEnvironment:
    """The environment prompts render in. SSML parts autoescape, so caller data stays data."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=False)


def condition_source(expression: str) -> str:
    """Conditions are expressions; parse them wrapped so errors and names come from one parser."""
    return "{{ (" + expression + ") }}"


@dataclass(frozen=True)
class Reference:
    """A name a template uses: a bare name, call.FIELD, or is_open('SCHEDULE')."""

    kind: str  # "name", "call-field", "schedule", "bad-schedule-arg"
    name: str
    lineno: int


def parse(source: str) -> nodes.Template:
    """Parses a template; raises TemplateSyntaxError."""
    return environment().parse(source)


def references(tree: nodes.Template) -> Iterator[Reference]:
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in assigned:
            yield Reference("name", node.name, node.lineno)
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "call" and node.attr not in CALL_FIELDS:
            yield Reference("call-field", node.attr, node.lineno)
    for node in tree.find_all(nodes.Call):
        if isinstance(node.node, nodes.Name) and node.node.name == "is_open":
            if len(node.args) == 1 and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str):
                yield Reference("schedule", node.args[0].value, node.lineno)
            else:
                yield Reference("bad-schedule-arg", "", node.lineno)


def syntax_error(source: str) -> TemplateSyntaxError | None:
    try:
        parse(source)
    except TemplateSyntaxError as err:
        return err
    return None
