"""Benchmark 5: `ivrc lint` over adversarial flows up to the 1 MiB size limit: time must grow linearly with size."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import python, table, timed_process
from bench.flows import generated_flow

LIMIT = 1024 * 1024 - 4096  # just under the loader's 1 MiB, leaving room for the flow around the payload
HEAD = 'ivrc: 1\nflow: attack\nnumbers: ["+15550009999"]\nlocale: en-US\nstart: a\n'


def _prompt(payload: str) -> str:
    return HEAD + f"states:\n  a:\n    say: '{payload}'\n    hangup: true\n"


def _ssml(payload: str) -> str:
    return HEAD + f"states:\n  a:\n    say: {{ssml: '<speak>{payload}</speak>'}}\n    hangup: true\n"


def _condition(payload: str) -> str:
    return HEAD + (f"states:\n  a:\n    branch: [{{if: '{payload}', goto: b}}, {{else: b}}]\n"
                   "  b: {say: x, hangup: true}\n")


def _many_unknown_states(size: int) -> str:
    # every state sends the call to a state that does not exist: one diagnostic per line
    lines, total, i = [HEAD, "states:\n", "  a: {say: x, hangup: true}\n"], 0, 0
    while total < size:
        line = f"  s{i}: {{say: x, next: nowhere{i}}}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines)


# name -> builder of a flow of about `size` bytes
ATTACKS: dict[str, Callable[[int], str]] = {
    "prompt of repeated '{{'": lambda n: _prompt("{{" * (n // 2)),
    "prompt of repeated '{%'": lambda n: _prompt("{%" * (n // 2)),
    "prompt of repeated '{{ }' (never closed)": lambda n: _prompt("{{ }" * (n // 4)),
    "SSML of nested elements": lambda n: _ssml("<p>" * (n // 8) + "</p>" * (n // 8)),
    "SSML of repeated '{#'": lambda n: _ssml("{#" * (n // 2)),
    "condition of repeated '('": lambda n: _condition("(" * n),
    "condition of 'a or ' repeated": lambda n: _condition("a or " * (n // 5) + "a"),
    "prompt of ';' and ']'": lambda n: _prompt(";]" * (n // 2)),
    "many states to unknown states": _many_unknown_states,
    "many valid states": lambda n: generated_flow(max(5, n // 100 // 5 * 5)),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller files, one run each")
    args = parser.parse_args(argv)
    repeat, top = (1, LIMIT // 8) if args.quick else (args.repeat, LIMIT)
    folder = Path(tempfile.mkdtemp(prefix="ivrc-bench-"))
    # Start-up (imports) is the same for every file: subtract it, so growth compares the work alone.
    tiny = folder / "tiny.yaml"
    tiny.write_text(_prompt("Hello."))
    startup = timed_process([python(), "-m", "ivrc", "lint", str(tiny)], repeat)[1]
    rows, worst = [], 0.0
    for name, build in ATTACKS.items():
        times = []
        for size in (top // 2, top):
            path = folder / f"attack-{len(rows)}-{size}.yaml"
            path.write_text(build(size))
            times.append((path.stat().st_size, timed_process([python(), "-m", "ivrc", "lint", str(path)], repeat)[1]))
        (half_size, half), (full_size, full) = times
        work_half, work_full = half - startup, full - startup
        # Under half a second of work, timer noise decides the ratio: such a file is fast, whatever its growth.
        judged = work_full >= 0.5 and work_half > 0
        growth = work_full / work_half if judged else None
        if growth is not None:
            worst = max(worst, growth)
        rows.append([name, f"{full_size / 1024:.0f}", f"{half:.2f}", f"{full:.2f}",
                     f"{growth:.2f}" if growth is not None else "(fast)"])
    print(f"ivrc lint on adversarial flows: median of {repeat} run(s), whole processes; start-up {startup:.2f} s")
    print(table(["flow", "KiB", "half size s", "full size s", "growth"], rows))
    # Linear work doubles when the file doubles; quadratic work quadruples.
    print(f"\nworst growth of the work when the file doubles: {worst:.2f} (linear <= 2.5) "
          f"{'MET' if worst <= 2.5 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
