"""ivrc's compiler: YAML call flows in, diagnostics and a compiled state machine out."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .diagnostics import Diagnostic, Related, Severity, Span
    from .pipeline import Result, check_bytes, check_file, check_text, compile_file, compile_text

# Imported on first use: a runtime that only reads compiled machines (ivrc.compiler.compiled)
# should not pay for the YAML loader, the schema checks and Jinja's parser at start-up.
_EXPORTS = {
    "Diagnostic": "diagnostics", "Related": "diagnostics", "Severity": "diagnostics", "Span": "diagnostics",
    "Result": "pipeline", "check_bytes": "pipeline", "check_file": "pipeline", "check_text": "pipeline",
    "compile_file": "pipeline", "compile_text": "pipeline",
}

__all__ = [
    "Diagnostic", "Related", "Severity", "Span",
    "Result", "check_bytes", "check_file", "check_text", "compile_file", "compile_text",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ivrc.compiler' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
