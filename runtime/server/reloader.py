"""`ivrc serve --reload`: recompiles the served flows when a flow file changes, and keeps the last good version on errors.

uvicorn's own reloader restarts the whole process, and without the optional `watchfiles`
package it watches `*.py` files only, so flow edits went unnoticed; and a restart with a broken
flow would take the development server down. This watcher polls the flow files' modification
times (no extra dependency), compiles them in a worker thread, and swaps the new versions in on
the event loop. A flow saved with errors leaves the last good version serving and logs the
diagnostics, as `ivrc lint` would print them.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from ivrc.runtime.engine.library import Library, save

log = logging.getLogger("ivrc.server")

POLL_SECONDS = 0.5


class FlowWatcher:
    """Watches the flow files under `paths` and reloads `library` when they change."""

    def __init__(self, paths: list[str], library: Library, machines_dir: str, poll: float = POLL_SECONDS) -> None:
        self.paths, self.library, self.machines_dir, self.poll = paths, library, machines_dir, poll
        self.seen = self._snapshot()

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        from ivrc.compiler.project import PathError, flow_files

        try:
            files = flow_files(self.paths)
        except PathError:
            return {}
        found = {}
        for path in files:
            try:
                stat = os.stat(path)
            except OSError:
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def changed(self) -> bool:
        now = self._snapshot()
        if now == self.seen:
            return False
        self.seen = now
        return True

    def compile(self) -> tuple[list[Any], str | None]:
        """The results of compiling every flow, or the diagnostics text when a flow has errors."""
        from ivrc.compiler import formats
        from ivrc.compiler.project import PathError, check_paths

        try:
            results = check_paths(self.paths, compile=True)
        except PathError as err:
            return [], str(err)
        failed = [r for r in results if not r.ok]
        if failed:
            return [], formats.text(failed).rstrip()
        return results, None

    def apply(self, results: list[Any]) -> None:
        """Makes the new versions current; older ones stay for calls in progress."""
        for result in results:
            self.library.add(result.machine)
        # A number moved from one flow to another, or dropped, must follow the new versions.
        self.library.numbers = {number: flow for flow, loaded in self.library.current.items()
                                for number in loaded.machine.numbers}
        save(self.machines_dir, [r.machine for r in results])
        log.info("reloaded: %s", ", ".join(f"{r.machine['flow']} {r.machine['version']}" for r in results))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            if not await asyncio.to_thread(self.changed):
                continue
            results, problems = await asyncio.to_thread(self.compile)
            if problems is not None:
                log.error("a flow changed and has errors; still serving the last good version:\n%s", problems)
                continue
            self.apply(results)  # on the event loop: no callback sees a half-swapped library
