"""ivrc: phone IVRs as code for the Sinch Voice API. The public Python API (docs/api.md) and the command line.

    import ivrc

    result = ivrc.check_file("flows/support.yaml")      # diagnostics, as `ivrc lint` gives them
    machines = ivrc.compile_paths(["flows/"])           # typed machines, or ivrc.FlowErrors
    ivrc.run_scenarios("flows/support.test.yaml")       # flow tests, as `ivrc test` runs them
    app = ivrc.app(["flows/"])                          # the Sinch callback webhook, for any ASGI server
    call_id = ivrc.start_flow("flows/reminder.yaml", "+46700000000")   # an outbound flow, via Sinch

Names are imported on first use, so `import ivrc` stays cheap (the pytest plugin and the CLI
import it on every run).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ivrc.compiler.compiled import Machine
    from ivrc.compiler.diagnostics import Diagnostic, Severity, Span
    from ivrc.compiler.errors import FlowErrors, IvrcError, MachineError, PathError
    from ivrc.compiler.pipeline import Result, check_file, check_text, compile_file, compile_text
    from ivrc.compiler.project import compile_paths
    from ivrc.runtime.emulation.flowtest import Results, run_paths, run_scenarios
    from ivrc.runtime.server.app import StartupError
    from ivrc.runtime.server.startup import app
    from ivrc.runtime.signing import Credentials
    from ivrc.runtime.sinch.api import ApiError, SinchApi
    from ivrc.runtime.sinch.callouts import start_flow

_API = {
    # checking and compiling
    "check_file": "ivrc.compiler.pipeline", "check_text": "ivrc.compiler.pipeline",
    "compile_file": "ivrc.compiler.pipeline", "compile_text": "ivrc.compiler.pipeline",
    "Result": "ivrc.compiler.pipeline", "Diagnostic": "ivrc.compiler.diagnostics",
    "Severity": "ivrc.compiler.diagnostics", "Span": "ivrc.compiler.diagnostics",
    "compile_paths": "ivrc.compiler.project", "Machine": "ivrc.compiler.compiled",
    # flow tests
    "run_scenarios": "ivrc.runtime.emulation.flowtest", "run_paths": "ivrc.runtime.emulation.flowtest",
    "Results": "ivrc.runtime.emulation.flowtest",
    # serving
    "app": "ivrc.runtime.server.startup", "Credentials": "ivrc.runtime.signing",
    "StartupError": "ivrc.runtime.server.app",
    # the Sinch REST API
    "SinchApi": "ivrc.runtime.sinch.api", "ApiError": "ivrc.runtime.sinch.api",
    "start_flow": "ivrc.runtime.sinch.callouts",
    # errors a user can fix
    "IvrcError": "ivrc.compiler.errors", "FlowErrors": "ivrc.compiler.errors", "PathError": "ivrc.compiler.errors",
    "MachineError": "ivrc.compiler.errors",
}

__all__ = [
    "check_file", "check_text", "compile_file", "compile_text", "Result", "Diagnostic", "Severity", "Span",
    "compile_paths", "Machine", "run_scenarios", "run_paths", "Results", "app", "Credentials", "StartupError",
    "SinchApi", "ApiError", "start_flow", "IvrcError", "FlowErrors", "PathError", "MachineError",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'ivrc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
