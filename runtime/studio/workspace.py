"""The flows the studio shows: compiled from the paths it was given, recompiled when a file changes on disk."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from ivrc.compiler import formats
from ivrc.compiler.diagnostics import Diagnostic
from ivrc.compiler.pipeline import Result
from ivrc.compiler.project import FLOW_SUFFIXES, SCENARIO_SUFFIXES, PathError, check_paths, flow_files

from .layout import layout


class WorkspaceError(Exception):
    """The paths the studio was started with hold no flows, or do not exist."""


@dataclass
class Flow:
    """One flow file as the studio shows it, whether or not it compiles."""

    file: str
    result: Result

    @property
    def id(self) -> str:
        return self.result.flow.id if self.result.flow is not None else os.path.basename(self.file)

    @property
    def test_file(self) -> str:
        """Where its flow tests live (they may not exist yet): NAME.test.yaml beside the flow."""
        stem = self.file.rsplit(".", 1)[0]
        for suffix in SCENARIO_SUFFIXES:
            if os.path.isfile(stem + suffix):
                return stem + suffix
        return stem + SCENARIO_SUFFIXES[0]

    def summary(self) -> dict[str, Any]:
        errors, warnings = formats.counts([self.result])
        machine = self.result.machine
        return {"file": self.file, "id": self.id, "errors": errors, "warnings": warnings,
                "compiles": machine is not None, "direction": machine["direction"] if machine else None,
                "numbers": machine.get("numbers", []) if machine else [],
                "locale": machine["locale"] if machine else None, "locales": machine["locales"] if machine else [],
                "timezone": machine["timezone"] if machine else None,
                "has_tests": os.path.isfile(self.test_file)}

    def problems(self) -> list[dict[str, Any]]:
        """Each diagnostic as `ivrc lint` prints it, plus its parts for the page."""
        return [{**d.to_json(), "text": formats.one_text(self.result, d)}
                for d in sorted(self.result.diagnostics, key=Diagnostic.sort_key)]

    def diagram(self) -> dict[str, Any] | None:
        return layout(self.result.flow) if self.result.flow is not None else None

    def state(self, name: str) -> dict[str, Any] | None:
        """A state's YAML lines and its compiled form (the SVAML it answers with, before rendering)."""
        result = self.result
        if result.flow is None or result.flow.state(name) is None or result.document is None:
            return None
        span = result.document.span(("states", name), key=True)
        value = result.document.span(("states", name))
        lines = result.document.text.splitlines()
        last = value.end_line or value.line
        # A block mapping's node ends where the next key starts; step back over that line and blank ones.
        if last > len(lines):
            last = len(lines)
        elif last > span.line and not lines[last - 1][:max(value.end_column - 1, 0)].strip():
            last -= 1
        while last > span.line and not lines[last - 1].strip():
            last -= 1
        compiled = result.machine["states"].get(name) if result.machine is not None else None
        prompts = {}
        if result.machine is not None and compiled is not None:
            for pid in _prompt_ids(compiled):
                if pid in result.machine["prompts"]:
                    prompts[pid] = result.machine["prompts"][pid]
        return {"name": name, "file": self.file, "line": span.line, "end_line": last,
                "source": lines[span.line - 1:last], "compiled": compiled, "prompts": prompts}


def _prompt_ids(value: Any) -> list[str]:
    """Prompt ids a compiled state refers to, in the order they appear."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("say", "$prompt", "$prompt_ids") and isinstance(item, str):
                found.append(item)
            else:
                found.extend(_prompt_ids(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_prompt_ids(item))
    return found


class Workspace:
    """Flows under the studio's paths; `refresh()` recompiles them when any file's size or time changed."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = list(paths)
        self.flows: list[Flow] = []
        self.generation = 0  # goes up by one on every change the page should redraw for
        self._signature: tuple = ()
        self._lock = threading.Lock()
        try:
            files = flow_files(self.paths)
        except PathError as err:
            raise WorkspaceError(str(err)) from None
        if not files:
            raise WorkspaceError("no flow files found in " + ", ".join(self.paths) + " (flows end in .yaml or .yml)")
        self.refresh()

    def _files(self):
        for path in self.paths:
            if os.path.isfile(path):
                yield path
            for root, dirs, files in os.walk(path):  # nothing for a file
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                yield from (os.path.join(root, f) for f in sorted(files) if f.endswith(FLOW_SUFFIXES))

    def _scan(self) -> tuple:
        """Every flow and flow-test file with its size and modification time: a change to any is a change."""
        signature = []
        for name in self._files():
            try:
                st = os.stat(name)
            except OSError:
                continue
            signature.append((name, st.st_mtime_ns, st.st_size))
        return tuple(signature)

    def refresh(self) -> bool:
        """Recompiles when something changed on disk; True when it did."""
        with self._lock:
            signature = self._scan()
            if signature == self._signature:
                return False
            try:
                results = check_paths(self.paths, compile=True)
            except PathError:
                results = []  # a folder removed under us: show no flows rather than fail
            self.flows = [Flow(r.file, r) for r in results]
            self._signature = signature
            self.generation += 1
            return True

    def find(self, file: str) -> Flow | None:
        return next((f for f in self.flows if f.file == file), None)
