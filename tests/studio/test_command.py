"""`ivrc studio` on the command line: what it says when it cannot start."""
from __future__ import annotations

import socket
from pathlib import Path


def test_a_missing_folder_is_a_clear_error(ivrc, tmp_path: Path) -> None:
    run = ivrc("studio", str(tmp_path / "missing"))
    assert run.code == 2 and f"{tmp_path / 'missing'}: no such file or folder" in run.err


def test_a_folder_without_flows_is_a_clear_error(ivrc, tmp_path: Path) -> None:
    run = ivrc("studio", str(tmp_path))
    assert run.code == 2 and "no flow files found" in run.err


def test_live_needs_the_token(ivrc, flows_dir: Path, monkeypatch) -> None:
    monkeypatch.delenv("IVRC_EVENTS_TOKEN", raising=False)
    run = ivrc("studio", str(flows_dir), "--live", "http://127.0.0.1:8080")
    assert run.code == 2 and "--live needs the server's call-event token in IVRC_EVENTS_TOKEN" in run.err
    monkeypatch.setenv("IVRC_EVENTS_TOKEN", "a-token-long-enough-to-use")
    run = ivrc("studio", str(flows_dir), "--live", "127.0.0.1:8080")
    assert run.code == 2 and "give the server's address, like http://127.0.0.1:8080" in run.err


def test_a_port_in_use_is_a_clear_error(ivrc, flows_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = ivrc("studio", str(flows_dir), "--port", str(port))
    assert run.code == 2 and f"cannot listen on 127.0.0.1:{port}" in run.err
