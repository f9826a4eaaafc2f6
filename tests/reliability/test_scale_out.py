"""Three `ivrc serve` processes behind a round-robin of callbacks: every call completes.

Consecutive callbacks of one call land on different processes, as behind a load balancer with
no session affinity. The processes share --machines-dir, as replicas share a volume.
"""
from __future__ import annotations

import concurrent.futures
import datetime
from typing import Any

import httpx
import pytest
from relykit import EXAMPLES, KEY, SECRET, SUPPORT, Switchboard, encode, load_script, stamp

from ivrc.runtime.signing import sign

pytestmark = pytest.mark.slow  # real servers or subprocesses for seconds each: run by `make test-slow`


def _callbacks(server: Any) -> float:
    text = httpx.get(server.base + "/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("ivrc_callbacks_total{"))


def _errors(server: Any) -> list[str]:
    return [line for line in httpx.get(server.base + "/metrics").text.splitlines()
            if line.startswith("ivrc_errors_total{")]


def test_every_call_completes_whichever_process_answers(launch, tmp_path) -> None:
    machines = tmp_path / "machines"
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        servers = list(pool.map(lambda _: launch([EXAMPLES], machines), range(3)))
    assert len({s.pid for s in servers}) == 3
    callbacks = [s.callback for s in servers]
    scenarios = load_script().SCENARIOS

    def one_call(index: int) -> tuple[str, dict[str, int]]:
        name = sorted(scenarios)[index % len(scenarios)]
        board = Switchboard(callbacks, first=index)  # calls start on different processes
        try:
            scenarios[name](board)  # raises if any answer breaks Sinch's rules or the call goes astray
        finally:
            board.close()
        return name, board.sent

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one_call, range(21)))  # every scenario three times, four calls at once
    assert len(results) == 21
    for name, sent in results:
        if sum(sent.values()) >= 2:
            assert len(sent) >= 2, f"{name}: every callback went to one process"
    for server in servers:
        assert _callbacks(server) > 0
        assert _errors(server) == [], server.base


def test_the_replay_guard_is_per_process(launch, tmp_path) -> None:
    """Documented in SECURITY.md: a replay sent to another replica inside the timestamp window is answered.

    The window (5 minutes) is what bounds a replay across replicas; each process remembers only
    what it saw itself.
    """
    machines = tmp_path / "machines"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        one, two = pool.map(lambda _: launch([EXAMPLES], machines), range(2))
    body = encode({"event": "ice", "callid": "replayed", "cli": "+46701234567",
                   "to": {"type": "number", "endpoint": SUPPORT}})
    timestamp = stamp(datetime.datetime.now(datetime.timezone.utc))
    headers = {"content-type": "application/json", "x-timestamp": timestamp,
               "authorization": sign(KEY, SECRET, "POST", "/sinch/callback", "application/json", timestamp, body)}
    first = httpx.post(one.callback, content=body, headers=headers)
    assert first.status_code == 200
    assert httpx.post(one.callback, content=body, headers=headers).content == first.content  # from its cache
    assert httpx.post(two.callback, content=body, headers=headers).status_code == 200  # a fresh step there
