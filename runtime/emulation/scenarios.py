"""Flow-test scenario files (NAME.test.yaml): the format, loaded strictly with a file:line:column for every step.

A scenario file names the flow it tests and lists scenarios; each scenario is one call: who
calls which number when, then steps the caller takes (press, say, silence, hangup) and what
they expect (a prompt, a transfer, a recording, a variable, the end of the call).
docs/testing.md is the user's guide to the format.
"""
from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ivrc.compiler.diagnostics import Span, did_you_mean
from ivrc.compiler.errors import IvrcError, PathError
from ivrc.compiler.loader import Document, load_file
from ivrc.compiler.project import SCENARIO_SUFFIXES, flow_files, is_flow_file

from .stubs import Stub, StubError, parse_stubs

ACTIONS = ("press", "say", "silence", "hangup")
EXPECTATIONS = ("expect", "expect_transfer", "expect_recording", "expect_variables", "expect_cookies",
                "expect_locale", "expect_end", "expect_request", "expect_error")
REQUEST_FIELDS = ("state", "method", "path", "query", "body")
STEP_KINDS = ACTIONS + EXPECTATIONS
BARE_STEPS = ("silence", "hangup")  # steps that can be written as a bare word: `- silence`
SCENARIO_KEYS = ("name", "caller", "called", "now", "outbound", "amd", "vars", "custom", "env", "requests", "steps")
DEFAULT_KEYS = tuple(k for k in SCENARIO_KEYS if k not in ("name", "steps"))
FILE_KEYS = ("flow", "defaults", "scenarios")
AMD_VERDICTS = ("human", "machine", "notsure", "hangup")
TRANSFER_KINDS = ("number", "sip", "user", "conference", "stream")
# What a call can end in, and the words an author may use for it.
ENDINGS = {"hangup": "hangup", "hung up": "hangup", "transfer": "transfer", "transferred": "transfer",
           "park": "park", "parked": "park", "error": "error"}
DEFAULT_CALLER = "+46700000001"
_KEYS = re.compile(r"[0-9#*]+")
_NUMBER = re.compile(r"\+?[0-9A-Za-z@._:-]+")


class ScenarioError(IvrcError):
    """A scenario file that cannot be run; `problems` are (span, message), all of them at once."""

    def __init__(self, problems: list[tuple[Span, str]]) -> None:
        super().__init__("\n".join(f"{span}: {message}" for span, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    """One line of a scenario: an action the caller takes or something they expect."""

    kind: str  # one of STEP_KINDS
    value: Any  # normalised per kind (see _step)
    where: Span

    def describe(self) -> str:
        value = self.value
        if self.kind == "expect":
            return f"expect {'/' + value['pattern'] + '/' if 'pattern' in value else repr(value['text'])}"
        if self.kind in ("silence", "hangup"):
            return self.kind if value in (None, 1) else f"{self.kind} x{value}"
        if isinstance(value, dict):
            return f"{self.kind} " + ", ".join(f"{k}={v!r}" for k, v in value.items())
        return f"{self.kind} {value!r}"


@dataclass
class Scenario:
    """One emulated call and what should happen in it."""

    name: str
    file: str  # the scenario file
    flow_file: str  # the flow it tests, as a path usable from here
    where: Span
    caller: str = DEFAULT_CALLER
    called: str | None = None  # None: the flow's first number
    now: datetime.datetime | None = None  # naive: the flow's own time zone
    outbound: bool | None = None  # None: as the flow says
    amd: str = "human"
    vars: dict[str, str] = field(default_factory=dict)
    custom: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    requests: dict[str, list[Stub]] = field(default_factory=dict)  # request state -> stubbed replies
    steps: list[Step] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class ScenarioFile:
    path: str
    flow_file: str
    scenarios: list[Scenario]


class _Reader:
    """Reads values out of the loaded document, collecting problems with their positions."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[tuple[Span, str]] = []

    def problem(self, path: tuple, message: str, *, key: bool = False) -> None:
        self.problems.append((self.doc.span(path, key=key), message))

    def get(self, path: tuple) -> Any:
        return self.doc.get(path)

    def text(self, path: tuple, what: str) -> str | None:
        """A scalar as the author wrote it: `+4670...` and `0123` keep their + and leading zero."""
        value = self.get(path)
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            self.problem(path, f"{what} should be text, found {_kind(value)}")
            return None
        if isinstance(value, str):
            return value
        scalar = self.doc.scalars.get(path)
        return self.doc.text[scalar.start:scalar.end] if scalar is not None else str(value)

    def mapping(self, path: tuple, what: str) -> dict | None:
        value = self.get(path)
        if not isinstance(value, dict):
            self.problem(path, f"{what} should be a mapping (key: value lines), found {_kind(value)}")
            return None
        return value

    def text_map(self, path: tuple, what: str, *, nulls: bool = False) -> dict[str, str | None]:
        found = self.mapping(path, what)
        out: dict[str, str | None] = {}
        for key in found or {}:
            if nulls and self.get(path + (key,)) is None:
                out[key] = None
            else:
                value = self.text(path + (key,), f"{what} '{key}'")
                if value is not None:
                    out[key] = value
        return out

    def boolean(self, path: tuple, what: str) -> bool | None:
        value = self.get(path)
        if not isinstance(value, bool):
            self.problem(path, f"{what} should be true or false, found {_kind(value)}")
            return None
        return value

    def unknown_keys(self, path: tuple, known: Iterable[str], what: str) -> None:
        for key in self.get(path) or {}:
            if key not in known:
                hint = did_you_mean(key, known, "keys")
                self.problem(path + (key,), f"unknown key '{key}' in {what}" + (f"; {hint}" if hint else ""), key=True)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"{value!r}"


def load(path: str) -> ScenarioFile:
    """Loads and checks one scenario file; raises ScenarioError listing every problem in it."""
    try:
        loaded = load_file(path)
    except PathError as err:
        raise ScenarioError([(Span(path, 1, 1), str(err))]) from None
    doc = loaded.document
    problems = [(d.span, d.message) for d in loaded.diagnostics if d.is_error and d.code != "IVR008"]
    if doc is None:
        if not problems:
            problems = [(Span(path, 1, 1), "a scenario file is a mapping with `flow` (the flow file it tests) "
                                           "and `scenarios` (a list)")]
        raise ScenarioError(problems)
    reader = _Reader(doc)
    reader.problems.extend(problems)
    reader.unknown_keys((), FILE_KEYS, "a scenario file")
    flow_file = ""
    if "flow" not in doc.data:
        reader.problem((), "a scenario file needs `flow:`, the path of the flow file it tests (relative to this file)")
    else:
        flow = reader.text(("flow",), "`flow`")
        if flow is not None:
            flow_file = os.path.normpath(os.path.join(os.path.dirname(path), flow))
            if not os.path.isfile(flow_file):
                reader.problem(("flow",), f"the flow file {flow_file} does not exist")
    defaults: dict[str, Any] = {}
    if "defaults" in doc.data and reader.mapping(("defaults",), "`defaults`") is not None:
        reader.unknown_keys(("defaults",), DEFAULT_KEYS, "`defaults`")
        defaults = _fields(reader, ("defaults",))
    scenarios: list[Scenario] = []
    raw = doc.data.get("scenarios")
    if not isinstance(raw, list) or not raw:
        reader.problem(("scenarios",) if "scenarios" in doc.data else (),
                       "a scenario file needs `scenarios:`, a list of at least one scenario")
        raw = []
    names: dict[str, Span] = {}
    for i, _ in enumerate(raw):
        scenario = _scenario(reader, ("scenarios", i), path, flow_file, defaults)
        if scenario is None:
            continue
        if scenario.name in names:
            reader.problem(("scenarios", i, "name"), f"another scenario is already named '{scenario.name}' "
                                                     f"(at {names[scenario.name]}); names must be unique in a file")
        names.setdefault(scenario.name, scenario.where)
        scenarios.append(scenario)
    if reader.problems:
        raise ScenarioError(sorted(reader.problems, key=lambda p: (p[0].line, p[0].column)))
    return ScenarioFile(path, flow_file, scenarios)


def _fields(reader: _Reader, path: tuple) -> dict[str, Any]:
    """The call settings a scenario (or `defaults`) gives, checked and normalised."""
    data = reader.get(path)
    out: dict[str, Any] = {}
    for name in ("caller", "called"):
        if name in data:
            value = reader.text(path + (name,), f"`{name}`")
            if value is not None and not _NUMBER.fullmatch(value):
                reader.problem(path + (name,), f"`{name}` should be a phone number like +46701234567, found {value!r}")
            out[name] = value
    if "now" in data:
        value = reader.text(path + ("now",), "`now`")
        if value is not None:
            try:
                out["now"] = datetime.datetime.fromisoformat(value)
            except ValueError:
                reader.problem(path + ("now",), f"`now` should be an ISO-8601 time like 2026-03-02T10:30:00+01:00 "
                                                f"(without an offset it is the flow's local time), found {value!r}")
    if "outbound" in data:
        out["outbound"] = reader.boolean(path + ("outbound",), "`outbound`")
    if "amd" in data:
        value = reader.text(path + ("amd",), "`amd`")
        if value is not None and value not in AMD_VERDICTS:
            reader.problem(path + ("amd",), f"`amd` is the answering-machine verdict: one of "
                                            f"{', '.join(AMD_VERDICTS)}; found {value!r}")
        out["amd"] = value
    if "vars" in data:
        out["vars"] = reader.text_map(path + ("vars",), "`vars`")
    if "custom" in data:
        out["custom"] = reader.text(path + ("custom",), "`custom`")
        if "vars" in data:
            reader.problem(path + ("custom",), "give either `vars` (ivrc builds the callout's custom from them) "
                                               "or `custom` (sent as it is), not both", key=True)
    if "env" in data:
        out["env"] = reader.text_map(path + ("env",), "`env`")
    if "requests" in data:
        try:
            out["requests"] = parse_stubs(reader.get(path + ("requests",)))
        except StubError as err:
            reader.problem(path + ("requests",), str(err))
    return out


def _scenario(reader: _Reader, path: tuple, file: str, flow_file: str, defaults: dict[str, Any]) -> Scenario | None:
    if reader.mapping(path, "a scenario") is None:
        return None
    reader.unknown_keys(path, SCENARIO_KEYS, "a scenario")
    data = reader.get(path)
    where = reader.doc.span(path)
    name = reader.text(path + ("name",), "`name`") if "name" in data else None
    if "name" not in data:
        reader.problem(path, "a scenario needs a `name`, shown in the results")
    fields = {**defaults, **_fields(reader, path)}
    for merged in ("env", "requests"):  # a scenario adds to (or overrides) the defaults' entries
        if merged in defaults and merged in fields:
            fields[merged] = {**defaults[merged], **fields[merged]}
    steps: list[Step] = []
    raw = data.get("steps")
    if not isinstance(raw, list):
        reader.problem(path + ("steps",) if "steps" in data else path,
                       "a scenario needs `steps:`, a list of what the caller does and expects")
        raw = []
    for j, _ in enumerate(raw):
        step = _step(reader, path + ("steps", j))
        if step is not None:
            steps.append(step)
    scenario = Scenario(name or "", file, flow_file, where, steps=steps)
    for key, value in fields.items():
        if value is not None:
            setattr(scenario, key, value)
    return scenario


def _step(reader: _Reader, path: tuple) -> Step | None:
    raw = reader.get(path)
    where = reader.doc.span(path)
    if isinstance(raw, str) and raw in BARE_STEPS:
        return Step(raw, None, where)
    if not isinstance(raw, dict) or len(raw) != 1:
        reader.problem(path, "a step is a mapping with one key, one of " + ", ".join(STEP_KINDS)
                       + f" (or the word silence or hangup); found {_kind(raw)}")
        return None
    (kind, _), = raw.items()
    vpath = path + (kind,)
    if kind not in STEP_KINDS:
        hint = did_you_mean(kind, STEP_KINDS, "steps")
        reader.problem(vpath, f"unknown step '{kind}'" + (f"; {hint}" if hint else
                                                         "; steps are " + ", ".join(STEP_KINDS)), key=True)
        return None
    value = _step_value(reader, kind, vpath)
    return None if value is _BAD else Step(kind, value, where)


_BAD = object()


def _step_value(reader: _Reader, kind: str, path: tuple) -> Any:
    value = reader.get(path)
    if kind == "press":
        keys = reader.text(path, "`press`")
        if keys is None or not _KEYS.fullmatch(keys):
            if keys is not None:
                reader.problem(path, "`press` takes the keys to press: digits, # and *, e.g. \"1234#\"; "
                                     f"found {keys!r}")
            return _BAD
        return keys
    if kind in ("silence", "hangup"):
        if value is None or value is True:
            return None
        if kind == "silence" and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        reader.problem(path, f"`{kind}` takes " + ("a number of times, e.g. `silence: 2`, or nothing"
                                                    if kind == "silence" else "no value") + f"; found {_kind(value)}")
        return _BAD
    if kind in ("say", "expect_locale", "expect_error"):
        text = reader.text(path, f"`{kind}`")
        if not text:
            if text is not None:
                reader.problem(path, f"`{kind}` needs text")
            return _BAD
        return text
    if kind == "expect":
        return _expect(reader, path)
    if kind == "expect_transfer":
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return {"to": reader.text(path, "`expect_transfer`")}
        found = reader.mapping(path, "`expect_transfer` (to:, kind:, caller_id:)")
        if found is None:
            return _BAD
        reader.unknown_keys(path, ("kind", "to", "caller_id"), "`expect_transfer`")
        out = {k: reader.text(path + (k,), f"`{k}`") for k in ("kind", "to", "caller_id") if k in found}
        if out.get("kind") is not None and out["kind"] not in TRANSFER_KINDS:
            reader.problem(path + ("kind",), f"a transfer's kind is one of {', '.join(TRANSFER_KINDS)}; "
                                             f"found {out['kind']!r}")
        return out
    if kind == "expect_recording":
        text = reader.text(path, "`expect_recording`")
        if text not in ("started", "stopped"):
            if text is not None:
                reader.problem(path, f"`expect_recording` is started or stopped; found {text!r}")
            return _BAD
        return text
    if kind in ("expect_variables", "expect_cookies"):
        found = reader.text_map(path, f"`{kind}`", nulls=True)
        return found if found else _BAD
    if kind == "expect_request":
        value = reader.get(path)
        if not isinstance(value, dict) or not value:
            reader.problem(path, "`expect_request` checks a request the flow sent: "
                                 "{state: verify, method: POST, path: /v1/verify, query: {...}, body: {...}}")
            return _BAD
        reader.unknown_keys(path, REQUEST_FIELDS, "`expect_request`")
        return {k: v for k, v in value.items() if k in REQUEST_FIELDS}
    if kind == "expect_end":
        text = reader.text(path, "`expect_end`")
        if text not in ENDINGS:
            if text is not None:
                reader.problem(path, f"`expect_end` is how the call ended: hangup, transfer, park or error; "
                                    f"found {text!r}")
            return _BAD
        return ENDINGS[text]
    raise AssertionError(kind)  # pragma: no cover - STEP_KINDS lists every kind above


def _expect(reader: _Reader, path: tuple) -> Any:
    value = reader.get(path)
    if not isinstance(value, dict):
        text = reader.text(path, "`expect`")
        return {"text": text} if text else _BAD
    reader.unknown_keys(path, ("text", "pattern"), "`expect`")
    if len([k for k in ("text", "pattern") if k in value]) != 1:
        reader.problem(path, "`expect` takes text the caller hears (a part of a prompt), or `pattern:` "
                             "(a regular expression), or `text:`; give exactly one")
        return _BAD
    if "text" in value:
        text = reader.text(path + ("text",), "`text`")
        return {"text": text} if text else _BAD
    pattern = reader.text(path + ("pattern",), "`pattern`")
    if pattern is None:
        return _BAD
    try:
        re.compile(pattern)
    except re.error as err:
        reader.problem(path + ("pattern",), f"`pattern` is not a regular expression: {err}")
        return _BAD
    return {"pattern": pattern}


def find(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """Scenario files under paths, and the flow files found in the named folders (for coverage).

    A flow file named directly stands for its NAME.test.yaml beside it.
    """
    scenario_files: list[str] = []
    flows: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                scenario_files.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(SCENARIO_SUFFIXES))
            flows.extend(flow_files([path]))
        elif os.path.isfile(path) and path.endswith(SCENARIO_SUFFIXES):
            scenario_files.append(path)
        elif os.path.isfile(path) and is_flow_file(path):
            stem = path.rsplit(".", 1)[0]
            beside = [stem + suffix for suffix in SCENARIO_SUFFIXES if os.path.isfile(stem + suffix)]
            if not beside:
                raise PathError(f"{path}: no scenarios found for this flow (expected {stem}.test.yaml)")
            scenario_files.extend(beside)
            flows.append(path)
        elif os.path.exists(path):
            raise PathError(f"{path}: not a scenario file (NAME.test.yaml), a flow or a folder")
        else:
            raise PathError(f"{path}: no such file or folder")
    return scenario_files, flows
