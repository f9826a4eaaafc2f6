"""Every example flow ships with scenarios, and together they reach every state and transition."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivrc.compiler.project import flow_files
from ivrc.runtime.emulation.flowtest import run_paths

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def results():
    return run_paths([str(EXAMPLES)])


def test_every_example_has_a_scenario_file() -> None:
    for flow in flow_files([str(EXAMPLES)]):
        assert Path(flow[: -len(".yaml")] + ".test.yaml").is_file(), f"{flow} has no scenarios"


def test_every_example_scenario_passes(results) -> None:
    assert results.outcomes and not results.skipped
    assert [f"{o.scenario.file}: {o.name}: {o.message}" for o in results.failed] == []


def test_the_examples_reach_every_state_and_transition(results) -> None:
    flows = results.coverage.flows
    assert sorted(flows) == ["account-pin", "concierge", "hotel", "multilingual", "order-status", "reminder",
                            "support", "voicemail"]
    for flow in flows.values():
        assert flow.missed_states == [], flow.flow
        assert [str(t) for t in flow.missed_transitions] == [], flow.flow


def test_ivrc_test_examples_with_full_coverage(ivrc) -> None:
    run = ivrc("test", "examples/", "--min-coverage", "100")
    assert run.code == 0, run.out + run.err
    assert "states 17/17 100%, transitions 32/32 100%" in run.out
