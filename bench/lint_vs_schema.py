"""Benchmark 3: `ivrc lint` against check-jsonschema validating the same files against schemas/flow.schema.json."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, python, table, timed_process
from bench.flows import generated_flow

BASELINE_VENV = REPO / ".bench-venv"


def check_jsonschema() -> str:
    """The baseline tool, installed once into its own virtual environment."""
    exe = BASELINE_VENV / "bin" / "check-jsonschema"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BASELINE_VENV)], check=True)
        subprocess.run([str(BASELINE_VENV / "bin" / "pip"), "install", "--quiet", "check-jsonschema"], check=True)
    return str(exe)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--validator", help="the baseline command instead of check-jsonschema (same arguments)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    from ivrc.compiler.project import flow_files

    folder = Path(tempfile.mkdtemp(prefix="ivrc-bench-"))
    generated = folder / "generated1000.yaml"
    generated.write_text(generated_flow(1000))
    sets = {
        "the 5 examples": flow_files([str(REPO / "examples")]),
        "a 1,000-state flow": [str(generated)],
    }
    baseline = args.validator.split() if args.validator else [check_jsonschema()]
    schema = str(REPO / "schemas" / "flow.schema.json")
    rows, worst = [], 0.0
    for name, files in sets.items():
        ours = timed_process([python(), "-m", "ivrc", "lint", *files], repeat)
        theirs = timed_process([*baseline, "--schemafile", schema, *files], repeat)
        ratio = ours[1] / theirs[1]
        worst = max(worst, ratio)
        rows.append([name, f"{ours[1]:.3f}", f"{theirs[1]:.3f}", f"{ratio:.2f}"])
    print(f"Lint against a schema-only validator: median of {repeat} run(s), whole processes")
    name = "baseline s" if args.validator else "check-jsonschema s"
    print(table(["files", "ivrc lint s", name, "ratio"], rows))
    print(f"\nworst ratio ivrc/check-jsonschema: {worst:.2f} (target <= 1.0) {'MET' if worst <= 1.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
