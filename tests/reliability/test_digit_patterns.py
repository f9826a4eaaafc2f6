"""Caller-chosen digits against the flow's pattern: matching takes time linear in the digits, on a real server."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import ivrctest
import pytest

from ivrc.compiler.digitpattern import PatternError, compile_pattern
from ivrc.compiler.pipeline import check_text
from ivrc.runtime.emulation.emulator import Call, HttpTransport, Unreachable

KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
NESTED = "([0-9]+)*[1-9]"  # lint-clean; Python's re needs 2^n steps on n zeros
FLOW = f"""\
ivrc: 1
flow: order
numbers: ["+46812345683"]
start: ask
states:
  ask:
    collect:
      prompt: "Your order number, then hash."
      into: order
      max_digits: 32
      pattern: "{NESTED}"
      no_input: {{say: "Sorry, I did not hear any digits."}}
      invalid: {{say: "Sorry, that is not an order number."}}
      next: done
      exhausted: done
  done:
    say: "Goodbye."
    hangup: true
"""


def test_the_nested_pattern_lints_clean() -> None:
    assert [d.code for d in check_text(FLOW).diagnostics] == []


def test_thirty_one_zeros_against_a_nested_pattern_do_not_freeze_the_server(tmp_path: Path) -> None:
    # 28 zeros and '#' blocked the event loop for 22 s (each further zero doubles it): every call froze.
    (tmp_path / "order.yaml").write_text(FLOW)
    server = ivrctest.start_serve(tmp_path, tmp_path / "order.yaml")
    try:
        transport = HttpTransport(server.callback, KEY, SECRET, timeout=30)
        call = Call(transport, called="+46812345683").start()
        try:
            call.press("0" * 31 + "#")
        except Unreachable:  # the emulator's word for a request that timed out
            pytest.fail("the server did not answer the digits within 30 s")
        assert call.heard()[-2:] == ["Sorry, that is not an order number.", "Your order number, then hash."]
        call.press("0" * 30 + "7#")
        assert call.heard()[-1] == "Goodbye."
        # Meanwhile the server answers everyone else.
        assert httpx.get(server.base + "/healthz", timeout=30).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize("pattern", [r"([0-9]{2})\1", r"(?=1)[0-9]+", r"(?<!1)2", r"(?>1|12)3", "1*+2",
                                     "(?:[0-9]{100}){100}"])
def test_patterns_that_need_backtracking_get_a_lint_error(pattern: str) -> None:
    flow = FLOW.replace(f'"{NESTED}"', repr(pattern).replace("\\\\", "\\"))
    found = [d for d in check_text(flow).diagnostics if d.code == "IVR046"]
    assert len(found) == 1 and found[0].span.line == 11, check_text(flow).diagnostics
    assert "linear time" in found[0].message


@pytest.mark.parametrize("pattern", [NESTED, "[1-9][0-9]{5,9}", "(0|00)*1", r"^\d{4}$", "1?2??(3|45)+", "[^0]*", "",
                                     r"\b1\B2", "(?:)", "(1|1)*2", "[*0-9]{2,}?"])
def test_linear_matching_agrees_with_python_on_every_short_input(pattern: str) -> None:
    compiled = compile_pattern(pattern)
    inputs = [""] + [format(n, "b").replace("1", "0*1"[n % 3]) for n in range(300)] + ["*", "12345", "0" * 20 + "1"]
    for digits in inputs:
        assert compiled.fullmatch(digits) == (re.fullmatch(pattern, digits) is not None), (pattern, digits)


def test_a_saved_machine_with_a_backtracking_pattern_is_refused_when_loaded() -> None:
    # Lint refuses such a pattern; a machine saved by an older ivrc, or written by hand, may still hold one.
    # It is refused as a malformed machine when loaded, so no call ever runs it (load_saved skips it).
    import copy

    from ivrc.compiler import compile_file
    from ivrc.compiler.compiled import Machine
    from ivrc.compiler.errors import MachineError

    document = copy.deepcopy(compile_file(str(Path(__file__).resolve().parents[2] / "examples" / "account_pin.yaml")).machine)
    document["states"]["ask_pin"]["pattern"] = r"(1)\1"
    with pytest.raises(MachineError, match="malformed"):
        Machine.load(document)
    with pytest.raises(PatternError):
        compile_pattern(r"(1)\1")
