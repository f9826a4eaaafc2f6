"""Keeps schemas/flow.schema.json (the language's shape) and compiler/lower.py (its meaning) in step.

The schema is the single source of truth for what a flow may contain. These tests fail when a key
is added to the schema but never lowered (the compiler would silently ignore it), when lowering
reads a key the schema does not have (dead code, or a key the schema forgot), when the two disagree
about a default, and when a schema stops being valid or a $ref dangles.
"""
from __future__ import annotations

import ast
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from ivrc.compiler.hours import DAYS

REPO = Path(__file__).resolve().parents[2]
FLOW_SCHEMA = REPO / "schemas" / "flow.schema.json"
MACHINE_SCHEMA = REPO / "schemas" / "machine.schema.json"
LOWER = REPO / "compiler" / "lower.py"

# Properties the schema defines that lowering deliberately does not read, and why. A name that
# lowering starts to read must leave this table (test_ignored_properties_are_really_ignored).
IGNORED = {
    ("#", "$schema"): "an editor hint (yaml-language-server), not part of the flow",
    ("#", "ivrc"): "the language version; the schema pins it with const",
    ("#/$defs/state", "description"): "notes for people reading the flow",
    ("#/$defs/collect", "terminator"): "always '#': Sinch ends digit input on # and nothing else",
}

# Where lowering reads each object of the schema: the lower.py function that receives it. The object
# is the function's first parameter that is not a name or a path (see compiler/lower.py), so renaming
# a variable inside lower.py never breaks these tests.
READERS: dict[str, str] = {
    "#": "_flow",
    "#/properties/outbound": "_outbound",
    "#/properties/events": "_events",
    "#/properties/events/properties/secret": "_events_secret",
    "#/$defs/variable": "_variable",
    "#/$defs/menu": "_menu",
    "#/$defs/collect": "_collect",
    "#/$defs/transfer": "_transfer",
    "#/$defs/transfer/properties/streaming": "_streaming",
    "#/$defs/transfer/properties/keypad": "_keypad",
    "#/$defs/recordingOptions": "_recording",
    "#/$defs/recordingOptions/properties/transcribe/oneOf/1": "_transcription",
    "#/$defs/schedule": "_schedule",
    "#/$defs/state": "_state",
    "#/$defs/record": "_record",
    "#/$defs/park": "_park",
    "#/$defs/branchCase/oneOf/0": "_case",
    "#/$defs/branchCase/oneOf/1": "_case",
    "#/$defs/menuOption/oneOf/1": "_option",
    "#/$defs/retryHandler/oneOf/1": "_handler",
    "#/$defs/prompt/oneOf/2": "_prompt",
    "#/$defs/request": "_request",
    "#/$defs/repeat": "_repeat",
    "#/$defs/requestHeader/oneOf/1": "_header",
}


def received(tree: ast.FunctionDef) -> tuple[str, ...]:
    """The name a lowering function gives the object it receives: its first parameter that is not a str or a path."""
    for arg in tree.args.args:
        annotation = ast.unparse(arg.annotation) if arg.annotation is not None else ""
        if annotation not in ("str", "tuple"):
            return (arg.arg,)
    raise AssertionError(f"{tree.name}() receives no object")


# Helpers that read keys on a lowering function's behalf, with the same variable name.
HELPERS: dict[str, tuple[str, ...]] = {
    "_menu": ("_waiting_for_input",),
    "_collect": ("_waiting_for_input",),
}


def readers(name: str) -> list[ast.FunctionDef]:
    """The function that lowers an object, and the helpers it passes the object to."""
    return [function(name)] + [function(helper) for helper in HELPERS.get(name, ())]


@lru_cache(maxsize=None)
def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def lower_tree() -> ast.Module:
    return ast.parse(LOWER.read_text(encoding="utf-8"))


def objects(node: Any, pointer: str = "#") -> Iterator[tuple[str, dict]]:
    """Every schema object that lists properties, with its JSON pointer."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and (node.get("type") == "object" or pointer == "#"
                                                          or node.get("additionalProperties") is False):
            yield pointer, node
        for key, value in node.items():
            yield from objects(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from objects(value, f"{pointer}/{index}")


def at(schema: dict, pointer: str) -> Any:
    node: Any = schema
    for part in pointer.lstrip("#").strip("/").split("/") if pointer != "#" else []:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def string_literals(tree: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def function(name: str) -> ast.FunctionDef:
    for node in ast.walk(lower_tree()):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise AssertionError(f"lower.py has no function {name}()")


def keys_read(tree: ast.AST, names: tuple[str, ...] | None = None) -> Iterator[tuple[str, Any]]:
    """(key, default) for every `x["key"]`, `x.get("key"[, default])` and `"key" in x` on the given names.

    default is ast.Constant's value for .get with a constant default, else None.
    """
    def ours(node: ast.AST) -> bool:
        return names is None or (isinstance(node, ast.Name) and node.id in names)

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and ours(node.value) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            yield node.slice.value, None
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and ours(node.func.value) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            default = node.args[1] if len(node.args) > 1 else None
            yield node.args[0].value, default.value if isinstance(default, ast.Constant) else None
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str) and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
                and ours(node.comparators[0]):
            yield node.left.value, None


def literal_collections(tree: ast.AST) -> list[set[str]]:
    """Every tuple or set literal made only of strings, e.g. ("number", "sip", "user", "conference")."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.Set)) and len(node.elts) > 1 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            found.append({e.value for e in node.elts})
    return found


# ---------------------------------------------------------------------------------------------
# the schemas themselves

@pytest.mark.parametrize("path", [FLOW_SCHEMA, MACHINE_SCHEMA], ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12_with_an_id(path: Path) -> None:
    schema = load(path)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert re.fullmatch(r"https://ivrc\.dev/schemas/[a-z]+-1\.schema\.json", schema["$id"])
    assert schema.get("title") and schema.get("description")


def _refs(node: Any, pointer: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield pointer, node["$ref"]
        for key, value in node.items():
            yield from _refs(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{pointer}/{index}")


@pytest.mark.parametrize("path", [FLOW_SCHEMA, MACHINE_SCHEMA], ids=lambda p: p.name)
def test_every_ref_resolves(path: Path) -> None:
    schema = load(path)
    resource = Resource.from_contents(schema)
    resolver = Registry().with_resource(schema["$id"], resource).resolver(base_uri=schema["$id"])
    refs = list(_refs(schema))
    assert refs
    for where, ref in refs:
        assert ref.startswith("#/"), f"{where}: {ref} leaves the file"
        try:
            resolver.lookup(ref)
        except Unresolvable as err:
            pytest.fail(f"{where}: $ref {ref} does not resolve ({err})")


@pytest.mark.parametrize("path", [FLOW_SCHEMA, MACHINE_SCHEMA], ids=lambda p: p.name)
def test_every_definition_is_used(path: Path) -> None:
    schema = load(path)
    used = {ref.split("/")[2] for _, ref in _refs(schema) if ref.startswith("#/$defs/")}
    assert set(schema["$defs"]) - used == set()


# ---------------------------------------------------------------------------------------------
# schema -> lowering

def test_every_schema_property_is_a_string_in_lower_py() -> None:
    """The coarse check: a property name that lower.py never spells cannot be lowered."""
    literals = string_literals(lower_tree()) | set(DAYS)  # lowering walks the weekdays by the DAYS loop
    missing = []
    for pointer, node in objects(load(FLOW_SCHEMA)):
        for name in node["properties"]:
            if (pointer, name) not in IGNORED and name not in literals:
                missing.append(f"{pointer}: {name}")
    assert missing == [], "properties the schema has and lower.py never reads"


def test_every_schema_object_has_a_reader() -> None:
    """Each object with properties is mapped to the function that lowers it (or its properties are days)."""
    schema = load(FLOW_SCHEMA)
    unmapped = []
    for pointer, node in objects(schema):
        if pointer in READERS or (pointer, next(iter(node["properties"]))) in IGNORED:
            continue
        if pointer == "#/properties/on_error" or pointer.endswith("/weekly"):
            continue  # read through an expression, and by the DAYS loop; see the tests below
        if re.fullmatch(r"#/\$defs/promptPart/oneOf/\d", pointer):
            continue  # prompt parts are read as {kind: text}; see test_prompt_part_kinds_match
        unmapped.append(pointer)
    assert unmapped == [], "add these to READERS, naming the lower.py function that reads them"


def _read_by(pointer: str) -> set[str]:
    """The keys lowering reads from the object at pointer, in the function that lowers it."""
    name = READERS[pointer]
    read: set[str] = set()
    for tree in readers(name):
        variables = received(tree)
        read |= {key for key, _ in keys_read(tree, variables)}
        dynamic = any(isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in variables
                      and isinstance(n.slice, ast.Name) for n in ast.walk(tree))
        if dynamic:  # spec[kind] for kind in ("number", "sip", ...): the tuple's names are read too
            read |= set().union(*literal_collections(tree))
    return read


@pytest.mark.parametrize("pointer", sorted(READERS))
def test_each_object_is_read_exactly_where_it_is_lowered(pointer: str) -> None:
    """Forward and back: the keys one function reads from one object are that object's properties."""
    schema = load(FLOW_SCHEMA)
    properties = set(at(schema, pointer)["properties"])
    name = READERS[pointer]
    read = _read_by(pointer)
    if pointer == "#/$defs/state":
        action = function("_action")  # the action keys, read from the state by its helper
        read |= {key for key, _ in keys_read(action, received(action))}
    ignored = {key for (where, key) in IGNORED if where == pointer}
    allowed = properties
    if pointer.startswith("#/$defs/branchCase/oneOf/"):
        # Both forms of a case arrive in one variable; together they are what _action may read.
        allowed = set().union(*(alt["properties"] for alt in at(schema, "#/$defs/branchCase")["oneOf"]))
    assert read - allowed == set(), f"{name}() reads keys {pointer} does not define"
    assert properties - ignored - read == set(), f"{name}() never reads these keys of {pointer}"


def test_ignored_properties_are_really_ignored() -> None:
    for (pointer, name), why in IGNORED.items():
        if pointer in READERS:
            assert name not in _read_by(pointer), f"{pointer}: {name} is lowered now; remove it from IGNORED ({why})"
        assert name in at(load(FLOW_SCHEMA), pointer)["properties"], f"{pointer} has no {name} any more"


def test_on_error_say_and_goto_are_lowered() -> None:
    assert set(at(load(FLOW_SCHEMA), "#/properties/on_error")["properties"]) == {"say", "goto"}
    read = {key for key, _ in keys_read(function("_flow"))}
    assert {"on_error", "say", "goto"} <= read


def test_weekdays_match() -> None:
    weekly = at(load(FLOW_SCHEMA), "#/$defs/schedule/properties/weekly")
    assert tuple(weekly["properties"]) == DAYS


def test_prompt_part_kinds_match() -> None:
    """lower.py tells a per-locale mapping from a prompt part by the part kinds; they must be the schema's."""
    parts = at(load(FLOW_SCHEMA), "#/$defs/promptPart")["oneOf"]
    kinds = {next(iter(p["properties"])) for p in parts if p.get("type") == "object"}
    assert kinds in literal_collections(function("_prompt"))


def test_transfer_kinds_match() -> None:
    transfer = at(load(FLOW_SCHEMA), "#/$defs/transfer")
    kinds = {alt["required"][0] for alt in transfer["oneOf"]}
    assert kinds in literal_collections(function("_transfer"))


def test_state_actions_match() -> None:
    """Every action a state can have is lowered, and the schema translator's list of actions
    (compiler/schema.py) is the schema's, in the same order."""
    from ivrc.compiler.schema import STATE_ACTIONS

    state = at(load(FLOW_SCHEMA), "#/$defs/state")
    actions = [alt["required"][0] for alt in state["oneOf"]]
    assert tuple(actions) == STATE_ACTIONS
    assert set(actions) <= {key for key, _ in keys_read(function("_action"), ("spec",))}


# ---------------------------------------------------------------------------------------------
# defaults

def _stated_default(description: str) -> str | None:
    found = re.search(r"\(default ([^);:]+)\)|[Dd]efaults to ([^.;]+)", description)
    if not found:
        return None
    return (found.group(1) or found.group(2)).strip()


def _as_written(value: Any) -> str:
    if value is True or value is False:
        return str(value).lower()
    if value == "":
        return "the empty string"
    return str(value)


@pytest.mark.parametrize("pointer", sorted(READERS))
def test_defaults_in_lower_py_are_the_ones_the_schema_documents(pointer: str) -> None:
    node = at(load(FLOW_SCHEMA), pointer)
    name = READERS[pointer]
    for key, default in (pair for tree in readers(name) for pair in keys_read(tree, received(tree))):
        prop = node["properties"].get(key, {})
        stated = _stated_default(prop.get("description", ""))
        if default is None or stated is None:
            continue
        assert _as_written(default) == stated, f"{pointer}/{key}: lower.py uses {default!r}, the schema says {stated!r}"


def test_the_defaults_check_sees_the_documented_defaults() -> None:
    """Guards the test above against vacuity: the menu's three documented defaults are compared."""
    compared = [key for tree in readers("_menu") for key, default in keys_read(tree, ("spec",))
                if default is not None and _stated_default(at(load(FLOW_SCHEMA), "#/$defs/menu")["properties"]
                                                           .get(key, {}).get("description", ""))]
    assert sorted(compared) == ["attempts", "barge", "timeout"]
