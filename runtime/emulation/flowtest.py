"""Runs flow-test scenarios as emulated calls, in-process or against a live server, and checks each step."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ivrc.compiler import cookies as layout
from ivrc.compiler.compiled import Machine
from ivrc.compiler.diagnostics import Span, did_you_mean
from ivrc.compiler.errors import IvrcError, PathError

from .coverage import Coverage
from .emulator import Call, CallerMistake, CallFailed, HttpTransport, Line
from .scenarios import Scenario, ScenarioFile, Step, find, load
from .simulate import InProcess, PlaceholderEnv, frozen_clock, setup
from .stubs import Sent, Stubs


class ToolError(IvrcError):
    """The tests cannot run at all: a bad scenario file, a flow that does not compile."""


@dataclass
class Outcome:
    """One scenario's result."""

    scenario: Scenario
    status: str  # pass, fail or skip
    message: str = ""  # why it failed, or why it was skipped
    where: Span | None = None  # the failing step, or the scenario
    step: int | None = None  # 1-based index of the failing step
    problems: list[str] = field(default_factory=list)  # Sinch rules the server broke
    transcript: list[str] = field(default_factory=list)  # the call up to the failure (all of it on a pass)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def skipped(self) -> bool:
        return self.status == "skip"


class _Mismatch(Exception):
    def __init__(self, message: str, mark: int | None = None) -> None:
        super().__init__(message)
        self.mark = mark  # transcript line the expectation searched from


@dataclass
class Results:
    outcomes: list[Outcome]
    coverage: Coverage | None  # None against a live server: its steps are not visible from here
    seconds: float
    # Flows found beside the tests that have no scenarios and do not compile: no coverage, and no
    # reason to stop the run (`ivrc lint` reports them); --min-coverage counts them at 0%.
    uncompiled: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "fail"]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "skip"]


class Runner:
    """Runs scenario files; in-process (with coverage) unless given a server URL."""

    def __init__(self, *, url: str | None = None, key: str | None = None, secret: str | None = None,
                 client: Any = None) -> None:
        self.url, self.key, self.secret = url, key, secret
        self._owns_client = url is not None and client is None
        if self._owns_client:
            import httpx

            client = httpx.Client(timeout=10.0)
        self.client = client
        self.coverage = Coverage() if url is None else None
        self._compiled: dict[str, Machine] = {}

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # flows

    def flow(self, path: str) -> Machine:
        """The flow's compiled machine, compiled once per run (or read, for a machine `ivrc compile` wrote)."""
        from ivrc.compiler import compile_file, formats
        from ivrc.compiler.compiled import read_file
        from ivrc.compiler.project import MACHINE_SUFFIX

        if path not in self._compiled and path.endswith(MACHINE_SUFFIX):
            try:
                # Coverage needs the flow's source, so a compiled machine's scenarios run without it.
                self._compiled[path] = Machine.load(read_file(path))
            except IvrcError as err:
                raise ToolError(f"{path}: the compiled machine cannot be run, so its scenarios cannot run: {err}") from None
        if path not in self._compiled:
            result = compile_file(path)
            if not result.ok or result.machine is None or result.flow is None:
                raise ToolError(f"{path}: the flow does not compile, so its scenarios cannot run:\n"
                                + formats.text([result]).rstrip())
            machine = self._compiled[path] = Machine.load(result.machine)
            if self.coverage is not None:
                self.coverage.add_flow(result.flow, machine, path)
        return self._compiled[path]

    # scenarios

    def run_file(self, scenario_file: ScenarioFile,
                 on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        self.flow(scenario_file.flow_file)
        outcomes = []
        for scenario in scenario_file.scenarios:
            outcome = self.run(scenario)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return outcomes

    def run(self, scenario: Scenario) -> Outcome:
        started = time.perf_counter()
        machine = self.flow(scenario.flow_file)
        if self.url is not None and scenario.now is not None:
            return Outcome(scenario, "skip", "it sets `now`, and a live server runs on its own clock")
        if self.url is not None and scenario.requests:
            return Outcome(scenario, "skip", "it stubs requests, and a live server asks the real backend")
        stray = _stray_stubs(scenario, machine)
        if stray:
            return Outcome(scenario, "fail", stray, scenario.where)
        how = setup(machine, called=scenario.called, outbound=scenario.outbound, custom=scenario.custom,
                    variables=scenario.vars, amd=scenario.amd)
        journal: list = []
        stubs = Stubs(dict(scenario.requests))
        if self.url is None:
            world = InProcess([machine], frozen_clock(scenario.now, machine.timezone),
                              PlaceholderEnv(scenario.env), journal, backend=stubs)
            call = Call(world.transport(), caller=scenario.caller, clock=world.clock, observer=journal.append,
                        **how.call_kwargs())
        else:
            transport = HttpTransport(self.url, self.key, self.secret, client=self.client)
            call = Call(transport, caller=scenario.caller, key=self.key, **how.call_kwargs())
        outcome = _play(call, scenario, machine, stubs if self.url is None else None)
        if self.coverage is not None:
            self.coverage.record_call(journal)
        outcome.seconds = time.perf_counter() - started
        return outcome


def _stray_stubs(scenario: Scenario, machine: Machine) -> str:
    """A stub for a state that makes no request is a typo that would otherwise show up as 'unstubbed' elsewhere."""
    known = [state.name for state in machine.requests]
    for name in scenario.requests:
        if name not in known:
            what = "is not a state" if name not in machine.states else "makes no request"
            hint = did_you_mean(name, known, "request states")
            return (f"`requests` stubs '{name}', which {what} of flow {machine.flow}"
                    + (f"; {hint}" if hint else f" (its request states: {', '.join(known) or 'none'})"))
    return ""


def _play(call: Call, scenario: Scenario, machine: Machine, stubs: Stubs | None) -> Outcome:
    check = _Checker(call, machine, stubs)
    index: int | None = 0
    step: Step | None = None
    # An error path nobody asked for is a broken flow (a template error, a missing setting): fail there.
    error_expected = any(s.kind == "expect_end" and s.value == "error" or s.kind == "expect_error"
                         for s in scenario.steps)
    try:
        call.start()
        check.all_stubbed()
        check.no_error_path(error_expected)
        for index, step in enumerate(scenario.steps, 1):  # noqa: B007 - the except clauses report index
            check.run(step)
            check.all_stubbed()
            check.no_error_path(error_expected)
        if not call.ended:
            step, index = None, None
            call.hangup()  # the caller puts the phone down; Sinch sends the DiCE
    except _Mismatch as err:
        return _failed(call, scenario, step, index, str(err), mark=err.mark)
    except CallerMistake as err:
        return _failed(call, scenario, step, index, f"the caller cannot do this: {err}")
    except CallFailed as err:
        return _failed(call, scenario, step, index, f"the call failed: {err}", problems=err.problems)
    return Outcome(scenario, "pass", transcript=[str(line) for line in call.lines])


def _failed(call: Call, scenario: Scenario, step: Step | None, index: int | None, message: str,
            problems: list[str] | None = None, mark: int | None = None) -> Outcome:
    lines = [str(line) for line in call.lines]
    if mark is not None and mark < len(lines):
        lines.insert(mark, "  ┄┄ expectation searched from here ┄┄")
    where = step.where if step is not None else scenario.where
    if step is not None:
        message = f"step {index} ({step.describe()}): {message}"
    return Outcome(scenario, "fail", message, where, index, list(problems or []), lines)


class _Checker:
    """Carries out one scenario's steps against a call; expectations search forward from a cursor."""

    def __init__(self, call: Call, machine: Machine, stubs: Stubs | None = None) -> None:
        self.call = call
        self.machine = machine
        self.stubs = stubs
        self.sent_cursor = 0  # expect_request looks at requests from here on
        self.cursor = 0  # expectations look at lines from here on, so they must come in order

    def run(self, step: Step) -> None:
        getattr(self, step.kind)(step.value)

    def all_stubbed(self) -> None:
        """`ivrc test` never reaches the network: a request nobody stubbed fails the scenario, naming it."""
        if self.stubs is not None and self.stubs.unstubbed:
            state = self.stubs.unstubbed[0]
            raise _Mismatch(f"state '{state}' made a request the scenario does not stub; add "
                            f"`requests: {{{state}: {{status: 200, json: {{...}}}}}}` to the scenario")

    def expect_request(self, spec: dict[str, Any]) -> None:
        if self.stubs is None:
            raise _Mismatch("requests can only be checked in-process (not against a live server with --url)")
        sent = self.stubs.sent
        for i in range(self.sent_cursor, len(sent)):
            if _request_matches(sent[i], spec):
                self.sent_cursor = i + 1
                return
        seen = "; ".join(_shown_sent(s, spec) for s in sent[self.sent_cursor:]) or "none"
        raise _Mismatch(f"expected a request {_shown_spec(spec)}, but the flow sent: {seen}")

    def no_error_path(self, expected: bool) -> None:
        errors = [line for line in self.call.lines if line.kind == "flow-error"]
        if errors and not expected:
            raise _Mismatch(f"the flow took its error path: {errors[0].data['error']} "
                            "(add `expect_end: error` if the scenario is about that)")

    # actions

    def press(self, keys: str) -> None:
        self.call.press(keys)

    def say(self, words: str) -> None:
        self.call.say(words)

    def silence(self, times: int | None) -> None:
        for _ in range(times or 1):
            self.call.silence()

    def hangup(self, _: None) -> None:
        if self.call.ended:
            raise CallerMistake("hung up, but the call has already ended")
        self.call.hangup()

    # expectations

    def _find(self, what: str, test: Callable[[Line], bool]) -> Line:
        lines = self.call.lines
        for i in range(self.cursor, len(lines)):
            if test(lines[i]):
                self.cursor = i + 1
                return lines[i]
        raise _Mismatch(f"expected {what}, but it did not happen"
                        + (" since the previous expectation" if self.cursor else ""), mark=self.cursor or None)

    def expect(self, spec: dict[str, str]) -> None:
        if "pattern" in spec:
            pattern = re.compile(spec["pattern"])
            self._find(f"the caller to hear a prompt matching /{spec['pattern']}/",
                       lambda line: line.kind == "hear" and pattern.search(line.text) is not None)
        else:
            wanted = " ".join(spec["text"].split())
            self._find(f"the caller to hear {wanted!r}",
                       lambda line: line.kind == "hear" and wanted in " ".join(line.text.split()))

    def expect_transfer(self, spec: dict[str, str]) -> None:
        def matches(line: Line) -> bool:
            data = line.data
            return (line.kind == "transfer" and spec.get("kind") in (None, data.get("kind"))
                    and spec.get("to") in (None, data.get("target"))
                    and spec.get("caller_id") in (None, data.get("caller_id")))

        described = ", ".join(f"{k} {v}" for k, v in spec.items()) or "anywhere"
        try:
            self._find(f"a transfer ({described})", matches)
        except _Mismatch:
            actual = next((line for line in self.call.lines[self.cursor:] if line.kind == "transfer"), None)
            if actual is None:
                raise
            shown = actual.text
            if "caller_id" in spec and not actual.data.get("caller_id"):  # the line names a caller id only when set
                shown += " with no caller id of its own (the caller's number shows)"
            raise _Mismatch(f"expected a transfer ({described}), but the call was {shown}",
                            mark=self.cursor or None) from None

    def expect_recording(self, state: str) -> None:
        self._find(f"a recording to be {state}",
                   lambda line: line.kind == "record" and line.data.get("recording") == state)

    def expect_variables(self, expected: dict[str, str | None]) -> None:
        declared = self.machine.variables
        for name, value in expected.items():
            key = layout.var_key(name)
            if name not in declared:
                raise _Mismatch(f"the flow has no variable '{name}' (it has: {', '.join(declared) or 'none'})")
            if key in self.call.cookies:
                actual: str | None = self.call.cookies[key]
            else:
                actual = None if value is None else declared[name].default
            if actual != value:
                raise _Mismatch(f"expected the variable '{name}' to be {_shown(value)}, but it is {_shown(actual)}")

    def expect_cookies(self, expected: dict[str, str | None]) -> None:
        for key, value in expected.items():
            actual = self.call.cookies.get(key)
            if actual != value:
                raise _Mismatch(f"expected the cookie '{key}' to be {_shown(value)}, but it is {_shown(actual)}")

    def expect_locale(self, locale: str) -> None:
        heard = [line for line in self.call.lines if line.kind == "hear"]
        if not heard:
            raise _Mismatch(f"expected prompts in {locale}, but the caller has heard nothing yet")
        actual = heard[-1].data.get("locale")
        if actual != locale:
            raise _Mismatch(f"expected the last prompt ({heard[-1].text[:60]!r}) to be spoken in {locale}, "
                            f"but it was {actual or 'in no locale'}")

    def expect_error(self, words: str) -> None:
        """The flow took its error path for a reason that says `words` (an `on_error` state may go on)."""
        if not hasattr(self.call.transport, "last_error"):
            return  # over HTTP an error path is not visible; `expect_end: error` says as much
        reasons = [line.data["error"] for line in self.call.lines if line.kind == "flow-error"]
        if not any(words in reason for reason in reasons):
            found = "; ".join(reasons) if reasons else "it never did"
            raise _Mismatch(f"expected the flow to take its error path ({words!r}), but {found}")

    def expect_end(self, ending: str) -> None:
        call = self.call
        flow_hung_up = call.ended and any(line.kind == "hangup" and line.data.get("by") == "flow"
                                          for line in call.lines)
        in_process = hasattr(call.transport, "last_error")  # over HTTP an error path looks like any hang-up
        ok = {"hangup": flow_hung_up, "transfer": call.transferred is not None, "park": call.parked,
              "error": flow_hung_up and (not in_process or any(line.kind == "flow-error" for line in call.lines))
              }[ending]
        if not ok:
            words = {"hangup": "the flow to hang up", "transfer": "a transfer", "park": "the call to be parked",
                     "error": "the flow's error path"}
            from .conversation import status

            raise _Mismatch(f"expected the call to end with {words[ending]}, but {status(call)}")


def _request_matches(sent: Sent, spec: dict[str, Any]) -> bool:
    for key, expected in spec.items():
        actual = getattr(sent, key)
        if key == "method":
            expected = str(expected).upper()
        if key in ("query", "body") and isinstance(expected, dict) and isinstance(actual, dict):
            # Only the keys the scenario names: a flow may send more than a test cares about.
            wanted = {str(k): (str(v) if key == "query" else v) for k, v in expected.items()}
            if any(k not in actual or not _contains(actual[k], v) for k, v in wanted.items()):
                return False
        elif actual != expected:
            return False
    return True


def _contains(actual: Any, expected: Any) -> bool:
    """Objects match on the keys the scenario names, at every depth; anything else must be equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _contains(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


def _shown_sent(sent: Sent, spec: dict[str, Any]) -> str:
    """A sent request as the failure message shows it: what the scenario checks, as it was sent."""
    import json

    shown = [f"{key} {json.dumps(getattr(sent, key), ensure_ascii=False)}" for key in ("query", "body")
             if key in spec]
    return sent.describe() + (f" with {', '.join(shown)}" if shown else "")


def _shown_spec(spec: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in spec.items())


def _shown(value: str | None) -> str:
    return "not set" if value is None else repr(value)


def load_all(paths: Iterable[str]) -> tuple[list[ScenarioFile], list[str]]:
    """Every scenario file under paths, checked; ToolError lists every problem in every file."""
    from .scenarios import ScenarioError

    try:
        files, flows = find(paths)
    except PathError as err:
        raise ToolError(str(err)) from None
    if not files:
        raise ToolError("no scenario files found in " + ", ".join(paths) + " (scenario files end in .test.yaml)")
    loaded: list[ScenarioFile] = []
    problems: list[str] = []
    for path in files:
        try:
            loaded.append(load(path))
        except ScenarioError as err:
            problems.extend(f"{span}: {message}" for span, message in err.problems)
    if problems:
        raise ToolError("\n".join(problems))
    return loaded, flows


def run_paths(paths: Iterable[str], *, url: str | None = None, key: str | None = None, secret: str | None = None,
              on_outcome: Callable[[Outcome], None] | None = None, client: Any = None) -> Results:
    """Loads and runs every scenario under paths. Flows found in named folders count in coverage even untested."""
    started = time.perf_counter()
    files, flows = load_all(list(paths))
    runner = Runner(url=url, key=key, secret=secret, client=client)
    outcomes: list[Outcome] = []
    try:
        for scenario_file in files:
            outcomes.extend(runner.run_file(scenario_file, on_outcome))
    finally:
        runner.close()
    uncompiled = []
    if runner.coverage is not None:
        tested = {scenario_file.flow_file for scenario_file in files}
        for flow in flows:
            try:
                runner.flow(flow)
            except ToolError:
                if flow in tested:
                    raise
                uncompiled.append(flow)
    return Results(outcomes, runner.coverage, time.perf_counter() - started, uncompiled)


def run_scenarios(*paths: str) -> Results:
    """For a test function in your own pytest suite: runs the scenarios in-process, fails with the transcripts.

        from ivrc.runtime.emulation.flowtest import run_scenarios

        def test_support_flow():
            run_scenarios("flows/support.test.yaml")
    """
    from .flowreport import failure_text

    results = run_paths(paths)
    if results.failed:
        raise AssertionError("\n\n".join(failure_text(o) for o in results.failed))
    return results
