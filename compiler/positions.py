"""Where each character of a scalar's value sits in the file, for quoted, plain and folded scalars.

YAML folds line breaks into spaces, drops indentation and decodes escapes, so the n-th character
of a value is not the n-th character after the scalar's start. Reading the raw text the way YAML
does, and keeping the file offset of every character produced, maps a finding inside a template
or SSML back to the file's line and column. The result is used only when it reproduces the value
exactly; otherwise callers fall back to the scalar's start.
"""
from __future__ import annotations

import re

_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
            "P": "\u2029"}
_HEX = {"x": 2, "u": 4, "U": 8}
_LONE_CR = re.compile(r"\r(?!\n)")


def value_offsets(raw: str, base: int, style: str | None, value: str) -> list[int] | None:
    """File offsets of value's characters (raw is the scalar's text from the file, starting at base)."""
    # A lone CR breaks a line as LF does; the same length keeps every offset. In CR LF, the CR is
    # read as white space at the end of the line.
    raw = _LONE_CR.sub("\n", raw)
    try:
        if style == '"':
            pairs = _flow(raw, 1, double=True)
        elif style == "'":
            pairs = _flow(raw, 1, double=False)
        elif not style:  # plain: PyYAML says None, libyaml ''
            pairs = _flow(raw, 0, double=None)
        elif style == ">":
            pairs = _folded(raw)
        else:
            return None
    except (IndexError, KeyError, ValueError):  # text YAML would not have loaded: no mapping
        return None
    if "".join(c for c, _ in pairs) != value:
        return None
    return [base + at for _, at in pairs]


def _flow(raw: str, start: int, double: bool | None) -> list[tuple[str, int]]:
    """Plain (double None), single- or double-quoted: escapes, '' and line folding."""
    out: list[tuple[str, int]] = []
    quote = '"' if double else "'"
    end = len(raw)
    i = start
    while i < end:
        c = raw[i]
        if double is not None and c == quote:
            if not double and i + 1 < end and raw[i + 1] == "'":
                out.append(("'", i))
                i += 2
                continue
            break
        if double and c == "\\":
            nxt = raw[i + 1]
            if nxt == "\n":  # an escaped line break joins the lines with nothing between
                i += 2
                while i < end and raw[i] in " \t":
                    i += 1
                continue
            if nxt in _HEX:
                width = _HEX[nxt]
                out.append((chr(int(raw[i + 2:i + 2 + width], 16)), i))
                i += 2 + width
                continue
            out.append((_ESCAPES[nxt], i))
            i += 2
            continue
        if c == "\r" and raw[i + 1:i + 2] == "\n":
            out.append((" ", i))  # popped at the line break below, as trailing white space
            i += 1
            continue
        if c == "\n":
            while out and out[-1][0] in " \t\r" and raw[out[-1][1]] in " \t\r":
                out.pop()  # white space before a line break is not part of the value
            breaks = 0
            newline = i
            while i < end and raw[i] in " \t\r\n":
                if raw[i] == "\n":
                    breaks += 1
                    newline = i
                i += 1
            if breaks == 1:
                out.append((" ", newline))
            else:
                out.extend(("\n", newline) for _ in range(breaks - 1))
            continue
        out.append((c, i))
        i += 1
    if double is None:
        while out and out[-1][0] in " \t":
            out.pop()
    return out


def _folded(raw: str) -> list[tuple[str, int]]:
    """A `>` block scalar with its default clipping: lines joined by spaces, blank lines kept as breaks."""
    header_end = raw.index("\n") + 1
    lines: list[tuple[int, str]] = []  # (offset of the line's first character, the line)
    at = header_end
    for line in raw[header_end:].split("\n"):
        lines.append((at, line))
        at += len(line) + 1
    content = [(o, line) for o, line in lines if line.strip()]
    if not content:
        return []
    indent = len(content[0][1]) - len(content[0][1].lstrip(" "))
    out: list[tuple[str, int]] = []
    previous: str | None = None  # "text", "more" (more indented) or None at the start
    pending_breaks: list[int] = []
    for offset, line in lines:
        if not line.strip():
            pending_breaks.append(offset)
            continue
        body = line[indent:].rstrip("\r")
        kind = "more" if body[:1] in (" ", "\t") else "text"
        if previous is not None:
            if previous == "text" and kind == "text" and not pending_breaks:
                out.append((" ", offset - 1))
            else:
                newlines = len(pending_breaks) + (0 if previous == "text" and kind == "text" else 1)
                out.extend(("\n", offset - 1) for _ in range(newlines))
        else:
            out.extend(("\n", b) for b in pending_breaks)
        pending_breaks = []
        out.extend((c, offset + indent + k) for k, c in enumerate(body))
        previous = kind
    if "-" not in raw[:header_end]:
        out.append(("\n", len(raw) - 1))  # clip: one final line break ('>-' strips it)
    return out
