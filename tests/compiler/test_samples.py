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


KEYED = """\
ivrc: 1
flow: keyed
numbers: ["+46812349902"]
variables:
  first: {max_length: 8}
start: ask
states:
  ask:
    collect:
      prompt: "Enter your four digit code. {{ note }}"
      into: n
      min_digits: {min}
      max_digits: 4
      pattern: '[1-9][0-9]*'
      no_input: {say: "No."}
      invalid: {say: "Bad."}
      next: read
  read:
    say: "You entered {{ n[0] }} {{ n[3] }}, that is {{ 10000 // (n | int) }}."
    next: lookup
  lookup:
    request: {url: "https://crm.example.com/x", save: {first: name}, next: tell, on_failure: tell}
  tell:
    say: "Hello {{ first[0] }}."
    hangup: true
"""


def keyed(min_digits: int, note: str = "") -> list[str]:
    text = KEYED.replace("{min}", str(min_digits)).replace("{{ note }}", note)
    return [d.message for d in check_text(text).diagnostics if d.code == "IVR083"]


def test_digits_a_collection_accepted_are_what_later_states_read() -> None:
    # Four digits, the first not 0: n[3] and 10000 // n work in every state after the collection.
    assert keyed(4) == ["this prompt fails when first is '': UndefinedError: str object has no element 0"]


def test_a_shorter_input_the_collection_accepts_is_still_tried() -> None:
    assert "this prompt fails when n is '1': UndefinedError: str object has no element 3" in keyed(1)


def test_before_the_collection_the_digits_are_empty() -> None:
    assert "this prompt fails when n is '': UndefinedError: str object has no element 0" in keyed(4, "{{ n[0] }}")


def test_a_value_that_fails_for_every_sample_does_not_claim_every_call() -> None:
    [message] = keyed(4, "{{ {'1': 'one'}[first] }}")[:1]
    assert "for every value ivrc tried for first" in message and "every call" not in message


LOCALE_FROM_VARIABLE = """\
ivrc: 1
flow: loc2
numbers: ["+46812346003"]
locale: en-US
locales: [en-US, sv-SE]
start: pick
variables:
  lang: {max_length: 5, default: "en-US"}
prompts:
  hi: {en-US: "Hello.", sv-SE: "Hej."}
states:
  pick:
    menu:
      prompt: "For English press 1, för svenska tryck 2, or 3 to keep the default."
      options:
        1: en
        2: sv
        3: apply
      no_input: {say: "Nothing."}
      invalid: {say: "Invalid."}
      exhausted: apply
  en:
    set: {lang: "en-US"}
    next: apply
  sv:
    set: {lang: "sv-SE"}
    next: apply
  apply:
    set: {locale: "{{ lang }}"}
    say: {prompt: hi}
    hangup: true
"""


def test_a_locale_read_from_a_variable_set_only_to_the_flows_locales_is_accepted() -> None:
    assert [d.code for d in check_text(LOCALE_FROM_VARIABLE).diagnostics] == []
    # Any other text reaching the variable makes it undecidable again.
    templated = LOCALE_FROM_VARIABLE.replace('set: {lang: "sv-SE"}', 'set: {lang: "{{ call.caller[:5] }}"}')
    assert "IVR072" in [d.code for d in check_text(templated).diagnostics]


def test_a_mistake_that_fails_whatever_the_values_is_named_not_the_values_that_fail_first() -> None:
    """`pin[0]` fails only while pin is empty; `now.hour | length` fails on every call. Every sample failed, and
    lint blamed pin with pin's error, so the author went after the wrong expression."""
    flow = """\
ivrc: 1
flow: f
numbers: ["+46812345670"]
start: ask
states:
  ask:
    say: "First digit {{ pin[0] }}. Hour {{ now.hour | length }}."
    collect: {prompt: "PIN.", into: pin, max_digits: 4, next: done}
  done: {hangup: true}
"""
    messages = [d.message for d in check_text(flow).diagnostics if d.code == "IVR083"]
    assert messages == ["this prompt fails on every call: TypeError: object of type 'int' has no len()"]
    alone = flow.replace(" Hour {{ now.hour | length }}.", "")
    assert [d.message for d in check_text(alone).diagnostics if d.code == "IVR083"] == [
        "this prompt fails when pin is '': UndefinedError: str object has no element 0"]
