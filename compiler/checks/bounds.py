"""Templates that would exceed the sandbox's bounds: found from their constants before any call runs them."""
from __future__ import annotations

import operator
from typing import Any, Callable, Iterator, cast

from jinja2 import TemplateSyntaxError, nodes

from .. import ir, walk
from ..diagnostics import Diagnostic
from ..loader import Document
from ..sandbox import MAX_INT_BITS, MAX_STRING, TooMuchWork, check_power, check_product, check_size
from ..templates import condition_source, parse

_FOLDABLE: dict[type[nodes.Expr], Callable[[Any, Any], Any]] = {nodes.Add: operator.add, nodes.Sub: operator.sub, nodes.Mul: operator.mul, nodes.Pow: operator.pow,
                                                                 nodes.FloorDiv: operator.floordiv, nodes.Mod: operator.mod}


class _Unknown(Exception):
    """The value depends on the call."""


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for kind, text in walk.texts(flow):
        if kind not in ("tts", "ssml", "condition", "value") or (kind != "condition" and not text.is_template):
            continue
        try:
            tree = parse(condition_source(text.source) if kind == "condition" else text.source)
            problems = list(_problems(tree))
        except (TemplateSyntaxError, RecursionError):
            continue  # IVR080 says so (a syntax error, or nested too deeply to walk)
        for lineno, problem in problems:
            yield Diagnostic("IVR089", f"this {'condition' if kind == 'condition' else 'template'} would exceed "
                                       f"the template bounds: {problem}", doc.locate(text.path, lineno),
                             help=f"templates may build at most {MAX_STRING:,} characters and numbers below "
                                  f"2**{MAX_INT_BITS}; a call would take the error path")


def _problems(tree: nodes.Template) -> Iterator[tuple[int, str]]:
    # Names the template assigns itself ({% set %}, loop variables) may be numbers; everything
    # else a template names (variables, call fields, locale) is text.
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    seen: set[tuple[int, str]] = set()
    for node in tree.find_all((nodes.BinExpr, nodes.Call, nodes.Filter)):
        try:
            if isinstance(node, nodes.BinExpr):
                _binary(node, assigned)
            else:
                call = cast("nodes.Call | nodes.Filter", node)  # find_all yields only the three kinds asked for
                for arg in [*call.args, *(kw.value for kw in call.kwargs)]:
                    _argument(arg)
        except TooMuchWork as err:
            if (node.lineno, str(err)) not in seen:  # an operator inside another repeats the same cause
                seen.add((node.lineno, str(err)))
                yield node.lineno, str(err)


def _binary(node: nodes.BinExpr, assigned: set[str]) -> None:
    left, right = _value(node.left), _value(node.right)
    if left is not _UNKNOWN and right is not _UNKNOWN:
        try:
            _fold(node, left, right)
        except _Unknown:  # 1 / 0: it fails on the call, which IVR083 reports; no bound to check here
            pass
        return
    # text * N: any text at all, repeated more than MAX_STRING times, is too long
    if isinstance(node, nodes.Mul):
        for text, count in ((node.left, right), (node.right, left)):
            if isinstance(count, int) and count > MAX_STRING and _is_text(text, assigned):
                raise TooMuchWork(f"repeating text {count} times is longer than templates may build ({MAX_STRING})")
    if isinstance(node, nodes.Pow) and isinstance(right, int) and right > MAX_INT_BITS:
        raise TooMuchWork(f"a number to the power {right} is larger than templates may compute (2**{MAX_INT_BITS})")


def _argument(node: nodes.Expr) -> None:
    value = _value(node)
    if isinstance(value, int) and value > MAX_STRING:
        raise TooMuchWork(f"the argument {value} is larger than templates may build ({MAX_STRING})")


_UNKNOWN = object()


def _value(node: nodes.Expr) -> Any:
    """The node's value when it is built from constants only (checked as the sandbox would), else _UNKNOWN."""
    try:
        return _const(node)
    except _Unknown:
        return _UNKNOWN


def _const(node: nodes.Expr) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg):
        return -_const(node.node)
    if isinstance(node, nodes.Pos):
        return +_const(node.node)
    fold = _FOLDABLE.get(type(node))
    if fold is not None:
        binary = cast(nodes.BinExpr, node)  # only binary operators are foldable
        return _fold(binary, _const(binary.left), _const(binary.right))
    raise _Unknown


def _fold(node: nodes.BinExpr, left: Any, right: Any) -> Any:
    if isinstance(node, nodes.Pow):
        check_power(left, right)
    elif isinstance(node, nodes.Mul):
        check_product(left, right)
    fold = _FOLDABLE.get(type(node))
    if fold is None:
        raise _Unknown
    try:
        return check_size(fold(left, right))
    except TooMuchWork:
        raise
    except Exception:  # 1/0, 'a' - 1: a run-time error, not a bound (reported elsewhere, or at the call)
        raise _Unknown from None


def _is_text(node: nodes.Expr, assigned: set[str]) -> bool:
    if isinstance(node, nodes.Const):
        return isinstance(node.value, str)
    if isinstance(node, nodes.Name):
        return node.name not in assigned and node.name not in ("now", "is_open")
    if isinstance(node, nodes.Getattr):
        return isinstance(node.node, nodes.Name) and node.node.name == "call"
    if isinstance(node, (nodes.Concat, nodes.Slice)):
        return True
    return False
