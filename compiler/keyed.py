"""Which lengths of keyed input a digit pattern can match: letters and `#` are never keyed."""
from __future__ import annotations

try:
    from re import _constants as sre  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]  # re._parser has no stubs
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

# What a digit collection reports: the keys 0-9 and *. `#` ends the input and is never part of it
# (reference: runMenu ends on `#`), and the engine treats anything else as invalid input.
KEYED = "0123456789*"

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT}
if hasattr(sre, "POSSESSIVE_REPEAT"):
    _REPEATS.add(sre.POSSESSIVE_REPEAT)
_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}  # taken as always passing: only certain misses count
_CATEGORIES = {
    sre.CATEGORY_DIGIT: str.isdigit, sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_", sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    sre.CATEGORY_SPACE: str.isspace, sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
}


class _Unknown(Exception):
    """A construct (a back-reference, say) this reading does not follow: assume the pattern can match."""


def keyed_lengths(pattern: str, longest: int) -> set[int] | None:
    """The lengths up to `longest` of keyed input (0-9, *) the whole pattern can match.

    An over-estimate: anchors and look-arounds count as passing, so an empty answer is certain.
    None when the pattern uses something this reading does not follow, or does not compile.
    """
    try:
        tree = parser.parse(pattern)
        return _sequence(list(tree), longest)
    except Exception:  # _Unknown, re.error, RecursionError: any failure means "cannot tell"
        return None


def unkeyable(pattern: str) -> list[str]:
    """Characters the pattern requires literally that no caller can key, in order, once each."""
    found: list[str] = []
    try:
        items = list(parser.parse(pattern))
    except Exception:
        return found
    stack = items
    while stack:
        op, av = stack.pop(0)
        if op is sre.LITERAL and chr(av) not in KEYED and chr(av) not in found:
            found.append(chr(av))
        elif op is sre.SUBPATTERN:
            stack = list(av[-1]) + stack
        elif op in _REPEATS and av[0] >= 1:  # required at least once
            stack = list(av[2]) + stack
    return found


def _sequence(items: list, longest: int) -> set[int]:
    lengths = {0}
    for op, av in items:
        piece = _item(op, av, longest)
        lengths = {a + b for a in lengths for b in piece if a + b <= longest}
        if not lengths:
            break
    return lengths


def _item(op, av, longest: int) -> set[int]:
    if op is sre.LITERAL:
        return {1} if chr(av) in KEYED else set()
    if op is sre.NOT_LITERAL:
        return {1}
    if op is sre.ANY:
        return {1}
    if op is sre.IN:
        return {1} if any(_in_class(av, c) for c in KEYED) else set()
    if op is sre.BRANCH:
        return set().union(*(_sequence(list(branch), longest) for branch in av[1]))
    if op is sre.SUBPATTERN:
        return _sequence(list(av[-1]), longest)
    if hasattr(sre, "ATOMIC_GROUP") and op is sre.ATOMIC_GROUP:
        return _sequence(list(av), longest)
    if op in _REPEATS:
        low, high, body = av
        return _repeat(low, high, _sequence(list(body), longest), longest)
    if op in _ZERO_WIDTH:
        return {0}
    raise _Unknown(op)


def _repeat(low: int, high: int, piece: set[int], longest: int) -> set[int]:
    if 0 in piece:  # a piece that can be empty: more repeats never force more length
        low = min(low, longest + 1)
    elif low > longest:
        return set()
    found: set[int] = set()
    current = {0}
    count = 0
    while True:
        if count >= low:
            found |= current
        if count >= high or not current or (count > low and count > longest + 1):
            return found
        current = {a + b for a in current for b in piece if a + b <= longest}
        count += 1


def _in_class(items, char: str) -> bool:
    negate = False
    hit = False
    code = ord(char)
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            hit = hit or av == code
        elif op is sre.RANGE:
            hit = hit or av[0] <= code <= av[1]
        elif op is sre.CATEGORY:
            test = _CATEGORIES.get(av)
            if test is None:
                raise _Unknown(av)
            hit = hit or test(char)
        else:
            raise _Unknown(op)
    return hit != negate
