"""Many flows at once: finding flow files in folders, and the checks that span files."""
from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from .compiled import Machine, read_file
from .diagnostics import Diagnostic, Related
from .errors import FlowErrors, MachineError, PathError
from .loader import MAX_BYTES
from .pipeline import Result, check_file, compile_file

FLOW_SUFFIXES = (".yaml", ".yml")
# Flow tests live next to flows; they are not flows themselves.
SCENARIO_SUFFIXES = (".test.yaml", ".test.yml")
# Compiled machines, as `ivrc compile -o` writes them.
MACHINE_SUFFIX = ".json"

__all__ = ["PathError", "FlowErrors", "MachineError", "flow_files", "machine_files", "check_paths", "compile_paths"]


# A flow says it is one with the `ivrc:` version key at the top level of its mapping (block style,
# or first in flow style). A line match, not a YAML parse: a flow with a syntax error is still a
# flow the linter must report on, and a folder of unrelated YAML is skimmed quickly.
_VERSION_KEY = re.compile(rb"""^(?:\{\s*)?(?:ivrc|"ivrc"|'ivrc')[ \t]*:""", re.MULTILINE)
NOT_A_FLOW = "not a flow (no top-level `ivrc:` key)"


def is_flow_file(name: str) -> bool:
    """A name a flow can have: .yaml or .yml, and not a flow test (NAME.test.yaml)."""
    return name.endswith(FLOW_SUFFIXES) and not name.endswith(SCENARIO_SUFFIXES)


def declares_flow(path: str) -> bool:
    """Whether a YAML file is a flow: it has the top-level `ivrc:` version key."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(MAX_BYTES)
    except OSError:
        return True  # let the loader report why it cannot be read, with the file's name
    return _VERSION_KEY.search(head.removeprefix(b"\xef\xbb\xbf")) is not None


@dataclass
class Found:
    """The flows under some paths, and the YAML files passed over (with why), for --verbose."""

    flows: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def find_flows(paths: Iterable[str], *, only_flows: bool = False, globs: Sequence[str] = (),
               base: str = ".") -> Found:
    """Flows in named folders (sorted, hidden folders skipped), and files named directly.

    In a folder, only YAML files with the `ivrc:` key are flows, so a repository's other YAML
    (CI settings, compose files) is left alone; with globs (a repository's `flows` setting,
    relative to base), the files they match are the flows instead. A file named directly is
    linted whatever it holds, so a flow missing its `ivrc:` key is reported, unless only_flows
    is set (as the pre-commit hook does, which names every YAML file a commit touches)."""
    found = Found()
    not_a_flow = NOT_A_FLOW if not globs else "not a flow (matches none of the `flows` patterns)"

    def is_flow(file: str) -> bool:
        if not globs:
            return declares_flow(file)
        relative = os.path.relpath(os.path.abspath(file), os.path.abspath(base)).replace(os.sep, "/")
        return any(fnmatch.fnmatchcase(relative, glob) for glob in globs)
    candidates: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    file = os.path.join(root, name)
                    if name.endswith(SCENARIO_SUFFIXES):
                        found.skipped.append((file, "a flow test (NAME.test.yaml), not a flow"))
                    elif is_flow_file(name):
                        if is_flow(file):
                            candidates.append(file)
                        else:
                            found.skipped.append((file, not_a_flow))
        elif os.path.isfile(path):
            # A glob like examples/*.yaml also names the flow tests beside the flows; they are not flows.
            if path.endswith(SCENARIO_SUFFIXES):
                found.skipped.append((path, "a flow test (NAME.test.yaml), not a flow"))
            elif path.endswith(MACHINE_SUFFIX):
                continue  # a compiled machine: machine_files takes it
            elif only_flows and not is_flow(path):
                found.skipped.append((path, not_a_flow))
            else:
                candidates.append(path)
        else:
            raise PathError(f"{path}: no such file or folder")
    # A file named twice (a folder and a file in it, or two spellings of one path) is one flow,
    # not two flows that conflict with each other.
    seen: set[str] = set()
    for file in candidates:
        real = os.path.realpath(file)
        if real not in seen:
            seen.add(real)
            found.flows.append(file)
    return found


def flow_files(paths: Iterable[str]) -> list[str]:
    """The flows under paths (see find_flows)."""
    return find_flows(paths).flows


def cross_checks(results: list[Result]) -> Iterator[Diagnostic]:
    """Conflicts between flows checked together: a number claimed twice, a flow id used twice."""
    numbers: dict[str, tuple[Result, int]] = {}
    ids: dict[str, Result] = {}
    for result in results:
        flow, doc = result.flow, result.document
        if flow is None or doc is None:
            continue
        if flow.id in ids:
            first = ids[flow.id]
            assert first.document is not None  # only results with a flow and a document are kept
            yield Diagnostic("IVR101", f"flow id '{flow.id}' is also used by {first.file}", doc.span(("flow",)),
                             related=(Related(first.document.span(("flow",)), "first used here"),),
                             help="give each flow its own id")
        else:
            ids[flow.id] = result
        for i, number in enumerate(flow.numbers):
            if number in numbers:
                first, j = numbers[number]
                assert first.flow is not None and first.document is not None  # as above
                yield Diagnostic("IVR100", f"{number} is also claimed by flow '{first.flow.id}'",
                                 doc.span(("numbers", i)),
                                 related=(Related(first.document.span(("numbers", j)), "claimed here first"),),
                                 help="give the number to one flow")
            else:
                numbers[number] = (result, i)


def check_paths(paths: Iterable[str], *, compile: bool = False) -> list[Result]:
    """Checks (or compiles) every flow under paths, then the conflicts between them."""
    return check_files(flow_files(paths), compile=compile)


def check_files(files: Iterable[str], *, compile: bool = False) -> list[Result]:
    """Checks (or compiles) these flow files, then the conflicts between them."""
    results = [(compile_file if compile else check_file)(path) for path in files]
    by_file = {r.file: r for r in results}
    for diagnostic in cross_checks(results):
        target = by_file[diagnostic.span.file]
        target.diagnostics.append(diagnostic)
        target.machine = None
    return results


def machine_files(paths: Iterable[str]) -> list[str]:
    """Compiled machines: .json files named directly, and .json files in named folders that are machines.

    A folder may hold other JSON (a package.json, a tsconfig.json); there only files whose top
    level has the machine format's `"machine"` key count."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files)
                             if f.endswith(MACHINE_SUFFIX) and _looks_like_machine(os.path.join(root, f)))
        elif os.path.isfile(path) and path.endswith(MACHINE_SUFFIX):
            found.append(path)
    return found


def _looks_like_machine(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and "machine" in document


def compile_paths(paths: Iterable[str]) -> list[Machine]:
    """What `ivrc serve`, `simulate` and `test` run: flows compiled, and compiled machines read and checked.

    PathError when nothing is there, FlowErrors (with the diagnostics) when a flow has errors,
    MachineError for a machine this ivrc cannot run, or two sources claiming one flow or number."""
    from . import formats

    paths = list(paths)
    results = check_paths(paths, compile=True)
    failed = [r for r in results if not r.ok]
    if failed:
        raise FlowErrors(formats.text(failed).rstrip())
    sources = [(r.file, Machine.load(r.machine)) for r in results if r.machine is not None]
    for file in machine_files(paths):
        sources.append((file, Machine.load(read_file(file))))
    if not sources:
        raise PathError("no flows found in " + ", ".join(paths)
                        + " (flows end in .yaml or .yml; compiled machines in .json)")
    _refuse_clashes(sources)
    return [machine for _, machine in sources]


def _refuse_clashes(sources: list[tuple[str, Machine]]) -> None:
    """A flow compiled and also given as a machine, or two machines claiming one number, is ambiguous."""
    flows: dict[str, str] = {}
    numbers: dict[str, str] = {}
    for file, machine in sources:
        if machine.flow in flows:
            raise MachineError(f"{file}: flow '{machine.flow}' is also given by {flows[machine.flow]}; "
                               "serve either the flow or its compiled machine, not both")
        flows[machine.flow] = file
        for number in machine.numbers:
            if number in numbers:
                raise MachineError(f"{file}: {number} is also claimed by {numbers[number]}")
            numbers[number] = file
