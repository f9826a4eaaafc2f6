"""Property tests for the compiler's front door: no input makes it raise, hang, or point nowhere.

Whatever text, bytes or data arrives, check_* and compile_* return a Result; every diagnostic
points at a real place in the file; a flow that compiles gives a machine that matches
schemas/machine.schema.json. Pathological inputs (alias bombs, deep nesting, huge files) each
finish well inside a wall-clock ceiling: a hang guard, not a benchmark.
"""
from __future__ import annotations

import copy
import json
import os
import re
import signal
import string
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ivrc import compiler
from ivrc.compiler.loader import MAX_BYTES, load_file
from ivrc.compiler.pipeline import Result
from ivrc.compiler.project import is_flow_file

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "examples").iterdir() if is_flow_file(p.name))
HANG_GUARD = 120.0  # CPU seconds; the inputs below take a few: this bounds a hang, it measures nothing

# IVRC_PROPERTY_SCALE=50 runs fifty times as many examples, for a deeper search than CI needs.
SCALE = max(1, int(os.environ.get("IVRC_PROPERTY_SCALE", "1")))
FAST = settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=1)
def machine_validator() -> Draft202012Validator:
    with open(REPO / "schemas" / "machine.schema.json", encoding="utf-8") as fh:
        return Draft202012Validator(json.load(fh))


@lru_cache(maxsize=1)
def flow_schema() -> dict:
    with open(REPO / "schemas" / "flow.schema.json", encoding="utf-8") as fh:
        return json.load(fh)


# YAML 1.1 (PyYAML, libyaml) breaks lines at CR LF, CR, LF, NEL, LS and PS.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def assert_sound(result: Any, file: str, text: str | None = None) -> None:
    """What every answer must be: a Result whose diagnostics all point into the file."""
    assert isinstance(result, Result)
    assert result.file == file
    last_line = len(_LINE_BREAK.split(text)) if text is not None else None
    for diagnostic in result.diagnostics:
        spans = [diagnostic.span] + [r.span for r in diagnostic.related]
        for span in spans:
            assert span.file == file, diagnostic
            assert span.line >= 1 and span.column >= 1, diagnostic
            if last_line is not None:  # libyaml puts the end of the stream on the line after the last
                assert span.line <= last_line + 1, diagnostic
        assert diagnostic.message, diagnostic
    if result.ok:
        assert result.document is not None
    if result.machine is not None:
        assert result.ok
        errors = sorted(machine_validator().iter_errors(result.machine), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:3]]


def assert_errors_or_machine(result: Result) -> None:
    """A compile either gives a machine, or says why not with at least one error."""
    if result.machine is None:
        assert result.errors, "no machine and no error"


# ---------------------------------------------------------------------------------------------
# arbitrary text and bytes

# Characters that make YAML do things: indicators, quotes, anchors, tags, whitespace of all kinds.
YAML_ALPHABET = ":-?[]{},#&*!|>'\"%@` \t\n\r\x85\ufeff" + "abcxyz019" + ".+~=<$\\/"
yaml_like_text = st.text(alphabet=YAML_ALPHABET, max_size=200)
# Hypothesis leaves out lone surrogates by default; test_lone_surrogate_does_not_raise covers them.
any_text = st.one_of(st.text(max_size=300), yaml_like_text,
                     st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=50))


@FAST
@given(any_text)
def test_any_text_never_raises(text: str) -> None:
    assert_sound(compiler.check_text(text, "t.yaml"), "t.yaml", text)
    result = compiler.compile_text(text, "t.yaml")
    assert_sound(result, "t.yaml", text)
    assert_errors_or_machine(result)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_never_raise(raw: bytes) -> None:
    assert_sound(compiler.check_bytes(raw, "b.yaml"), "b.yaml")


@FAST
@given(st.sampled_from(EXAMPLES), st.data())
def test_corrupted_example_bytes_never_raise(path: Path, data: st.DataObject) -> None:
    """Flip, drop and insert bytes in a real flow: broken UTF-8 and broken YAML halfway through."""
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        if op == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "drop":
            del raw[at:at + data.draw(st.integers(1, 40))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        if not raw:
            break
    assert_sound(compiler.check_bytes(bytes(raw), "c.yaml"), "c.yaml")


def test_lone_surrogate_does_not_raise() -> None:
    """A str from a careless decoder (surrogateescape) may hold lone surrogates."""
    text = "ivrc: 1\nflow: f\ndescription: \"caf\udce9\"\n"
    assert_sound(compiler.check_text(text, "s.yaml"), "s.yaml", text)


def test_cr_line_endings_number_lines_like_lf() -> None:
    text = "ivrc: 1\nflow: f\nnumbers: ['+46812345670']\nstart: s\nstates:\n  s:\n    say: 'Hi {{ nme }}'\n    hangup: true\n"
    with_lf = [(d.code, d.span.line, d.span.column) for d in compiler.check_text(text, "cr.yaml").diagnostics]
    with_cr = [(d.code, d.span.line, d.span.column) for d in compiler.check_text(text.replace("\n", "\r"), "cr.yaml").diagnostics]
    assert with_lf == [("IVR081", 7, 17)]
    assert with_cr == with_lf


# ---------------------------------------------------------------------------------------------
# arbitrary data, dumped as YAML

def _vocabulary() -> list[str]:
    """Every property name the flow language has, so generated mappings reach past the top level."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            names.update(k for k in node.get("properties", {}) if not k.startswith("$"))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(flow_schema())
    return sorted(names)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "yes", "no", "on", "~", "null", "0x1F", "0o17", "1e3", ".inf", "{{ x }}", "{% if %}",
                     "+46812345670", "en-US", "s3://b/", "https://a.example/x.mp3", "#", "*", "09:00-17:00",
                     "closed", "main", "start", "a" * 700]),
)
keys = st.one_of(st.sampled_from(_vocabulary()), st.text(min_size=1, max_size=8),
                 st.sampled_from(["0", "1", "#", "*", "en-US", "s", "t", "mon"]))
json_like = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=6)), max_leaves=40)


@FAST
@given(json_like)
def test_any_data_never_raises(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    result = compiler.compile_text(text, "d.yaml")
    assert_sound(result, "d.yaml", text)
    assert_errors_or_machine(result)


@FAST
@given(st.dictionaries(keys, json_like, max_size=6), st.sampled_from(["menu", "collect", "record", "transfer",
                                                                        "park", "branch", "next", "hangup"]))
def test_any_state_body_never_raises(body: dict, action: str) -> None:
    """A flow whose shell is right and whose one state holds arbitrary data."""
    data = {"ivrc": 1, "flow": "f", "start": "s", "states": {"s": {action: body.get(action, body), **body},
                                                             "t": {"hangup": True}}}
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    result = compiler.compile_text(text, "s.yaml")
    assert_sound(result, "s.yaml", text)
    assert_errors_or_machine(result)


# ---------------------------------------------------------------------------------------------
# mutated example flows

def _loaded(path: Path) -> dict:
    result = load_file(str(path))
    assert result.document is not None, result.diagnostics
    return result.document.data


EXAMPLE_DATA = {path.name: _loaded(path) for path in EXAMPLES}


def _paths(node: Any, at: tuple = ()) -> Iterator[tuple]:
    """Every path below the root, parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield at + (key,)
            yield from _paths(value, at + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield at + (index,)
            yield from _paths(value, at + (index,))


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


# State names the mutations may introduce: some that look like keywords or Sinch's menu ids.
NEW_NAMES = ["s1", "main", "menu", "hangup", "ivrc", "a-b", "Z9", "x" * 48]


def _mutate(data: dict, draw: Callable, state_names: list[str]) -> dict:
    op = draw(st.sampled_from(["delete", "scalar", "rename-ref", "rename-state", "transplant", "copy-state"]))
    paths = list(_paths(data))
    if not paths:
        return data
    path = paths[draw(st.integers(0, len(paths) - 1))]
    parent = _parent(data, path)
    if op == "delete":
        del parent[path[-1]]
    elif op == "scalar":
        parent[path[-1]] = draw(scalars)
    elif op == "rename-ref":
        refs = [p for p in paths if isinstance(_get(data, p), str) and _get(data, p) in state_names]
        if refs:
            ref = refs[draw(st.integers(0, len(refs) - 1))]
            _parent(data, ref)[ref[-1]] = draw(st.sampled_from(state_names + NEW_NAMES))
    elif op == "rename-state" and isinstance(data.get("states"), dict) and data["states"]:
        states = data["states"]
        old = draw(st.sampled_from(sorted(states)))
        new = draw(st.sampled_from(NEW_NAMES))
        data["states"] = {(new if k == old else k): v for k, v in states.items()}
    elif op == "transplant":
        source = paths[draw(st.integers(0, len(paths) - 1))]
        parent[path[-1]] = copy.deepcopy(_get(data, source))
    elif op == "copy-state" and isinstance(data.get("states"), dict) and data["states"]:
        old = draw(st.sampled_from(sorted(data["states"])))
        data["states"][draw(st.sampled_from(NEW_NAMES))] = copy.deepcopy(data["states"][old])
    return data


@SLOW
@given(st.sampled_from(sorted(EXAMPLE_DATA)), st.data())
def test_mutated_examples_compile_or_explain(name: str, data: st.DataObject) -> None:
    flow = copy.deepcopy(EXAMPLE_DATA[name])
    state_names = sorted(flow["states"])
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        flow = _mutate(flow, data.draw, state_names)
    text = yaml.safe_dump(flow, allow_unicode=True, sort_keys=False, width=100)
    result = compiler.compile_text(text, name)
    assert_sound(result, name, text)
    assert_errors_or_machine(result)
    if result.errors:
        assert any(d.span.line >= 1 and d.span.column >= 1 and d.span.file == name for d in result.errors)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_reformatted_examples_compile_to_the_same_machine(path: Path) -> None:
    """The loader's data, dumped again by PyYAML in another layout, is the same flow."""
    original = compiler.compile_file(str(path))
    text = yaml.safe_dump(EXAMPLE_DATA[path.name], allow_unicode=True, sort_keys=False, default_flow_style=True)
    again = compiler.compile_text(text, path.name)
    assert again.ok, [str(d.span) + " " + d.message for d in again.errors]
    assert again.machine == original.machine


# ---------------------------------------------------------------------------------------------
# pathological inputs: each must finish (HANG_GUARD bounds the test, it times nothing)

class _TooSlow(BaseException):
    """Raised by the timer; a BaseException so no `except Exception` in the compiler swallows it."""


@contextmanager
def _cpu_deadline(seconds: float) -> Iterator[None]:
    """Stops a hang once it has burnt `seconds` of CPU, instead of stalling the suite (POSIX only).

    The timer fires again every 0.1 s: a signal that lands in a gc callback is swallowed there, and
    one that arrives inside C code waits until Python runs again.
    """
    if not hasattr(signal, "setitimer") or not hasattr(signal, "SIGPROF"):
        yield
        return
    armed = [True]

    def fire(signum: int, frame: Any) -> None:
        if armed[0]:
            raise _TooSlow()

    previous = signal.signal(signal.SIGPROF, fire)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.1)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def finishes(run: Callable[[], Result]) -> Result:
    """Runs the compiler under a hang guard: HANG_GUARD seconds of CPU time, then the test fails.

    The guard bounds the test when something hangs or explodes; it is no performance target
    (these inputs take a few seconds). How fast they are is measured by `scripts/fuzz.py --worst`
    and recorded in docs/reliability.md, outside the test suite, where a busy machine cannot fail CI.
    """
    try:
        with _cpu_deadline(HANG_GUARD):
            return run()
    except _TooSlow:
        pytest.fail(f"still running after {HANG_GUARD:.0f} s of CPU time: a hang or a blow-up")


def _codes(result: Result) -> set[str]:
    return {d.code for d in result.diagnostics}


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_billion_laughs_is_refused_quickly() -> None:
    text = billion_laughs()
    result = finishes(lambda: compiler.compile_text(text, "lol.yaml"))
    assert_sound(result, "lol.yaml", text)
    assert "IVR004" in _codes(result)


@pytest.mark.slow
def test_merge_key_bomb_is_refused_quickly() -> None:
    """The same explosion through `<<` merge keys instead of list aliases."""
    lines = ["m0: &m0 {" + ", ".join(f"k{j}: v" for j in range(10)) + "}"]
    for i in range(1, 8):
        lines.append(f"m{i}: &m{i} {{" + ", ".join(f"k{j}: {{<<: *m{i - 1}}}" for j in range(10)) + "}")
    text = "\n".join(lines) + "\n"
    result = finishes(lambda: compiler.compile_text(text, "merge.yaml"))
    assert_sound(result, "merge.yaml", text)
    assert "IVR004" in _codes(result)


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{", "}"), ("{a: ", "}"), ("[", "")],
                         ids=["list", "mapping", "mapping-values", "unclosed"])
def test_deep_nesting_is_refused_quickly(opening: str, closing: str) -> None:
    text = opening * 10_000 + closing * 10_000
    result = finishes(lambda: compiler.compile_text(text, "deep.yaml"))
    assert_sound(result, "deep.yaml", text)
    assert result.errors and result.machine is None
    assert [d.code for d in result.errors] == ["IVR004"]  # the code for data nested too deep, not a syntax error


def test_deep_block_nesting_is_refused_quickly() -> None:
    text = "".join(" " * i + "k:\n" for i in range(1_000))  # 500 kB of ever deeper block mappings
    result = finishes(lambda: compiler.compile_text(text, "deep.yaml"))
    assert_sound(result, "deep.yaml", text)
    assert result.errors and result.machine is None


def test_two_megabyte_file_is_refused_quickly(tmp_path: Path) -> None:
    text = "ivrc: 1\ndescription: " + "x" * (2 * 1024 * 1024) + "\n"
    assert len(text.encode()) > MAX_BYTES
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    for run, file in ((lambda: compiler.check_text(text, "big.yaml"), "big.yaml"),
                      (lambda: compiler.check_bytes(text.encode(), "big.yaml"), "big.yaml"),
                      (lambda: compiler.compile_file(str(path)), str(path))):
        result = finishes(run)
        assert _codes(result) == {"IVR005"}
        assert_sound(result, file)


@pytest.mark.slow
def test_two_hundred_thousand_tiny_keys_finish() -> None:
    """200,000 three-letter keys: 1,000,000 bytes, just under the size limit."""
    alphabet = string.ascii_letters + string.digits
    names = (a + b + c for a in alphabet for b in alphabet for c in alphabet)
    text = "".join(next(names) + ":\n" for _ in range(200_000))
    assert len(text.encode()) <= MAX_BYTES
    result = finishes(lambda: compiler.check_text(text, "keys.yaml"))
    assert_sound(result, "keys.yaml")
    assert result.errors


def test_long_block_scalar_full_of_templates_finishes() -> None:
    body = "".join(f"      Line {i}: {{{{ caller_{i} }}}} and {{{{ call.caller }}}}.\n" for i in range(1_000))
    text = f"ivrc: 1\nflow: f\nnumbers: ['+46812345670']\nstart: s\nstates:\n  s:\n    say: |\n{body}    hangup: true\n"
    result = finishes(lambda: compiler.compile_text(text, "block.yaml"))
    assert_sound(result, "block.yaml", text)
    undefined = [d for d in result.diagnostics if d.code == "IVR081"]
    assert len(undefined) == 1_000
    # Each finding points at its own line of the block scalar.
    assert sorted(d.span.line for d in undefined) == list(range(8, 1_008))


def _many_keys(count: int) -> Iterator[str]:
    alphabet = string.ascii_letters
    names = (a + b + c for a in alphabet for b in alphabet for c in alphabet)
    for _ in range(count):
        yield "k" + next(names)


@pytest.mark.parametrize("mistake", ["duplicate", "unknown", "not-text", "unknown-in-state"])
def test_one_mistake_repeated_gives_a_bounded_number_of_diagnostics(mistake: str) -> None:
    """20,000 copies of one mistake: the time and the output must not grow with them."""
    if mistake == "duplicate":
        text = "{" + ",".join(["a"] * 20_000) + "}"
    elif mistake == "unknown":
        text = "".join(f"{key}: 1\n" for key in _many_keys(20_000))
    elif mistake == "not-text":
        text = "{" + ",".join(["[a]: 1"] * 20_000) + "}"
    else:
        text = "ivrc: 1\nflow: f\nstart: s\nstates:\n  s:\n    hangup: true\n" + "".join(
            f"    {key}: 1\n" for key in _many_keys(20_000))
    result = finishes(lambda: compiler.check_text(text, "many.yaml"))
    assert result.errors
    assert len(result.diagnostics) <= 1_000


@pytest.mark.slow
def test_a_huge_prompt_catalogue_finishes() -> None:
    catalogue = "".join(f"  {key}: x\n" for key in _many_keys(80_000))
    text = "ivrc: 1\nflow: f\nnumbers: ['+46812345670']\nstart: s\nstates:\n  s: {hangup: true}\nprompts:\n" + catalogue
    assert len(text.encode()) <= MAX_BYTES
    finishes(lambda: compiler.check_text(text, "prompts.yaml"))


@pytest.mark.parametrize("where", ["condition", "prompt"])
def test_deeply_nested_template_does_not_raise(where: str) -> None:
    nested = "(" * 100 + "1" + ")" * 100
    if where == "condition":
        state = f"branch: [{{if: '{nested} == 1', goto: t}}, {{else: t}}]"
    else:
        state = f"say: '{{{{ {nested} }}}}'\n    next: t"
    text = f"ivrc: 1\nflow: f\nnumbers: ['+46812345670']\nstart: s\nstates:\n  s:\n    {state}\n  t: {{hangup: true}}\n"
    result = finishes(lambda: compiler.compile_text(text, "nest.yaml"))
    assert_sound(result, "nest.yaml", text)


def test_deeply_nested_pattern_does_not_raise() -> None:
    pattern = "(" * 1_000 + "[0-9]" + ")" * 1_000
    text = ("ivrc: 1\nflow: f\nnumbers: ['+46812345670']\nstart: s\nstates:\n  s:\n    collect:\n"
            f"      prompt: x\n      into: v\n      max_digits: 4\n      pattern: '{pattern}'\n"
            "      next: t\n      no_input: t\n      invalid: t\n  t: {hangup: true}\n")
    result = finishes(lambda: compiler.compile_text(text, "pattern.yaml"))
    assert_sound(result, "pattern.yaml", text)


def test_floats_and_big_integers_do_not_break_lowering() -> None:
    """Numbers YAML can spell but the language cannot use are reported, never crash."""
    for value in (".nan", ".inf", "-.inf", "1e308", str(2**80), "0x7fffffffffffffffffff"):
        text = f"ivrc: 1\nflow: f\nstart: s\nstates:\n  s:\n    menu: {{prompt: x, options: {{1: t}}, timeout: {value}}}\n  t: {{hangup: true}}\n"
        result = compiler.compile_text(text, "n.yaml")
        assert_sound(result, "n.yaml", text)
        assert result.errors, value
