"""Benchmark 4: start-up time of `ivrc --version` and of `ivrc lint` on one small flow."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, python, table, timed_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else args.repeat
    ivrc = str(Path(python()).with_name("ivrc"))
    command = [ivrc] if Path(ivrc).exists() else [python(), "-m", "ivrc"]
    bare = timed_process([python(), "-c", "pass"], repeat)
    cases = [("ivrc --version", command + ["--version"], 0.150),
             ("ivrc lint examples/voicemail.yaml", command + ["lint", str(REPO / "examples" / "voicemail.yaml")], 0.300)]
    rows, verdicts = [["python -c pass (for scale)", f"{bare[0] * 1000:.0f}", f"{bare[1] * 1000:.0f}", "", ""]], []
    for name, argv_, target in cases:
        best, median, _ = timed_process(argv_, repeat)
        ok = median < target
        verdicts.append(ok)
        rows.append([name, f"{best * 1000:.0f}", f"{median * 1000:.0f}", f"< {target * 1000:.0f}", "MET" if ok else "MISSED"])
    print(f"Start-up: {repeat} runs each, whole processes")
    print(table(["command", "best ms", "median ms", "target", ""], rows))
    if not args.quick:
        imports = subprocess.run([python(), "-X", "importtime", "-m", "ivrc", "--version"], capture_output=True,
                                 text=True, cwd=REPO).stderr.splitlines()
        heavy = sorted((int(line.split("|")[1]), line.split("|")[2].strip()) for line in imports[1:] if "|" in line)[-5:]
        print("\nslowest imports for --version (cumulative us): " + ", ".join(f"{n} {us}" for us, n in reversed(heavy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
