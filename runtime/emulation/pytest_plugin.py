"""A pytest plugin that collects flow-test scenario files (*.test.yaml) and runs each scenario as a test.

Installing ivrc registers it (entry point `pytest11`), but it collects nothing until asked, so
other test suites are not changed: run `pytest --ivrc-flows`, or set `ivrc_flows = true` in the
[pytest] / [tool.pytest.ini_options] section.

Scenarios run in-process, as `ivrc test` runs them; a failure shows the failing step's
file:line and the conversation up to it.

Every pytest run in an environment with ivrc installed loads this module, so it imports
nothing of ivrc at the top: the flow-test stack is imported only once the plugin is switched on.
"""
from __future__ import annotations

from typing import Iterator

import pytest


class ScenarioFailed(Exception):
    def __init__(self, outcome) -> None:  # type: ignore[no-untyped-def]
        super().__init__(outcome.message)
        self.outcome = outcome


def pytest_addoption(parser) -> None:  # type: ignore[no-untyped-def]
    parser.addoption("--ivrc-flows", action="store_true", help="collect ivrc flow tests (*.test.yaml)")
    parser.addini("ivrc_flows", "collect ivrc flow tests (*.test.yaml)", type="bool", default=False)


def _enabled(config) -> bool:  # type: ignore[no-untyped-def]
    return bool(config.getoption("--ivrc-flows") or config.getini("ivrc_flows"))


def pytest_collect_file(file_path, parent):  # type: ignore[no-untyped-def]
    if not _enabled(parent.config):
        return None
    from ivrc.compiler.project import SCENARIO_SUFFIXES

    if file_path.name.endswith(SCENARIO_SUFFIXES):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One NAME.test.yaml; its scenarios share one compiled flow."""

    def collect(self) -> Iterator[pytest.Item]:
        from .flowtest import Runner
        from .scenarios import ScenarioError, load

        try:
            loaded = load(str(self.path))
        except ScenarioError as err:
            raise self.CollectError(str(err)) from None
        runner = Runner()
        for scenario in loaded.scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario, runner=runner)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, runner, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.scenario = scenario
        self.runner = runner

    def runtest(self) -> None:
        outcome = self.runner.run(self.scenario)
        if not outcome.passed:
            raise ScenarioFailed(outcome)

    def repr_failure(self, excinfo, style=None):  # type: ignore[no-untyped-def]
        if isinstance(excinfo.value, ScenarioFailed):
            from .flowreport import failure_text

            return failure_text(excinfo.value.outcome)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):  # type: ignore[no-untyped-def]
        return self.path, self.scenario.where.line - 1, f"scenario: {self.name}"
