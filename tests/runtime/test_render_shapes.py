"""A skeleton that renders for each call is filled only where it holds placeholders (render.py).

Its other parts are filled once per locale and shared by every call's answer; each answer must
still be exactly what a plain fill() of the whole skeleton gives, and nothing may be read once
that fill() reads per call.
"""
from __future__ import annotations

import datetime
import json

from ivrc.compiler import compile_text
from ivrc.compiler.compiled import Machine
from ivrc.runtime.engine.render import Context, StepError, Templates

FLOW = """\
ivrc: 1
flow: status
numbers: ["+46800000002"]
start: menu
locales: [en-US, sv-SE]
variables:
  status: {max_length: 8}
states:
  menu:
    menu:
      prompt: "It is {{ status }}. Press 1."
      options: {1: bye}
      no_input: bye
      invalid: bye
      exhausted: bye
  bye: {say: "Bye.", hangup: true}
"""
NOON = datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)


def machine() -> Machine:
    result = compile_text(FLOW, "status.yaml")
    assert result.ok and result.machine is not None, result.diagnostics
    return Machine.load(result.machine)


def context(m: Machine, templates: Templates, status: str, locale: str = "en-US", env=None) -> Context:
    return Context(m, templates, {}, {"status": status}, locale, NOON, env or {})


def prompts_of(action: dict) -> list[str]:
    return [menu["mainPrompt"] for menu in action["menus"]]


def test_a_rendered_menu_is_what_a_whole_fill_gives_and_shares_what_does_not_render() -> None:
    m = machine()
    skeleton = m.states["menu"].action
    before = json.dumps(skeleton, sort_keys=True)
    templates = Templates.for_machine(m)
    open_, closed = (context(m, templates, s).fill_static(skeleton) for s in ("open", "closed"))
    assert open_ == context(m, Templates.for_machine(m), "open").fill(skeleton)
    assert closed == context(m, Templates.for_machine(m), "closed").fill(skeleton)
    assert prompts_of(open_) == ["#tts[It is open. Press 1.]"]
    assert prompts_of(closed) == ["#tts[It is closed. Press 1.]"]
    # Only the path to the prompt is made per call: the menu's options are one object in both.
    assert open_ is not closed and open_["menus"][0] is not closed["menus"][0]
    assert open_["menus"][0]["options"] is closed["menus"][0]["options"]
    assert isinstance(open_["menus"], list) and isinstance(open_["menus"][0]["options"], list)
    assert json.dumps(skeleton, sort_keys=True) == before  # the machine's skeleton is left as it was


def test_shared_parts_are_filled_per_locale() -> None:
    m = machine()
    skeleton = {"name": "x", "say": {"$text": "{{ status }}"}, "in": [{"locale": {"$locale": None}}]}
    templates = Templates.for_machine(m)
    english = context(m, templates, "open", "en-US").fill_static(skeleton)
    swedish = context(m, templates, "open", "sv-SE").fill_static(skeleton)
    assert english == {"name": "x", "say": "open", "in": [{"locale": "en-US"}]}
    assert swedish == {"name": "x", "say": "open", "in": [{"locale": "sv-SE"}]}
    assert context(m, templates, "shut", "sv-SE").fill_static(skeleton)["in"] is swedish["in"]


def test_an_environment_value_beside_a_rendered_part_is_read_for_each_call() -> None:
    # A flow test's scenario brings its own environment: one call's value must not reach the next.
    m = machine()
    skeleton = {"say": {"$text": "{{ status }}"}, "credentials": [{"key": {"$env": "REC_KEY"}}, "fixed"]}
    templates = Templates.for_machine(m)
    first = context(m, templates, "open", env={"REC_KEY": "one"}).fill_static(skeleton)
    second = context(m, templates, "open", env={"REC_KEY": "two"}).fill_static(skeleton)
    assert first["credentials"] == [{"key": "one"}, "fixed"]
    assert second["credentials"] == [{"key": "two"}, "fixed"]
    try:
        context(m, templates, "open", env={}).fill_static(skeleton)
    except StepError as err:
        assert err.kind == "config" and "REC_KEY" in str(err)
    else:
        raise AssertionError("an unset environment variable must end in the error path")


def test_the_first_failing_part_decides_the_error_as_in_a_whole_fill() -> None:
    m = machine()
    # The template comes first and fails; the unset variable after it must not be what is reported.
    skeleton = {"say": {"$text": "{{ status.nope() }}"}, "key": {"$env": "UNSET"}, "tail": ["a", "b"]}
    errors = []
    for templates in (Templates.for_machine(m), Templates.for_machine(m)):
        ctx = context(m, templates, "open")
        for fill in (ctx.fill_static, ctx.fill):
            try:
                fill(skeleton)
            except StepError as err:
                errors.append((err.kind, str(err)))
    assert len(errors) == 4 and len(set(errors)) == 1 and errors[0][0] == "template"
