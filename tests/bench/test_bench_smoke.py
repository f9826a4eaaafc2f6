"""The benchmark scripts run (quick mode) and print their tables; their figures are not judged here."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real servers or subprocesses for seconds each: run by `make test-slow`

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str) -> str:
    done = subprocess.run([sys.executable, *argv], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_callback_benchmark_runs_both_servers() -> None:
    out = run("bench/callbacks.py", "--quick")
    assert "baseline (bare Starlette)" in out and "ivrc serve" in out
    assert "throughput ratio ivrc/baseline:" in out and "p99 latency ratio ivrc/baseline:" in out


def test_callback_costs_benchmark_takes_each_part_out_in_turn() -> None:
    out = run("bench/callback_costs.py", "--quick")
    for row in ("baseline (bare Starlette)", "uvicorn alone (an ASGI app, a fixed answer)",
                "plus signature, parse, seal check and seal", "ivrc serve", "without the log line",
                "without metrics", "without the signature check", "without the request deadline"):
        assert row in out
    assert "ivrc's own work:" in out and "An app answering at 0.80 of the baseline may spend" in out


def test_compile_scaling_benchmark_runs() -> None:
    out = run("bench/compile_scaling.py", "--quick")
    assert "100 states" in out and "500 states" in out


def test_lint_benchmark_runs_against_a_schema_only_validator() -> None:
    out = run("bench/lint_vs_schema.py", "--quick", "--validator", f"{sys.executable} bench/schema_only.py")
    assert "worst ratio" in out and "the 5 examples" in out


def test_startup_benchmark_runs() -> None:
    out = run("bench/startup.py", "--quick")
    assert "ivrc --version" in out and "ivrc lint examples/voicemail.yaml" in out


def test_adversarial_lint_benchmark_runs() -> None:
    out = run("bench/adversarial_lint.py", "--quick")
    assert "prompt of repeated '{{'" in out and "worst growth of the work when the file doubles:" in out


@pytest.mark.parametrize("script", ["callbacks", "callback_costs", "compile_scaling", "lint_vs_schema", "startup", "adversarial_lint"])
def test_each_script_explains_itself(script: str) -> None:
    assert "usage:" in run(f"bench/{script}.py", "--help")


def test_slow_backend_benchmark_runs() -> None:
    out = run("bench/slow_backend.py", "--quick")
    assert '"p99_alone_ms"' in out and '"ratio"' in out and '"slow_calls_answered"' in out
