"""Diagrams that read well: one edge (with every label) between two states, one font, wrapped DOT labels."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from ivrctest import EXAMPLES

from ivrc.compiler import check_file
from ivrc.compiler.diagram import WRAP, dot, mermaid

FLOWS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".test.yaml"))


def _flow(path: Path):
    return check_file(str(path)).flow


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_two_states_are_joined_by_one_edge_at_most(path: Path) -> None:
    chart = re.findall(r"^  (s\d+) -->\|\"(.*)\"\| (\w+)$", mermaid(_flow(path)), re.M)
    pairs = [(source, target) for source, _, target in chart]
    assert pairs and len(pairs) == len(set(pairs))
    graph = re.findall(r'^  ("[^"]+") -> ("[^"]+") \[label=', dot(_flow(path)), re.M)
    assert len(graph) == len(set(graph))


def test_parallel_transitions_share_one_label() -> None:
    """The language menu goes to English on key 1, on silence and when attempts run out."""
    flow = _flow(EXAMPLES / "multilingual.yaml")
    assert re.search(r'^  s\d+ -->\|"key 1<br>no input<br>exhausted"\| s\d+$', mermaid(flow), re.M)
    assert '"language_menu" -> "english" [label="key 1\\nno input\\nexhausted"];' in dot(flow)


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_dot_uses_one_font_and_wraps_long_labels(path: Path) -> None:
    graph = dot(_flow(path))
    fonts = set(re.findall(r'fontname="([^"]+)"', graph))
    assert len(fonts) == 1
    for kind in ("graph", "node", "edge"):
        assert f'  {kind} [fontname="{next(iter(fonts))}"];' in graph
    for label in re.findall(r'label="((?:[^"\\]|\\.)*)"', graph):
        for line in label.split("\\n"):
            assert len(line) <= WRAP or " " not in line, f"{path.name}: label line {line!r} is not wrapped"


def test_the_error_path_leads_on_to_the_on_error_state() -> None:
    """order_status.yaml sends its error path (a failed request) on to the agent."""
    flow = _flow(EXAMPLES / "order_status.yaml")
    chart = mermaid(flow)
    agent = re.search(r'^  (s\d+)\[/"agent: ', chart, re.M)
    assert agent and f'  stop -.->|"on_error"| {agent.group(1)}' in chart.splitlines()
    assert '  "__end" -> "agent" [label="on_error", style=dashed];' in dot(flow).splitlines()


def test_mermaid_labels_show_markup_from_a_condition_as_written() -> None:
    from ivrc.compiler import check_text

    text = ('ivrc: 1\nflow: t\nnumbers: ["+46812349609"]\nvariables:\n  tier: {max_length: 20}\nstart: a\nstates:\n'
            '  a:\n    branch:\n      - if: tier == "<b>x</b>"\n        goto: b\n      - else: c\n'
            '  b: {say: "Bye.", hangup: true}\n  c: {say: "Hi.", hangup: true}\n')
    result = check_text(text)
    assert result.flow is not None
    chart = mermaid(result.flow)
    assert 'tier == #quot;#lt;b#gt;x#lt;/b#gt;#quot;' in chart and "<b>" not in chart
