"""Turns a machine's prompts and SVAML skeletons into the SVAML of one answer, for one call."""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ivrc.compiler import destinations
from ivrc.compiler.compiled import (
    DESTINATION,
    ENV,
    LOCALE,
    PLACEHOLDERS,
    PROMPT,
    PROMPT_IDS,
    TEXT,
    Machine,
    Part,
    Request,
)
from ivrc.compiler.hours import is_open as schedule_open
from ivrc.compiler.hours import zone
from ivrc.compiler.svaml import TTS_LIMIT
from ivrc.compiler.templates import environment

from .reuse import Walked, remember


class StepError(Exception):
    """Something in this call's step cannot be done; the caller gets the flow's error path."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Templates:
    """Every template of one machine, compiled once when the machine is loaded."""

    texts: dict[tuple[str, str], Any] = field(default_factory=dict)  # (kind, source) -> Template
    conditions: dict[str, Any] = field(default_factory=dict)  # expression -> callable
    # Skeletons whose filling depends only on the locale are filled once per locale: most
    # answers are then assembled from ready parts. Keyed by the skeleton's id; the skeleton is
    # kept in the value so its id cannot be reused while the entry lives.
    filled: dict[tuple[int, str], tuple[Any, Any]] = field(default_factory=dict)
    static: dict[int, tuple[Any, bool]] = field(default_factory=dict)
    played: dict[tuple[str, str], Any] = field(default_factory=dict)
    # A skeleton that renders for each call is filled along the paths to its placeholders only:
    # its shape (which parts hold placeholders) is found once, its other parts filled once per locale.
    shapes: dict[int, tuple[Any, Any]] = field(default_factory=dict)  # id -> (skeleton, shape)
    parts: dict[tuple[int, str], tuple[Any, Any]] = field(default_factory=dict)  # (id, locale) -> (part, filled)
    # Answers' parts that are the same in every call, and the walks made of them (reuse.py).
    fixed: dict[int, list[Any]] = field(default_factory=dict)
    walks: dict[tuple[str, str], Walked] = field(default_factory=dict)

    def text(self, kind: str, source: str):
        key = (kind, source)
        template = self.texts.get(key)
        if template is None:
            template = self.texts[key] = environment(kind).from_string(source)
        return template

    def condition(self, expression: str):
        compiled = self.conditions.get(expression)
        if compiled is None:
            compiled = self.conditions[expression] = environment("plain").compile_expression(expression)
        return compiled

    @classmethod
    def for_machine(cls, machine: Machine) -> "Templates":
        templates = cls()
        for prompt in machine.prompts.values():
            for parts in prompt.values():
                for part in parts:
                    if part.render:
                        templates.text(part.kind, part.text)
        for state in machine.states.values():
            for case in getattr(state, "cases", ()):
                if case.condition is not None:
                    templates.condition(case.condition)
            for assignment in state.sets:
                if assignment.render:
                    templates.text("plain", assignment.value)
            if isinstance(state, Request):
                templates.request(state)
            for source in _placeholder_texts(state.action):
                templates.text("plain", source)
        return templates

    def request(self, state: Request) -> None:
        """Compiles a request's templates now, so a call never waits for Jinja's parser."""
        for is_expression, text in state.url_pieces:
            if is_expression:
                self.condition(text)
        strings = [*state.query.values(), *state.headers.values()]
        body = [state.body]
        while body:
            value = body.pop()
            if isinstance(value, str):
                strings.append(value)
            elif isinstance(value, dict):
                body.extend(value.values())
            elif isinstance(value, list):
                body.extend(value)
        for source in strings:
            self.text("plain", source)


@dataclass
class Context:
    """What templates see: call data, variables, the locale and the time in the flow's zone."""

    machine: Machine
    templates: Templates
    call: dict[str, str]
    variables: dict[str, str]
    locale: str
    now: datetime.datetime  # aware, UTC
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def names(self) -> dict[str, Any]:
        hours = self.machine.hours

        def is_open(name: str) -> bool:
            schedule = hours.get(name)
            if schedule is None:
                raise StepError("template", f"is_open('{name}'): no such schedule")
            return schedule_open(schedule.weekly, schedule.holidays, schedule.timezone, self.now, schedule.dates)

        return {
            **self.variables,
            "call": dict(self.call),
            "locale": self.locale,
            "now": self.now.astimezone(zone(self.machine.timezone)),
            "is_open": is_open,
        }

    def render(self, kind: str, source: str) -> str:
        try:
            return self.templates.text(kind, source).render(self.names())
        except StepError:
            raise
        except Exception as err:  # template errors of every kind end in the error path
            raise StepError("template", f"template failed: {type(err).__name__}: {err}") from None

    def evaluate(self, expression: str) -> Any:
        """The value of an expression (a URL part of a request, say)."""
        try:
            return self.templates.condition(expression)(**self.names())
        except StepError:
            raise
        except Exception as err:
            raise StepError("template", f"expression {expression!r} failed: {type(err).__name__}: {err}") from None

    def test(self, expression: str) -> bool:
        try:
            return bool(self.templates.condition(expression)(**self.names()))
        except StepError:
            raise
        except Exception as err:
            raise StepError("template", f"condition {expression!r} failed: {type(err).__name__}: {err}") from None

    def destination(self, kind: str, template: str) -> str:
        """A transfer's number or SIP address for this call; one Sinch could not dial is a StepError
        ("destination"), never a malformed connectPstn."""
        value = self.render("plain", template).strip()
        if not destinations.valid(kind, value):
            raise StepError("destination", f"the transfer's {kind} {value[:80]!r} (from {template!r}) is not "
                                           f"{destinations.WHAT[kind]}")
        return value

    # prompts

    def prompt_parts(self, prompt_id: str) -> list[str]:
        """A prompt as Sinch prompt-string parts (#tts[...], #ssml[...], a URL, a file id)."""
        prompt = self.machine.prompts.get(prompt_id)
        if prompt is None:
            raise StepError("machine", f"prompt '{prompt_id}' is missing from the machine")
        parts = prompt.get(self.locale) or prompt.get("*") or prompt.get(self.machine.locale)
        if parts is None:
            raise StepError("machine", f"prompt '{prompt_id}' has no text for {self.locale}")
        out: list[str] = []
        for part in parts:
            if part.kind == "tts":
                text = self.render("tts", part.text) if part.render else part.text
                out.extend(f"#tts[{chunk}]" for chunk in _chunks(text.strip(), TTS_LIMIT) if chunk)
            elif part.kind == "ssml":
                text = self.render("ssml", part.text) if part.render else part.text
                out.append(f"#ssml[{text.strip()}]")
            elif part.kind == "audio":
                out.append(f"#href[{part.text}]")
            else:
                out.append(part.text)
        return out

    def fill_static(self, skeleton: Any) -> Any:
        """fill() for a skeleton that belongs to the machine: cached per locale when nothing in it renders."""
        key = id(skeleton)
        known = self.templates.static.get(key)
        if known is None:
            known = self.templates.static[key] = (skeleton, _is_static(skeleton, self.machine.prompts))
        if not known[1]:
            shaped = self.templates.shapes.get(key)
            if shaped is None:
                shaped = self.templates.shapes[key] = (skeleton, _shape(skeleton, self.machine.prompts))
            return self._fill_shape(shaped[1])
        hit = self.templates.filled.get((key, self.locale))
        if hit is None:
            hit = self.templates.filled[(key, self.locale)] = (skeleton, self.fill(skeleton))
            remember(self.templates.fixed, hit[1])
        return hit[1]

    def is_fixed(self, skeleton: Any) -> bool:
        """Whether fill_static gave `skeleton` the same value it gives every call in this locale."""
        known = self.templates.static.get(id(skeleton))
        return known is not None and known[0] is skeleton and known[1]

    def plays_fixed(self, prompt_id: str) -> bool:
        """Whether play() gives every call in this locale the same instruction for the prompt."""
        return (prompt_id, self.locale) in self.templates.played

    def play(self, prompt_id: str) -> dict:
        """A playFiles instruction for a prompt, built once per locale unless the prompt renders."""
        key = (prompt_id, self.locale)
        hit = self.templates.played.get(key)
        if hit is not None:
            return hit
        instruction = {"name": "playFiles", "ids": self.prompt_parts(prompt_id), "locale": self.locale}
        if not _renders(self.machine.prompts.get(prompt_id, {})):
            self.templates.played[key] = instruction
            remember(self.templates.fixed, instruction)
        return instruction

    def _fill_shape(self, shape: tuple[int, Any]) -> Any:
        """fill() of a skeleton by its shape: what holds no placeholder is shared, filled once per locale.

        The result is what fill() gives, in the same order (so the same template fails first); its
        shared parts are never changed by anyone (nothing changes an answer once it is made)."""
        kind, node = shape
        if kind == _PLACEHOLDER:
            return self.fill(node)
        if kind == _DICT:
            return {key: self._fill_part(how, value) for key, how, value in node}
        return [self._fill_part(how, value) for how, value in node]

    def _fill_part(self, how: int, value: Any) -> Any:
        if how == _AS_IS:
            return value
        if how == _SHAPED:
            return self._fill_shape(value)
        key = (id(value), self.locale)
        hit = self.templates.parts.get(key)
        if hit is None:
            hit = self.templates.parts[key] = (value, self.fill(value))
        return hit[1]

    def fill(self, skeleton: Any) -> Any:
        """Replaces the compiler's placeholders with this call's values."""
        if isinstance(skeleton, dict):
            if len(skeleton) == 1:
                (key, value), = skeleton.items()
                if key == PROMPT:
                    ids = value if isinstance(value, (list, tuple)) else [value]
                    return ";".join(part for prompt_id in ids for part in self.prompt_parts(prompt_id))
                if key == PROMPT_IDS:
                    return self.prompt_parts(value)
                if key == LOCALE:
                    return self.locale
                if key == TEXT:
                    return self.render("plain", value)
                if key == ENV:
                    found = self.env.get(value)
                    if not found:
                        raise StepError("config", f"environment variable {value} is not set on the server")
                    return found
                if key == DESTINATION:
                    return self.destination(value["kind"], value["template"])
            return {k: self.fill(v) for k, v in skeleton.items()}
        if isinstance(skeleton, (list, tuple)):  # typed machines keep instruction lists as tuples
            return [self.fill(item) for item in skeleton]
        return skeleton


def _placeholder_texts(skeleton: Any) -> list[str]:
    """The templates of {"$text": ...} placeholders anywhere in a skeleton (a call header's value, say)."""
    found: list[str] = []
    stack = [skeleton]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if len(node) == 1 and TEXT in node:
                found.append(node[TEXT])
            else:
                stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def _renders(prompt: Mapping[str, tuple[Part, ...]]) -> bool:
    return any(part.render for parts in prompt.values() for part in parts)


def _is_static(skeleton: Any, prompts: Mapping[str, Mapping[str, tuple[Part, ...]]]) -> bool:
    """True when filling the skeleton depends on nothing but the locale.

    An {"$env": NAME} is not static: engines with environments of their own (each flow-test scenario's,
    say) share a library, and so these caches; a value kept for one would be served to another."""
    if isinstance(skeleton, dict):
        if len(skeleton) == 1:
            (key, value), = skeleton.items()
            if key in (PROMPT, PROMPT_IDS):
                ids = value if isinstance(value, (list, tuple)) else [value]
                return not any(_renders(prompts.get(prompt_id, {})) for prompt_id in ids)
            if key in (TEXT, DESTINATION, ENV):
                return False
        return all(_is_static(v, prompts) for v in skeleton.values())
    if isinstance(skeleton, (list, tuple)):
        return all(_is_static(v, prompts) for v in skeleton)
    return True


# How _shape describes a skeleton and each of its parts.
_PLACEHOLDER, _DICT, _LIST = 0, 1, 2  # a skeleton: a placeholder, or a dict or list holding one
_AS_IS, _SHARED, _SHAPED = 0, 1, 2  # a part: a plain value, filled once per locale, filled per call


def _shape(skeleton: Any, prompts: Mapping[str, Mapping[str, tuple[Part, ...]]]) -> tuple[int, Any]:
    """Where a skeleton that is not static (_is_static) holds the placeholders filled for each call."""
    if isinstance(skeleton, dict):
        if len(skeleton) == 1 and next(iter(skeleton)) in PLACEHOLDERS:
            return _PLACEHOLDER, skeleton
        return _DICT, tuple((key, *_part(value, prompts)) for key, value in skeleton.items())
    return _LIST, tuple(_part(item, prompts) for item in skeleton)


def _part(value: Any, prompts: Mapping[str, Mapping[str, tuple[Part, ...]]]) -> tuple[int, Any]:
    if not isinstance(value, (dict, list, tuple)):
        return _AS_IS, value  # fill() gives a plain value back as it is
    if _is_static(value, prompts):
        return _SHARED, value
    return _SHAPED, _shape(value, prompts)


def _chunks(text: str, limit: int) -> list[str]:
    """Splits long rendered text at spaces so each part stays within Sinch's limit."""
    if len(text) <= limit:
        return [text]
    chunks, rest = [], text
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        chunks.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    chunks.append(rest)
    return chunks


Clock = Callable[[], datetime.datetime]


def system_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
