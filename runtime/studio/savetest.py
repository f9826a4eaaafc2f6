"""Turns a call made in the studio into a flow-test scenario, appended to the flow's NAME.test.yaml."""
from __future__ import annotations

import json
import os
from typing import Any

from ivrc.compiler.loader import load_file
from ivrc.runtime.emulation.flowtest import Runner
from ivrc.runtime.emulation.scenarios import ScenarioError, load

from .phone import PhoneCall, PhoneError


class SaveError(Exception):
    """The call could not become a passing test; the file is left as it was."""


def _q(value: str) -> str:
    """A double-quoted YAML scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def steps(phone: PhoneCall) -> list[str]:
    """The scenario's steps: what the caller did, and what they heard and what happened, in order."""
    out: list[str] = []
    keys = ""
    actions = iter(phone.actions)

    def flush() -> None:
        nonlocal keys
        if keys:
            out.append(f"press: {_q(keys)}")
            keys = ""

    for line in phone.call.lines:
        if line.kind in ("press", "silence") or (line.kind == "hangup" and line.data.get("by") == "caller"):
            kind, key, pending = next(actions)
            if kind == "press":
                keys += key or ""
                continue
            if kind == "silence" and pending and keys:
                flush()  # a pause after typed digits ends the input, as `press:` does at its end
                continue
            flush()
            out.append("silence" if kind == "silence" else "hangup")
            continue
        flush()
        if line.kind == "hear" and line.text.strip():
            out.append(f"expect: {_q(line.text)}")
        elif line.kind == "transfer":
            out.append(f"expect_transfer: {{kind: {line.data['kind']}, to: {_q(str(line.data['target']))}}}")
        elif line.kind == "record" and line.data.get("recording") in ("started", "stopped"):
            out.append(f"expect_recording: {line.data['recording']}")
    flush()
    call = phone.call
    flow_error = any(line.kind == "flow-error" for line in call.lines)
    if call.transferred is not None:
        out.append("expect_end: transfer")
    elif call.parked:
        out.append("expect_end: park")
    elif call.ended and any(line.kind == "hangup" and line.data.get("by") == "flow" for line in call.lines):
        out.append("expect_end: error" if flow_error else "expect_end: hangup")
    return out


def scenario_text(phone: PhoneCall, name: str, indent: str) -> str:
    """One scenario as YAML, its list dash at `indent`."""
    settings = phone.settings
    inner = indent + "  "
    lines = [f"{indent}- name: {_q(name)}",
             f"{inner}caller: {_q(settings.caller)}",
             f"{inner}called: {_q(settings.called)}",
             f"{inner}now: {_q(settings.now.isoformat(timespec='minutes'))}",
             f"{inner}steps:"]
    lines.extend(f"{inner}  - {step}" for step in steps(phone))
    return "\n".join(lines) + "\n"


def _unique(name: str, taken: set[str | None]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def save(phone: PhoneCall, name: str) -> dict[str, Any]:
    """Appends the call to the flow's test file (keeping everything already in it) and runs it once.

    The new scenario must pass as `ivrc test` runs it; if it does not, the file is put back.
    """
    machine = phone.flow.result.machine
    assert machine is not None  # only flows that compile take calls (Phone.dial)
    if phone.settings.locale != machine["locale"]:
        raise SaveError(f"this call started in {phone.settings.locale}; flow tests start in the flow's own locale "
                        f"({machine['locale']}), so it cannot become a test")
    if not phone.actions and not phone.call.ended:
        raise PhoneError("nothing happened in this call yet; press some keys first")
    name = " ".join((name or "").split()) or f"call {phone.id} from the studio"
    path = phone.flow.test_file
    if os.path.isfile(path):
        original = open(path, encoding="utf-8").read()
        new_text, name = _append(path, original, phone, name)
    else:
        original = None
        flow_rel = os.path.relpath(phone.flow.file, os.path.dirname(path) or ".")
        new_text = (f"# Flow tests for {os.path.basename(phone.flow.file)}. Run them with `ivrc test` "
                    f"(format: docs/testing.md).\nflow: {_q(flow_rel)}\n\nscenarios:\n"
                    + scenario_text(phone, name, "  "))
    _write(path, new_text)
    try:
        scenario = next(s for s in load(path).scenarios if s.name == name)
        outcome = Runner().run(scenario)
    except ScenarioError as err:
        _restore(path, original)
        raise SaveError(f"the scenario would not load, so {path} was left as it was:\n{err}") from None
    if not outcome.passed:
        _restore(path, original)
        raise SaveError(f"the recorded call does not pass as a test ({outcome.message}), "
                        f"so {path} was left as it was")
    return {"file": path, "name": name, "steps": len(scenario.steps), "passed": True}


def _append(path: str, text: str, phone: PhoneCall, name: str) -> tuple[str, str]:
    """The file with the scenario added at the end of its `scenarios:` list, comments and all kept."""
    loaded = load_file(path)
    doc = loaded.document
    items = doc.data.get("scenarios") if doc is not None and isinstance(doc.data, dict) else None
    if doc is None or not isinstance(items, list) or not items:
        raise SaveError(f"{path} has no `scenarios:` list to add to; fix the file first (`ivrc test` says why)")
    name = _unique(name, {s.get("name") for s in items if isinstance(s, dict)})
    lines = text.splitlines(keepends=True)
    first = doc.span(("scenarios", 0))
    dash_line = lines[first.line - 1]
    indent = dash_line[:len(dash_line) - len(dash_line.lstrip())]
    end = doc.span(("scenarios",))
    last = end.end_line or end.line
    if last > len(lines):
        last = len(lines)
    elif not lines[last - 1][:max(end.end_column - 1, 0)].strip():
        last -= 1  # the list ends where the next top-level key starts
    while last > first.line and not lines[last - 1].strip():
        last -= 1
    head = "".join(lines[:last])
    if head and not head.endswith("\n"):
        head += "\n"
    tail = "".join(lines[last:])
    return head + "\n" + scenario_text(phone, name, indent) + tail, name


def _write(path: str, text: str) -> None:
    temporary = path + ".studio-tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def _restore(path: str, original: str | None) -> None:
    if original is None:
        os.remove(path)
    else:
        _write(path, original)
