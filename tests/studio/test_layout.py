"""The studio's diagram layout: every state and transition drawn, no two boxes or labels on top of each other."""
from __future__ import annotations

import glob
import itertools

import pytest
from flows import big_flow

from ivrc.compiler import compile_file, compile_text
from ivrc.compiler.graph import edges as graph_edges
from ivrc.runtime.studio.layout import END, layout

EXAMPLES = sorted(f for f in glob.glob("examples/*.yaml") if not f.endswith(".test.yaml"))


def boxes(drawn: dict) -> list[tuple[str, float, float, float, float]]:
    out = [(f"node {n['id']}", n["x"], n["y"], n["w"], n["h"]) for n in drawn["nodes"]]
    out += [(f"label {e['label']!r} of {e['id']}", e["label_box"]["x"], e["label_box"]["y"], e["label_box"]["w"],
             e["label_box"]["h"]) for e in drawn["edges"] if "label_box" in e]
    return out


def overlapping(drawn: dict) -> list[tuple[str, str]]:
    found = []
    for (a, ax, ay, aw, ah), (b, bx, by, bw, bh) in itertools.combinations(boxes(drawn), 2):
        if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
            found.append((a, b))
    return found


@pytest.mark.parametrize("path", EXAMPLES)
def test_examples_have_every_state_and_no_overlaps(path: str) -> None:
    flow = compile_file(path).flow
    drawn = layout(flow)
    assert {n["id"] for n in drawn["nodes"]} >= {s.name for s in flow.states}
    assert overlapping(drawn) == []
    for n in drawn["nodes"]:
        assert 0 <= n["x"] and n["x"] + n["w"] <= drawn["width"] and n["y"] + n["h"] <= drawn["height"]


def test_multilingual_labels_say_what_happens() -> None:
    drawn = layout(compile_file("examples/multilingual.yaml").flow)
    labels = {(e["source"], e["label"]) for e in drawn["edges"]}
    assert ("language_menu", "key 2") in labels
    assert ("language_menu", "no input") in labels
    assert ("customer_service", "customer_service closed") in labels  # is_open() reads as open/closed


@pytest.mark.parametrize("path", EXAMPLES)
def test_transitions_run_from_source_to_target_or_to_a_label_naming_it(path: str) -> None:
    drawn = layout(compile_file(path).flow)
    nodes = {n["id"]: n for n in drawn["nodes"]}
    for edge in drawn["edges"]:
        (x0, y0), (x1, y1) = edge["points"][0], edge["points"][-1]
        source, target = nodes[edge["source"]], nodes[edge["target"]]
        assert source["x"] <= x0 <= source["x"] + source["w"] and y0 == pytest.approx(source["y"] + source["h"])
        if edge["stub"]:  # far away: the arrow ends at its label, which names the target
            box = edge["label_box"]
            assert (x1, y1) == (pytest.approx(box["x"] + box["w"] / 2), pytest.approx(box["y"]))
            assert edge["text"] == f"{edge['label']} → {target['id'] if target['kind'] != 'end' else 'error path'}"
            continue
        assert edge["text"] == edge["label"]
        assert target["x"] <= x1 <= target["x"] + target["w"]
        if not edge["back"]:
            assert y1 == pytest.approx(target["y"]) and y1 > y0  # forward transitions point down


def test_every_transition_is_drawn_with_its_graph_name() -> None:
    flow = compile_file("examples/account_pin.yaml").flow
    drawn = layout(flow)
    exits = {(e["source"], e["exit"], None if e["target"] == END else e["target"]) for e in drawn["edges"]}
    for state in flow.states:
        for edge in graph_edges(state):
            if edge.target is not None or state.kind in ("menu", "collect", "record"):
                assert (state.name, edge.label, edge.target) in exits


def test_two_hundred_states_lay_out_without_overlaps() -> None:
    result = compile_text(big_flow(200), "big.yaml")
    assert result.ok
    drawn = layout(result.flow)
    assert len([n for n in drawn["nodes"] if not n["id"].startswith("__")]) == 200
    assert overlapping(drawn) == []
    assert drawn["width"] < 2000  # a column of menus, not a wall: bends do not pile up in the rows
    stubs = {e["text"] for e in drawn["edges"] if e["stub"]}
    assert "key 0 → agent" in stubs and "exhausted → bye" in stubs  # the shared ends, named where they are left
