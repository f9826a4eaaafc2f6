"""Turns a machine's prompts and SVAML skeletons into the SVAML of one answer, for one call."""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from compiler.hours import is_open as schedule_open, zone
from compiler.templates import environment

TTS_LIMIT = 600  # Sinch speaks at most this many characters per text part


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
    def for_machine(cls, machine: Mapping[str, Any]) -> "Templates":
        templates = cls()
        for prompt in machine["prompts"].values():
            for parts in prompt.values():
                for part in parts:
                    if part.get("render"):
                        kind = "ssml" if "ssml" in part else "tts"
                        templates.text(kind, part[kind])
        for state in machine["states"].values():
            for case in state.get("cases", ()):
                if "if" in case:
                    templates.condition(case["if"])
            for assignment in state.get("set", ()):
                if assignment.get("render"):
                    templates.text("plain", assignment["value"])
        return templates


@dataclass
class Context:
    """What templates see: call data, variables, the locale and the time in the flow's zone."""

    machine: Mapping[str, Any]
    templates: Templates
    call: dict[str, str]
    variables: dict[str, str]
    locale: str
    now: datetime.datetime  # aware, UTC
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def names(self) -> dict[str, Any]:
        hours = self.machine["hours"]

        def is_open(name: str) -> bool:
            schedule = hours.get(name)
            if schedule is None:
                raise StepError("template", f"is_open('{name}'): no such schedule")
            return schedule_open(schedule["weekly"], schedule["holidays"], schedule["timezone"], self.now)

        return {
            **self.variables,
            "call": dict(self.call),
            "locale": self.locale,
            "now": self.now.astimezone(zone(self.machine["timezone"])),
            "is_open": is_open,
        }

    def render(self, kind: str, source: str) -> str:
        try:
            return self.templates.text(kind, source).render(self.names())
        except StepError:
            raise
        except Exception as err:  # template errors of every kind end in the error path
            raise StepError("template", f"template failed: {type(err).__name__}: {err}") from None

    def test(self, expression: str) -> bool:
        try:
            return bool(self.templates.condition(expression)(**self.names()))
        except StepError:
            raise
        except Exception as err:
            raise StepError("template", f"condition {expression!r} failed: {type(err).__name__}: {err}") from None

    # prompts

    def prompt_parts(self, prompt_id: str) -> list[str]:
        """A prompt as Sinch prompt-string parts (#tts[...], #ssml[...], a URL, a file id)."""
        prompt = self.machine["prompts"].get(prompt_id)
        if prompt is None:
            raise StepError("machine", f"prompt '{prompt_id}' is missing from the machine")
        parts = prompt.get(self.locale) or prompt.get("*") or prompt.get(self.machine["locale"])
        if parts is None:
            raise StepError("machine", f"prompt '{prompt_id}' has no text for {self.locale}")
        out: list[str] = []
        for part in parts:
            if "tts" in part:
                text = self.render("tts", part["tts"]) if part.get("render") else part["tts"]
                out.extend(f"#tts[{chunk}]" for chunk in _chunks(text.strip(), TTS_LIMIT) if chunk)
            elif "ssml" in part:
                text = self.render("ssml", part["ssml"]) if part.get("render") else part["ssml"]
                out.append(f"#ssml[{text.strip()}]")
            elif "audio" in part:
                out.append(f"#href[{part['audio']}]")
            else:
                out.append(part["file"])
        return out

    def fill(self, skeleton: Any) -> Any:
        """Replaces the compiler's placeholders with this call's values."""
        if isinstance(skeleton, dict):
            if len(skeleton) == 1:
                (key, value), = skeleton.items()
                if key == "$prompt":
                    return ";".join(self.prompt_parts(value))
                if key == "$prompt_ids":
                    return self.prompt_parts(value)
                if key == "$locale":
                    return self.locale
                if key == "$env":
                    found = self.env.get(value)
                    if not found:
                        raise StepError("config", f"environment variable {value} is not set on the server")
                    return found
            return {k: self.fill(v) for k, v in skeleton.items()}
        if isinstance(skeleton, list):
            return [self.fill(item) for item in skeleton]
        return skeleton


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
