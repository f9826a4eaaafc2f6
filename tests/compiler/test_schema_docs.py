"""The flow schema documents itself for editors: every key has a description and examples, and
every example is valid where it stands."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "flow.schema.json").read_text(encoding="utf-8"))


def _properties(node, path: str = "#") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}/properties/{name}", sub
        for key, value in node.items():
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f"{path}/{i}")


PROPERTIES = dict(_properties(SCHEMA))


def test_every_key_has_a_description_and_an_example() -> None:
    missing = [path for path, sub in PROPERTIES.items() if not sub.get("description") or not sub.get("examples")]
    assert missing == []


@pytest.mark.parametrize("path", sorted(PROPERTIES))
def test_each_example_is_valid_for_its_key(path: str) -> None:
    schema = dict(PROPERTIES[path], **{"$defs": SCHEMA["$defs"]})
    validator = Draft202012Validator(schema)
    for example in PROPERTIES[path]["examples"]:
        errors = [e.message for e in validator.iter_errors(example)]
        assert errors == [], f"{path}: example {example!r} is not valid: {errors}"


def test_menu_keys_may_be_numbers_as_yaml_reads_them() -> None:
    """`1: billing` is a number key in YAML; editors check it as a number, the linter as text."""
    menu = dict(SCHEMA["$defs"]["menu"], **{"$defs": SCHEMA["$defs"]})
    validator = Draft202012Validator(menu)
    names = validator.schema["properties"]["options"]["propertyNames"]
    key = Draft202012Validator(dict(names, **{"$defs": SCHEMA["$defs"]}))
    for good in (0, 1, 9, "1", "#", "*", 10, "12", "*9", 99999999):  # several keys: a menu that collects digits
        assert key.is_valid(good), good
    for bad in (-1, "a", "##", "1#", "123456789", 123456789):
        assert not key.is_valid(bad), bad
