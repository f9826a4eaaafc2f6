"""The reading of digit patterns agrees with Python's own matching on every short keyed input."""
from __future__ import annotations

import itertools
import re

import pytest

from ivrc.compiler.keyed import KEYED, keyed_lengths, unkeyable

LONGEST = 3  # 11 keys: every input up to 3 keys is 1,464 strings, checked one by one

PATTERNS = [
    "[0-9]{2}", "[1-9][0-9]?", r"\d*", r"\D", r"\w{2}", r"\W", "[^0-9]", "[^*]{3}", "1|23|456", "(?:12)+",
    "a?[0-9]", "[A-Z]", "#", "[0-9]#", r"\*\*", "[0-9]{0,2}3", "(?:1?)*2", r"^\d{2}$", r"(?=1)\d\d", "x*",
    "[a-z0-9]{2}", r"\s", r"\S\S", "(?:1|a)(?:2|b)", "[0-9]{4}|[0-9]{8}",
]


def brute_force(pattern: str) -> set[int]:
    compiled = re.compile(pattern)
    return {n for n in range(LONGEST + 1) for keys in itertools.product(KEYED, repeat=n)
            if compiled.fullmatch("".join(keys))}


@pytest.mark.parametrize("pattern", PATTERNS)
def test_keyed_lengths_are_what_python_matches(pattern: str) -> None:
    found = keyed_lengths(pattern, LONGEST)
    actual = brute_force(pattern)
    assert found is not None
    # Look-arounds are read as passing, so the reading may only over-estimate, never miss a length.
    assert actual <= found
    if "(?=" not in pattern:
        assert found == actual


def test_a_back_reference_is_not_guessed() -> None:
    assert keyed_lengths(r"(\d)\1", LONGEST) is None


def test_unkeyable_names_the_characters_a_caller_cannot_key() -> None:
    assert unkeyable("[0-9]{6}#") == ["#"]
    assert unkeyable("(?:AB)+[0-9]") == ["A", "B"]
    assert unkeyable("x?[0-9]") == []  # optional: not required
