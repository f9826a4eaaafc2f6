"""Lays a flow out as a layered diagram: states in rows, every transition label in a slot of its own.

A small Sugiyama-style layout, written for flows rather than general graphs: states are ranked
by the longest path from the start (so forward transitions point down), each transition gets a
label slot in the row just below its source and a bend point in every row it crosses, rows are
ordered by barycentre sweeps to cut crossings, and x positions keep every box in a row apart.
Because labels are laid out as boxes in their own rows, no two labels can overlap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivrc.compiler import diagram, ir

END = "__end"  # the error-path node, drawn when a menu can run out of attempts
START = "__start"

# Sizes in CSS pixels; the page draws with the same font sizes (studio.css).
NODE_H, LABEL_H, DUMMY_W = 38, 20, 8
NODE_CHAR_W, DETAIL_CHAR_W, LABEL_CHAR_W = 7.4, 6.6, 6.6
GAP_X, NODE_ROW_GAP, LABEL_ROW_GAP, MARGIN = 22, 16, 10, 24
SWEEPS = 12
MAX_BENT_ROWS = 6  # rows a drawn transition may cross (three ranks of states); longer ones end at their label


@dataclass
class _Box:
    id: str
    row: int
    w: float
    h: float
    kind: str  # a state's kind, "start", "end", "label" or "bend"
    x: float = 0.0
    neighbours: list[str] = field(default_factory=list)


def _caption(state: ir.State) -> tuple[str, str]:
    """Two lines for a state's box: its name, and what it does ("transfer to number +4681...")."""
    name, _, detail = diagram.describe(state).partition(": ")
    return name, detail


def _kind(state: ir.State) -> str:
    """Kinds in the author's words: a plain step that only speaks is a "say" state."""
    return "say" if state.kind == "next" else state.kind


def _ranks(flow: ir.Flow, targets: dict[str, list[str]]) -> tuple[dict[str, int], set[tuple[str, int]]]:
    """Longest-path rank of every state, after turning back the edges that close a cycle."""
    order = [flow.start.target] if flow.start.target in flow.state_map else []
    order += [s.name for s in flow.states if s.name not in order]
    colour: dict[str, int] = {}
    back: set[tuple[str, int]] = set()
    topo: list[str] = []
    for root in order:  # iterative DFS: a 200-state chain must not hit the recursion limit
        if root in colour:
            continue
        colour[root] = 1
        stack = [(root, 0)]
        while stack:
            name, i = stack.pop()
            outs = targets[name]
            if i < len(outs):
                stack.append((name, i + 1))
                target = outs[i]
                if colour.get(target) == 1:
                    back.add((name, i))
                elif target not in colour:
                    colour[target] = 1
                    stack.append((target, 0))
            else:
                colour[name] = 2
                topo.append(name)
    rank = {name: 0 for name in order}
    for name in reversed(topo):
        for i, target in enumerate(targets[name]):
            if (name, i) not in back:
                rank[target] = max(rank[target], rank[name] + 1)
    return rank, back


def layout(flow: ir.Flow) -> dict[str, Any]:
    """Positions for every state, transition and label of a flow, as JSON for the page."""
    drawn = [(state.name, edge.target, label, edge.label) for state, edge, label in diagram.labelled_edges(flow)
             if edge.target is None or edge.target in flow.state_map]
    targets: dict[str, list[str]] = {s.name: [] for s in flow.states}
    for source, target, _, _ in drawn:
        if target is not None:
            targets[source].append(target)
    rank, back_pairs = _ranks(flow, targets)
    uses_end = any(target is None for _, target, _, _ in drawn)
    boxes: dict[str, _Box] = {}
    for state in flow.states:
        name, detail = _caption(state)
        width = max(len(name) * NODE_CHAR_W, len(detail) * DETAIL_CHAR_W) + 24
        boxes[state.name] = _Box(state.name, 2 * rank[state.name] + 2, width, NODE_H, _kind(state))
    bottom = max((b.row for b in boxes.values()), default=2)
    boxes[START] = _Box(START, 0, 56, 26, "start")
    if uses_end:
        boxes[END] = _Box(END, bottom + 2, 90, 30, "end")

    def link(a: str, b: str) -> None:
        boxes[a].neighbours.append(b)
        boxes[b].neighbours.append(a)

    if flow.start.target in boxes:
        link(START, flow.start.target)
    edges = []
    seen_out: dict[str, int] = {}
    for n, (source, target, label, exit_) in enumerate(drawn):
        i = seen_out.get(source, 0)
        if target is not None:
            seen_out[source] = i + 1
        goal = END if target is None else target
        is_back = target is not None and ((source, i) in back_pairs or target == source)
        start_row, goal_row = boxes[source].row, boxes[goal].row
        # A transition to a far-away state (a shared goodbye, the top menu) ends at its label, which
        # names the target, like a "go to": drawn in full, such lines would cross the whole flow.
        # Bends keep the other forward transitions clear of the boxes they pass.
        stub = abs(goal_row - start_row) > MAX_BENT_ROWS
        text = f"{label} → {'error path' if goal == END else goal}" if stub else label
        label_id = f"label:{n}"
        boxes[label_id] = _Box(label_id, start_row + 1, len(text) * LABEL_CHAR_W + 12, LABEL_H, "label")
        chain = [source, label_id]
        if not stub:
            if not is_back:
                for row in range(start_row + 2, goal_row):
                    bend = f"bend:{n}:{row}"
                    boxes[bend] = _Box(bend, row, DUMMY_W, 1, "bend")
                    chain.append(bend)
            chain.append(goal)
        for a, b in zip(chain, chain[1:]):
            link(a, b)
        # `exit` is the transition's name in compiler.graph (and so in coverage): "key 1", "if is_open(...)".
        edges.append({"id": f"e{n}", "source": source, "target": goal, "label": label, "text": text, "exit": exit_,
                      "back": is_back, "stub": stub, "chain": chain})
    rows = _order(boxes)
    _place(boxes, rows)
    return _result(flow, boxes, rows, edges)


def _order(boxes: dict[str, _Box]) -> list[list[str]]:
    """Rows of box ids, ordered by barycentre sweeps (down, then up) to reduce crossings."""
    count = max(b.row for b in boxes.values()) + 1
    rows: list[list[str]] = [[] for _ in range(count)]
    for box in boxes.values():  # insertion order: states as written, then labels and bends
        rows[box.row].append(box.id)
    index = {bid: i for row in rows for i, bid in enumerate(row)}
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        sequence = range(1, count) if down else range(count - 2, -1, -1)
        for r in sequence:
            near = r - 1 if down else r + 1

            def weight(bid: str, near: int = near) -> float:
                found = [index[n] for n in boxes[bid].neighbours if boxes[n].row == near]
                return sum(found) / len(found) if found else index[bid]

            rows[r].sort(key=lambda bid: (weight(bid), index[bid]))
            index.update({bid: i for i, bid in enumerate(rows[r])})
    return rows


def _place(boxes: dict[str, _Box], rows: list[list[str]]) -> None:
    """x positions: pulled towards neighbours, pushed apart so boxes in a row never touch."""
    for row in rows:
        x = 0.0
        for bid in row:
            box = boxes[bid]
            box.x = x + box.w / 2
            x += box.w + GAP_X
    for _ in range(SWEEPS):
        for row in rows:
            wanted = []
            for bid in row:
                box = boxes[bid]
                xs = [boxes[n].x for n in box.neighbours]
                wanted.append(sum(xs) / len(xs) if xs else box.x)
            _pack(boxes, row, wanted)
    left = min(b.x - b.w / 2 for b in boxes.values())
    for box in boxes.values():
        box.x += MARGIN - left


def _pack(boxes: dict[str, _Box], row: list[str], wanted: list[float]) -> None:
    """Keep the row's order and spacing; sit as close to the wanted x positions as that allows."""
    xs = list(wanted)
    for i in range(1, len(row)):
        low = xs[i - 1] + boxes[row[i - 1]].w / 2 + GAP_X + boxes[row[i]].w / 2
        xs[i] = max(xs[i], low)
    # Everything was only pushed right; shift the row back by its mean overshoot to stay centred.
    shift = sum(x - w for x, w in zip(xs, wanted)) / len(xs) if xs else 0.0
    for i, bid in enumerate(row):
        boxes[bid].x = xs[i] - shift


def _result(flow: ir.Flow, boxes: dict[str, _Box], rows: list[list[str]], edges: list[dict]) -> dict[str, Any]:
    y: float = MARGIN
    top: dict[int, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        height = max((boxes[b].h for b in row), default=0)
        top[r] = (y, height)
        y += height + (LABEL_ROW_GAP if r % 2 else NODE_ROW_GAP)

    def centre(bid: str) -> tuple[float, float]:
        box = boxes[bid]
        row_y, height = top[box.row]
        return box.x, row_y + height / 2

    nodes = []
    for state in flow.states:
        box = boxes[state.name]
        cx, cy = centre(state.name)
        name, detail = _caption(state)
        nodes.append({"id": state.name, "kind": box.kind, "caption": name, "detail": detail,
                      "x": round(cx - box.w / 2, 1), "y": round(cy - box.h / 2, 1), "w": round(box.w, 1), "h": box.h})
    for special, caption in ((START, "start"), (END, "error path")):
        if special in boxes:
            box = boxes[special]
            cx, cy = centre(special)
            nodes.append({"id": special, "kind": box.kind, "caption": caption, "x": round(cx - box.w / 2, 1),
                          "y": round(cy - box.h / 2, 1), "w": box.w, "h": box.h})
    out_edges = []
    start = boxes.get(flow.start.target)
    if start is not None:
        (sx, sy), (tx, ty) = centre(START), centre(start.id)
        out_edges.append({"id": "start", "source": START, "target": start.id, "label": "", "text": "", "exit": "start",
                          "back": False, "stub": False, "points": [[round(sx, 1), round(sy + boxes[START].h / 2, 1)],
                                     [round(tx, 1), round(ty - start.h / 2, 1)]]})
    for edge in edges:
        chain = edge.pop("chain")
        points = []
        sx, sy = centre(chain[0])
        points.append([sx, sy + boxes[chain[0]].h / 2])
        label = boxes[chain[1]]
        lx, ly = centre(label.id)
        if edge["stub"]:
            points.append([lx, ly - label.h / 2])  # the arrow ends at the label that names the target
        else:
            for bid in chain[1:-1]:
                points.append(list(centre(bid)))
            goal = boxes[chain[-1]]
            gx, gy = centre(goal.id)
            # A transition back up enters its target from below, beside the target's own exits.
            points.append([gx + goal.w / 4, gy + goal.h / 2] if edge["back"] else [gx, gy - goal.h / 2])
        edge["points"] = [[round(px, 1), round(py, 1)] for px, py in points]
        edge["label_box"] = {"x": round(lx - label.w / 2, 1), "y": round(ly - label.h / 2, 1),
                             "w": round(label.w, 1), "h": label.h}
        out_edges.append(edge)
    width = max(b.x + b.w / 2 for b in boxes.values()) + MARGIN
    return {"flow": flow.id, "nodes": nodes, "edges": out_edges, "width": round(width, 1), "height": round(y, 1)}
