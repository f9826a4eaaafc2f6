"""The short version of scripts/load.py: concurrent emulated calls through a real server on loopback.

The long version and its figures are in docs/reliability.md. These bounds are hang guards and
leak guards for a shared CI machine, not performance targets.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ivrctest import serve_env as server_env
from relykit import EXAMPLES, KEY, REPO, SECRET, load_script

pytestmark = pytest.mark.slow  # real servers or subprocesses for seconds each: run by `make test-slow`

CALLS = 140  # every scenario twenty times
CONCURRENCY = 8


def test_concurrent_calls_all_complete(launch, tmp_path) -> None:
    load = load_script()
    server = launch([EXAMPLES], tmp_path / "machines")
    before = server.rss_kib()
    report = load.run_load(server.callback, calls=CALLS, concurrency=CONCURRENCY, seconds=600, key=KEY, secret=SECRET)
    after = server.rss_kib()
    assert (report.calls_started, report.calls_completed, report.errors) == (CALLS, CALLS, 0), report.first_errors
    assert set(report.by_scenario) == set(load.SCENARIOS)
    assert report.callbacks >= CALLS * 3
    assert report.server_errors_total == 0 and report.server_rejected_total == 0
    if before:  # /proc is there (Linux)
        assert after - before < 64 * 1024, f"the server grew by {(after - before) / 1024:.0f} MiB"
    # The server logged every callback, none with a secret or the caller's number in it.
    output = server.stdout() + server.stderr()
    assert output.count('"event":"ice"') >= CALLS - CALLS // 7  # the reminder starts with an ACE
    assert SECRET not in output and "46700000001" not in output and "Traceback" not in output


def test_the_load_script_runs_as_users_run_it(tmp_path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "load.py"), "--calls", "14", "--concurrency", "2",
                           "--seconds", "30", "--json"], cwd=tmp_path, env=server_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "callback latency p50/p90/p99/max" in done.stdout and "server RSS before / after" in done.stdout
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["calls_completed"] == 14 and report["errors"] == 0


def test_the_load_script_refuses_a_remote_target() -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "load.py"), "--url", "https://example.com/cb"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "loopback" in done.stderr
