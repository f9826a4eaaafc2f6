"""The text a call's seal signs reads one way only: no cookie value, name or call id can be cut into others."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from callkit import Phone, pin

from ivrc.runtime.engine.sealing import Sealer

KEY = b"a state key of at least sixteen characters"
STATE = "kitchen|0123456789ab|pin|0|en-US"


@pytest.fixture
def sealer() -> Sealer:
    return Sealer((KEY,))


def test_a_value_with_a_line_feed_cannot_be_sent_back_as_two_cookies_under_its_seal(sealer: Sealer) -> None:
    """A caller's text saved in a variable (`x` then a line feed then `v.vip=yes`) was signed as the same text as
    two cookies, `v.name=x` and `v.vip=yes`: a forged callback could add a variable the flow never set."""
    sealed = {"ivrc": STATE, "v.name": "x\nv.vip=yes"}
    seal = sealer.seal("call-1", sealed)
    assert sealer.verify("call-1", {**sealed, "m": seal})
    assert not sealer.verify("call-1", {"ivrc": STATE, "v.name": "x", "v.vip": "yes", "m": seal})


def test_a_call_id_with_a_line_feed_cannot_lend_its_seal_to_another_call(sealer: Sealer) -> None:
    seal = sealer.seal("call-1\ncli=+46701234567", {"ivrc": STATE})  # `cli` sorts before `ivrc`, as the call id does
    assert not sealer.verify("call-1", {"cli": "+46701234567", "ivrc": STATE, "m": seal})


def test_a_value_with_an_equals_sign_cannot_be_read_as_another_name(sealer: Sealer) -> None:
    seal = sealer.seal("call-1", {"ivrc": STATE, "v.a": "b=c"})
    assert not sealer.verify("call-1", {"ivrc": STATE, "v.a=b": "c", "m": seal})


@pytest.mark.parametrize("value", ["x\\", "x\\n", "\\\n", "a\\=b"])
def test_backslashes_cannot_fake_an_escape(sealer: Sealer, value: str) -> None:
    seal = sealer.seal("call-1", {"ivrc": STATE, "v.a": value})
    assert sealer.verify("call-1", {"ivrc": STATE, "v.a": value, "m": seal})
    for other in ("x", "x\n", "\\", "a=b", value + "\\"):
        if other != value:
            assert not sealer.verify("call-1", {"ivrc": STATE, "v.a": other, "m": seal})


def test_seals_made_before_the_escaping_still_verify_for_ordinary_values(sealer: Sealer) -> None:
    """Calls in progress when a server is upgraded keep their state: text without a backslash or line feed
    is signed exactly as before."""
    held = {"ivrc": STATE, "v.tier": "gold", "v.ref": "AB=12", "cli": "+46701234567"}
    text = "\n".join(["call-1", *(f"{name}={held[name]}" for name in sorted(held))]).encode()
    before = base64.urlsafe_b64encode(hmac.new(KEY, text, hashlib.sha256).digest()).decode()[:22]
    assert sealer.seal("call-1", held) == before
    assert sealer.verify("call-1", {**held, "m": before})


@pytest.mark.parametrize("given", ["é", "\ud800", "x" * 22 + "é"])
def test_a_seal_that_is_not_ascii_is_no_seal_not_an_error(sealer: Sealer, given: str) -> None:
    assert not sealer.verify("call-1", {"ivrc": STATE, "m": given})


def test_a_dice_with_a_seal_that_is_not_ascii_is_answered_as_a_dice(make_engine, sinch_body, library) -> None:
    """It took the bug path: a traceback in the log, an apology in SVAML for a call that had ended."""
    phone = Phone(make_engine(), sinch_body)
    state = pin(library.current["kitchen"].machine.document, "pin")
    answer = phone.send("dice", cookies={"ivrc": state, "m": "é"}, seal=False, reason="CALLERHANGUP", result="ANSWERED")
    assert answer.svaml is None and not (answer.error or "").startswith("bug")
