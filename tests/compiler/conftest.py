"""Shared helpers for the compiler and CLI tests: where things live, and running `ivrc` in-process."""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """What one `ivrc` invocation did."""

    code: int
    out: str
    err: str


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, so paths in output are relative and the same on every machine."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def ivrc(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Runs `ivrc ARGS...` through ivrc.cli.main; `stdin` (bytes) feeds `ivrc lint -`."""
    from ivrc.cli import main

    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv: str, stdin: bytes | None = None) -> Run:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        capsys.readouterr()  # drop anything printed before this run
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
