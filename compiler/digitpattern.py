"""Digit patterns (`collect: pattern:`) matched in time linear in the input, whatever the pattern.

Python's `re` backtracks: `([0-9]+)*[1-9]` against 28 zeros and a hash took 22 s, and a
caller chooses the digits. Here the pattern, parsed by Python's own regex parser (so the
syntax and the meaning stay Python's), becomes a Thompson automaton that is run over the
input once, following every path at the same time: at most (input length) x (automaton
size) steps. Features that need backtracking to mean anything (backreferences, lookaround,
atomic groups, possessive repeats) are refused at lint time, as is an automaton too large
to run quickly (repeat counts multiply its size).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

try:
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10 and older
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

MAX_STATES = 4000  # the automaton's size bound: 32 digits x 4,000 states stays well under a millisecond's work each

_CATEGORIES = {name: re.compile(rx) for name, rx in (
    (C.CATEGORY_DIGIT, r"\d"), (C.CATEGORY_NOT_DIGIT, r"\D"), (C.CATEGORY_SPACE, r"\s"),
    (C.CATEGORY_NOT_SPACE, r"\S"), (C.CATEGORY_WORD, r"\w"), (C.CATEGORY_NOT_WORD, r"\W"))}
_WORD = re.compile(r"\w")


class PatternError(ValueError):
    """The pattern cannot be matched in linear time; the message says why, for a diagnostic."""


# An automaton state: ("char", test, next), ("split", next1, next2), ("at", test, next) or ("match",).
# Edges are filled in after creation, so states are small mutable lists.
State = list


@dataclass(frozen=True)
class DigitPattern:
    """A compiled pattern; fullmatch() is the only question the engine asks."""

    source: str
    _start: int
    _states: tuple[tuple, ...]

    def fullmatch(self, text: str) -> bool:
        current = self._closure({self._start}, text, 0)
        for pos, char in enumerate(text):
            moved = {state[2] for i in current if (state := self._states[i])[0] == "char" and state[1](char)}
            if not moved:
                return False
            current = self._closure(moved, text, pos + 1)
        return any(self._states[i][0] == "match" for i in current)

    def _closure(self, states: set[int], text: str, pos: int) -> set[int]:
        """Every state reachable without reading a character, at this position of the text."""
        seen: set[int] = set()
        stack = list(states)
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            state = self._states[index]
            if state[0] == "split":
                stack += (state[1], state[2])
            elif state[0] == "at" and state[1](text, pos):
                stack.append(state[2])
        return seen


@lru_cache(maxsize=1024)
def compile_pattern(source: str) -> DigitPattern:
    """Compiles a pattern; raises re.error for bad syntax and PatternError for what cannot run in linear time."""
    tree = parser.parse(source)
    builder = _Builder()
    start, ends = builder.sequence(list(tree))
    match = builder.new("match")
    for end in ends:
        end[-1] = match
    return DigitPattern(source, start, builder.freeze())


class _Builder:
    """Thompson's construction: each piece becomes a fragment (its entry state, its dangling exits)."""

    def __init__(self) -> None:
        self.states: list[State] = []

    def new(self, kind: str, *fields) -> int:
        if len(self.states) >= MAX_STATES:
            raise PatternError(f"the pattern is too large to check quickly (over {MAX_STATES} steps; "
                               "large repeat counts multiply)")
        self.states.append([kind, *fields])
        return len(self.states) - 1

    def freeze(self) -> tuple[tuple, ...]:
        return tuple(tuple(state) for state in self.states)

    def sequence(self, items: list) -> tuple[int, list[_Exit]]:
        if not items:
            empty = self.new("split", None, None)  # an epsilon step: both exits go to what follows
            state = self.states[empty]
            return empty, [_Exit(state, 1, 2)]
        start, ends = self.piece(*items[0])
        for item in items[1:]:
            nxt, nxt_ends = self.piece(*item)
            for end in ends:
                end[-1] = nxt
            ends = nxt_ends
        return start, ends

    def piece(self, op, av) -> tuple[int, list]:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            index = self.new("char", _char_test(op, av), None)
            return index, [_Exit(self.states[index], 2)]
        if op is C.SUBPATTERN:
            return self.sequence(list(av[3]))
        if op is C.BRANCH:
            alternatives = [self.sequence(list(branch)) for branch in av[1]]
            start, ends = alternatives[0]
            for other_start, other_ends in alternatives[1:]:
                start = self.new("split", start, other_start)
                ends = ends + other_ends
            return start, ends
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):  # lazy or greedy: the same inputs match in full
            return self.repeat(*av)
        if op is C.AT:
            index = self.new("at", _position_test(av), None)
            return index, [_Exit(self.states[index], 2)]
        raise PatternError(_REFUSED.get(op, f"the pattern uses {op}, which ivrc cannot match in linear time"))

    def repeat(self, low: int, high, body: list) -> tuple[int, list]:
        items = list(body)
        pieces = [self.sequence(items) for _ in range(low)]
        if high is C.MAXREPEAT:
            loop_start, loop_ends = self.sequence(items)
            split = self.new("split", loop_start, None)
            for end in loop_ends:
                end[-1] = split
            pieces.append((split, [_Exit(self.states[split], 2)]))
        else:
            # Optional copies nest, so "a{0,3}" is (a(a(a)?)?)?: no choice reaches one copy twice.
            tail: tuple[int, list] | None = None
            for _ in range(high - low):
                start, ends = self.sequence(items)
                if tail is not None:
                    for end in ends:
                        end[-1] = tail[0]
                    ends = tail[1]
                split = self.new("split", start, None)
                tail = (split, ends + [_Exit(self.states[split], 2)])
            if tail is not None:
                pieces.append(tail)
        if not pieces:
            return self.sequence([])
        start, ends = pieces[0]
        for nxt, nxt_ends in pieces[1:]:
            for end in ends:
                end[-1] = nxt
            ends = nxt_ends
        return start, ends


class _Exit:
    """A dangling edge of a fragment: setting exit[-1] points it (and, for an epsilon step, both its edges)."""

    def __init__(self, state: State, *slots: int) -> None:
        self.state, self.slots = state, slots

    def __setitem__(self, key: int, value: int) -> None:
        for slot in self.slots:
            self.state[slot] = value


_REFUSED = {
    C.GROUPREF: "backreferences (\\1, (?P=name)) need backtracking; write the alternatives out instead",
    C.GROUPREF_EXISTS: "conditional groups (?(1)...) need backtracking",
    C.ASSERT: "lookahead and lookbehind (?=...), (?<=...) need backtracking",
    C.ASSERT_NOT: "negative lookahead and lookbehind (?!...), (?<!...) need backtracking",
}
for _name, _why in (("ATOMIC_GROUP", "atomic groups (?>...) need backtracking"),
                    ("POSSESSIVE_REPEAT", "possessive repeats (*+, ++, ?+) need backtracking")):
    if hasattr(C, _name):
        _REFUSED[getattr(C, _name)] = _why


def _char_test(op, av) -> Callable[[str], bool]:
    if op is C.LITERAL:
        literal = chr(av)
        return lambda ch: ch == literal
    if op is C.NOT_LITERAL:
        literal = chr(av)
        return lambda ch: ch != literal
    if op is C.ANY:
        return lambda ch: ch != "\n"
    negate = bool(av) and av[0][0] is C.NEGATE
    tests: list[Callable[..., bool]] = []  # each takes one character; the rest are bound defaults
    for item_op, item in av[1:] if negate else av:
        if item_op is C.LITERAL:
            tests.append(lambda ch, code=item: ord(ch) == code)
        elif item_op is C.RANGE:
            tests.append(lambda ch, lo=item[0], hi=item[1]: lo <= ord(ch) <= hi)
        elif item_op is C.CATEGORY and item in _CATEGORIES:
            tests.append(lambda ch, rx=_CATEGORIES[item]: rx.match(ch) is not None)
        else:
            raise PatternError(f"the character class uses {item_op} {item}, which ivrc does not support")
    if negate:
        return lambda ch: not any(test(ch) for test in tests)
    return lambda ch: any(test(ch) for test in tests)


def _position_test(at) -> Callable[[str, int], bool]:
    if at in (C.AT_BEGINNING, C.AT_BEGINNING_STRING, C.AT_BEGINNING_LINE):
        return lambda text, pos: pos == 0
    if at in (C.AT_END, C.AT_END_STRING, C.AT_END_LINE):
        return lambda text, pos: pos == len(text)
    if at in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
        def boundary(text: str, pos: int) -> bool:
            before = pos > 0 and _WORD.match(text[pos - 1]) is not None
            after = pos < len(text) and _WORD.match(text[pos]) is not None
            return before != after
        return boundary if at is C.AT_BOUNDARY else (lambda text, pos: not boundary(text, pos))
    raise PatternError(f"the anchor {at} is not supported")
