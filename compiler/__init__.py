"""ivrc's compiler: YAML call flows in, diagnostics and a compiled state machine out."""
from __future__ import annotations

from .diagnostics import Diagnostic, Related, Severity, Span
from .pipeline import Result, check_bytes, check_file, check_text, compile_file, compile_text

__all__ = [
    "Diagnostic", "Related", "Severity", "Span", "Result",
    "check_bytes", "check_file", "check_text", "compile_file", "compile_text",
]
