"""Benchmark 2: `ivrc lint` and `ivrc compile` as whole processes on generated flows of 100, 1,000 and 10,000 states."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import python, table, timed_process
from bench.flows import generated_flow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: checks the script works")
    args = parser.parse_args(argv)
    sizes = [100, 500] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 1 if args.quick else args.repeat
    folder = Path(tempfile.mkdtemp(prefix="ivrc-bench-"))
    rows, times = [], {}
    for size in sizes:
        path = folder / f"flow{size}.yaml"
        path.write_text(generated_flow(size))
        # A flow with errors stops early and would time nothing worth knowing.
        check = subprocess.run([python(), "-m", "ivrc", "lint", "--format", "concise", str(path)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            print(f"the generated {size}-state flow does not lint clean:\n{check.stdout[-2000:]}", file=sys.stderr)
            return 1
        lint = timed_process([python(), "-m", "ivrc", "lint", str(path)], repeat)
        comp = timed_process([python(), "-m", "ivrc", "compile", str(path), "-o", str(folder / f"m{size}.json")], repeat)
        times[size] = (lint[1], comp[1])
        rows.append([f"{size:,} states", f"{path.stat().st_size / 1024:,.0f} KiB", f"{lint[1]:.3f}", f"{lint[2] / 1024:.0f}",
                     f"{comp[1]:.3f}", f"{comp[2] / 1024:.0f}"])
    print(f"Compile scaling: median of {repeat} run(s), whole processes")
    print(table(["flow", "size", "lint s", "lint MiB", "compile s", "compile MiB"], rows))
    if 1000 in times:
        worst = max(times[1000])
        print(f"\n1,000 states: {worst:.3f} s (target < 0.5 s) {'MET' if worst < 0.5 else 'MISSED'}")
    if 1000 in times and 10000 in times:
        growth = max(times[10000][i] / times[1000][i] for i in range(2))
        print(f"10,000 / 1,000 states: {growth:.1f}x (target <= 12x) {'MET' if growth <= 12 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
