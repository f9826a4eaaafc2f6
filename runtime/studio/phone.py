"""The phone panel's calls: the engine and emulator of `ivrc simulate`, driven one key at a time from the page."""
from __future__ import annotations

import dataclasses
import datetime
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml

from ivrc.compiler import svaml
from ivrc.compiler.compiled import Machine
from ivrc.runtime.emulation.coverage import Coverage
from ivrc.runtime.emulation.emulator import Call, CallerMistake, CallFailed, EngineTransport, Line
from ivrc.runtime.emulation.simulate import InProcess, PlaceholderEnv, frozen_clock, setup
from ivrc.runtime.emulation.stubs import StubError, Stubs, parse_stubs
from ivrc.runtime.emulation.tracing import Step

from .workspace import Flow

KEYS = frozenset("0123456789*#")
MAX_CALLS = 50  # calls kept for the inspector and "save as test"; older ones are forgotten


class PhoneError(Exception):
    """The caller asked for something this call cannot do; the message says what."""


class UnknownCall(PhoneError):
    """No call by that id: never made, or forgotten."""


class _Inspected:
    """A transport that keeps every callback and its answer for the inspector."""

    def __init__(self, inner: EngineTransport) -> None:
        self.inner = inner
        self.exchanges: list[dict[str, Any]] = []

    @property
    def last_error(self) -> str | None:
        return self.inner.last_error

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        status, answer = self.inner.send(body)
        self.exchanges.append({"event": str(body.get("event", "")).upper(), "callback": body, "status": status,
                               "answer": answer})
        return status, answer


@dataclass
class Settings:
    """What the person set up before dialling."""

    caller: str
    called: str
    now: datetime.datetime  # naive: the flow's own time zone, as flow tests write it
    locale: str


@dataclass
class PhoneCall:
    """One call from the panel, with everything the page shows about it."""

    id: str
    flow: Flow
    settings: Settings
    call: Call
    transport: _Inspected
    journal: list = field(default_factory=list)
    actions: list[tuple[str, str | None, bool]] = field(default_factory=list)  # (kind, key, typed digits pending)
    failure: str | None = None

    def act(self, kind: str, key: str | None = None) -> None:
        if self.call.ended or self.failure:
            raise PhoneError("the call has ended; start a new one")
        menu = self.call.menu
        keypad = self.call.keypad
        pending = bool(menu is not None and menu.typed) or bool(menu is None and keypad is not None and keypad.typed)
        mark = len(self.call.lines)
        try:
            if kind == "press":
                if key is None or key not in KEYS:
                    raise PhoneError(f"a key is one of 0-9, * and #; got {key!r}")
                self.call.press_key(key)
            elif kind == "silence":
                self.call.silence()
            elif kind == "hangup":
                self.call.hangup()
            else:
                raise PhoneError(f"unknown action {kind!r} (press, silence or hangup)")
        except CallerMistake as err:  # a key nobody listens for: say so, the call goes on as if it never happened
            del self.call.lines[mark:]
            self.call.lines.append(Line("mistake", str(err)))
            return
        except CallFailed as err:  # the answer broke Sinch's rules: a real call would fail here too
            self.failure = str(err)
            self.call.lines.append(Line("error", str(err)))
        self.actions.append((kind, key, pending))

    def view(self) -> dict[str, Any]:
        """The call as the page draws it: transcript, inspector, path on the diagram, what it waits for."""
        flow = self.flow.result
        assert flow.flow is not None and flow.machine is not None  # only flows that compile take calls (Phone.dial)
        coverage = Coverage()
        coverage.add_flow(flow.flow, Machine.load(flow.machine), self.flow.file)
        coverage.record_call(self.journal)
        hit = coverage.flows[flow.flow.id]
        menu = self.call.menu
        return {
            "id": self.id, "flow": self.flow.file, "settings": {
                "caller": self.settings.caller, "called": self.settings.called,
                "now": self.settings.now.isoformat(timespec="minutes"), "locale": self.settings.locale},
            "lines": [{"kind": line.kind, "text": line.text, "locale": line.data.get("locale")}
                      for line in self.call.lines],
            "exchanges": self.transport.exchanges,
            "path": self.path(),
            "transitions": [{"source": t.source, "exit": t.label, "target": t.target} for t in hit.covered_transitions],
            "ended": self.call.ended or self.failure is not None,
            "listening": menu is not None or self.call.keypad is not None,  # a conference keypad listens too
            "typed": menu.typed if menu is not None else self.call.keypad.typed if self.call.keypad is not None else "",
            "status": _status(self),
        }

    def path(self) -> list[str]:
        """States in the order the call went through them (fused sub-menus included)."""
        order: list[str] = []
        root: str | None = None
        for entry in self.journal:
            if isinstance(entry, Step):
                order.extend(entry.entered)
                root = entry.answer.state if entry.answer is not None else root
            elif isinstance(entry, Line) and entry.kind == "menu" and root is not None:
                target = entry.data.get("to")
                assert target is not None  # every menu line names where it went (Call._key)
                order.append(svaml.state_of_menu(target)[1] or root)
        return order


def _status(phone: PhoneCall) -> str:
    from ivrc.runtime.emulation.conversation import status

    if phone.failure:
        return f"the call failed: {phone.failure}"
    return status(phone.call)


def _test_defaults(flow: Flow) -> dict[str, Any]:
    """The request stubs of the flow's tests (`defaults: requests:` in NAME.test.yaml), if any."""
    try:
        with open(flow.test_file, encoding="utf-8") as fh:
            document = yaml.safe_load(fh)
        return parse_stubs(((document or {}).get("defaults") or {}).get("requests"))
    except (OSError, yaml.YAMLError, AttributeError, StubError):
        return {}  # no tests yet, or tests `ivrc test` would explain: the call runs without stubs


def _typed_in(stubs: Any) -> dict[str, Any]:
    try:
        return parse_stubs(stubs, "stubs")
    except StubError as err:
        raise PhoneError(str(err)) from None


class Phone:
    """The calls the panel has made in this studio session."""

    def __init__(self) -> None:
        self.calls: dict[str, PhoneCall] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def dial(self, flow: Flow, *, caller: str, called: str | None, now: str | None, locale: str | None,
             stubs: Any = None) -> PhoneCall:
        """A new call; request states are answered by `stubs` (a scenario's `requests:` mapping) over
        the stubs in the flow tests' `defaults:`, as `ivrc test` answers them: never the network."""
        result = flow.result
        if result.machine is None:
            raise PhoneError(f"{flow.file} has errors, so it cannot take calls; fix the problems first")
        machine = Machine.load(result.machine)
        moment = _moment(now, machine.timezone)
        if locale and locale not in machine.locales:
            raise PhoneError(f"locale {locale!r} is not one of the flow's locales ({', '.join(machine.locales)})")
        if locale and locale != machine.locale:
            machine = dataclasses.replace(machine, locale=locale)  # a what-if: the call starts in another locale
        how = setup(machine, called=called or None)
        journal: list = []
        replies = {**_test_defaults(flow), **_typed_in(stubs)}
        world = InProcess([machine], frozen_clock(moment, machine.timezone), PlaceholderEnv(), journal,
                          backend=Stubs(replies))
        transport = _Inspected(world.transport())
        call = Call(transport, caller=caller, clock=world.clock, observer=journal.append, **how.call_kwargs())
        with self._lock:
            call_id = str(next(self._ids))
            phone = PhoneCall(call_id, flow, Settings(caller, how.called, moment, locale or result.machine["locale"]),
                              call, transport, journal)
            self.calls[call_id] = phone
            for old in list(self.calls)[:-MAX_CALLS]:
                del self.calls[old]
        try:
            call.start()
        except CallFailed as err:
            phone.failure = str(err)
            call.lines.append(Line("error", str(err)))
        return phone

    def get(self, call_id: str) -> PhoneCall:
        phone = self.calls.get(call_id)
        if phone is None:
            raise UnknownCall(f"no call {call_id!r} (the studio keeps the last {MAX_CALLS} calls)")
        return phone


def _moment(now: str | None, timezone: str) -> datetime.datetime:
    """The call's time of day, naive in the flow's zone; now (to the minute) when not given."""
    from ivrc.compiler.hours import zone

    if not now:
        return datetime.datetime.now(zone(timezone)).replace(tzinfo=None, second=0, microsecond=0)
    try:
        moment = datetime.datetime.fromisoformat(now)
    except ValueError:
        raise PhoneError(f"{now!r} is not a time like 2026-03-03T10:00") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone(timezone)).replace(tzinfo=None)
    return moment
