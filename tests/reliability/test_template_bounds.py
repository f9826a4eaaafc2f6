"""Templates cannot do unbounded work: lint of hostile constants, and a caller who picks a repeat count, both bounded."""
from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import ivrctest
import pytest

from ivrc.compiler.machine import DEFAULT_ERROR_TEXT
from ivrc.compiler.sandbox import MAX_OUTPUT, MAX_STRING, MAX_WORK, TooMuchWork
from ivrc.compiler.templates import environment
from ivrc.runtime.emulation.emulator import Call, HttpTransport

REPO = Path(__file__).resolve().parents[2]
KEY, SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
MEMORY_CEILING = 1024 ** 3  # bytes of address space for a lint process; the attacks asked for 4.9 GB
HEAD = 'ivrc: 1\nflow: bombs\nnumbers: ["+15550009999"]\nlocale: en-US\nstart: a\nstates:\n'


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CEILING, MEMORY_CEILING))


@pytest.mark.parametrize("condition", ["7 ** 1000000000 == 1", "'a' * (5 * 10**9) == 'b'",
                                       "(call.caller * 100000000)[:10] == 'x'", "'x'|center(10**9) == ''"])
def test_lint_refuses_a_constant_bomb_quickly_and_within_a_gigabyte(tmp_path: Path, condition: str) -> None:
    # `7 ** 1000000000` hung lint: Jinja's optimiser folded it while compiling the condition.
    flow = tmp_path / "bomb.yaml"
    flow.write_text(HEAD + f'  a:\n    branch: [{{if: "{condition}", goto: b}}, {{else: b}}]\n'
                           '  b: {say: "Goodbye.", hangup: true}\n')
    try:
        done = subprocess.run([sys.executable, "-m", "ivrc", "lint", str(flow)], cwd=REPO, capture_output=True,
                              text=True, timeout=60, preexec_fn=_limited)
    except subprocess.TimeoutExpired:
        pytest.fail("ivrc lint did not finish within 60 s")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error[IVR089]" in done.stdout and ":8:20:" in done.stdout


@pytest.mark.parametrize("source", [
    "{% for i in 'x' * 10**8 %}{% endfor %}",
    "{{ (caller * 100000000)[:10] }}",
    "{{ 7 ** 1000000000 }}",
    "{% for i in range(9000) %}{% for j in range(9000) %}{% endfor %}{% endfor %}",
    "{% macro twice(s, n) %}{% if n %}{{ twice(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}{% endmacro %}"
    "{{ twice('x', 40) }}",
    "{{ 'x'|center(10**9) }}", "{{ '%0999999999d' % 1 }}", "{{ '{:>999999999}'.format(1) }}",
    "{{ 'x'.ljust(10**9) }}", "{{ ('x' * 5000)|replace('x', 'y' * 5000) }}",
    "{% for i in range(20) %}{{ 'x' * 9000 }}{% endfor %}",
    "{{ ('\t' * 9000).expandtabs(9000) }}", "{{ ['x' * 9000] * 9000 }}",
    "{% set a = ['x' * 9000] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}{% set c = [b, b, b, b, b, b, b, b, b, b] %}"
    "{% set d = [c, c, c, c, c, c, c, c, c, c] %}{{ d }}",
    "{% set a = ['x' * 9000, 'y' * 9000] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}{{ 'z' ~ [b, b, b, b, b] }}",
])
def test_a_render_that_would_exceed_the_bounds_stops_early(source: str) -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(TooMuchWork):
            environment("tts").from_string(source).render(caller="+46700000001")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"{peak} bytes allocated before the bound stopped the render"


def test_everyday_templates_still_render() -> None:
    out = environment("tts").from_string(
        "{{ caller|upper }} {{ 2 ** 10 }} {{ 'ab' * 3 }} {{ [1, 2]|join(',') }} {% for i in range(3) %}{{ i }}{% endfor %}"
        " {{ '%05d' % 42 }} {{ '{:>4}'.format(7) }} {{ caller[1:] ~ '!' }} {{ (caller * 2)|length }} {{ 10 ** 30 }}"
    ).render(caller="+46700000001")
    assert out == "+46700000001 1024 ababab 1,2 012 00042    7 46700000001! 24 " + str(10 ** 30)
    assert environment().compile_expression("pin * 2 == '1212'")(pin="12") is True
    assert MAX_STRING == 10_000 and MAX_WORK == 100_000 and MAX_OUTPUT == 100_000  # the figures SECURITY.md quotes


FLOW = """\
ivrc: 1
flow: echo
numbers: ["+46812345686"]
start: greet
states:
  greet:
    say: "You are calling from {{ (call.caller * (call.custom|int))[:12] }}."
    hangup: true
"""


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_caller_chosen_repeat_count_takes_the_error_path_without_the_memory(tmp_path: Path) -> None:
    # `call.caller * 100000000` cost 1.2 GB per call; here `custom` (the caller's own SIP header) picks the count.
    (tmp_path / "echo.yaml").write_text(FLOW)
    server = ivrctest.start_serve(tmp_path, tmp_path / "echo.yaml")
    try:
        before = _peak_rss_kib(server.process.pid)
        transport = HttpTransport(server.callback, KEY, SECRET, timeout=60)
        normal = Call(transport, called="+46812345686", custom="1").start()
        assert normal.heard() == ["You are calling from +46700000001."]
        for _ in range(3):
            attack = Call(transport, called="+46812345686", custom="100000000").start()
            assert attack.heard() == [DEFAULT_ERROR_TEXT]
        grown = _peak_rss_kib(server.process.pid) - before
        assert grown < 100 * 1024, f"the server's peak memory grew by {grown} KiB"
    finally:
        server.stop()
    assert "longer than templates may build" in server.stderr.read_text() + server.stdout.read_text()
