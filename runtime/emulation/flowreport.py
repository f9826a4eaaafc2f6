"""Flow-test results as text: PASS/FAIL per scenario, the conversation behind a failure, coverage per flow."""
from __future__ import annotations

import os

from .coverage import Coverage, FlowCoverage
from .flowtest import Outcome, Results


def shown(path: str) -> str:
    """A path relative to here when it is below here, else as given."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def outcome_line(outcome: Outcome) -> str:
    reason = f" ({outcome.message})" if outcome.skipped else ""
    return f"  {outcome.status.upper()}  {outcome.name}{reason}"


class Progress:
    """Prints each scenario's PASS/FAIL as it finishes, under a heading per scenario file."""

    def __init__(self, write) -> None:
        self.write = write
        self.current: str | None = None

    def __call__(self, outcome: Outcome) -> None:
        if outcome.scenario.file != self.current:
            self.current = outcome.scenario.file
            self.write(f"{self.current} (flow {shown(outcome.scenario.flow_file)})\n")
        self.write(outcome_line(outcome) + "\n")


def failure_text(outcome: Outcome, indent: str = "") -> str:
    """Where and why a scenario failed, then the call as the caller lived it, up to the failure."""
    out = [f"{outcome.where}: {outcome.message}" if outcome.where else outcome.message]
    if outcome.problems:
        out.append("Sinch would reject the answer:")
        out.extend(f"  - {problem}" for problem in outcome.problems)
    out.append("the conversation up to the failure:")
    out.extend(f"  {line}" for line in outcome.transcript or ["  (nothing happened)"])
    return "\n".join(indent + line for line in out)


def below(coverage: Coverage | None, minimum: float | None) -> list[FlowCoverage]:
    """Flows whose coverage is under the minimum."""
    if coverage is None or minimum is None:
        return []
    return [f for f in coverage.flows.values() if f.percent + 1e-9 < minimum]


def coverage_text(coverage: Coverage, minimum: float | None = None) -> str:
    out = ["coverage (states and transitions the scenarios went through):"]
    width = max((len(name) for name in coverage.flows), default=0)
    failing = {f.flow for f in below(coverage, minimum)}
    for name in sorted(coverage.flows):
        flow = coverage.flows[name]
        flag = f"  (below --min-coverage {minimum:g}%)" if name in failing else ""
        calls = f", {flow.calls} call{'s' if flow.calls != 1 else ''}" if flow.calls else ", no scenarios"
        out.append(f"  {name:<{width}}  {flow.summary()}{calls}{flag}")
        if flow.missed_states:
            out.append(f"  {'':<{width}}  states never reached: {', '.join(flow.missed_states)}")
        for transition in flow.missed_transitions:
            out.append(f"  {'':<{width}}  transition never taken: {transition}")
    return "\n".join(out)


def text(results: Results, minimum: float | None = None, *, live: bool = False) -> str:
    """The whole report; with live=True the PASS/FAIL lines were already printed as they happened."""
    out: list[str] = []
    current = None
    for outcome in results.outcomes:
        if not live:
            if outcome.scenario.file != current:
                current = outcome.scenario.file
                out.append(f"{current} (flow {shown(outcome.scenario.flow_file)})")
            out.append(outcome_line(outcome))
    failed = results.failed
    if failed:
        out.append("")
        out.append("failures:")
        for outcome in failed:
            out.append("")
            out.append(f"FAIL {outcome.scenario.file}: {outcome.name}")
            out.append(failure_text(outcome, "  "))
    if results.coverage is not None:
        out.append("")
        out.append(coverage_text(results.coverage, minimum))
    else:
        out.append("")
        out.append("coverage: not measured against a live server (run without --url to measure it)")
    passed = sum(o.passed for o in results.outcomes)
    out.append("")
    skipped = f", {len(results.skipped)} skipped" if results.skipped else ""
    summary = f"{passed} passed, {len(failed)} failed{skipped} in {results.seconds:.2f}s"
    low = below(results.coverage, minimum)
    if low:
        summary += "; coverage below --min-coverage for " + ", ".join(f"{f.flow} ({f.percent:.0f}%)" for f in low)
    out.append(summary)
    return "\n".join(out) + "\n"
