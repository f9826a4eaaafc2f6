"""Runs the benchmarks one after another and prints their tables (make bench)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import adversarial_lint, callback_costs, callbacks, compile_scaling, lint_vs_schema, slow_backend, startup


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    status = 0
    for module in (callbacks, callback_costs, slow_backend, compile_scaling, lint_vs_schema, startup, adversarial_lint):
        print(f"\n=== {module.__name__.split('.')[-1]} ===", flush=True)
        status |= module.main(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
