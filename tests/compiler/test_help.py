"""Help that helps: advice valid where it is given, did-you-mean where a name is close, sizes in bytes."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivrc.compiler import check_text
from ivrc.compiler.project import check_paths

BROKEN = Path(__file__).resolve().parents[1] / "flows" / "broken"
HEAD = 'ivrc: 1\nflow: f\nnumbers: ["+46812345670"]\nstart: s\n'


def one(text: str, code: str):
    found = [d for d in check_text(text).diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in check_text(text).diagnostics]
    return found[0]


def test_a_transfer_without_destination_is_told_the_destinations_not_next() -> None:
    [result] = check_paths([str(BROKEN / "IVR014-transfer-without-destination.yaml")])
    [d] = result.diagnostics
    assert "no destination" in d.message
    assert "number:" in d.help and "conference:" in d.help
    assert "next" not in d.help and "hangup" not in d.help


@pytest.mark.parametrize("written, meant", [
    ("Europe/Stokholm", "Europe/Stockholm"), ("Rome", "Europe/Rome"), ("america/new york", "America/New_York"),
])
def test_a_time_zone_gets_a_did_you_mean(written: str, meant: str) -> None:
    d = one(HEAD.replace("start: s", f"timezone: {written}\nstart: s") + "states:\n  s: {hangup: true}\n", "IVR120")
    assert d.help == f"did you mean '{meant}'?"


def test_a_zone_nothing_like_a_real_one_gets_the_general_advice() -> None:
    d = one(HEAD.replace("start: s", "timezone: Mars/Base\nstart: s") + "states:\n  s: {hangup: true}\n", "IVR120")
    assert d.help.startswith("use an IANA name")


def test_a_call_field_without_its_namespace() -> None:
    d = one(HEAD + 'states:\n  s:\n    say: "You called from {{ caller }}."\n    hangup: true\n', "IVR081")
    assert d.help.startswith("did you mean 'call.caller'?")


def test_a_caller_id_that_is_not_e164_mentions_the_fix_and_private() -> None:
    d = one(HEAD + 'states:\n  s:\n    transfer: {number: "+46812345671", caller_id: "46812345670"}\n', "IVR050")
    assert '"+46812345670"' in d.help and "caller_id: private" in d.help


def test_the_outbound_caller_id_is_not_offered_private() -> None:
    text = 'ivrc: 1\nflow: f\noutbound: {caller_id: "46812345730"}\nstart: s\nstates:\n  s: {hangup: true}\n'
    d = one(text, "IVR050")
    assert '"+46812345730"' in d.help and "private" not in d.help


def test_a_default_too_long_says_its_size_in_bytes() -> None:
    text = HEAD + 'variables:\n  greeting: {max_length: 4, default: "Hallå"}\nstates:\n  s: {hangup: true}\n'
    d = one(text, "IVR073")
    assert d.message == "the default of 'greeting' is 6 bytes; 'greeting' holds at most 4"
    assert "raise max_length to 6" in d.help
