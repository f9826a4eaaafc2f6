"""A flow's `ivrc test` coverage for the diagram: which states and transitions its scenarios went through."""
from __future__ import annotations

import os
from typing import Any

from ivrc.runtime.emulation.flowtest import ToolError, run_paths

from .workspace import Flow


def flow_coverage(flow: Flow) -> dict[str, Any]:
    """Runs the flow's NAME.test.yaml as `ivrc test` does; the result says what to colour, or why it cannot."""
    if flow.result.flow is None or flow.result.machine is None:
        return {"available": False, "reason": f"{flow.file} has errors; fix them to see its test coverage"}
    if not os.path.isfile(flow.test_file):
        return {"available": False, "reason": f"no flow tests yet ({os.path.basename(flow.test_file)}); "
                                              "make a call and save it as a test"}
    try:
        results = run_paths([flow.test_file])
    except ToolError as err:
        return {"available": False, "reason": str(err)}
    assert results.coverage is not None  # in-process runs always measure coverage
    covered = results.coverage.flows.get(flow.result.flow.id)
    if covered is None:
        return {"available": False, "reason": f"{flow.test_file} tests another flow"}
    return {
        "available": True, "file": flow.test_file, "summary": covered.summary(), "percent": round(covered.percent, 1),
        "passed": len(results.outcomes) - len(results.failed), "failed": len(results.failed),
        "states": sorted(covered.hit_states), "missed_states": covered.missed_states,
        "transitions": [{"source": t.source, "exit": t.label, "target": t.target} for t in covered.covered_transitions],
        "missed_transitions": [{"source": t.source, "exit": t.label, "target": t.target}
                               for t in covered.missed_transitions],
    }
