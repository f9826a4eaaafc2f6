"""The compiled machine as typed objects: the one module that knows the machine format's keys.

`compiler/machine.py` writes the format (a JSON document, versioned by content hash); everything
that runs a machine reads it through `Machine.load`, which builds these frozen objects once, when
the machine is loaded. SVAML skeletons (the actions and instructions a state answers with) stay as
SVAML-shaped data with placeholders the runtime fills per call; the placeholder names are defined
here, once.

Adding a state kind touches: the schema (schemas/flow.schema.json, schemas/machine.schema.json), the
IR and lowering (compiler/ir.py, compiler/lower.py), the writer (compiler/machine.py), one class and
one line in STATE_KINDS below, and, if the kind takes input or does work, its handler in
runtime/engine/step.py (see docs/architecture.md).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Mapping

from .digitpattern import DigitPattern, compile_pattern
from .errors import MachineError

FORMAT = 1  # bumped when a machine written by one ivrc cannot be read by another

# Placeholders inside SVAML skeletons, filled per call by the runtime (runtime/engine/render.py).
PROMPT = "$prompt"  # {"$prompt": ID} or {"$prompt": [ID, ID]}: the prompt(s) as one Sinch prompt string
PROMPT_IDS = "$prompt_ids"  # {"$prompt_ids": ID}: the prompt as a list of prompt parts
LOCALE = "$locale"  # {"$locale": null}: the call's current locale
ENV = "$env"  # {"$env": NAME}: a server environment variable (a credential, say)
TEXT = "$text"  # {"$text": TEMPLATE}: a template rendered for the call (a call header's value)
# {"$destination": {"kind": "number" or "sip", "template": SOURCE}}: a transfer's number or SIP
# address from a template, rendered for the call and checked before it reaches Sinch.
DESTINATION = "$destination"
PLACEHOLDERS = frozenset({PROMPT, PROMPT_IDS, LOCALE, ENV, TEXT, DESTINATION})


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a prompt: spoken text (tts), SSML, an audio URL or a Sinch file id."""

    kind: str  # "tts" | "ssml" | "audio" | "file"
    text: str
    render: bool = False  # a template, rendered per call


@dataclass(frozen=True, slots=True)
class Variable:
    max_length: int  # bytes, as UTF-8
    default: str = ""
    report: bool = False  # sent in the call-ended event


@dataclass(frozen=True, slots=True)
class Schedule:
    timezone: str
    weekly: Mapping[str, list]
    holidays: tuple[str, ...]
    dates: Mapping[str, list] = field(default_factory=dict)  # hours on given dates, in place of the weekday's


@dataclass(frozen=True, slots=True)
class Assignment:
    """`set:` of one variable: a literal or a template."""

    name: str
    value: str
    render: bool = False


@dataclass(frozen=True, slots=True)
class Handler:
    """What a no-input or invalid entry does: a prompt, and optionally a state to go to."""

    say: str | None = None
    goto: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    condition: str | None  # None: the else case
    goto: str


@dataclass(frozen=True, slots=True)
class Option:
    goto: str
    say: str | None = None


@dataclass(frozen=True)
class State:
    """What every state has: its name, the answers it can run in, its `set:` and `say:`."""

    kind: ClassVar[str] = ""
    waits: ClassVar[bool] = True  # ends an answer (hands control to Sinch)
    takes_input: ClassVar[bool] = False  # a PIE for it carries the caller's input

    name: str
    runs_in: tuple[str, ...] = ()
    sets: tuple[Assignment, ...] = ()
    say: str | None = None
    send_digits: str | None = None  # keys played on the call after `say` (Sinch's sendDtmf)
    action: Any = None  # the SVAML action skeleton a wait state answers with
    instructions: tuple[Any, ...] = ()  # SVAML instruction skeletons before the action

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The kind's own fields from its JSON; the base fields are read by read_state."""
        return {}

    def targets(self) -> tuple[str, ...]:
        """The states this one can lead to (Machine.load checks that each exists)."""
        return ()


@dataclass(frozen=True)
class Next(State):
    kind: ClassVar[str] = "next"
    waits: ClassVar[bool] = False
    next: str = ""

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"next": data["next"]}

    def targets(self) -> tuple[str, ...]:
        return (self.next,)


@dataclass(frozen=True)
class Branch(State):
    kind: ClassVar[str] = "branch"
    waits: ClassVar[bool] = False
    cases: tuple[Case, ...] = ()

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"cases": tuple(Case(c.get("if"), c["goto"]) for c in data["cases"])}

    def targets(self) -> tuple[str, ...]:
        return tuple(case.goto for case in self.cases)


@dataclass(frozen=True)
class Repeat(State):
    """Counted repetition: the count rides in a cookie like a variable (compiler/cookies.counter)."""

    kind: ClassVar[str] = "repeat"
    waits: ClassVar[bool] = False
    times: int = 2
    goto: str = ""
    then: str = ""

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"times": data["times"], "goto": data["goto"], "then": data["then"]}

    def targets(self) -> tuple[str, ...]:
        return (self.goto, self.then)


@dataclass(frozen=True)
class Hangup(State):
    kind: ClassVar[str] = "hangup"


@dataclass(frozen=True)
class Park(State):
    kind: ClassVar[str] = "park"


@dataclass(frozen=True)
class Transfer(State):
    kind: ClassVar[str] = "transfer"
    on_answer: Any = None  # the action for the ACE Sinch sends when the other side answers
    # A conference with keypad detection: key sequence -> state. Sinch reports the keys in a PIE.
    keys: Mapping[str, str] = field(default_factory=dict)
    on_invalid: str | None = None  # where a templated destination that is not a number or address goes

    @property
    def listens(self) -> bool:
        """Whether a PIE for this state carries keys pressed in its conference."""
        return bool(self.keys)

    def key_target(self, pressed: str) -> str | None:
        """The state a key sequence leads to; a `#` that ended the sequence may or may not be in it."""
        if pressed in self.keys:
            return self.keys[pressed]
        if pressed.endswith("#") and pressed[:-1] in self.keys:
            return self.keys[pressed[:-1]]
        return None

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"on_answer": data["on_answer"], "keys": dict(data.get("keys", {})), "on_invalid": data.get("on_invalid")}

    def targets(self) -> tuple[str, ...]:
        return (*self.keys.values(), *((self.on_invalid,) if self.on_invalid else ()))


@dataclass(frozen=True)
class Record(State):
    kind: ClassVar[str] = "record"
    takes_input: ClassVar[bool] = True
    after: tuple[Any, ...] = ()  # instructions once the message is complete
    next: str = ""

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"after": tuple(data["after"]), "next": data["next"]}

    def targets(self) -> tuple[str, ...]:
        return (self.next,)


@dataclass(frozen=True)
class Input(State):
    """A menu or a digit collection: retries, and what no input, invalid input and exhaustion do."""

    takes_input: ClassVar[bool] = True
    retry_action: Any = None
    attempts: int = 1
    no_input: Handler = Handler()
    invalid: Handler = Handler()
    exhausted: str | None = None

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"retry_action": data["retry_action"], "attempts": data["attempts"],
                "no_input": _handler(data.get("no_input")), "invalid": _handler(data.get("invalid")),
                "exhausted": data.get("exhausted")}

    def targets(self) -> tuple[str, ...]:
        found = (self.no_input.goto, self.invalid.goto, self.exhausted)
        return tuple(name for name in found if name is not None)


@dataclass(frozen=True)
class Menu(Input):
    kind: ClassVar[str] = "menu"
    options: Mapping[str, Option] = field(default_factory=dict)  # by key
    keywords: Mapping[str, str] = field(default_factory=dict)  # spoken word (casefolded) -> key
    fused: tuple[str, ...] = ()  # sub-menus answered inside this state's runMenu
    # Sinch plays the retries itself (runMenu `repeats`): a no-input or invalid PIE is the last attempt.
    repeats_in_sinch: bool = False

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {**Input.fields_from(data),
                "options": {key: Option(o["goto"], o.get("say")) for key, o in data["options"].items()},
                "keywords": dict(data.get("keywords", {})), "fused": tuple(data.get("fused", ())),
                "repeats_in_sinch": bool(data.get("repeats_in_sinch", False))}

    def targets(self) -> tuple[str, ...]:
        return super().targets() + tuple(option.goto for option in self.options.values())


@dataclass(frozen=True)
class Collect(Input):
    kind: ClassVar[str] = "collect"
    into: str = ""
    min_digits: int = 1
    max_digits: int = 1
    pattern: DigitPattern | None = None  # matched in time linear in the digits
    next: str = ""

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        pattern = data.get("pattern")
        return {**Input.fields_from(data), "into": data["into"], "min_digits": data["min_digits"],
                "max_digits": data["max_digits"], "pattern": compile_pattern(pattern) if pattern is not None else None,
                "next": data["next"]}

    def targets(self) -> tuple[str, ...]:
        return super().targets() + (self.next,)


@dataclass(frozen=True, slots=True)
class SecretHeader:
    env: str  # the server's environment variable that holds the value
    prefix: str = ""


@dataclass(frozen=True)
class Request(State):
    """An HTTP request to the business's system, made while walking; goes on by its outcome."""

    kind: ClassVar[str] = "request"
    waits: ClassVar[bool] = False
    method: str = "GET"
    url: str = ""
    origin: str = ""  # scheme://host[:port], literal in the flow: the only place this state may connect to
    url_pieces: tuple[tuple[bool, str], ...] = ()  # the rest of the URL: (is_expression, text)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: Mapping[str, SecretHeader] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    timeout: float = 2.0
    save: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # variable -> field path
    next: str = ""
    on_status: Mapping[str, str] = field(default_factory=dict)
    on_failure: str | None = None

    def after_status(self, status: int) -> str | None:
        """Where a non-2xx status goes: its exact code, then its class (5xx), else None (the failure path)."""
        return self.on_status.get(str(status)) or self.on_status.get(f"{status // 100}xx")

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        from .request_url import parse, pieces

        url = parse(data["url"])
        if url.scheme != "https" and not url.loopback:  # lint's IVR141, kept by a machine from anywhere
            raise ValueError(f"a request over plain http to {url.origin} (https only, except loopback hosts)")
        return {"method": data["method"], "url": data["url"], "origin": url.origin, "url_pieces": tuple(pieces(url.rest)),
                "query": dict(data.get("query", {})), "headers": dict(data.get("headers", {})),
                "secret_headers": {name: SecretHeader(s["env"], s.get("prefix", ""))
                                   for name, s in data.get("secret_headers", {}).items()},
                "body": data.get("body"), "has_body": "body" in data, "timeout": float(data["timeout"]),
                "save": {name: tuple(path.split(".")) for name, path in data.get("save", {}).items()},
                "next": data["next"], "on_status": dict(data.get("on_status", {})),
                "on_failure": data.get("on_failure")}

    def targets(self) -> tuple[str, ...]:
        return (self.next, *self.on_status.values(), *((self.on_failure,) if self.on_failure else ()))


STATE_KINDS: dict[str, type[State]] = {cls.kind: cls for cls in (
    Next, Branch, Hangup, Park, Transfer, Record, Menu, Collect, Request, Repeat)}


@dataclass(frozen=True)
class Outbound:
    amd: str
    caller_id: str | None = None


@dataclass(frozen=True)
class EventsOut:
    """Where this flow's call events go, instead of the server's `--events-url`, and who holds their secret."""

    url: str
    secret_env: str


@dataclass(frozen=True)
class Machine:
    """A compiled flow, ready to run: built once per loaded version, never changed."""

    flow: str
    version: str
    description: str
    direction: str  # "inbound" | "outbound"
    numbers: tuple[str, ...]
    locale: str
    locales: tuple[str, ...]
    timezone: str
    start: str
    error_say: str
    variables: Mapping[str, Variable]
    hours: Mapping[str, Schedule]
    prompts: Mapping[str, Mapping[str, tuple[Part, ...]]]  # id -> locale ("*" for any) -> parts
    states: Mapping[str, State]
    carry: tuple[str, ...]  # call fields kept in cookies for later callbacks
    after_request: frozenset[str]  # states reached only through a request: never routed without sealed state
    max_cookie_bytes: int
    outbound: Outbound | None
    events: EventsOut | None
    document: Mapping[str, Any] = field(repr=False, compare=False)  # the JSON it was built from
    error_goto: str | None = None  # the state the error path goes on in; None: it hangs up
    error_before: str | None = None  # the prompt played before going on in error_goto

    @property
    def inbound(self) -> bool:
        return self.direction == "inbound"

    @functools.cached_property
    def repeats(self) -> dict[str, "Repeat"]:
        """The repeat states, whose counts ride in the cookies."""
        return {name: s for name, s in self.states.items() if isinstance(s, Repeat)}

    @functools.cached_property
    def walk_limit(self) -> int:
        """The most states one callback can walk: each state once per run of every repeat (the compiler
        rejects every other loop that does not wait for the caller)."""
        runs = 1
        for repeat in self.repeats.values():
            runs *= repeat.times
        return len(self.states) * runs

    @property
    def requests(self) -> list[Request]:
        return [s for s in self.states.values() if isinstance(s, Request)]

    @property
    def secrets(self) -> set[str]:
        """The server environment variables this machine's requests need."""
        return {h.env for r in self.requests for h in r.secret_headers.values()}

    @classmethod
    def load(cls, document: Mapping[str, Any]) -> "Machine":
        """Typed objects from a machine document; MachineError names what is missing or malformed.

        Documents from outside this process (files) should pass `check_document` first."""
        if not isinstance(document, Mapping):
            raise MachineError(f"a compiled machine is a JSON object, not {type(document).__name__}")
        if document.get("machine") != FORMAT:
            raise MachineError(f"machine format {document.get('machine')!r} cannot be read by this ivrc "
                               f"(it reads format {FORMAT}); compile the flow again with this version")
        try:
            return cls._build(document)
        except (KeyError, TypeError, ValueError, AttributeError, re.error) as err:  # UrlProblem is a ValueError
            raise MachineError(f"flow {document.get('flow', '?')!r}: the compiled machine is malformed "
                               f"({type(err).__name__}: {err})") from None

    @classmethod
    def _build(cls, d: Mapping[str, Any]) -> "Machine":
        outbound, events = d.get("outbound"), d.get("events")
        states = {name: read_state(name, s) for name, s in d["states"].items()}
        # A machine edited by hand, or cut short, must fail here, not on the call that reaches the gap.
        for state in (None, *states.values()):
            for target in ((d["start"],) if state is None else state.targets()):
                if target not in states:
                    where = "the start" if state is None else f"state {state.name!r}"
                    raise ValueError(f"{where} leads to {target!r}, which is not a state of the machine")
        return cls(
            flow=d["flow"], version=d["version"], description=d.get("description", ""), direction=d["direction"],
            numbers=tuple(d.get("numbers", ())), locale=d["locale"], locales=tuple(d["locales"]),
            timezone=d["timezone"], start=d["start"], error_say=d["error"]["say"],
            variables={name: Variable(v["max_length"], v.get("default", ""), bool(v.get("report")))
                       for name, v in d["variables"].items()},
            hours={name: Schedule(s["timezone"], s["weekly"], tuple(s["holidays"]), s.get("dates", {})) for name, s in d["hours"].items()},
            prompts={pid: {loc: tuple(_part(p) for p in parts) for loc, parts in by_locale.items()}
                     for pid, by_locale in d["prompts"].items()},
            states=states,
            carry=tuple(d.get("carry", ())), after_request=frozenset(d.get("after_request", ())),
            max_cookie_bytes=d["cookies"]["max_bytes"],
            outbound=Outbound(outbound["amd"], outbound.get("caller_id")) if outbound else None,
            events=EventsOut(events["url"], events["secret_env"]) if events else None,
            document=d,
            error_goto=_error_goto(d), error_before=d["error"].get("before"),
        )


def _error_goto(d: Mapping[str, Any]) -> str | None:
    goto = d["error"].get("goto")
    if goto is not None and goto not in d["states"]:
        raise KeyError(f"the error path goes on in '{goto}', which is not a state")
    return goto


def read_state(name: str, data: Mapping[str, Any]) -> State:
    cls = STATE_KINDS.get(data["do"])
    if cls is None:
        raise ValueError(f"state '{name}' is of unknown kind {data['do']!r}")
    sets = tuple(Assignment(a["name"], a["value"], bool(a.get("render"))) for a in data.get("set", ()))
    return cls(name=name, runs_in=tuple(data.get("runs_in", ())), sets=sets, say=data.get("say"),
               send_digits=data.get("send_digits"), action=data.get("action"), instructions=tuple(data.get("instructions", ())), **cls.fields_from(data))


def _handler(data: Mapping[str, Any] | None) -> Handler:
    return Handler(data.get("say"), data.get("goto")) if data else Handler()


def _part(data: Mapping[str, Any]) -> Part:
    for kind in ("tts", "ssml", "audio", "file"):
        if kind in data:
            return Part(kind, data[kind], bool(data.get("render")))
    raise ValueError(f"a prompt part needs one of tts, ssml, audio, file: {sorted(data)}")


@functools.cache
def release() -> str:
    """This ivrc's version, as installed ("0+unknown" when run from a source tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ivrc")
    except PackageNotFoundError:
        return "0+unknown"


def check_document(document: Any, where: str) -> None:
    """Refuses a machine document that schemas/machine.schema.json does not accept."""
    import jsonschema

    from ivrc.schemas import load_schema

    validator = jsonschema.Draft202012Validator(load_schema("machine.schema.json"))
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise MachineError(f"{where}: not a machine this ivrc can run: at {path}: {error.message}")


def read_file(path: str | Path) -> dict[str, Any]:
    """A machine JSON file as `ivrc compile -o` writes it, checked against the machine schema."""
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except FileNotFoundError:
        raise MachineError(f"{path}: no such file") from None
    except OSError as err:
        raise MachineError(f"{path}: cannot be read: {err.strerror or err}") from None
    except (ValueError, RecursionError) as err:
        raise MachineError(f"{path}: not JSON: {err}") from None
    check_document(document, str(path))
    if document.get("ivrc") != release():
        raise MachineError(f"{path}: compiled by ivrc {document.get('ivrc', '(unknown)')}; this is ivrc {release()}. "
                           "Compile the flow again with this release (ivrc compile FLOW -o FILE)")
    return document
