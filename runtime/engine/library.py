"""The machines a server answers with: current versions by flow and number, and older ones for calls in progress."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ivrc.compiler.compiled import Machine

from .render import Templates

log = logging.getLogger("ivrc.library")

# How many earlier versions of each flow a server keeps for calls in progress. A file's age
# says little (a version may have been current for weeks until the last deploy), so we keep
# the most recently used ones.
VERSIONS_KEPT = 20


@dataclass
class Loaded:
    """One machine version, with its templates compiled once."""

    machine: Machine
    templates: Templates

    @property
    def flow(self) -> str:
        return self.machine.flow

    @property
    def version(self) -> str:
        return self.machine.version


@dataclass
class Library:
    """Machines by (flow, version); the current one per flow; called numbers to flows."""

    versions: dict[tuple[str, str], Loaded] = field(default_factory=dict)
    current: dict[str, Loaded] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    default_flow: str | None = None

    def add(self, machine: Machine | Mapping[str, Any], *, current: bool = True) -> Loaded:
        """Adds a machine (typed, or a document to build it from: MachineError if malformed)."""
        typed = machine if isinstance(machine, Machine) else Machine.load(machine)
        key = (typed.flow, typed.version)
        loaded = self.versions.get(key)
        if loaded is None:
            loaded = self.versions[key] = Loaded(typed, Templates.for_machine(typed))
        if current:
            self.current[loaded.flow] = loaded
            for number in typed.numbers:
                self.numbers[number] = loaded.flow
        return loaded

    def version(self, flow: str, version: str) -> Loaded | None:
        return self.versions.get((flow, version))

    def for_number(self, number: str | None) -> Loaded | None:
        flow = self.numbers.get(_normalise(number)) if number else None
        if flow is None:
            flow = self.default_flow
        return self.current.get(flow) if flow else None

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for flow, loaded in sorted(self.current.items()):
            older = sorted(v for (f, v) in self.versions if f == flow and v != loaded.version)
            out.append({"flow": flow, "version": loaded.version, "direction": loaded.machine.direction,
                        "numbers": list(loaded.machine.numbers), "states": len(loaded.machine.states),
                        "older_versions": older})
        return out


def _normalise(number: str) -> str:
    """Sinch sometimes sends numbers without the leading +; flows declare E.164 with it."""
    number = number.strip()
    return number if number.startswith("+") else "+" + number


def save(folder: str, machines: Iterable[Machine | Mapping[str, Any]]) -> None:
    """Keeps each version on disk so a restarted or reloaded server still knows it (typed, or as documents)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        log.warning("cannot keep machine versions in %s: %s", folder, err)
        return
    _sweep_stale_temporaries(folder)
    for machine in machines:
        document = machine.document if isinstance(machine, Machine) else machine
        path = os.path.join(folder, f"{document['flow']}@{document['version']}.json")
        if os.path.exists(path):
            os.utime(path)
            continue
        tmp = path + f".{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(document, fh)
            os.replace(tmp, path)
        except OSError as err:
            log.warning("cannot keep machine %s: %s", path, err)
            # A full disk fails the write after open() made the file: never leave the stub behind.
            with contextlib.suppress(OSError):
                os.unlink(tmp)


STALE_TMP_SECONDS = 600  # a write takes milliseconds; an older temporary file was left by a failed one


def _sweep_stale_temporaries(folder: str) -> None:
    """Removes `*.tmp` files that failed writes left behind (an older release, a process killed mid-write).

    Only old ones: replicas share the folder, and a fresh one may be another process's write in progress."""
    now = time.time()
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if now - os.path.getmtime(path) > STALE_TMP_SECONDS:
                os.unlink(path)


def load_saved(folder: str, library: Library) -> int:
    """Adds the most recently used earlier versions from disk (not as current); returns how many."""
    if not os.path.isdir(folder):
        return 0
    by_flow: dict[str, list[tuple[float, str]]] = {}
    for name in os.listdir(folder):
        if name.endswith(".json") and "@" in name:
            path = os.path.join(folder, name)
            try:
                by_flow.setdefault(name.split("@", 1)[0], []).append((os.path.getmtime(path), path))
            except OSError:
                continue
    count = 0
    for entries in by_flow.values():
        for _, path in sorted(entries, reverse=True)[:VERSIONS_KEPT]:
            try:
                with open(path, encoding="utf-8") as fh:
                    machine = json.load(fh)
                if (machine["flow"], machine["version"]) not in library.versions:
                    library.add(machine, current=False)
                    count += 1
            # Any exception: the folder is shared by replicas and outlives deploys, so a file from another
            # ivrc release or a hand edit (a list where a mapping belongs, a template that no longer
            # parses) must cost that one version, never the start-up of every replica.
            except Exception as err:  # noqa: BLE001
                log.warning("ignoring saved machine %s: %s: %s", path, type(err).__name__, err)
    return count
