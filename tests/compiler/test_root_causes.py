"""One mistake, one error: the consequence of a mistake is a note on its error, not an error of its own."""
from __future__ import annotations

from pathlib import Path

from ivrc.compiler.project import check_paths

BROKEN = Path(__file__).resolve().parents[1] / "flows" / "broken"


def diagnostics(name: str):
    [result] = check_paths([str(BROKEN / name)])
    return result.diagnostics


def test_a_misspelt_required_key_is_one_error_naming_the_key_meant() -> None:
    start, action = diagnostics("IVR010-misspelt-required-key.yaml")
    assert start.message == "unknown key 'strat' in the flow: did you mean 'start'?"
    assert [r.message for r in start.related] == ["so the flow is missing the required key 'start'"]
    assert action.message == "unknown key 'nxt' in state 'welcome': did you mean 'next'?"
    assert [r.message for r in action.related] == ["so state 'welcome' has no action"]


def test_a_state_that_is_its_own_next_is_one_error() -> None:
    [loop] = diagnostics("IVR032-next-is-itself.yaml")
    assert loop.code == "IVR032"
    assert [r.message for r in loop.related] == ["so a call in state 'welcome' can never end"]


def test_an_unrelated_unknown_key_leaves_the_missing_key_reported() -> None:
    from ivrc.compiler import check_text

    result = check_text('ivrc: 1\nflow: f\nnumbers: ["+46812345670"]\nstates:\n  s: {hangup: true}\ncolour: red\n')
    assert sorted(d.code for d in result.diagnostics) == ["IVR010", "IVR011"]


def test_a_misspelt_transfer_destination_is_one_error() -> None:
    from ivrc.compiler import check_text

    result = check_text('ivrc: 1\nflow: f\nnumbers: ["+46812345670"]\nstart: s\nstates:\n'
                        '  s:\n    transfer: {numbr: "+46812345671"}\n')
    [d] = result.diagnostics
    assert d.message == "unknown key 'numbr' in 'transfer': did you mean 'number'?"
    assert [r.message for r in d.related] == ["so 'transfer' has no destination"]


def test_states_trapped_in_one_loop_are_one_error_naming_them_all() -> None:
    [trap] = diagnostics("IVR031-no-way-to-end.yaml")
    assert trap.message.startswith("a call in state 'main_menu' can never end") and "'daily_menu'" in trap.message
    assert [r.message for r in trap.related] == ["a call in 'daily_menu' cannot end either"]


def test_text_shared_through_an_anchor_is_reported_once() -> None:
    [undefined] = diagnostics("IVR081-anchor-shared-once.yaml")
    assert undefined.code == "IVR081" and "'oops'" in undefined.message


def test_a_bad_value_does_not_hide_the_mistakes_the_later_checks_find() -> None:
    """Reports all problems at once: a range error and a plain-http events URL in one run."""
    from ivrc.compiler import check_text

    text = (BROKEN / "IVR147-events-url-plain-http.yaml").read_text().replace(
        "  hello: {say: \"Hello.\", hangup: true}", "  hello: {say: \"Hello.\", send_digits: \"12a\", hangup: true}")
    assert "send_digits" in text
    result = check_text(text, "events.yaml")
    assert {d.code for d in result.errors} == {"IVR013", "IVR147"} and result.machine is None
