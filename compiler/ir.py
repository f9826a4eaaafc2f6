"""The flow as the compiler reasons about it: frozen dataclasses, positions kept as metadata."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

Path = tuple

def _meta(default=None):
    """Positions are metadata: two flows that differ only in layout are equal."""
    return field(default=default, compare=False, repr=False)


@dataclass(frozen=True)
class Text:
    """A Jinja2 template source and where it was written (path into the document)."""

    source: str
    path: Path = _meta(())

    @property
    def is_template(self) -> bool:
        return "{{" in self.source or "{%" in self.source or "{#" in self.source


@dataclass(frozen=True)
class Part:
    """One piece of a prompt: kind is tts, ssml, audio or file."""

    kind: str
    text: Text


@dataclass(frozen=True)
class Prompt:
    """What the caller hears. `ref` names a catalogue prompt; otherwise parts per locale.

    `by_locale` maps a locale to its parts; the key None means "the same in every locale".
    """

    by_locale: tuple[tuple[str | None, tuple[Part, ...]], ...] = ()
    ref: str | None = None
    path: Path = _meta(())


@dataclass(frozen=True)
class Ref:
    """A reference to a state by name."""

    target: str
    path: Path = _meta(())


@dataclass(frozen=True)
class Handler:
    """What happens on no input or invalid input: speak, then go somewhere or try again."""

    say: Prompt | None = None
    goto: Ref | None = None


@dataclass(frozen=True)
class Option:
    key: str
    goto: Ref
    say: Prompt | None = None
    keywords: tuple[str, ...] = ()
    path: Path = _meta(())


@dataclass(frozen=True)
class Menu:
    prompt: Prompt
    options: tuple[Option, ...]
    reprompt: Prompt | None = None
    timeout: int = 5
    attempts: int = 3
    barge: bool = True
    no_input: Handler | None = None
    invalid: Handler | None = None
    exhausted: Ref | None = None


@dataclass(frozen=True)
class Collect:
    prompt: Prompt
    into: str
    max_digits: int
    next: Ref
    reprompt: Prompt | None = None
    min_digits: int = 1
    pattern: str | None = None
    timeout: int = 5
    attempts: int = 3
    barge: bool = True
    no_input: Handler | None = None
    invalid: Handler | None = None
    exhausted: Ref | None = None
    path: Path = _meta(())


@dataclass(frozen=True)
class Recording:
    destination: str
    credentials_env: str | None = None
    format: str = "mp3"
    transcribe_locale: str | None = None
    path: Path = _meta(())


@dataclass(frozen=True)
class Record:
    max_length: int
    recording: Recording
    next: Ref
    prompt: Prompt | None = None
    finish_key: str = "#"


@dataclass(frozen=True)
class KeypadKey:
    """A key sequence pressed in a conference, and the state it leads to."""

    keys: str
    goto: Ref
    path: Path = _meta(())


@dataclass(frozen=True)
class Keypad:
    """What keys pressed in a conference do: ignore, forward, or detect (then `keys` lead to states)."""

    mode: str = "ignore"
    max_digits: int | None = None  # None: the longest key sequence
    timeout: int = 3
    keys: tuple[KeypadKey, ...] = ()
    path: Path = _meta(())

    @property
    def digits(self) -> int:
        return self.max_digits or max((len(k.keys) for k in self.keys), default=1)


@dataclass(frozen=True)
class Streaming:
    """The audio format of a stream transfer."""

    version: int | None = None
    sample_rate: int | None = None


@dataclass(frozen=True)
class Transfer:
    kind: str  # number, sip, user, conference or stream
    target: str
    caller_id: str | None = None
    dial_timeout: int | None = None
    max_duration: int | None = None
    transport: str | None = None
    music_on_hold: str | None = None
    headers: tuple[tuple[str, Text], ...] = ()
    record: Recording | None = None
    streaming: Streaming | None = None
    digits_on_answer: str | None = None
    ringback: str | None = None
    suppress_callbacks: bool | None = None
    keypad: Keypad | None = None
    path: Path = _meta(())
    destination: Text | None = None  # a number or sip written as a template, checked when the call gets there
    on_invalid: Ref | None = None  # where a destination whose value is not a number (or address) goes


@dataclass(frozen=True)
class Park:
    hold: Prompt
    intro: Prompt | None = None
    max_duration: int | None = None


@dataclass(frozen=True)
class Header:
    """A request header: a template, or a secret read from the server's environment variable `env`."""

    name: str
    value: Text | None = None
    env: str | None = None
    prefix: str = ""
    path: Path = _meta(())


@dataclass(frozen=True)
class JsonObject:
    """A JSON object in a request body; string leaves are Texts (templates)."""

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class JsonArray:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Save:
    """Saves a field of the JSON answer (dotted path) into a variable."""

    variable: str
    field: str
    path: Path = _meta(())


@dataclass(frozen=True)
class StatusExit:
    """Where an HTTP status goes: an exact code ("404") or a class ("5xx")."""

    status: str
    goto: Ref


@dataclass(frozen=True)
class Request:
    """One HTTP request to the business's system, made inside the callback; goes on by its outcome."""

    url: Text
    next: Ref
    method: str = "GET"
    query: tuple[tuple[str, Text], ...] = ()
    headers: tuple[Header, ...] = ()
    body: Any = None  # Text, JsonObject, JsonArray, a number, a boolean, or None for no body
    timeout: float = 2.0
    save: tuple[Save, ...] = ()
    on_status: tuple[StatusExit, ...] = ()
    on_failure: Ref | None = None
    path: Path = _meta(())


@dataclass(frozen=True)
class Case:
    """One branch case; condition None is the else case."""

    goto: Ref
    condition: Text | None = None


@dataclass(frozen=True)
class Branch:
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class Next:
    goto: Ref


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Repeat:
    """Counted repetition: runs `times` times in a call, each but the last on to `goto`, the last to `then`."""

    times: int
    then: Ref
    goto: Ref | None = None  # None: this state again
    path: Path = _meta(())


Action = Union[Next, Hangup, Menu, Collect, Record, Transfer, Park, Branch, Request, Repeat]



@dataclass(frozen=True)
class Assignment:
    name: str
    value: Text
    path: Path = _meta(())


@dataclass(frozen=True)
class State:
    name: str
    action: Action
    sets: tuple[Assignment, ...] = ()
    say: Prompt | None = None
    send_digits: str | None = None  # keys played on the call after `say`
    path: Path = _meta(())

    @property
    def kind(self) -> str:
        return type(self.action).__name__.lower()


@dataclass(frozen=True)
class Variable:
    name: str
    max_length: int
    default: str = ""
    report: bool = False  # sent in the call-ended event
    path: Path = _meta(())


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    weekly: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    holidays: tuple[str, ...] = ()
    path: Path = _meta(())
    dates: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (YYYY-MM-DD or MM-DD, ranges), for the date only


@dataclass(frozen=True)
class Outbound:
    amd: bool = False
    caller_id: str | None = None


@dataclass(frozen=True)
class EventsOut:
    """Where this flow's call events go, and the environment variable holding their signing secret."""

    url: str
    secret_env: str = "IVRC_EVENTS_SECRET"
    path: tuple = _meta(())


@dataclass(frozen=True)
class Flow:
    id: str
    start: Ref
    states: tuple[State, ...]
    locale: str = "en-US"
    locales: tuple[str, ...] = ("en-US",)
    timezone: str = "UTC"
    numbers: tuple[str, ...] = ()
    outbound: Outbound | None = None
    events: EventsOut | None = None
    prompts: tuple[tuple[str, Prompt], ...] = ()
    variables: tuple[Variable, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    on_error: Prompt | None = None
    description: str = ""
    on_error_goto: Ref | None = None  # where the error path goes on; None: it hangs up
    file: str = _meta("<flow>")

    def state(self, name: str) -> State | None:
        return self.state_map.get(name)

    @property
    def state_map(self) -> dict[str, State]:
        # Cached on first use; frozen dataclasses allow it through object.__setattr__.
        cached = self.__dict__.get("_state_map")
        if cached is None:
            cached = {s.name: s for s in self.states}
            object.__setattr__(self, "_state_map", cached)
        return cached

    @property
    def prompt_map(self) -> dict[str, Prompt]:
        return dict(self.prompts)

    @property
    def variable_map(self) -> dict[str, Variable]:
        return {v.name: v for v in self.variables}

    @property
    def schedule_map(self) -> dict[str, Schedule]:
        return {s.name: s for s in self.schedules}
