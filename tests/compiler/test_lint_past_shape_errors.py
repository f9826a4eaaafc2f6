"""After a shape error in a state, lint still reports the rest of the flow; that state is set aside."""
from __future__ import annotations

import textwrap

from ivrc.compiler import check_text

FLOW = textwrap.dedent("""\
    ivrc: 1
    flow: past
    numbers: ["+46812340110"]
    start: welcome
    states:
      welcome:
        say: "Hi."
        nxt: other
      other:
        say: "Hi {{ nobody }}."
        next: nowhere
      spare:
        hangup: true
    """)


def found(text: str) -> list[tuple[str, int]]:
    return sorted((d.code, d.span.line) for d in check_text(text, "past.yaml").diagnostics)


def test_an_unknown_key_in_one_state_does_not_hide_the_mistakes_in_the_others() -> None:
    # Before, lint stopped at the shape error: only IVR010, and two more runs to find the others.
    assert found(FLOW) == [("IVR010", 8), ("IVR020", 11), ("IVR081", 10)]


def test_the_state_with_the_shape_error_and_the_paths_through_it_are_not_judged() -> None:
    """`welcome` cannot be read (is `nxt` a typo of `next`?): nothing is said of what it says, nor that
    `other` and `spare` cannot be reached, since they may be once `welcome` is fixed."""
    broken = FLOW.replace('say: "Hi."', 'say: "Hi {{ nobody_either }}."')
    codes = [code for code, _ in found(broken)]
    assert codes.count("IVR081") == 1 and "IVR030" not in codes


def test_a_shape_error_outside_the_states_still_holds_the_other_checks_back() -> None:
    broken = FLOW.replace("start: welcome", "variables:\n  name: {max_len: 4}\nstart: welcome")
    assert [code for code, _ in found(broken)] == ["IVR010", "IVR010"]


def test_a_comment_silences_a_warning_found_past_a_shape_error() -> None:
    menu = FLOW.replace('  spare:\n    hangup: true\n', '  spare:\n    menu:\n      prompt: "Press 1."\n'
                        '      options: {1: other}\n')
    assert ("IVR040", 13) in found(menu)  # no no_input handling
    silenced = menu.replace('    menu:\n', '    menu:  # ivrc: ignore[IVR040, IVR041]\n')
    assert not {code for code, _ in found(silenced)} & {"IVR040", "IVR041"}


def test_a_wrong_true_or_false_is_named_in_yamls_words() -> None:
    """It said "False is not valid for 'hangup': expected True", Python's words for YAML's false and true."""
    (diagnostic,) = check_text(FLOW.replace('say: "Hi."\n    nxt: other', "hangup: false"), "past.yaml").errors[:1]
    assert diagnostic.message == "false is not valid for 'hangup': expected true"


def test_nothing_that_follows_the_paths_is_said_past_a_set_aside_state() -> None:
    """The stand-in that hangs up leads nowhere, so a repeat through it 'never came back' (IVR177)."""
    flow = textwrap.dedent("""\
        ivrc: 1
        flow: hold
        numbers: ["+46812340110"]
        start: still_waiting
        states:
          still_waiting:
            say: "Thank you for waiting."
            repeat: {times: 3, goto: hold_menu, then: voicemail}
          hold_menu:
            menu:
              prompt: "Press 1 to leave a message, or stay on the line."
              options: {1: voicemail}
              no_input: still_waiting
              invalid: still_waiting
              exhausted: voicemail
              colour: blue
          voicemail:
            hangup: true
        """)
    assert [code for code, _ in found(flow)] == ["IVR010"]


def test_a_shape_error_past_a_thousand_warnings_still_fails_the_flow() -> None:
    """Diagnostics are cut at 1,000 in line order: with the later checks running past shape errors, the one
    error after a thousand warnings was cut, and the flow linted clean (exit 0)."""
    states = "".join(f"  s{i}:\n    say: '<speak>Hello {i}</speak>'\n    next: s{i + 1}\n" for i in range(1000))
    flow = ("ivrc: 1\nflow: many\nnumbers: [\"+46812340110\"]\nstart: s0\nstates:\n" + states
            + "  s1000:\n    hangup: true\n    bogus_key: 1\n")
    result = check_text(flow, "many.yaml")
    assert not result.ok and [d.code for d in result.errors] == ["IVR010"]
