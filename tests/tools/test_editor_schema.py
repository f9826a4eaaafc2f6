"""What an editor shows for the example flows, asked of the real yaml-language-server (npm) over LSP.

Every example must open with no diagnostics (the schema accepts what the linter accepts, such as
`1:` menu keys, which YAML reads as numbers), and hovering a key must show the schema's
description of it. The language server is installed by `make venv` into tests/tools/node_modules.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from ivrctest import EXAMPLES, REPO
from lspclient import LanguageServer

SERVER = REPO / "tests" / "tools" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
SCHEMA = json.loads((REPO / "schemas" / "flow.schema.json").read_text(encoding="utf-8"))
STATE_KEYS = SCHEMA["$defs"]["state"]["properties"]
TOP_KEYS = SCHEMA["properties"]
FLOWS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".test.yaml"))


@pytest.fixture(scope="module")
def server():
    node = shutil.which("node")
    assert node, "node is not installed: the editor tests need Node.js (see .ci/run)"
    assert SERVER.is_file(), "yaml-language-server is not installed: run `make venv` (npm ci in tests/tools)"
    language_server = LanguageServer([node, str(SERVER), "--stdio"], REPO,
                                     {"yaml": {"validate": True, "hover": True, "completion": True,
                                               "schemaStore": {"enable": False}}})
    yield language_server
    language_server.close()


def _plain(markdown: str) -> str:
    """Hover markdown as text: escapes dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"\\(.)", r"\1", markdown))


@pytest.mark.parametrize("flow", FLOWS, ids=lambda p: p.name)
def test_every_example_opens_without_diagnostics(flow: Path, server) -> None:
    diagnostics = server.diagnostics(server.open(flow))
    assert [(d["range"]["start"]["line"] + 1, d["message"]) for d in diagnostics] == []


def test_the_server_does_check_flows_against_the_schema(tmp_path: Path, server) -> None:
    """Zero diagnostics above means something: the same server flags a real mistake."""
    flow = tmp_path / "support.yaml"
    text = (EXAMPLES / "support.yaml").read_text(encoding="utf-8")
    text = text.replace("../schemas/flow.schema.json", (REPO / "schemas" / "flow.schema.json").as_uri())
    flow.write_text(text.replace("        1: billing", "        123456789: billing").replace("    say: {prompt: welcome}",
                                                                                        "    sey: {prompt: welcome}"))
    messages = [d["message"] for d in server.diagnostics(server.open(flow))]
    assert any("123456789" in m or "maximum" in m.lower() for m in messages), messages
    assert any("sey" in m for m in messages), messages


def test_bare_digit_keys_are_accepted_wherever_ivrc_accepts_them(tmp_path: Path, server) -> None:
    """A conference keypad's keys, like a menu's, may be written bare: the editor must agree with lint."""
    flow = tmp_path / "concierge.yaml"
    text = (EXAMPLES / "concierge.yaml").read_text(encoding="utf-8")
    text = text.replace("../schemas/flow.schema.json", (REPO / "schemas" / "flow.schema.json").as_uri())
    assert '          "#": leave\n' in text
    flow.write_text(text.replace('          "#": leave\n', '          "#": leave\n          5: leave\n', 1))
    assert [d["message"] for d in server.diagnostics(server.open(flow))] == []


@pytest.mark.parametrize("flow", FLOWS, ids=lambda p: p.name)
def test_hovering_a_key_shows_its_description_and_an_example(flow: Path, server) -> None:
    uri = server.open(flow)
    server.diagnostics(uri)  # the schema is loaded once the first diagnostics are out
    seen = set()
    for number, line in enumerate(flow.read_text(encoding="utf-8").splitlines()):
        match = re.match(r"^(?:    )?([a-z_$]+):", line)
        if not match:
            continue
        key = match[1]
        keys = STATE_KEYS if line.startswith("    ") else TOP_KEYS
        if key not in keys or (line.startswith("    ") and not _is_state_line(flow, number)):
            continue
        text = _plain(server.hover(uri, number, line.index(key) + 1))
        # The server shows the key's description, or that of the alternative the value matched
        # (`say: "Hello"` shows the one for plain text).
        assert any(_plain(d) in text for d in _descriptions(keys[key])), (
            f"{flow.name}:{number + 1}: hover on {key} shows {text!r}")
        assert "Example" in text, f"{flow.name}:{number + 1}: hover on {key} shows no example"
        seen.add(key)
    assert {"states", "start", "flow"} <= seen


def _descriptions(schema, depth: int = 0) -> list[str]:
    """A key's description and those of the alternatives its value may take."""
    if not isinstance(schema, dict) or depth > 6:
        return []
    found = [schema["description"]] if "description" in schema else []
    if "$ref" in schema:
        found += _descriptions(SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]], depth + 1)
    for option in schema.get("oneOf", []) + schema.get("anyOf", []) + [schema.get("items")]:
        found += _descriptions(option, depth + 1)
    return found


def _is_state_line(flow: Path, number: int) -> bool:
    """Whether a 4-space-indented line sits inside a state (under `states:`), not under another key."""
    lines = flow.read_text(encoding="utf-8").splitlines()[:number]
    top = next((ln for ln in reversed(lines) if re.match(r"^[a-z_]+:", ln)), "")
    return top.startswith("states:")


def test_the_examples_use_every_kind_of_state(server) -> None:
    """The hover test above covers each state kind because some example uses it."""
    used = {m[1] for flow in FLOWS for m in re.finditer(r"(?m)^    ([a-z_]+):", flow.read_text(encoding="utf-8"))}
    assert {"say", "next", "hangup", "menu", "collect", "record", "transfer", "park", "branch", "set"} <= used
