"""The short version of scripts/fuzz.py, and proof that it would notice a crash or a hang."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from relykit import REPO, fuzz_script


@pytest.mark.slow
def test_a_short_fuzz_run_finds_nothing(tmp_path) -> None:
    saved = tmp_path / "findings"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "fuzz.py"), "--seconds", "600", "--count", "40",
                           "--seed", "20261126", "--timeout", "30", "--save-dir", str(saved), "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "findings         0" in done.stdout
    inputs = int(done.stdout.split()[1])
    assert inputs == 40, done.stdout  # it ran every input: counted work, whatever the machine's speed
    assert not saved.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="the worker is forked")
def test_the_fuzzer_reports_crashes_and_hangs(tmp_path, monkeypatch) -> None:
    fuzz = fuzz_script()
    calls = iter(range(10**6))

    def flaky(raw: bytes, workdir: str) -> dict:
        turn = next(calls)  # counted in each worker process from where the parent left it
        if turn == 1:
            raise RecursionError("deep")
        if turn == 2:
            time.sleep(60)
        return {"outcome": "diagnostics", "codes": []}

    monkeypatch.setattr(fuzz, "exercise", flaky)
    summary = fuzz.fuzz(count=6, seconds=30, seed=1, timeout=1.0, save_dir=str(tmp_path))
    kinds = sorted(f.kind for f in summary.findings)
    assert summary.inputs == 6
    assert "crash" in kinds and "hang" in kinds
    assert all(f.saved and (tmp_path / f.saved).exists() for f in summary.findings)
    assert any("RecursionError" in f.detail for f in summary.findings)
    assert "findings         " in fuzz.report(summary, 1)
