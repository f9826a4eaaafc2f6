"""A flow that lints clean never sends a call down the error path because of itself.

Hypothesis writes flows the way authors do, from the language's parts (menus, digit collection,
recordings, branches on conditions, `set` with templates, prompts with filters, SSML, hours,
locale switches, outbound flows with answering-machine detection, streams, conference keypads, keys sent); every flow `ivrc lint` passes is compiled and called
by random callers (keys, digits, silence, hang-ups, at any time of the week) in the emulator;
so are the example flows.
No answer may be the error path. Menus and collections here always name an `exhausted` state:
running out of attempts without one is the documented way into the error path, not a fault.

CI runs a fixed budget from a fixed seed. For a longer search (see docs/reliability.md):

    IVRC_PROPERTY_SCALE=50 IVRC_PROPERTY_SEED=$RANDOM .venv/bin/python -m pytest tests/reliability/test_lint_clean_calls.py
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from ivrc.compiler import compile_file, compile_text, formats
from ivrc.runtime.emulation.emulator import Call, CallerMistake, EngineTransport
from ivrc.runtime.emulation.simulate import PlaceholderEnv
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.step import Engine

SCALE = max(1, int(os.environ.get("IVRC_PROPERTY_SCALE", "1")))
SEED = int(os.environ.get("IVRC_PROPERTY_SEED", "20261201"))
NUMBER = "+46812345690"
LOCALES = ["en-US", "sv-SE"]

# The parts authors write templates from: names that exist, filters and methods as the docs show them.
VALUES = ["call.caller", "call.called", "call.callid", "locale", "note", "pin", "now.hour", "now.minute",
          "now.weekday()", "now.year", "now.strftime('%H:%M')", "'ok'", "42"]
FILTERS = ["", " | upper", " | lower", " | int", " | length", " | string", " | title", " | trim",
           " | replace('1', 'one')", " | default('none')", " | truncate(8)", " | first", " | last",
           " | reverse", " | wordcount", " | float", " | round", " | abs", " | capitalize", " | center(12)",
           " | join(' ')", " | list | length", " | striptags", " | e", " | urlencode", " | sum"]
OPERATORS = ["==", "!=", "<", ">=", "in", "not in"]
CONDITIONS = ["is_open('office')", "not is_open('office')", "call.caller.startswith('+46')", "pin | int > 500",
              "now.weekday() < 5", "now.hour >= 12", "locale == 'sv-SE'", "note == ''", "pin == '1234'",
              "call.amd == 'machine'", "call.amd == 'human'", "pin | length == 4", "(pin | int) % 2 == 0",
              "'9' in pin", "note.upper() == 'VIP'", "true", "false"]


@st.composite
def values(draw) -> str:
    return draw(st.sampled_from(VALUES)) + draw(st.sampled_from(FILTERS))


@st.composite
def conditions(draw) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(CONDITIONS))
    left, right = draw(values()), draw(values())
    return f"({left}) {draw(st.sampled_from(OPERATORS))} ({right})"


@st.composite
def prompts(draw) -> object:
    text = draw(st.sampled_from(["Welcome.", "Please choose.", "Thank you.", "One moment please."]))
    if draw(st.booleans()):
        text += " You said {{ " + draw(values()) + " }}."
    if draw(st.integers(0, 4)) == 0:  # SSML, with caller data inside the markup
        return [{"ssml": "<speak>" + text + " Tom & Jerry. <break time='300ms'/></speak>"}, "Thank you."]
    if draw(st.integers(0, 3)) == 0:
        return {locale: text for locale in LOCALES}
    return text


@st.composite
def flows(draw) -> dict:
    count = draw(st.integers(2, 9))
    names = [f"s{i}" for i in range(count)] + ["bye"]
    outbound = draw(st.integers(0, 3)) == 0

    def later(i: int) -> str:
        return draw(st.sampled_from(names[i + 1:]))

    def anywhere() -> str:
        return draw(st.sampled_from(names))

    states: dict = {}
    for i in range(count):
        state: dict = {}
        if draw(st.booleans()):
            state["say"] = draw(prompts())
        if draw(st.integers(0, 3)) == 0:
            # Cut to the variable's length: caller data longer than max_length is a separate matter.
            assignments = {"note": "{{ ((" + draw(values()) + ") | string)[:8] }}"}
            if draw(st.booleans()):
                assignments = {"locale": draw(st.sampled_from(
                    LOCALES + ["{{ 'sv-SE' if " + draw(conditions()) + " else 'en-US' }}", "{{ locale }}"]))}
            state["set"] = assignments
        kind = draw(st.sampled_from(["next", "branch", "menu", "collect", "record", "transfer", "hangup", "repeat"]))
        if kind == "next":
            state["next"] = later(i)
        elif kind == "branch":
            cases = [{"if": draw(conditions()), "goto": later(i)} for _ in range(draw(st.integers(1, 3)))]
            state["branch"] = cases + [{"else": later(i)}]
        elif kind == "menu":
            # Keys like 10 make the menu a digit collection behind the scenes.
            keys = draw(st.lists(st.sampled_from(list("0123456789*#") + ["10", "11", "*9"]), min_size=1, max_size=4,
                                 unique=True))
            state["menu"] = {"prompt": draw(prompts()), "options": {key: anywhere() for key in keys},
                             "attempts": draw(st.integers(1, 3)),
                             "no_input": {"say": "Sorry, I did not hear anything."},
                             # The same words as no_input: Sinch repeats the menu itself (runMenu repeats).
                             "invalid": draw(st.sampled_from([{"say": "Sorry, that is not an option."}, later(i),
                                                              {"say": "Sorry, I did not hear anything."}])),
                             "exhausted": later(i)}
        elif kind == "collect":
            low = draw(st.integers(1, 4))
            collect = {"prompt": draw(prompts()), "into": "pin", "max_digits": draw(st.integers(low, 6)),
                       "min_digits": low, "attempts": draw(st.integers(1, 3)),
                       "no_input": {"say": "Sorry."}, "invalid": {"say": "Sorry, try again."},
                       "next": anywhere(), "exhausted": later(i)}
            if draw(st.booleans()):
                collect["pattern"] = draw(st.sampled_from(["[0-9]+", "[1-9][0-9]*", r"\d{4}", "1.*", "[0-9*]+"]))
            if draw(st.booleans()):
                collect["terminator"] = "#"
            state["collect"] = collect
        elif kind == "repeat":  # counted: again to this state or anywhere, then on
            state["repeat"] = {"times": draw(st.integers(2, 4)), "then": later(i),
                               **({"goto": anywhere()} if draw(st.booleans()) else {})}
        elif kind == "record":
            state["record"] = {"prompt": draw(prompts()), "max_length": 60, "next": anywhere(),
                               "recording": {"destination": "https://media.example.com/voicemail/"}}
        elif kind == "transfer":
            state["transfer"] = draw(st.sampled_from([
                {"number": "+46812345671"}, {"sip": "desk@pbx.example.com"}, {"conference": "team-room"},
                {"number": "+46812345671", "digits_on_answer": "ww12#", "ringback": "se", "suppress_callbacks": True},
                {"stream": "wss://bot.example.com/calls", "headers": {"X-Note": "{{ note }}"},
                 "streaming": {"version": 2, "sample_rate": 16000}},
                # A conference whose keys lead on, like a menu's options.
                {"conference": "team-room", "keypad": {"mode": "detect", "max_digits": 2,
                                                       "keys": {"*1": anywhere(), "#": later(i)}}},
                # a number or address held in a variable, checked on the call
                {"number": "+4681234{{ note }}", "on_invalid": "bye"},
                {"sip": "{{ note }}@pbx.example.com", "on_invalid": "bye"}]))
        else:
            state["hangup"] = True
        if draw(st.integers(0, 5)) == 0:
            state["send_digits"] = "1w#"
        states[names[i]] = state
    states["bye"] = {"say": "Goodbye.", "hangup": True}
    flow: dict = {"ivrc": 1, "flow": "generated"}
    if draw(st.booleans()):
        flow["on_error"] = {"say": "Sorry.", "goto": "bye"}  # the error path goes on, in a state that ends
    if outbound:
        flow["outbound"] = {"amd": draw(st.booleans()), "caller_id": "+46812345730"}
    else:
        flow["numbers"] = [NUMBER]
    flow.update({
        "locale": "en-US", "locales": LOCALES, "timezone": "Europe/Stockholm", "start": "s0",
        "variables": {"note": {"max_length": 8}},
        "hours": {"office": {"weekly": {"mon": ["09:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"],
                                        "sat": "closed"}, "holidays": ["12-24"],
                               "dates": {"12-31": ["09:00-12:00"], "2026-12-28": "closed"}}},
        "states": states,
    })
    return flow


class Recording(EngineTransport):
    """The engine in process, keeping every error-path answer (a later answer does not hide one)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.errors: list[str] = []

    def send(self, body: dict) -> tuple[int, object]:
        status, answer = super().send(body)
        # A backend that fails is not the flow's fault (no backend answers here): a flow may send
        # such failures down its error path on purpose, to an `on_error` state (order_status.yaml).
        if self.last_error and not self.last_error.startswith("request:"):
            self.errors.append(self.last_error)
        return status, answer


@dataclass
class Caller:
    actions: list[tuple[str, str]]
    caller: str
    amd: str
    moment: datetime.datetime


callers = st.builds(
    Caller,
    actions=st.lists(st.tuples(st.sampled_from(["press", "silence", "hangup"]),
                               st.text("0123456789*#", min_size=1, max_size=7)), max_size=12),
    caller=st.sampled_from(["+46700000001", "+14155550100", "private", "", "+4670000000012345"]),
    amd=st.sampled_from(["human", "machine", "notsure", "hangup"]),
    moment=st.datetimes(min_value=datetime.datetime(2026, 1, 1), max_value=datetime.datetime(2027, 12, 31),
                        timezones=st.just(datetime.timezone.utc)),
)


@seed(SEED)
@settings(max_examples=120 * SCALE, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(flow=flows(), caller=callers)
def test_a_lint_clean_flow_never_takes_the_error_path(flow: dict, caller: Caller) -> None:
    text = yaml.safe_dump(flow, sort_keys=False, allow_unicode=True)
    result = compile_text(text, "generated.yaml")
    if not result.ok:
        event("lint found errors: " + ", ".join(sorted({d.code for d in result.errors})))
        return  # lint said no: an author would fix the flow first
    event("lint clean")
    if any(state.get("repeats_in_sinch") for state in result.machine["states"].values()):
        event("a menu Sinch repeats itself")
    errors, transcript = place_call(result.machine, caller)
    assert not errors, (f"a lint-clean flow took the error path: {errors}\n--- flow\n{text}\n--- call\n"
                        f"{transcript}\n--- lint\n{formats.text([result])}")


EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.yaml")
                  if not p.name.endswith(".test.yaml"))


@lru_cache(maxsize=None)
def example_machine(name: str) -> dict:
    result = compile_file(str(Path(__file__).resolve().parents[2] / "examples" / name))
    assert result.machine is not None, formats.text([result])
    return result.machine


@seed(SEED)
@settings(max_examples=60 * SCALE, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from([p.name for p in EXAMPLES]), caller=callers)
def test_the_examples_never_take_the_error_path(name: str, caller: Caller) -> None:
    errors, transcript = place_call(example_machine(name), caller)
    assert not errors, f"examples/{name} took the error path: {errors}\n--- call\n{transcript}"


def place_call(machine: dict, caller: Caller) -> tuple[list[str], str]:
    """Calls the flow as the caller does; the error-path answers on the way, and the conversation."""
    library = Library()
    library.add(machine)
    transport = Recording(Engine(library, clock=lambda: caller.moment, env=PlaceholderEnv()))
    outbound = machine["direction"] == "outbound"
    number = (machine.get("numbers") or [NUMBER])[0]
    call = Call(transport, called=number, caller=caller.caller, outbound=outbound, amd=caller.amd,
                custom=machine["flow"] if outbound else None, clock=lambda: caller.moment)
    call.start()
    for action, keys in caller.actions:
        if call.ended or (call.menu is None and call.keypad is None):
            break
        if action == "press":
            try:
                call.press(keys)
            except CallerMistake:  # keys left over after the call ended or moved on: the caller's, not a fault
                break
        elif action == "silence":
            call.silence()
        else:
            call.hangup()
    call.hangup()
    return transport.errors, call.transcript()
