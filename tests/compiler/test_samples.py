"""Lint runs templates with the values a call can have: every value that can fail, and only those."""
from __future__ import annotations

from ivrc.compiler import check_text

FLOW = """\
ivrc: 1
flow: f
{direction}
variables:
  plan: {{max_length: 8, default: "gold"}}
start: s
states:
  s:
    say: "Your plan starts with {{{{ plan[0] }}}}."
    next: t
  t:
    set: {{plan: {value}}}
    hangup: true
"""


def failures(direction: str = 'numbers: ["+46812345670"]', value: str = '"silver"') -> list[str]:
    result = check_text(FLOW.format(direction=direction, value=value))
    return [d.message for d in result.diagnostics if d.code == "IVR083"]


def test_a_variable_the_flow_only_sets_to_constants_holds_only_those() -> None:
    assert failures() == []


def test_an_empty_constant_is_one_of_them() -> None:
    assert failures(value='""') == ["this prompt fails when plan is '': UndefinedError: str object has no element 0"]


def test_a_templated_set_can_give_anything() -> None:
    assert len(failures(value='"{{ call.caller[:3] }}"')) == 1


def test_a_callout_can_give_any_declared_variable() -> None:
    assert len(failures(direction='outbound: {caller_id: "+46812345730"}')) == 1


def test_what_fails_for_every_value_says_so() -> None:
    result = check_text(FLOW.format(direction='numbers: ["+46812345670"]', value='"x"')
                        .replace("plan[0]", "now.hour | length"))
    assert [d.message for d in result.diagnostics if d.code == "IVR083"] == [
        "this prompt fails on every call: TypeError: object of type 'int' has no len()"]
