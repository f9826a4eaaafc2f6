"""/metrics of `ivrc serve --workers 2`: whichever worker answers a scrape, the figures are the
server's (every worker's added up), read with prometheus-client's own text-format parser."""
from __future__ import annotations

import concurrent.futures
import datetime
import time

import httpx
import pytest
from callkit import encode, signed_headers
from ivrctest import start_serve
from prometheus_client.parser import text_string_to_metric_families

CALLS = 40
SUPPORT = "+46812345670"


def _scrape(base: str) -> dict:
    response = httpx.get(base + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def _wait_for_workers(base: str, count: int, seconds: float = 30.0) -> set[str]:
    """Polls until every worker has started (each shows its process metrics under its pid)."""
    deadline = time.monotonic() + seconds
    while True:
        families = _scrape(base)
        pids = {s.labels["pid"] for s in families["process_start_time_seconds"].samples}
        if len(pids) == count:
            return pids
        assert time.monotonic() < deadline, f"only {len(pids)} of {count} workers started"
        time.sleep(0.1)


def _incoming_call(callback: str, number: int) -> int:
    body = encode({"event": "ice", "callid": f"workers-{number}", "cli": "+46701234567",
                   "to": {"type": "number", "endpoint": SUPPORT}})
    headers = signed_headers(body, datetime.datetime.now(datetime.timezone.utc))
    # A new connection each time, so the calls spread over the workers as a load balancer's would.
    return httpx.post(callback, content=body, headers=headers, timeout=10).status_code


@pytest.mark.slow  # two worker processes and repeated scrapes, about 3.5 s: make test-slow and CI run it
def test_every_scrape_shows_the_whole_servers_figures(tmp_path) -> None:
    server = start_serve(tmp_path, extra=("--workers", "2"))
    try:
        pids = _wait_for_workers(server.base, 2)
        assert server.process.pid not in {int(p) for p in pids}  # the workers, not uvicorn's parent
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: _incoming_call(server.callback, n), range(CALLS)))
        assert statuses == [200] * CALLS
        seen = []
        for _ in range(12):  # scrapes land on either worker
            families = _scrape(server.base)
            callbacks = sum(s.value for s in families["ivrc_callbacks"].samples if s.name == "ivrc_callbacks_total")
            steps = [s.value for s in families["ivrc_step_seconds"].samples if s.name == "ivrc_step_seconds_count"]
            seen.append((callbacks, steps))
        assert seen == [(CALLS, [CALLS])] * 12
        for name in ("process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds"):
            assert {s.labels["pid"] for s in families[name].samples} == pids, name
    finally:
        server.stop()
