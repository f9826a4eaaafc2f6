"""The --machines-dir folder stays clean when the disk is full."""
from __future__ import annotations

import errno
import json
import logging
import os
import time
from pathlib import Path

import pytest
from callkit import example_machines

from ivrc.runtime.engine import library


def test_a_full_disk_leaves_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    def disk_full(obj, fh) -> None:
        fh.write("{")  # part of the machine reached the file before the disk filled up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(library.json, "dump", disk_full)
    machines = example_machines()[:3]
    with caplog.at_level(logging.WARNING, logger="ivrc.library"):
        for _start in range(3):  # every start tries again
            library.save(str(tmp_path), machines)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert caplog.text.count("No space left on device") == 9


def test_a_machine_is_kept_when_the_disk_has_room(tmp_path: Path) -> None:
    machines = example_machines()[:2]
    library.save(str(tmp_path), machines)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{m['flow']}@{m['version']}.json" for m in machines)
    assert json.loads((tmp_path / names[0]).read_text())["flow"] in {m["flow"] for m in machines}


def test_temporary_files_left_by_earlier_failures_are_swept_but_fresh_ones_kept(tmp_path: Path) -> None:
    old = tmp_path / "support@0123456789ab.json.4242.tmp"
    fresh = tmp_path / "support@0123456789ab.json.4343.tmp"  # another replica writing right now
    old.write_text("")
    fresh.write_text("{")
    os.utime(old, (time.time() - library.STALE_TMP_SECONDS - 60,) * 2)
    library.save(str(tmp_path), example_machines()[:1])
    assert not old.exists() and fresh.exists()
