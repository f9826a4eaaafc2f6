"""A Jinja2 sandbox in which prompts and conditions cannot do unbounded work: bounded numbers, strings, loops and output.

Jinja's own SandboxedEnvironment keeps templates away from Python's internals, but not from
the CPU or memory: `7 ** 1000000000` hung `ivrc lint` (the optimiser folds constants at
compile time), `'x' * 10**8` in a loop cost 420 MB per render and `call.caller * 100000000`
1.2 GB per call. Here every arithmetic operator is intercepted and checked *before* it runs,
constants are never folded, every loop iteration and call spends from a per-render work
budget, and a render's output is capped.
"""
from __future__ import annotations

import contextvars
import re
from typing import Any, Callable, Iterable, Iterator, TypeGuard

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_STRING = 10_000  # characters (or items) in any string or list a template builds; TTS parts are 600
MAX_INT_BITS = 256  # integers a template computes stay below 2**256 (78 digits)
MAX_WORK = 100_000  # loop iterations, calls and range items per render
MAX_OUTPUT = 100_000  # characters one render may produce


class TooMuchWork(SecurityError):
    """A template tried to exceed one of the bounds; the message says which, for the error path's log."""


_work: contextvars.ContextVar[list[int]] = contextvars.ContextVar("template_work")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_NUMBER = re.compile(r"\d+")


def spend(units: int = 1) -> None:
    left = _work.get(None)
    if left is None:  # outside a render (a constant checked at lint time): nothing to count against
        return
    left[0] -= units
    if left[0] < 0:
        raise TooMuchWork(f"the template did more than {MAX_WORK} steps (loop iterations and calls)")


def check_power(base: Any, exponent: Any) -> None:
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        if exponent * (abs(base).bit_length() - 1) > MAX_INT_BITS or exponent > MAX_INT_BITS:
            raise TooMuchWork(f"{base} ** {exponent} is larger than templates may compute (2**{MAX_INT_BITS})")


def check_product(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise TooMuchWork(f"a product of a {left.bit_length()}-bit and a {right.bit_length()}-bit number is larger "
                              f"than templates may compute (2**{MAX_INT_BITS})")
        return
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (list, tuple)) and _is_int(count) and text_size(seq, MAX_STRING) * max(count, 0) > MAX_STRING:
            raise TooMuchWork(f"repeating a list {count} times is longer than templates may build ({MAX_STRING})")
        if isinstance(seq, (str, list, tuple)) and _is_int(count) and len(seq) * max(count, 0) > MAX_STRING:
            raise TooMuchWork(f"repeating {len(seq)} characters {count} times is longer than templates may build "
                              f"({MAX_STRING})")


def check_percent_format(template: str) -> None:
    for spec in _PERCENT_SPEC.finditer(template):
        for number in spec.groups():
            if number == "*" or (number and int(number) > MAX_STRING):
                raise TooMuchWork(f"the format {spec.group(0)!r} pads wider than templates may build ({MAX_STRING})")


def check_size(value: Any) -> Any:
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_STRING:
        raise TooMuchWork(f"a value of {len(value)} characters is longer than templates may build ({MAX_STRING})")
    if _is_int(value) and value.bit_length() > MAX_INT_BITS:
        raise TooMuchWork(f"a {value.bit_length()}-bit number is larger than templates may compute (2**{MAX_INT_BITS})")
    return value


def text_size(value: Any, limit: int = MAX_OUTPUT) -> int:
    """About how many characters str(value) has, counted without building it; stops counting past the limit.

    Lists nest, and one list may appear in another many times, so a few small literals can
    stand for gigabytes of text: count instead of converting."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2
            stack.extend(item)
        elif isinstance(item, dict):
            total += 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif _is_int(item):
            total += item.bit_length() // 3 + 2
        else:
            total += 24  # a date, a float, None: short
    return total


def check_text(value: Any, limit: int = MAX_OUTPUT) -> Any:
    if not isinstance(value, (str, int)):
        size = text_size(value, limit)
        if size > limit:
            raise TooMuchWork(f"a value whose text is over {limit} characters is longer than templates may build")
    return value


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int)  # bool too: True * 'x' is 'x'


def _check_arguments(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    # Widths and counts (center(n), ljust(n), zfill(n), indent(width), truncate(n), '{:{}}'.format(x, n)):
    # none may ask for more than a template may build.
    for value in (*args, *kwargs.values()):
        if _is_int(value) and value > MAX_STRING:
            raise TooMuchWork(f"the argument {value} is larger than templates may build ({MAX_STRING})")


def _check_growth(name: str, value: Any, args: tuple, kwargs: dict[str, Any]) -> None:
    """Filters and string methods whose result can be much longer than their input, estimated before they run."""
    if not isinstance(value, str):
        return
    first = args[0] if args else None
    if name in ("replace",) and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        estimate = len(value) + (value.count(args[0]) if args[0] else len(value) + 1) * len(args[1])
    elif name == "expandtabs":
        estimate = len(value) + value.count("\t") * (first if _is_int(first) else 8)
    elif name == "indent":
        width = first if _is_int(first) else len(first) if isinstance(first, str) else 4
        estimate = len(value) + (value.count("\n") + 1) * width
    elif name == "wordwrap":
        wrap = kwargs.get("wrapstring", args[2] if len(args) > 2 else "\n") or "\n"
        width = max(first if _is_int(first) else 79, 1)
        estimate = len(value) + (len(value) // width + 1) * len(str(wrap))
    elif name in ("format", "format_map"):
        if any(int(n) > MAX_STRING for n in _FORMAT_NUMBER.findall(value)):
            raise TooMuchWork(f"the format {value[:40]!r} pads wider than templates may build ({MAX_STRING})")
        return
    elif name == "translate":
        estimate = len(value) * MAX_STRING if isinstance(first, dict) else len(value)
    else:
        return
    if estimate > MAX_STRING:
        raise TooMuchWork(f"{name}() would build about {estimate} characters; templates may build {MAX_STRING}")


def _check_join(items: list, separator: str) -> None:
    total = sum(len(item) if isinstance(item, str) else 20 for item in items) + len(separator) * len(items)
    if total > MAX_STRING:
        raise TooMuchWork(f"joining would build {total} characters; templates may build {MAX_STRING}")


def _bounded_filter(name: str, function: Callable) -> Callable:
    passes_first = hasattr(function, "jinja_pass_arg")

    def run(*args: Any, **kwargs: Any) -> Any:
        spend()
        # A filter that asks for the context, eval context or environment gets it first; the value comes next.
        values = args[1:] if passes_first else args
        value, rest = (values[0], tuple(values[1:])) if values else (None, ())
        _check_arguments(rest, kwargs)
        for given in values:  # |string, |join, |tojson, |format turn what they get into text
            check_text(given)
        if name == "join" and value is not None and not isinstance(value, str):
            items = list(value)
            spend(len(items))
            _check_join(items, rest[0] if rest and isinstance(rest[0], str) else kwargs.get("d", ""))
            args = tuple(items if a is value else a for a in args)
        elif name == "format" and isinstance(value, str):
            check_percent_format(value)
        else:
            _check_growth(name, value, rest, kwargs)
        return check_size(function(*args, **kwargs))

    # Keep what Jinja reads off a filter (jinja_pass_arg: whether it wants the context first).
    if passes_first:
        run.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return run


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    spend(len(numbers))
    return numbers


class BoundedTemplate(Template):
    """Each render starts a fresh work budget and stops when its output passes MAX_OUTPUT."""

    # Set by BoundedEnvironment.from_string for a template of text and bare names only.
    _pieces: tuple[tuple[bool, str], ...] | None = None

    def new_context(self, *args: Any, **kwargs: Any):
        # Every way of running a template (render, generate, a compiled expression) starts here.
        _work.set([MAX_WORK])
        return super().new_context(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> str:
        values = dict(*args, **kwargs)
        if self._pieces is not None:
            text = self._render_pieces(values)
            if text is not None:
                return text
        context = self.new_context(values)
        out, size = [], 0
        try:
            for chunk in self.root_render_func(context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TooMuchWork(f"the template produced more than {MAX_OUTPUT} characters")
                out.append(chunk)
        except Exception:
            self.environment.handle_exception()
        return "".join(out)


    def _render_pieces(self, values: dict[str, Any]) -> str | None:
        """What Jinja's code for "text {{ name }} text" writes, without making a Jinja context for it
        (a prompt such as "It is {{ status }}." took 6 us to render, most of it the context).
        None when Jinja must render it after all: a name not given, a value finalize refuses, too
        much output; Jinja then writes the same text or raises the same error."""
        finalize = self.environment.finalize
        if finalize is None:  # BoundedEnvironment always sets one
            return None
        out = []
        try:
            for is_name, text in self._pieces or ():
                if is_name:
                    value = values.get(text, _NOT_GIVEN)
                    if value is _NOT_GIVEN:
                        return None
                    text = str(finalize(value))  # as Jinja's code writes each {{ name }}
                out.append(text)
        except Exception:
            return None
        text = "".join(out)
        return text if len(text) <= MAX_OUTPUT else None


_NOT_GIVEN = object()


def _text_and_names(tree: nodes.Template) -> tuple[tuple[bool, str], ...] | None:
    """A template's parts when it is only text and bare names: (is a name, the text or the name)."""
    if not tree.body:
        return ()
    if len(tree.body) != 1 or type(tree.body[0]) is not nodes.Output:
        return None
    pieces: list[tuple[bool, str]] = []
    for node in tree.body[0].nodes:
        if type(node) is nodes.TemplateData:
            pieces.append((False, node.data))
        elif type(node) is nodes.Name and node.ctx == "load" and node.name != "self":
            pieces.append((True, node.name))  # `self` is Jinja's own (the template), never a value given
        else:
            return None
    return tuple(pieces)


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles `~` joins and `for` loops through the environment, so both are counted and bounded."""

    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        # Our environments never autoescape, so Jinja's str_join is what this replaces.
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame) -> None:
        if not getattr(node, "_ivrc_counted", False):
            node.iter = nodes.Call(nodes.EnvironmentAttribute("counted"), [node.iter], [], None, None,
                                   lineno=node.iter.lineno)
            node._ivrc_counted = True  # type: ignore[attr-defined]
        super().visit_For(node, frame)


class BoundedEnvironment(SandboxedEnvironment):
    """SandboxedEnvironment plus the bounds above; see the module docstring."""

    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])
    code_generator_class = _BoundedCodeGenerator
    template_class = BoundedTemplate

    def __init__(self, **kwargs: Any) -> None:
        # optimized=False: Jinja folds constant expressions (and filter calls on constants) while
        # compiling, which is where `7 ** 1000000000` hung lint. Nothing is computed before a render.
        # Every {{ value }} passes finalize on its way out: lists are measured before str() builds them.
        given = kwargs.pop("finalize", None)
        kwargs["finalize"] = (lambda value: given(check_text(value))) if given else check_text
        super().__init__(optimized=False, **kwargs)
        self.globals["range"] = bounded_range
        for unbounded in ("lipsum", "cycler", "joiner", "namespace"):
            self.globals.pop(unbounded, None)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
        template = super().from_string(source, globals, template_class)
        if isinstance(template, BoundedTemplate) and isinstance(source, str):
            template._pieces = _text_and_names(self.parse(source))
        return template

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            check_power(left, right)
        elif operator == "*":
            check_product(left, right)
        elif operator == "%" and isinstance(left, str):
            check_percent_format(left)
            check_text(right)
        return check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        spend()
        _check_arguments(args, kwargs)
        for given in (*args, *kwargs.values()):
            check_text(given)
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name == "join" and args:
                items = list(args[0])
                spend(len(items))
                _check_join(items, owner)
                args = (items, *args[1:])
            else:
                _check_growth(name, owner, args, kwargs)
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any):
        # 'text'.format reaches templates through this wrapper, not through call(): check its widths here.
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_growth("format", value.__self__, (), {})
        return wrapped

    def counted(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            spend()
            yield item

    def bounded_concat(self, parts: tuple) -> str:
        for part in parts:
            check_text(part, MAX_STRING)
        return check_size("".join(map(str, parts)))
