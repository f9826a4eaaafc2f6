"""Request states on a real server with the example backend, and call state that cannot be forged.

A real `ivrc serve` process on loopback, signed callbacks, the example bank (examples/backend.py)
answering over real HTTP: a caller verifies their PIN and hears their balance. Then an attacker
who holds the Sinch application secret (so every callback they send is validly signed) tries to
jump a call past the PIN check with forged cookies or a forged menu result, and is refused.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from ivrctest import EXAMPLES, KEY, SECRET, STATE_KEY, Server, serve_env, start_serve

from ivrc.compiler.project import compile_paths
from ivrc.runtime.emulation.emulator import Call, HttpTransport
from ivrc.runtime.engine.sealing import Sealer

pytestmark = pytest.mark.slow
ACCOUNT_PIN = "+46812345700"
ORDERS = "+46812345790"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    # Two state keys: the first seals, both are accepted (a key being rotated out).
    running = start_serve(tmp_path_factory.mktemp("sealed"), EXAMPLES,
                          env=serve_env(IVRC_STATE_KEY=f"{STATE_KEY},an-older-state-key-still-accepted"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def version() -> str:
    return next(m.version for m in compile_paths([str(EXAMPLES)]) if m.flow == "account-pin")


def _call(server: Server, called: str) -> Call:
    return Call(HttpTransport(server.callback, KEY, SECRET), called=called, key=KEY)


def test_a_caller_verifies_their_pin_and_hears_the_balance(server: Server) -> None:
    call = _call(server, ACCOUNT_PIN).start().press("123456#").press("1234#").press("3")
    assert "Ada Lovelace, your balance is 1250.00 kronor." in call.heard()
    # The PIN reached the bank once and never Sinch's cookies; the cookies are sealed.
    assert "v.pin" not in call.cookies or call.cookies["v.pin"] == ""
    assert call.cookies.get("m")
    lines = [json.loads(line) for line in server.stdout.read_text().splitlines() if line.startswith("{")]
    made = [r for line in lines for r in line.get("requests", [])]
    assert {(r["state"], r["outcome"], r.get("status")) for r in made} >= {("verify", "ok", 200),
                                                                           ("read_balance", "ok", 200)}
    assert "1234" not in server.stdout.read_text()  # no PIN in any log line


def test_a_wrong_pin_is_refused_by_the_bank(server: Server) -> None:
    call = _call(server, ACCOUNT_PIN).start().press("123456#").press("9999#")
    assert "Sorry, that PIN is not right." in call.heard()


def test_an_order_status_comes_from_the_order_desk(server: Server) -> None:
    call = _call(server, ORDERS).start().press("100200")
    assert "Order 100200 is shipped. Expected delivery: Thursday." in call.heard()
    unknown = _call(server, ORDERS).start().press("999999")
    assert "We could not find order 999999." in unknown.heard()
    down = _call(server, ORDERS).start().press("500500")
    assert "Sorry, our order desk cannot answer right now." in down.heard()


def test_a_menu_sinch_repeats_costs_one_callback_for_all_its_attempts(server: Server) -> None:
    """order_status's menu after the status has the same words for silence and a wrong key, so
    `ivrc serve` hands its retry to Sinch (runMenu repeats) and hears back only when both tries failed."""
    call = _call(server, ORDERS).start().press("100200")
    menu = call.answers[-1][1]["action"]["menus"][0]
    assert menu["repeats"] == 1
    assert menu["repeatPrompt"] == ("#tts[Sorry, please choose one of the options.];"
                                    "#tts[To check another order, press 1. To speak to an agent, press 0.]")
    before = len(call.answers)
    call.press("7")
    assert len(call.answers) == before  # Sinch's own repeat: no callback
    call.silence()
    assert len(call.answers) == before + 2  # the PIE that used up the attempts, then the DiCE
    assert call.heard()[-3:] == ["To check another order, press 1. To speak to an agent, press 0.",
                                 "Sorry, please choose one of the options.", "Thank you for calling Northwind. Goodbye."]
    assert call.ended


def _pie(server: Server, callid: str, cookies: dict[str, str], value: str, kind: str = "return",
         menu_id: str = "main") -> dict:
    body: dict = {"event": "pie", "callid": callid, "version": 1, "timestamp": _now(),
                  "menuResult": {"menuId": menu_id, "type": kind, "value": value, "inputMethod": "dtmf"}}
    if cookies:
        body["cookies"] = [{"key": k, "value": v} for k, v in cookies.items()]
    status, answer = HttpTransport(server.callback, KEY, SECRET).send(body)
    assert status == 200
    return answer


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _said(answer: dict) -> str:
    return json.dumps(answer)


def test_forged_cookies_that_skip_the_pin_check_are_refused(server: Server, version: str) -> None:
    """Validly signed by Sinch's secret, but the state cookies were never sealed by this server."""
    forged = {"ivrc": f"account-pin|{version}|personal_menu|0|en-US", "v.account": "123456",
              "v.holder": "Mallory"}
    answer = _pie(server, "forged-1", forged, "account-pin.personal_menu.3")
    assert answer["action"] == {"name": "hangup"}
    assert "balance" not in _said(answer) and "Mallory" not in _said(answer)


def test_a_seal_made_with_another_key_is_refused(server: Server, version: str) -> None:
    state = {"ivrc": f"account-pin|{version}|personal_menu|0|en-US", "v.account": "123456"}
    forged = {**state, "m": Sealer((b"a-key-this-server-does-not-know",)).seal("forged-2", state)}
    answer = _pie(server, "forged-2", forged, "account-pin.personal_menu.3")
    assert answer["action"] == {"name": "hangup"} and "balance" not in _said(answer)


def test_a_seal_from_another_call_is_refused(server: Server, version: str) -> None:
    state = {"ivrc": f"account-pin|{version}|personal_menu|0|en-US", "v.account": "123456"}
    other_call = {**state, "m": Sealer((STATE_KEY.encode(),)).seal("someone-elses-call", state)}
    answer = _pie(server, "forged-3", other_call, "account-pin.personal_menu.3")
    assert answer["action"] == {"name": "hangup"}


def test_a_menu_result_alone_cannot_reach_a_state_behind_a_request(server: Server) -> None:
    answer = _pie(server, "forged-4", {}, "account-pin.personal_menu.3")
    assert answer["action"] == {"name": "hangup"} and "balance" not in _said(answer)


def test_state_sealed_with_either_key_is_trusted(server: Server, version: str) -> None:
    state = {"ivrc": f"account-pin|{version}|personal_menu|0|en-US", "v.account": "123456",
             "v.holder": "Ada Lovelace"}
    for key in (STATE_KEY, "an-older-state-key-still-accepted"):
        sealed = {**state, "m": Sealer((key.encode(),)).seal("rotating", state)}
        answer = _pie(server, "rotating", sealed, "account-pin.personal_menu.3")
        assert "your balance is 1250.00 kronor" in _said(answer), key
        # The answer is sealed with the first key: the call goes on with the new one.
        cookies = {i["key"]: i["value"] for i in answer["instructions"] if i["name"] == "setCookie"}
        assert Sealer((STATE_KEY.encode(),)).verify("rotating", {**state, **cookies})


def test_ivrc_serve_refuses_to_start_without_a_state_key(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="IVRC_STATE_KEY is not set"):
        start_serve(tmp_path, EXAMPLES / "support.yaml", env=serve_env(IVRC_STATE_KEY=None))


def test_ivrc_serve_refuses_to_start_without_a_backend_secret(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="BANK_API_TOKEN is not set; the requests of flow.s. account-pin"):
        start_serve(tmp_path, EXAMPLES / "account_pin.yaml", env=serve_env(BANK_API_TOKEN=None))


# -- PIEs without cookies (docs/serving.md, "When Sinch echoes no cookies") ------------------------------


def _played(answer: dict) -> list[str]:
    return [part for i in answer["instructions"] if i["name"] == "playFiles" for part in i["ids"]]


def test_without_cookies_a_wrong_key_and_a_sub_menus_silence_are_still_routed(server: Server) -> None:
    wrong_key = _pie(server, "no-cookies-1", {}, "support.main_menu.invalid")
    assert wrong_key["action"]["name"] == "runMenu"
    assert _played(wrong_key) == ["#tts[Sorry, that is not an option.]"]
    silence = _pie(server, "no-cookies-2", {}, "", kind="timeout", menu_id="multilingual.orders_menu")
    assert silence["action"]["name"] == "runMenu"
    assert _played(silence) == ["#tts[Sorry, I did not hear a choice.]"]
    assert silence["action"]["menus"][0]["mainPrompt"].startswith("#tts[To hear how to track your order")


def test_without_cookies_the_main_menus_silence_takes_the_error_path(server: Server) -> None:
    answer = _pie(server, "no-cookies-3", {}, "", kind="timeout")
    assert answer["action"] == {"name": "hangup"}
    assert "something went wrong" in _said(answer)


def test_without_cookies_a_wrong_key_cannot_reach_a_state_behind_the_pin_check(server: Server) -> None:
    answer = _pie(server, "no-cookies-4", {}, "account-pin.personal_menu.invalid")
    assert answer["action"] == {"name": "hangup"}
    assert "To block a lost or stolen card" not in _said(answer)


@pytest.mark.parametrize("echo_cookies", [True, False])
def test_a_wrong_key_in_a_nested_menu_with_and_without_cookies(server: Server, echo_cookies: bool) -> None:
    """The same Swedish caller, through a Sinch that echoes cookies and one that does not: the wrong
    key is routed either way; without cookies the language is lost, as docs/serving.md says."""
    call = Call(HttpTransport(server.callback, KEY, SECRET), called="+46812345710", key=KEY,
                echo_cookies=echo_cookies).start()
    call.press("2")  # svenska
    call.press("1")  # the orders menu, fused into the main menu: no callback
    call.press("7")  # no option: returns multilingual.orders_menu.invalid
    assert call.heard()[-2] == ("Tyvärr, det är inte ett giltigt val." if echo_cookies
                                else "Sorry, that is not an option.")
    assert not call.ended and call.menu is not None
