"""Strict YAML loading: one document, YAML 1.2 scalars, no duplicate keys, every value's position kept."""
from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from . import yamltraps
from .diagnostics import Diagnostic, Related, Span
from .errors import PathError
from .positions import value_offsets

MAX_BYTES = 1024 * 1024  # real flows are a few kB; this bounds time and memory
MAX_NODES = 200_000  # bounds alias expansion ("billion laughs") and deep documents
MAX_DEPTH = 64
MAX_DIAGNOSTICS = 1000  # per file: one mistake repeated a million times must not cost a million findings
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LONE_CR = re.compile(r"\r(?!\n)")
_SURROGATE = re.compile("[\ud800-\udfff]")

Path = tuple  # a path of mapping keys (str) and list indexes (int) from the document root

try:  # libyaml's parser is much faster; PyYAML wheels ship it
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover
    _Parser = None


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema: `yes`, `no`, `on`, `off` stay strings, unlike PyYAML's YAML 1.1 default."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
# `<<` must resolve to the merge tag, or _Builder never sees a merge key and `<<` becomes an unknown key.
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

if _Parser is not None:
    class _Loader(_Parser, _Resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            _Parser.__init__(self, stream)
            _Resolver.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,  # type: ignore[no-redef]
                  yaml.composer.Composer, _Resolver):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge",
}


@dataclass(frozen=True)
class Scalar:
    """Where a scalar's text sits in the file, to place findings inside multi-line strings."""

    start: int  # character offset of the node in the file text
    end: int
    line: int  # 0-based line of the node's first character
    column: int
    style: str | None  # None plain, "'" or '"' quoted, "|" literal, ">" folded


@dataclass
class Document:
    """A loaded flow file: plain data plus the position of every key and value."""

    file: str
    text: str
    data: Any = None
    value_spans: dict[Path, Span] = field(default_factory=dict)
    key_spans: dict[Path, Span] = field(default_factory=dict)
    scalars: dict[Path, Scalar] = field(default_factory=dict)

    def span(self, path: Path, *, key: bool = False) -> Span:
        """The span of the value (or key) at path, or of its nearest enclosing node."""
        path = tuple(path)
        while True:
            if key and path in self.key_spans:
                return self.key_spans[path]
            if path in self.value_spans:
                return self.value_spans[path]
            if not path:
                return Span(self.file, 1, 1)
            path = path[:-1]
            key = False

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset in the file text."""
        import bisect

        starts = self.__dict__.get("_line_starts")
        if starts is None:
            # YAML breaks lines at CR LF, a lone CR and LF alike; count them the same way.
            starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
            self.__dict__["_line_starts"] = starts
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def locate(self, path: Path, line: int = 1, needle: str | None = None, column: int | None = None) -> Span:
        """Where, inside the scalar at path, the template's `line` (1-based) and `needle` (or `column`) are.

        Quoted, plain and folded scalars map each character of their value back to the file
        (positions.py); literal block scalars keep their lines, so a template line maps to a file line.
        """
        scalar = self.scalars.get(tuple(path))
        if scalar is None:
            return self.span(path)
        exact = self._locate_in_value(tuple(path), scalar, line, needle, column)
        if exact is not None:
            return exact
        # A lone CR breaks lines as LF does (position() counts both); the same length keeps every offset.
        raw = _LONE_CR.sub("\n", self.text[scalar.start:scalar.end])
        begin = 0
        if scalar.style == "|" and line >= 1:
            # The scalar starts at its indicator; template line 1 is the next line.
            for _ in range(line):
                newline = raw.find("\n", begin)
                if newline < 0:
                    break
                begin = newline + 1
            while begin < len(raw) and raw[begin] == " ":
                begin += 1
        elif scalar.style == ">" and line >= 1:
            # Folding joins lines with spaces and keeps only blank lines as line breaks, so template
            # line N is the first text line after N-1 blank ones (more-indented lines aside).
            begin = raw.find("\n") + 1
            breaks = line - 1
            while 0 < begin < len(raw):
                end = raw.find("\n", begin)
                end = len(raw) if end < 0 else end
                if raw[begin:end].strip():
                    if breaks <= 0:
                        break
                else:
                    breaks -= 1
                begin = end + 1
            if not 0 < begin < len(raw):
                begin = 0
            while begin < len(raw) and raw[begin] == " ":
                begin += 1
        at = begin
        if needle:
            import re

            pattern = re.escape(needle)
            if re.fullmatch(r"[A-Za-z0-9_]+", needle):  # a name, not part of a longer name; ';' or ']' anywhere
                pattern = r"(?<![A-Za-z0-9_])" + pattern + r"(?![A-Za-z0-9_])"
            match = re.compile(pattern).search(raw, begin)
            if match is None and begin:
                match = re.compile(re.escape(needle)).search(raw)
            if match is not None:
                at = match.start()
        line_no, column = self.position(scalar.start + at)
        width = len(needle) if needle else 1
        return Span(self.file, line_no, column, line_no, column + width)

    def _locate_in_value(self, path: Path, scalar: Scalar, line: int, needle: str | None,
                         column: int | None) -> Span | None:
        if scalar.style == "|":
            return None  # its lines are the file's lines: the search below handles it
        value = self.get(path)
        if not isinstance(value, str):
            return None
        cache = self.__dict__.setdefault("_offsets", {})
        if path not in cache:
            cache[path] = value_offsets(self.text[scalar.start:scalar.end], scalar.start, scalar.style, value)
        offsets = cache[path]
        if not offsets:
            return None
        begin = 0
        for _ in range(max(line, 1) - 1):
            newline = value.find("\n", begin)
            if newline < 0:
                break
            begin = newline + 1
        at = begin
        if column is not None:
            at = begin + column - 1
        elif needle:
            pattern = re.escape(needle)
            if re.fullmatch(r"[A-Za-z0-9_]+", needle):  # a name, not part of a longer name
                pattern = r"(?<![A-Za-z0-9_])" + pattern + r"(?![A-Za-z0-9_])"
            match = re.compile(pattern).search(value, begin) or re.compile(pattern).search(value)
            if match is not None:
                at = match.start()
        at = min(max(at, 0), len(offsets) - 1)
        line_no, col = self.position(offsets[at])
        width = len(needle) if needle and column is None else 1
        return Span(self.file, line_no, col, line_no, col + width)

    def get(self, path: Path, default: Any = None) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node


@dataclass
class LoadResult:
    document: Document | None
    diagnostics: list[Diagnostic]
    text: str | None = None  # the decoded text, kept even when it does not load, to show source lines


def _span(file: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _mark_span(file: str, mark) -> Span:
    return Span(file, mark.line + 1, mark.column + 1)


class _TooMuch(Exception):
    pass


class _Builder:
    """Turns the node tree into plain data, counting nodes so aliases cannot explode it."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.count = 0
        self.diagnostics: list[Diagnostic] = []

    def _report(self, diagnostic: Diagnostic) -> None:
        if len(self.diagnostics) < MAX_DIAGNOSTICS:
            self.diagnostics.append(diagnostic)

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            raise _TooMuch(node)
        self.doc.value_spans[path] = _span(self.doc.file, node)
        if node.tag not in _PLAIN_TAGS:
            self._report(Diagnostic(
                "IVR007", f"the YAML tag {node.tag!r} is not allowed in a flow",
                _span(self.doc.file, node), help="remove the tag; flows use plain text, numbers, lists and mappings"))
            return None
        if isinstance(node, yaml.ScalarNode):
            self.doc.scalars[path] = Scalar(node.start_mark.index, node.end_mark.index,
                                            node.start_mark.line, node.start_mark.column, node.style)
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        braces = node.flow_style and yamltraps.braces_value(self.doc.text, node.start_mark.index, node.end_mark.index)
        if braces:
            # `say: {{ name }}` is a mapping to YAML; read it as the template the author wrote, so this
            # one error is all the author hears about it.
            self._report(Diagnostic(
                "IVR009", "a value that starts with '{{' must be in quotes: YAML reads '{' as the start of a mapping",
                _span(self.doc.file, node), help=f"put the value in quotes: \"{braces}\""))
            return braces
        return self.mapping(node, path, depth)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            try:
                if value.startswith("0o"):
                    return int(value[2:], 8)
                return int(value, 0) if value.startswith("0x") else int(value, 10)
            except ValueError:
                return value
        if tag == "tag:yaml.org,2002:float":
            return float(value.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                         .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))
        return value

    def _entries(self, node: yaml.MappingNode, depth: int) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        """Entries of a mapping with YAML merge keys (<<) expanded; own keys win over merged ones."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in sources:
                    self.count += 1
                    if self.count > MAX_NODES or depth > MAX_DEPTH:
                        raise _TooMuch(source)
                    if isinstance(source, yaml.MappingNode):
                        merged.extend(self._entries(source, depth + 1))
                    else:
                        self._report(Diagnostic(
                            "IVR007", "a merge key (<<) needs a mapping or a list of mappings",
                            _span(self.doc.file, source)))
            else:
                own.append((key, value))
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        yield from own
        seen: set[str] = set()
        for key, value in merged:  # earlier merge sources win over later ones, as in YAML 1.1
            if not isinstance(key, yaml.ScalarNode):
                yield key, value  # mapping() reports it
            elif key.value not in own_keys and key.value not in seen:
                seen.add(key.value)
                yield key, value

    def mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict:
        result: dict[str, Any] = {}
        first: dict[str, yaml.Node] = {}
        for key_node, value_node in self._entries(node, depth):
            if not isinstance(key_node, yaml.ScalarNode):
                self._report(Diagnostic(
                    "IVR007", "mapping keys must be plain text, not lists or mappings",
                    _span(self.doc.file, key_node)))
                continue
            # Keys are kept as written: `1:` and `"1":` are both the key "1".
            key = key_node.value
            if key in first:
                self._report(Diagnostic(
                    "IVR002", f"duplicate key '{key}'", _span(self.doc.file, key_node),
                    help="YAML would silently keep only the last value; remove or rename one",
                    related=(Related(_span(self.doc.file, first[key]), f"'{key}' first defined here"),)))
                continue
            first[key] = key_node
            self.doc.key_spans[path + (key,)] = _span(self.doc.file, key_node)
            result[key] = self.build(value_node, path + (key,), depth + 1)
        return result


def _decode(file: str, raw: bytes) -> tuple[str | None, Diagnostic | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        return None, Diagnostic("IVR006", f"the file is not UTF-8: byte 0x{raw[err.start]:02x} cannot be decoded",
                                Span(file, line, column), help="save the file as UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def load_text(text: str, file: str = "<string>") -> LoadResult:
    """Load flow text; never raises for bad input, returns diagnostics instead."""
    result = _load_text(text, file)
    if result.text is None and len(text) <= MAX_BYTES and "\x00" not in text:
        result.text = text
    return result


def _load_text(text: str, file: str) -> LoadResult:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return LoadResult(None, [Diagnostic(
            "IVR005", f"the file is larger than {MAX_BYTES // 1024} KiB", Span(file, 1, 1))])
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        line = len(_LINE_BREAK.findall(text, 0, surrogate.start())) + 1
        return LoadResult(None, [Diagnostic("IVR006", "the text holds a lone surrogate (U+%04X); it is not valid Unicode"
                                            % ord(surrogate.group()), Span(file, line, 1),
                                            help="save the file as UTF-8")])
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return LoadResult(None, [Diagnostic("IVR006", "the file contains a NUL character; it is not text",
                                             Span(file, line, 1))])
    doc = Document(file, text)
    # A large file makes hundreds of thousands of nodes and no reference cycles: pausing the
    # cycle collector while composing halves the time for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
            if collecting:
                gc.enable()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        span = _mark_span(file, mark) if mark else Span(file, 1, 1)
        message = (err.problem or "invalid YAML").strip()
        if err.context:
            message = f"{message} ({err.context.strip()})"
        if "nesting depth" in message:  # the parser's own guard against deep nesting: IVR004's case
            return LoadResult(None, [Diagnostic(
                "IVR004", f"the YAML nests too deeply here; flows need no more than {MAX_DEPTH} levels", span,
                help="check for brackets or braces opened and never closed")])
        if "expected a single document" in message:
            return LoadResult(None, [Diagnostic(
                "IVR003", "the file holds more than one YAML document", span,
                help="a flow file holds one flow; remove the '---' and what follows, or split the file")])
        return LoadResult(None, [yamltraps.explain(err, text, file)])
    except RecursionError:
        return LoadResult(None, [Diagnostic("IVR004", "the YAML is nested too deeply", Span(file, 1, 1),
                                            help=f"flows need no more than {MAX_DEPTH} levels")])
    except yaml.YAMLError as err:
        return LoadResult(None, [Diagnostic("IVR001", str(err).strip() or "invalid YAML", Span(file, 1, 1))])
    if root is None:
        return LoadResult(None, [Diagnostic("IVR008", "the file is empty", Span(file, 1, 1),
                                            help="a flow needs at least ivrc, flow, start and states")])
    builder = _Builder(doc)
    try:
        doc.data = builder.build(root, ())
    except _TooMuch as too_much:
        node = too_much.args[0]
        return LoadResult(None, [Diagnostic(
            "IVR004", f"the document expands to more than {MAX_NODES} values or {MAX_DEPTH} levels "
                      "(through aliases or nesting)", _span(file, node),
            help="write repeated parts out, or use fewer anchors and aliases")])
    builder.diagnostics.extend(yamltraps.hash_key_comments(
        text, file, [(scalar.start, scalar.end) for scalar in doc.scalars.values()]))
    if not isinstance(doc.data, dict):
        builder.diagnostics.append(Diagnostic(
            "IVR008", "the top level of a flow must be a mapping (key: value lines)", _span(file, root),
            help="a flow needs at least ivrc, flow, start and states"))
        return LoadResult(None, builder.diagnostics)
    return LoadResult(doc, builder.diagnostics)


def load_bytes(raw: bytes, file: str = "<bytes>") -> LoadResult:
    if len(raw) > MAX_BYTES:
        return LoadResult(None, [Diagnostic(
            "IVR005", f"the file is {len(raw)} bytes; flows may be at most {MAX_BYTES // 1024} KiB",
            Span(file, 1, 1))])
    text, problem = _decode(file, raw)
    if problem is not None:
        return LoadResult(None, [problem])
    assert text is not None  # _decode gives the text whenever it gives no problem
    return load_text(text, file)


def load_file(path: str) -> LoadResult:
    import os

    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            return LoadResult(None, [Diagnostic(
                "IVR005", f"the file is {size} bytes; flows may be at most {MAX_BYTES // 1024} KiB",
                Span(path, 1, 1))])
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise PathError(f"{path}: no such file") from None
    except OSError as err:  # permission denied, a folder, an I/O error: say which
        raise PathError(f"{path}: cannot be read: {err.strerror or err}") from None
    return load_bytes(raw, path)
