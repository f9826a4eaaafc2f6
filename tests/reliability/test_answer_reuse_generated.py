"""Generated flows and callers are answered alike by an engine that reuses parts and by one that never does.

The lint-clean property test's flows (menus, collections, recordings, branches, `set`, templated
prompts, hours, locale switches, transfers, outbound calls) are called by several of its random
callers one after another on the same two engines: one keeps its walks and written parts
(runtime/engine/reuse.py), the other forgets them before every callback. Every answer must be the
same, byte for byte, and what the json module writes for it: nothing one call (its number, its
time, its keys, its variables or locale) left in what is kept may show in another's answer.
"""
from __future__ import annotations

import datetime
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from test_lint_clean_calls import NUMBER, SCALE, SEED, Caller, callers, flows

from ivrc.compiler import compile_text
from ivrc.runtime.emulation.emulator import Call, CallerMistake
from ivrc.runtime.emulation.simulate import PlaceholderEnv
from ivrc.runtime.emulation.tracing import TracingEngine
from ivrc.runtime.engine.events import parse_callback
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.render import Templates
from ivrc.runtime.engine.step import Answer
from ivrc.runtime.server.fastjson import answer_bytes

_JSON = json.JSONEncoder(separators=(",", ":")).encode


def library_of(machine: dict) -> Library:
    library = Library()
    library.add(machine)
    return library


def forget(library: Library) -> None:
    """Every answer cache of every loaded machine emptied: only the compiled templates are kept."""
    for loaded in [*library.versions.values(), *library.current.values()]:
        loaded.templates = Templates(texts=loaded.templates.texts, conditions=loaded.templates.conditions)



class TwoEngines:
    """The emulator's transport: each callback stepped by an engine that reuses parts and by one that never does."""

    def __init__(self, machine: dict, caller: list) -> None:
        self.caller = caller
        # Tracing engines: the states each step enters (flow-test coverage) must not change either.
        self.reusing = TracingEngine(library_of(machine), clock=lambda: caller[0].moment, env=PlaceholderEnv())
        self.afresh_library = library_of(machine)
        self.afresh = TracingEngine(self.afresh_library, clock=lambda: caller[0].moment, env=PlaceholderEnv())

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        raw = json.dumps(body).encode()
        reused = self.reusing.step(parse_callback(raw))
        forget(self.afresh_library)
        fresh = self.afresh.step(parse_callback(raw))
        assert summary(reused) == summary(fresh), body
        walked, walked_afresh = self.reusing.journal[-1], self.afresh.journal[-1]
        assert (walked.entered, walked.retried) == (walked_afresh.entered, walked_afresh.retried), body
        if reused.svaml is not None:
            written = answer_bytes(reused.svaml)
            assert written == answer_bytes(fresh.svaml) == _JSON(fresh.svaml).encode()
        return 200, reused.svaml


def summary(answer: Answer) -> tuple:
    return answer.svaml, answer.outcome, answer.flow, answer.version, answer.state, answer.error


@seed(SEED)
@settings(max_examples=60 * SCALE, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(flow=flows(), calls=st.lists(callers, min_size=2, max_size=4))
def test_generated_flows_are_answered_alike_with_and_without_reuse(flow: dict, calls: list[Caller]) -> None:
    result = compile_text(yaml.safe_dump(flow, sort_keys=False, allow_unicode=True), "generated.yaml")
    if not result.ok:
        return
    machine = result.machine
    outbound = machine["direction"] == "outbound"
    current: list[Caller] = [calls[0]]
    transport = TwoEngines(machine, current)
    # Several callers, each with their own number, time and keys, one after another on the same engines:
    # nothing one call left behind may show in another's answer.
    for caller in calls + calls:
        current[0] = caller
        call = Call(transport, called=NUMBER, caller=caller.caller, outbound=outbound, amd=caller.amd,  # type: ignore[arg-type]
                    custom=machine["flow"] if outbound else None, clock=lambda: current[0].moment)
        call.start()
        for action, keys in caller.actions:
            if call.ended or (call.menu is None and call.keypad is None):
                break
            try:
                call.press(keys) if action == "press" else call.silence() if action == "silence" else call.hangup()
            except CallerMistake:
                break
        call.hangup()


CALLER_DATA = """\
ivrc: 1
flow: personal
numbers: ["+46812345690"]
locale: en-US
locales: [en-US, sv-SE]
timezone: Europe/Stockholm
start: hello
variables:
  note: {max_length: 8}
hours:
  office: {weekly: {mon: ["09:00-17:00"], tue: ["09:00-17:00"]}}
states:
  hello:
    say: "Hello {{ call.caller }}, it is {{ now.hour }} o'clock."
    next: welcome
  welcome:
    say: Welcome.
    next: choose
  choose:
    menu:
      prompt: For English press 1, for Swedish press 2.
      options:
        "1": english
        "2": swedish
        "3": opening
  english:
    set: {locale: en-US, note: "{{ call.caller[-4:] }}"}
    next: opening
  swedish:
    set: {locale: sv-SE}
    next: opening
  opening:
    branch:
      - if: is_open('office')
        goto: main
      - else: closed
  main:
    say: Welcome to the main menu.
    next: menu
  menu:
    menu:
      prompt: "Your note is {{ note }}. Press 1 to hear it again."
      options:
        "1": main
        "2": address
  address:
    say: We are at Storgatan 1.
    next: address_menu
  address_menu:
    menu:
      prompt: Press 1 to end the call.
      options:
        "1": goodbye
  goodbye:
    say: Goodbye.
    hangup: true
  closed:
    say: We are closed.
    hangup: true
"""


def test_caller_data_never_shows_in_another_calls_answer() -> None:
    """Callers with their own number, time and choices, alternately: each hears only their own."""
    result = compile_text(CALLER_DATA, "personal.yaml")
    assert result.ok and result.machine is not None, result.errors
    tuesday = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.timezone.utc)  # 10:00 in Stockholm: open
    evening = tuesday.replace(hour=18)  # closed
    people = [Caller([("press", "1"), ("press", "2"), ("press", "1")], "+46700000001", "human", tuesday),
              Caller([("press", "2"), ("press", "2"), ("press", "1")], "+14155550100", "human", tuesday),
              Caller([("press", "1")], "+46700000002", "human", evening),
              Caller([("press", "2"), ("press", "1"), ("press", "2"), ("press", "1")], "+46700000003", "human",
                     tuesday.replace(hour=14)),
              # Straight to the opening-hours branch: closed for the first, open for the next.
              Caller([("press", "3")], "+46700000004", "human", evening),
              Caller([("press", "3"), ("press", "2"), ("press", "1")], "+46700000005", "human", tuesday)]
    current = [people[0]]
    transport = TwoEngines(result.machine, current)
    heard = []
    for caller in people + people:
        current[0] = caller
        call = Call(transport, called=NUMBER, caller=caller.caller, clock=lambda: current[0].moment)  # type: ignore[arg-type]
        call.start()
        for _, keys in caller.actions:
            if call.ended or call.menu is None:
                break
            call.press(keys)
        call.hangup()
        heard.append(call.transcript())
    assert len(set(heard[:len(people)])) == len(people)  # every caller heard something of their own
    assert heard[:len(people)] == heard[len(people):]  # and the same again the second time
    assert transport.reusing.library.current["personal"].templates.walks  # some walks were kept
