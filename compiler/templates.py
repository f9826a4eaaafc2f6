"""Jinja2 for prompts and conditions: one sandboxed, strict environment, and what a template refers to."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from jinja2 import StrictUndefined, nodes

from .sandbox import BoundedEnvironment

# Names every template may use, besides the flow's variables.
RESERVED = ("call", "now", "is_open", "locale")
CALL_FIELDS = ("caller", "called", "callid", "amd", "custom")


# Characters Sinch gives meaning to inside prompt strings (#tts[...], parts joined by ';'), plus
# markup for SSML. A value interpolated into a prompt may come from a caller, so it loses them all.
# Angle brackets go in plain TTS too: Sinch does not document how #tts[] treats markup such as a
# caller's "<speak>", and a speech engine that sniffs for SSML must never see one from a caller.
_PROMPT_SPECIALS = str.maketrans({"[": " ", "]": " ", ";": ",", "<": " ", ">": " ", "\n": " ", "\r": " "})
_SSML_SPECIALS = str.maketrans({"[": " ", "]": " ", ";": ",", "<": " ", ">": " ", "&": " and ", '"': " ", "'": " ",
                                "\n": " ", "\r": " "})


# What XML 1.0 forbids in a document (C0 controls but tab and line breaks, lone surrogates,
# U+FFFE and U+FFFF): a caller id holding NUL, ESC, BEL, VT or FF made the SSML ill-formed, and a
# lone surrogate cannot even be encoded as UTF-8. Speech has no use for them in TTS either.
_NOT_SPEAKABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _as_prompt_text(value: object) -> str:
    return _NOT_SPEAKABLE.sub("", ("" if value is None else str(value)).translate(_PROMPT_SPECIALS))


def _as_ssml_text(value: object) -> str:
    return _NOT_SPEAKABLE.sub("", ("" if value is None else str(value)).translate(_SSML_SPECIALS))


@lru_cache(maxsize=4)
def environment(kind: str = "plain") -> BoundedEnvironment:
    """The sandboxed, strict environment a template renders in, with bounded work (see sandbox.py).

    kind "tts" and "ssml": every {{ value }} is neutralised (see _PROMPT_SPECIALS), so caller
    data can never close a prompt part, start another, or inject markup. "plain": conditions
    and `set` values, whose results are data and never markup.
    """
    finalize = {"tts": _as_prompt_text, "ssml": _as_ssml_text}.get(kind)
    kwargs = {"finalize": finalize} if finalize else {}
    return BoundedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, **kwargs)


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
    for attribute in tree.find_all(nodes.Getattr):
        if isinstance(attribute.node, nodes.Name) and attribute.node.name == "call":
            yield Reference("call-field", attribute.attr, attribute.lineno)
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "is_open":
            if len(call.args) == 1 and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str):
                yield Reference("schedule", call.args[0].value, call.lineno)
            else:
                yield Reference("bad-schedule-arg", "", call.lineno)


@lru_cache(maxsize=4096)  # flows repeat their texts and conditions; parse each once per process
def template_references(kind: str, source: str) -> tuple[Reference, ...]:
    """What a template (or, with kind "condition", an expression) refers to.

    Raises TemplateSyntaxError (TemplateAssertionError for an unknown filter or test) or
    RecursionError. Every template is also compiled exactly as the runtime compiles it, since
    Jinja2 finds unknown filters only when compiling, and the runtime would fail there."""
    if kind == "condition":
        environment().compile_expression(source)
        return tuple(references(parse(condition_source(source))))
    environment().compile(source)
    return tuple(references(parse(source)))
