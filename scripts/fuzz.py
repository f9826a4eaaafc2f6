#!/usr/bin/env python3
"""Fuzz the compiler: mutated flows must never make `ivrc lint` or `ivrc compile` raise or hang.

Seeds are the example flows and the broken-flow corpus (tests/flows/broken). Each input is a
seed mutated at one of three levels:

- bytes: flips, inserts, deletions, duplicated and spliced ranges, truncation;
- text: YAML-significant tokens, re-indented, duplicated or swapped lines, odd scalars
  (yes, ~, .nan, 0x1F, 1e400), other encodings (UTF-16/32 with a BOM, Latin-1) and line
  endings (CRLF, CR, NEL, mixed), templates and anchors;
- structure: the loaded flow as data, with keys deleted, states renamed, subtrees moved,
  values wrapped in lists or nested deeper, dumped back as YAML;

plus now and then a generated pathological input (an alias bomb, deep nesting, a file near
or over the 1 MiB limit).

Every input goes through what the CLI does: check the bytes (`ivrc lint -`) and render the
diagnostics in every output format; compile the file (`ivrc compile`) and serialise the
machine; and, when a machine comes out, load it into the runtime and answer one callback,
which must be valid SVAML. Inputs run in a worker process with a per-input time limit, so a
hang is caught and reported instead of stalling the run. Inputs that crash or hang are
saved to --save-dir to reproduce them with `ivrc lint FILE`.

    python scripts/fuzz.py --seconds 600                 # ten minutes
    python scripts/fuzz.py --count 500 --seed 7          # a fixed, repeatable run
    python scripts/fuzz.py --worst                       # time and memory of the worst inputs known

Exit code: 0 if no input raised, hung or gave a machine whose answer Sinch would refuse; 1 otherwise.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))

TOKENS = [
    "&a ", "*a", "<<: *a", "!!python/object:os.system ", "!!binary ", "!custom ", "---\n", "...\n", "\t", "\ufeff",
    "{{ ", " }}", "{% for x in y %}", "{% endfor %}", "{{ call.caller }}", "{#", "\x00", "\r", "\x85", "\u2028",
    ": ", "- ", "? ", "[", "]", "{", "}", "'", '"', "|\n", ">-\n", "#", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
    "@", "`", "\\", "\\u0000", "é", "😀", "\u202e",
]
SCALARS = ["yes", "no", "on", "off", "~", "null", ".nan", ".inf", "-.inf", "0x1F", "0o17", "1e400", "-0",
           "99999999999999999999999", "''", '""', "[]", "{}", "!!str 1", "'{{ 7 * 7 }}'", "'{{ x'",
           "'#tts[x];http://evil'", "'<speak>'", "'" + "a" * 700 + "'", "'+4670000000'", "'+'", "main", "ivrc"]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "utf-8-sig"]
LINE_ENDINGS = ["\r\n", "\r", "\x85", "mixed"]


# -- seeds --------------------------------------------------------------------------------------


def seeds() -> list[tuple[str, bytes]]:
    """(name, bytes) of every example flow and every broken flow."""
    from ivrc.compiler.project import is_flow_file

    found = []
    for folder in (REPO / "examples", REPO / "tests" / "flows" / "broken"):
        for path in sorted(folder.iterdir()):
            if path.is_file() and is_flow_file(path.name):
                found.append((f"{folder.name}/{path.name}", path.read_bytes()))
    return found


# -- mutations ----------------------------------------------------------------------------------


def _bytes(rng: random.Random, raw: bytes, pool: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    data = bytearray(raw) or bytearray(b" ")
    op = rng.choice(["flip", "insert", "delete", "duplicate", "truncate", "splice"])
    at = rng.randrange(len(data))
    if op == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif op == "insert":
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif op == "delete":
        del data[at:at + rng.randint(1, 200)]
    elif op == "duplicate":
        end = min(len(data), at + rng.randint(1, 400))
        data[at:at] = data[at:end] * rng.randint(1, 50)
    elif op == "truncate":
        del data[at:]
    else:
        other = rng.choice(pool)[1]
        cut = rng.randrange(len(other) or 1)
        data = data[:at] + other[cut:]
    return bytes(data), f"bytes:{op}"


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _text(rng: random.Random, raw: bytes, pool: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    text = raw.decode("utf-8", "replace")
    lines = _lines(text) or [""]
    op = rng.choice(["token", "indent", "dup-line", "swap-lines", "comment", "scalar", "encoding", "line-endings",
                     "template", "anchor"])
    i = rng.randrange(len(lines))
    if op == "token":
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        return text.encode("utf-8", "surrogatepass"), "text:token"
    if op == "indent":
        lines[i] = " " * rng.choice([1, 2, 3, 4, 8, 64]) + lines[i] if rng.random() < 0.6 else lines[i].lstrip()
    elif op == "dup-line":
        lines[i:i] = [lines[i]] * rng.randint(1, 3)
    elif op == "swap-lines":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "comment":
        lines[i] = "# " + lines[i]
    elif op == "scalar":
        candidates = [k for k, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
        if candidates:
            k = rng.choice(candidates)
            head = lines[k].split(": ", 1)[0]
            lines[k] = f"{head}: {rng.choice(SCALARS)}"
    elif op == "encoding":
        encoding = rng.choice(ENCODINGS)
        return text.encode(encoding, "replace"), f"text:encoding:{encoding}"
    elif op == "line-endings":
        ending = rng.choice(LINE_ENDINGS)
        if ending == "mixed":
            joined = "".join(line + rng.choice(["\n", "\r\n", "\r"]) for line in lines)
        else:
            joined = ending.join(lines)
        return joined.encode("utf-8"), f"text:line-endings:{ending!r}"
    elif op == "template":
        candidates = [k for k, line in enumerate(lines) if '"' in line]
        if candidates:
            k = rng.choice(candidates)
            lines[k] = lines[k].replace('"', '"' + rng.choice(["{{ ", "{{ call.", "{% if %}", "{{ x | attr('y') }}",
                                                               "{{ ''.__class__ }}", "{{ range(999999999) }}",
                                                               "{{ (((((((1))))))) }}"]), 1)
    elif op == "anchor":
        candidates = [k for k, line in enumerate(lines) if line.rstrip().endswith(":")]
        if candidates:
            k = rng.choice(candidates)
            lines[k] = lines[k].rstrip() + " &a"
            lines.insert(rng.randrange(len(lines) + 1), lines[k].split(":")[0].replace("&a", "") + "_copy: *a")
    return "\n".join(lines).encode("utf-8", "surrogatepass"), f"text:{op}"


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append(at + (key,))
            out.extend(_paths(value, at + (key,)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append(at + (index,))
            out.extend(_paths(value, at + (index,)))
    return out


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _structure(rng: random.Random, raw: bytes, pool: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    import copy

    import yaml

    from ivrc.compiler.loader import load_bytes

    loaded = load_bytes(raw)
    if loaded.document is None or not isinstance(loaded.document.data, dict):
        return _text(rng, raw, pool)
    data = copy.deepcopy(loaded.document.data)
    ops = []
    for _ in range(rng.randint(1, 4)):
        paths = _paths(data)
        if not paths:
            break
        path = rng.choice(paths)
        parent = _at(data, path[:-1])
        op = rng.choice(["delete", "replace", "move", "wrap", "nest", "rename-state", "scalar"])
        ops.append(op)
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = copy.deepcopy(_at(data, rng.choice(paths)))
        elif op == "move" and isinstance(parent, dict):
            value = parent.pop(path[-1])
            target = _at(data, rng.choice(_paths(data) or [()])[:-1]) if _paths(data) else data
            if isinstance(target, dict):
                target[str(path[-1]) + "_moved"] = value
        elif op == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        elif op == "nest":
            value = parent[path[-1]]
            for _ in range(rng.randint(1, 80)):
                value = {"k": value}
            parent[path[-1]] = value
        elif op == "rename-state" and isinstance(data.get("states"), dict) and data["states"]:
            old = rng.choice(sorted(data["states"]))
            data["states"] = {(rng.choice(["main", "x" * 60, "a b", "ivrc", "1", ""]) if k == old else k): v
                              for k, v in data["states"].items()}
        elif op == "scalar":
            parent[path[-1]] = rng.choice([None, True, 0, -1, 2**70, 1.5, float("nan"), "", "{{", "x" * 2000,
                                           "+46812345670", "#", "*"])
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=rng.random() < 0.3)
    except (yaml.YAMLError, RecursionError, ValueError):
        return raw, "structure:undumpable"
    return text.encode("utf-8", "surrogatepass"), "structure:" + "+".join(ops)


def _pathological(rng: random.Random, raw: bytes, pool: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    kind = rng.choice(["alias-bomb", "merge-bomb", "deep-flow", "deep-block", "near-limit", "over-limit", "wide-anchor"])
    if kind == "alias-bomb":
        width, depth = rng.randint(2, 12), rng.randint(3, 12)
        lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
        text = "\n".join(lines) + "\n"
    elif kind == "merge-bomb":
        text = "m0: &m0 {" + ", ".join(f"k{j}: v" for j in range(8)) + "}\n"
        text += "".join(f"m{i}: &m{i} {{" + ", ".join(f"k{j}: {{<<: *m{i - 1}}}" for j in range(8)) + "}\n"
                        for i in range(1, rng.randint(2, 8)))
    elif kind == "deep-flow":
        opening, closing = rng.choice([("[", "]"), ("{", "}"), ("{a: ", "}"), ("[", "")])
        n = rng.choice([63, 64, 65, 100, 1000, 20000])
        text = opening * n + closing * n
    elif kind == "deep-block":
        text = "".join(" " * i + "k:\n" for i in range(rng.choice([60, 65, 300, 1000])))
    elif kind == "near-limit":
        text = raw.decode("utf-8", "replace") + "\n# " + "x" * (1024 * 1024 - len(raw) - 10) + "\n"
    elif kind == "over-limit":
        text = raw.decode("utf-8", "replace") + "\n# " + "x" * (1024 * 1024) + "\n"
    else:
        text = "a: &a {" + ", ".join(f"k{i}: v" for i in range(500)) + "}\n" + "".join(
            f"b{i}: *a\n" for i in range(rng.randint(10, 500)))
    return text.encode("utf-8"), f"pathological:{kind}"


def _billion_laughs() -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return ("\n".join(lines) + "\n").encode()


def _merge_bomb() -> bytes:
    text = "m0: &m0 {" + ", ".join(f"k{j}: v" for j in range(10)) + "}\n"
    text += "".join(f"m{i}: &m{i} {{" + ", ".join(f"k{j}: {{<<: *m{i - 1}}}" for j in range(10)) + "}\n"
                    for i in range(1, 8))
    return text.encode()


def _support() -> str:
    return (REPO / "examples" / "support.yaml").read_text(encoding="utf-8")


def _states(count: int, ending: str = "\r\n") -> bytes:
    states = "".join(f"  s{i}:{ending}    hangup: true{ending}" for i in range(count))
    return (_support() + states).encode()[:1024 * 1024]


# The worst inputs we know of, by kind: `--worst` measures each (time and tracemalloc peak), and
# tests/reliability/test_flow_inputs.py holds the cheap ones to a memory ceiling on every run.
WORST: dict[str, Callable[[], bytes]] = {
    "billion laughs": _billion_laughs,
    "merge-key bomb": _merge_bomb,
    "one anchor, 400 aliases of 500 keys": lambda: ("a: &a {" + ", ".join(f"k{i}: v" for i in range(500)) + "}\n"
                                                     + "".join(f"b{i}: *a\n" for i in range(400))).encode(),
    "10,000 nested lists": lambda: ("[" * 10_000 + "]" * 10_000).encode(),
    "1,000 nested block mappings": lambda: "".join(" " * i + "k:\n" for i in range(1_000)).encode(),
    "a flow padded to the size limit": lambda: (_support() + "\n# " + "x" * (1024 * 1024 - len(_support()) - 10)
                                                + "\n").encode(),
    "a flow with 100,000 comment lines": lambda: (_support() + "".join(f"# {i:06}\n" for i in range(100_000))
                                                  ).encode()[:1024 * 1024],
    "2 MiB": lambda: ("ivrc: 1\ndescription: " + "x" * (2 * 1024 * 1024) + "\n").encode(),
    "UTF-16, 1 MiB": lambda: (_support() * 400).encode("utf-16")[:1024 * 1024],
    "5,000 states, CR LF": lambda: _states(5_000),
    "1 MiB of states, CR LF": lambda: _states(30_000),
}


def measure_worst(names: list[str] | None = None) -> list[tuple[str, int, float, float, int, list[str]]]:
    """(name, size, seconds, seconds under tracemalloc, peak bytes, codes) for each worst input, via check_bytes."""
    import tracemalloc

    from ivrc.compiler import check_bytes

    rows = []
    for name in names or list(WORST):
        raw = WORST[name]()
        started = time.perf_counter()
        check_bytes(raw, "worst.yaml")
        plain = time.perf_counter() - started
        tracemalloc.start()
        started = time.perf_counter()
        try:
            result = check_bytes(raw, "worst.yaml")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        traced = time.perf_counter() - started
        rows.append((name, len(raw), plain, traced, peak, sorted({d.code for d in result.diagnostics})))
    return rows


MUTATORS: list[tuple[float, Callable]] = [(0.35, _bytes), (0.35, _text), (0.25, _structure), (0.05, _pathological)]


def mutate(rng: random.Random, pool: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    name, raw = rng.choice(pool)
    roll, total = rng.random(), 0.0
    for weight, mutator in MUTATORS:
        total += weight
        if roll < total:
            data, how = mutator(rng, raw, pool)
            return data, f"{name} {how}"
    return raw, f"{name} unchanged"


# -- the work one input gets --------------------------------------------------------------------


def exercise(raw: bytes, workdir: str) -> dict[str, Any]:
    """What `ivrc lint -` and `ivrc compile FILE` do with these bytes, plus one callback on the machine."""
    import json

    from ivrc.compiler import check_bytes, compile_file, formats
    from ivrc.compiler.machine import dumps

    outcome: dict[str, Any] = {}
    result = check_bytes(raw, "fuzz.yaml")
    for render in (lambda: formats.text([result], color=True), lambda: formats.concise([result]),
                   lambda: formats.json_report([result]), lambda: formats.github([result]),
                   lambda: formats.sarif([result], "0"), lambda: formats.junit([result])):
        render()
    outcome["codes"] = sorted({d.code for d in result.diagnostics})
    path = os.path.join(workdir, "fuzz.yaml")
    with open(path, "wb") as fh:
        fh.write(raw)
    compiled = compile_file(path)
    if compiled.machine is None:
        if not compiled.errors:
            raise AssertionError("compile gave no machine and no error")
        outcome["outcome"] = "diagnostics"
        return outcome
    json.loads(dumps(compiled.machine))
    outcome["outcome"] = "compiled"
    warned = {d.code for d in compiled.diagnostics}
    # What lint already warned the author of is no finding: keys with '*' (IVR154) compile with a warning, as
    # Sinch does not document '*', and the emulator's check refuses them as Sinch's SDKs do.
    outcome["svaml_problems"] = [problem for problem in _one_callback(compiled.machine)
                                 if not any(code in warned and text in problem for code, text in _WARNED_PROBLEMS)]
    return outcome


# (lint code, words of the SVAML problem it warns of)
_WARNED_PROBLEMS = (("IVR154", "may hold only 0-9, # and w"),)


def _one_callback(machine: dict[str, Any]) -> list[str]:
    """Load the machine into the runtime and answer its first callback; returns Sinch's objections."""
    import datetime
    import json

    from ivrc.runtime.emulation.svaml_check import problems
    from ivrc.runtime.engine.events import parse_callback
    from ivrc.runtime.engine.library import Library
    from ivrc.runtime.engine.step import Engine

    library = Library()
    library.add(machine)
    library.default_flow = machine["flow"]
    moment = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.timezone.utc)
    engine = Engine(library, clock=lambda: moment, env={})
    if machine["direction"] == "outbound":
        event, body = "ACE", {"event": "ace", "callid": "fuzz", "custom": machine["flow"],
                              "amd": {"status": "human"}}
    else:
        numbers = machine.get("numbers") or ["+15550000000"]
        event, body = "ICE", {"event": "ice", "callid": "fuzz", "cli": "+46700000001",
                              "to": {"type": "number", "endpoint": numbers[0]}}
    answer = engine.step(parse_callback(json.dumps(body).encode()))
    return problems(answer.svaml, event)


def _worker(connection, workdir: str) -> None:
    import logging
    import resource

    logging.disable(logging.CRITICAL)  # the engine logs every error path; the report says what matters

    while True:
        raw = connection.recv()
        if raw is None:
            return
        started = time.perf_counter()
        try:
            outcome = exercise(raw, workdir)
            outcome["error"] = None
        except BaseException as err:  # noqa: BLE001 - the point is to catch everything
            outcome = {"outcome": "crash", "error": f"{type(err).__name__}: {err}"[:500],
                       "traceback": traceback.format_exc()[-3000:]}
        outcome["seconds"] = time.perf_counter() - started
        outcome["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        connection.send(outcome)


class Worker:
    """A child process that runs inputs; replaced when an input hangs."""

    def __init__(self, workdir: str) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, workdir), daemon=True)
        self.process.start()

    def run(self, raw: bytes, timeout: float) -> dict[str, Any] | None:
        self.connection.send(raw)
        if self.connection.poll(timeout):
            try:
                return self.connection.recv()
            except EOFError:  # the worker died (e.g. killed for memory)
                return {"outcome": "crash", "error": "the worker process died", "seconds": timeout}
        return None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Finding:
    kind: str  # crash, hang, invalid-svaml
    how: str
    detail: str
    saved: str | None


@dataclass
class Summary:
    inputs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    slowest: list[tuple[float, int, str]] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)
    maxrss_kib: int = 0
    wall: float = 0.0


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-int(p * len(ordered)) // 100) - 1))] if ordered else 0.0


def fuzz(*, count: int, seconds: float, seed: int, timeout: float, save_dir: str | None,
         progress: Callable[[str], None] = lambda line: None) -> Summary:
    rng = random.Random(seed)
    pool = seeds()
    summary = Summary()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ivrc-fuzz-") as workdir:
        worker = Worker(workdir)
        try:
            while summary.inputs < count and time.monotonic() - started < seconds:
                raw, how = mutate(rng, pool)
                summary.inputs += 1
                outcome = worker.run(raw, timeout)
                if outcome is None:
                    worker.stop()
                    worker = Worker(workdir)
                    outcome = {"outcome": "hang", "error": f"no answer within {timeout:.0f} s", "seconds": timeout}
                kind = outcome["outcome"]
                summary.outcomes[kind] = summary.outcomes.get(kind, 0) + 1
                summary.seconds.append(outcome["seconds"])
                summary.maxrss_kib = max(summary.maxrss_kib, outcome.get("maxrss_kib", 0))
                summary.codes.update(outcome.get("codes", ()))
                summary.slowest = sorted(summary.slowest + [(outcome["seconds"], len(raw), how)], reverse=True)[:5]
                problem = None
                if kind in ("crash", "hang"):
                    problem = (kind, outcome.get("traceback") or outcome["error"])
                elif outcome.get("svaml_problems"):
                    problem = ("invalid-svaml", "; ".join(outcome["svaml_problems"]))
                if problem is not None:
                    saved = None
                    if save_dir:
                        os.makedirs(save_dir, exist_ok=True)
                        saved = os.path.join(save_dir, f"{problem[0]}-{seed}-{summary.inputs}.yaml")
                        with open(saved, "wb") as fh:
                            fh.write(raw)
                    summary.findings.append(Finding(problem[0], how, problem[1], saved))
                    progress(f"{problem[0]}: {how}: {(outcome.get('error') or problem[1])[:200]}"
                             + (f" (saved as {saved})" if saved else ""))
                if summary.inputs % 500 == 0:
                    progress(f"{summary.inputs} inputs, {len(summary.findings)} findings, "
                             f"{time.monotonic() - started:.0f} s")
        finally:
            worker.stop()
    summary.wall = time.monotonic() - started
    return summary


def report(summary: Summary, seed: int) -> str:
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    lines = [
        f"inputs           {summary.inputs} in {summary.wall:.1f} s (seed {seed})",
        "outcomes         " + ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())),
        f"per input        p50 {ms(_percentile(summary.seconds, 50))}, p90 {ms(_percentile(summary.seconds, 90))}, "
        f"p99 {ms(_percentile(summary.seconds, 99))}, max {ms(max(summary.seconds, default=0))}",
        f"worker peak RSS  {summary.maxrss_kib / 1024:.1f} MiB",
        f"codes seen       {len(summary.codes)}: {' '.join(sorted(summary.codes))}",
        "slowest inputs:",
        *[f"  {ms(s)}  {size} bytes  {how}" for s, size, how in summary.slowest],
        f"findings         {len(summary.findings)} (crashes and hangs: "
        f"{sum(f.kind in ('crash', 'hang') for f in summary.findings)})",
    ]
    for finding in summary.findings[:20]:
        first = finding.detail.strip().splitlines()[-1] if finding.detail.strip() else ""
        lines.append(f"  {finding.kind}: {finding.how}: {first[:200]}" + (f"  [{finding.saved}]" if finding.saved else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this long (default 60)")
    parser.add_argument("--count", type=int, default=1_000_000, help="stop after this many inputs")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds one input may take before it counts "
                                                                    "as a hang (default 10)")
    parser.add_argument("--save-dir", default=None, help="save inputs that crash or hang here")
    parser.add_argument("--quiet", action="store_true", help="print only the final report")
    parser.add_argument("--worst", action="store_true", help="instead of fuzzing, measure time and memory "
                                                             "(tracemalloc peak) of the worst inputs known")
    args = parser.parse_args(argv)
    if args.worst:
        rows = measure_worst()
        width = max(len(row[0]) for row in rows)
        print(f"{'input':<{width}}  {'size':>9}  {'time':>8}  {'traced':>8}  {'peak':>9}  diagnostics")
        for name, size, plain, traced, peak, codes in rows:
            print(f"{name:<{width}}  {size / 1024:7.0f} KiB  {plain:6.2f} s  {traced:6.2f} s  "
                  f"{peak / 2**20:5.1f} MiB  {' '.join(codes) or 'none'}")
        return 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    summary = fuzz(count=args.count, seconds=args.seconds, seed=seed, timeout=args.timeout, save_dir=args.save_dir,
                   progress=(lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr)))
    sys.stdout.write(report(summary, seed))
    return 1 if summary.findings else 0


if __name__ == "__main__":
    sys.exit(main())
