"""A pytest plugin that collects flow-test scenario files (*.test.yaml) and runs each scenario as a test.

Installing ivrc registers it (entry point `pytest11`), but it collects nothing until asked, so
other test suites are not changed: run `pytest --ivrc-flows`, or set `ivrc_flows = true` in the
[pytest] / [tool.pytest.ini_options] section.

Scenarios run in-process, as `ivrc test` runs them; a failure shows the failing step's
file:line and the conversation up to it.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from compiler.project import SCENARIO_SUFFIXES

from .flowreport import failure_text
from .flowtest import Outcome, Runner
from .scenarios import Scenario, ScenarioError, load


class ScenarioFailed(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def pytest_addoption(parser) -> None:  # type: ignore[no-untyped-def]
    parser.addoption("--ivrc-flows", action="store_true", help="collect ivrc flow tests (*.test.yaml)")
    parser.addini("ivrc_flows", "collect ivrc flow tests (*.test.yaml)", type="bool", default=False)


def _enabled(config) -> bool:  # type: ignore[no-untyped-def]
    return bool(config.getoption("--ivrc-flows") or config.getini("ivrc_flows"))


def pytest_collect_file(file_path, parent):  # type: ignore[no-untyped-def]
    if file_path.name.endswith(SCENARIO_SUFFIXES) and _enabled(parent.config):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One NAME.test.yaml; its scenarios share one compiled flow."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            loaded = load(str(self.path))
        except ScenarioError as err:
            raise self.CollectError(str(err)) from None
        runner = Runner()
        for scenario in loaded.scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario, runner=runner)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, runner: Runner, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.scenario = scenario
        self.runner = runner

    def runtest(self) -> None:
        outcome = self.runner.run(self.scenario)
        if not outcome.passed:
            raise ScenarioFailed(outcome)

    def repr_failure(self, excinfo, style=None):  # type: ignore[no-untyped-def]
        if isinstance(excinfo.value, ScenarioFailed):
            return failure_text(excinfo.value.outcome)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):  # type: ignore[no-untyped-def]
        return self.path, self.scenario.where.line - 1, f"scenario: {self.name}"
