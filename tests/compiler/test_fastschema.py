"""The fast yes/no validator must agree with jsonschema on every flow, or lint would pass broken flows."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ivrc.compiler.fastschema import compile_validator, equal
from ivrc.compiler.loader import load_file
from ivrc.compiler.project import flow_files
from ivrc.compiler.schema import flow_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA = flow_schema()
FAST = compile_validator(SCHEMA)
SLOW = Draft202012Validator(SCHEMA)


def _documents() -> list[tuple[str, object]]:
    found = []
    for path in flow_files([str(REPO / "examples"), str(REPO / "tests" / "flows" / "broken")]):
        loaded = load_file(path)
        if loaded.document is not None:
            found.append((str(Path(path).relative_to(REPO)), loaded.document.data))
    return found


DOCUMENTS = _documents()


def agree(data: object) -> None:
    assert FAST(data) == SLOW.is_valid(data), f"fastschema and jsonschema disagree on {data!r:.300}"


@pytest.mark.parametrize("name,data", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_agrees_on_every_example_and_broken_flow(name: str, data: object) -> None:
    agree(data)


def test_the_corpus_has_both_valid_and_invalid_flows() -> None:
    verdicts = {FAST(data) for _, data in DOCUMENTS}
    assert verdicts == {True, False}


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 700), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["", "x", "+46812345670", "en-US", "#", "1", "09:00-17:00", "closed", "main",
                                     "welcome", "s3://b/", "https://a.example/x.mp3", "yes"]))


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, prefix + (i,))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_agrees_on_mutated_flows(data) -> None:
    name, original = data.draw(st.sampled_from(DOCUMENTS))
    mutated = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(mutated) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "wrap"]))
        if action == "replace":
            parent[path[-1]] = data.draw(SCALARS)
        elif action == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = [parent[path[-1]]]
    agree(mutated)


def test_json_equality_keeps_booleans_apart_from_numbers() -> None:
    assert equal(1, 1.0) and not equal(1, True) and not equal(0, False) and equal({"a": [1]}, {"a": [1.0]})


def test_an_unknown_keyword_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="patternProperties"):
        compile_validator({"type": "object", "patternProperties": {"^x": {"type": "string"}}})
