"""A server killed with SIGKILL in the middle of calls, and started again: the calls go on.

The state of a call lives in its cookies, which Sinch echoes, so the new process needs nothing
from the old one but the same flows (and --machines-dir for older versions). Each call here is
stopped at a different point (collecting digits, retrying after wrong input, in a menu,
recording, in an outbound call's menu) when the server dies.
"""
from __future__ import annotations

import json
import signal

import httpx
import pytest
from relykit import ACCOUNT_PIN, EXAMPLES, VOICEMAIL, Switchboard

from ivrc.runtime.emulation.emulator import Call, Unreachable

pytestmark = pytest.mark.slow  # real servers or subprocesses for seconds each: run by `make test-slow`


def test_calls_survive_a_sigkill_and_restart(launch, tmp_path) -> None:
    machines = tmp_path / "machines"
    first = launch([EXAMPLES], machines)
    board = Switchboard([first.callback])
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "Smile Dental"}})

    waiting_for_account = Call(board, called=ACCOUNT_PIN).start()
    waiting_for_pin = Call(board, called=ACCOUNT_PIN).start().press("123456#")
    in_the_menu = Call(board, called=ACCOUNT_PIN).start().press("123456#").press("1234#")
    two_wrong_tries = Call(board, called=ACCOUNT_PIN).start().press("0123#").press("99#")  # attempt 3 of 3 next
    recording = Call(board, called=VOICEMAIL).start()
    outbound = Call(board, outbound=True, custom=custom, amd="human").start()
    assert recording.recording is not None and outbound.menu is not None

    first.kill()
    assert first.process.returncode == -signal.SIGKILL
    try:
        Call(board, called=ACCOUNT_PIN).start()
        raise AssertionError("the killed server still answered")
    except Unreachable:
        pass  # while no process listens, Sinch cannot reach anyone: run replicas (docs/deployment.md)

    second = launch([EXAMPLES], machines, port=first.port)  # the same address, a new process
    assert second.pid != first.pid
    board.point_at([second.callback])

    waiting_for_account.press("9123456#").press("9876#")
    assert waiting_for_account.transferred["target"] == "business-desk@pbx.granitebank.example"
    waiting_for_pin.press("1234#").press("2")
    assert waiting_for_pin.transferred["target"] == "+46812345702"
    in_the_menu.press("0")
    assert in_the_menu.transferred["target"] == "+46812345703"
    # The attempt count crossed the restart in the cookie: a third wrong account number is the last.
    two_wrong_tries.press("5#")
    assert two_wrong_tries.heard()[-1] == "Let me connect you to one of our agents."
    recording.press("#")
    assert recording.ended and recording.heard()[-1].startswith("Thank you. We will call you back")
    outbound.press("1")
    assert outbound.ended and outbound.cookies["v.answer"] == "confirmed"
    for call in (waiting_for_account, waiting_for_pin, in_the_menu, two_wrong_tries):
        call.hangup()

    # The new process answered those steps with no error path, and logged them.
    metrics = httpx.get(second.base + "/metrics").text
    assert not [line for line in metrics.splitlines() if line.startswith("ivrc_errors_total{")]
    logged = {json.loads(line)["callid"] for line in second.stdout().splitlines() if line.startswith("{")}
    assert {waiting_for_account.callid, two_wrong_tries.callid, outbound.callid} <= logged
    board.close()
