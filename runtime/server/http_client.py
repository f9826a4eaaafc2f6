"""A lean HTTP/1.1 client for request states: JSON-sized exchanges over asyncio streams, idle connections kept per origin.

httpx and httpcore run several layers of Python for every request and answer, and their pool walks all
its connections each time; with a hundred calls waiting on one slow backend that was most of the
server's CPU (docs/benchmarks.md section 6). This client does only what request states need: one
request, one answer read up to a size cap, no redirects, no cookies, TLS verified, and a bounded pool.
Timeouts are the caller's (Backend wraps each exchange in asyncio.timeout): a cancelled exchange
drops its connection, so no half-read answer is ever reused.
"""
from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

# What the request line and Host header carry, as httpx computed them (flow tests and the emulator
# compute the same URLs): characters outside these sets are percent-encoded, '%xx' already there is kept.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_QUERY_SAFE = _UNRESERVED + "".join(chr(i) for i in range(0x20, 0x7F) if i not in (0x20, 0x22, 0x23, 0x3C, 0x3E))
_PATH_SAFE = "".join(c for c in _QUERY_SAFE if c not in "?`{}")
_PERCENT = re.compile(r"%[A-Fa-f0-9]{2}")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 9110 field names and values, as h11 (under httpx) checked them: a value may not start or end
# with white space, nor hold a NUL, CR or LF anywhere.
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_FIELD_VALUE = re.compile(rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
# Headers the client writes itself: the host it connects to, the body's framing and the connection are
# not the flow's to set (lint refuses them too, IVR148).
_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept (httpcore's default; servers close them too)
MAX_HEAD_BYTES = 64 * 1024  # status line and headers of an answer


class HttpError(Exception):
    """The exchange failed: no connection, a header or answer that is not HTTP, a connection lost midway."""


@dataclass(frozen=True)
class Answer:
    """An answer's status and body; no body when it was a redirect or larger than the cap."""

    status: int
    body: bytes = b""
    redirect: bool = False  # a 3xx with a Location: never followed
    too_large: bool = False


@dataclass(frozen=True)
class Origin:
    """Where a connection goes, and the Host header it names."""

    scheme: str
    host: str  # as connected to: IDNA-encoded, IPv6 without brackets
    port: int
    host_header: bytes


class _Connection:
    __slots__ = ("reader", "writer", "origin", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, origin: Origin) -> None:
        self.reader, self.writer, self.origin = reader, writer, origin
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        """Still open on both sides, nothing unread, and not idle too long (the server may close it any moment).

        Bytes waiting on an idle connection were sent unasked (a server's 408 before it closes, say):
        they must not be read as the next request's answer, so that connection is dropped, as httpcore does.
        """
        return (now - self.idle_since < KEEPALIVE_EXPIRY and not self.writer.is_closing()
                and not self.reader.at_eof() and not self.reader._buffer)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.writer.close()


class _Stale(Exception):
    """A reused connection failed before any byte of the answer: the server had closed it."""


class HttpClient:
    """One pool of connections shared by every call: at most `max_connections` open, at most
    `max_per_origin` of them to one origin (all of them when not given), idle ones kept per origin."""

    def __init__(self, *, max_connections: int = 200, max_per_origin: int | None = None, max_answer_bytes: int,
                 user_agent: str = "ivrc", tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.max_per_origin = max_connections if max_per_origin is None else max_per_origin
        self.max_answer_bytes = max_answer_bytes
        self._tls = tls
        self._user_agent = user_agent.encode()
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open = 0  # connections open, idle or in use
        self._open_to: dict[Origin, int] = {}  # the same, per origin
        # Requests waiting for a connection, oldest first, with the origin each needs.
        self._waiters: list[tuple[Origin, asyncio.Future[None]]] = []
        self._origins: dict[str, Origin] = {}

    @property
    def tls(self) -> ssl.SSLContext:
        if self._tls is None:  # made on first use: loading CA certificates takes tens of milliseconds
            self._tls = ssl.create_default_context()
        return self._tls

    async def request(self, method: str, url: str, *, origin: str, query: dict[str, str],
                      headers: dict[str, str], body: bytes | None) -> Answer:
        """Sends one request to `url` (which starts with `origin`) and reads its answer."""
        where = self._origin(origin)
        head = self._head(method, url[len(origin):], query, headers, body, where)
        connection, reused = await self._connection(where)
        try:
            answer, keep = await self._exchange(connection, head, body, method, reused)
        except _Stale:  # the server had closed the idle connection: once more, on a new one
            self._discard(connection)
            connection, _ = await self._connection(where, reuse=False)
            try:
                answer, keep = await self._exchange(connection, head, body, method, False)
            except BaseException:
                self._discard(connection)
                raise
        except BaseException:  # a failure or a cancelled exchange (timeout): never reuse what is half read
            self._discard(connection)
            raise
        if keep:
            self._release(connection)
        else:
            self._discard(connection)
        return answer

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
                self._open -= 1
                self._open_to[connection.origin] -= 1
        self._idle.clear()

    # The request.

    def _origin(self, origin: str) -> Origin:
        known = self._origins.get(origin)
        if known is None:
            parts = urlsplit(origin)
            scheme, host = parts.scheme.lower(), (parts.hostname or "")
            if scheme not in _DEFAULT_PORTS or not host:
                raise HttpError(f"not an http(s) origin: {origin}")
            try:
                port = parts.port or _DEFAULT_PORTS[scheme]
            except ValueError as err:
                raise HttpError(str(err)) from None
            if not host.isascii():
                import idna  # only for hosts that are not ASCII: as httpx encoded them

                host = idna.encode(host).decode("ascii")
            netloc = f"[{host}]" if ":" in host else host
            if port != _DEFAULT_PORTS[scheme]:
                netloc += f":{port}"
            known = self._origins[origin] = Origin(scheme, host, port, netloc.encode("ascii"))
        return known

    def _head(self, method: str, rest: str, query: dict[str, str], headers: dict[str, str], body: bytes | None,
              origin: Origin) -> bytes:
        lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), _target(rest, query)), b"Host: " + origin.host_header]
        names = {name.lower() for name in headers}
        if body is not None:
            lines.append(b"Content-Length: %d" % len(body))
        elif method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: 0")
        lines.append(b"Connection: keep-alive")
        if "user-agent" not in names:
            lines.append(b"User-Agent: " + self._user_agent)
        if "accept" not in names:  # engine/requests.py always names one; httpx's default otherwise
            lines.append(b"Accept: */*")
        for name, value in headers.items():
            if name.lower() in _FRAMING:
                continue
            try:
                raw_name, raw_value = name.encode("ascii"), value.encode("ascii")
            except UnicodeEncodeError:
                raise HttpError(f"header {name!r} is not ASCII") from None
            if not _TOKEN.fullmatch(raw_name) or not _FIELD_VALUE.fullmatch(raw_value):
                raise HttpError(f"header {name!r} is not a valid HTTP header")
            lines.append(raw_name + b": " + raw_value)
        lines.append(b"\r\n")
        return b"\r\n".join(lines)

    # The pool.

    async def _connection(self, origin: Origin, reuse: bool = True) -> tuple[_Connection, bool]:
        """An idle connection to `origin`, or a new one once there is room for it in the pool."""
        while True:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while reuse and idle:
                connection = idle.pop()
                if connection.usable(now):
                    return connection, True
                self._discard(connection)
            if self._make_room(origin):
                break
            entry = (origin, asyncio.get_running_loop().create_future())
            self._waiters.append(entry)
            try:
                await entry[1]
            except BaseException:
                if entry in self._waiters:
                    self._waiters.remove(entry)
                elif entry[1].done() and not entry[1].cancelled():
                    self._wake()  # the wake-up was ours: pass it on
                raise
        self._open += 1
        self._open_to[origin] = self._open_to.get(origin, 0) + 1
        try:
            if origin.scheme == "https":
                reader, writer = await asyncio.open_connection(origin.host, origin.port, ssl=self.tls,
                                                               server_hostname=origin.host, limit=MAX_HEAD_BYTES)
            else:
                reader, writer = await asyncio.open_connection(origin.host, origin.port, limit=MAX_HEAD_BYTES)
        except BaseException:
            self._open -= 1
            self._open_to[origin] -= 1
            self._wake()
            raise
        return _Connection(reader, writer, origin), False

    def _make_room(self, origin: Origin) -> bool:
        """Whether a new connection to `origin` may be opened now, closing an idle one if that makes room."""
        if self._open_to.get(origin, 0) >= self.max_per_origin:
            idle = self._idle.get(origin)
            if not idle:  # a backend that holds every connection it may have cannot take the others' too
                return False
            self._discard(idle.pop(0))  # a retry that must not reuse one (a stale connection)
            return True
        return self._open < self.max_connections or self._evict_one()

    def _could_start(self, origin: Origin) -> bool:
        """Whether a request waiting for `origin` would now get a connection (idle, or room for a new one)."""
        return bool(self._idle.get(origin)) or (self._open_to.get(origin, 0) < self.max_per_origin and (
            self._open < self.max_connections or any(self._idle.values())))

    def _evict_one(self) -> bool:
        """Closes an idle connection to any origin, making room for a new one."""
        for connections in self._idle.values():
            if connections:
                self._discard(connections.pop(0))
                return True
        return False

    def _release(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.setdefault(connection.origin, []).append(connection)
        self._wake()

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open -= 1
        self._open_to[connection.origin] -= 1
        self._wake()

    def _wake(self) -> None:
        """Wakes the longest waiting request that the connection just freed (or made idle) can serve.

        Not simply the oldest: with a cap per origin, the oldest may wait for a backend that holds
        all it may have, and waking it would leave a request that could go on asleep."""
        for position, (origin, waiter) in enumerate(self._waiters):
            if not waiter.done() and self._could_start(origin):
                del self._waiters[position]
                waiter.set_result(None)
                return

    # The exchange.

    async def _exchange(self, connection: _Connection, head: bytes, body: bytes | None, method: str,
                        reused: bool) -> tuple[Answer, bool]:
        """Writes the request and reads the answer; whether the connection may carry another."""
        reader, writer = connection.reader, connection.writer
        try:
            writer.write(head + body if body else head)
            await writer.drain()
            first = await reader.readuntil(b"\n")
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            # The request went out whole; the backend may have acted on it before the connection
            # dropped. Only a request that means the same sent twice is sent again (RFC 9110 9.2.2):
            # a POST that blocks a card or takes a payment must never run twice.
            if reused and not getattr(err, "partial", b"") and method in IDEMPOTENT:
                raise _Stale() from err
            raise HttpError("the connection closed before an answer") from err
        except asyncio.LimitOverrunError as err:
            raise HttpError("an answer's headers are too long") from err
        status, version, fields = _parse_head(await _head_lines(reader, first))
        while 100 <= status < 200:  # an interim answer (e.g. 103 Early Hints): the real one follows
            if status == 101:  # Switching Protocols: what follows is no longer HTTP
                raise HttpError("the backend switched protocols")
            status, version, fields = _parse_head(await _head_lines(reader, await _read(reader, b"\n")))
        keep = version == b"HTTP/1.1" and b"close" not in fields.get(b"connection", b"").lower()
        if status in REDIRECTS and b"location" in fields:
            return Answer(status, redirect=True), False
        if method == "HEAD" or status in (204, 304):
            return Answer(status), keep
        encoding = fields.get(b"transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != b"chunked":
                raise HttpError(f"unsupported transfer encoding {encoding!r}")
            chunks = await self._chunked(reader)
            return (Answer(status, chunks), keep) if chunks is not None else (Answer(status, too_large=True), False)
        length = fields.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                raise HttpError(f"bad content-length {length!r}")
            size = int(length)
            if size > self.max_answer_bytes:
                return Answer(status, too_large=True), False
            try:
                return Answer(status, await reader.readexactly(size)), keep
            except asyncio.IncompleteReadError as err:
                raise HttpError("the answer ended before its content-length") from err
        # No length: the body runs until the server closes the connection.
        content = bytearray()
        while chunk := await reader.read(self.max_answer_bytes + 1 - len(content)):
            content += chunk
            if len(content) > self.max_answer_bytes:
                return Answer(status, too_large=True), False
        return Answer(status, bytes(content)), False

    async def _chunked(self, reader: asyncio.StreamReader) -> bytes | None:
        """A chunked body, or None when it grows past the cap (reading stops there)."""
        content = bytearray()
        while True:
            size_line = await _read(reader, b"\r\n")
            digits = size_line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(digits):
                raise HttpError(f"bad chunk size {size_line[:40]!r}")
            size = int(digits, 16)
            if size == 0:
                while await _read(reader, b"\r\n") != b"\r\n":  # trailers, if any, end with an empty line
                    pass
                return bytes(content)
            if len(content) + size > self.max_answer_bytes:
                return None
            try:
                content += await reader.readexactly(size)
                if await reader.readexactly(2) != b"\r\n":
                    raise HttpError("a chunk does not end with CRLF")
            except asyncio.IncompleteReadError as err:
                raise HttpError("the answer ended inside a chunk") from err


def _target(rest: str, query: dict[str, str]) -> bytes:
    """The request target for the URL after its origin, with `query` merged as httpx merged it."""
    if not rest.isprintable() and any(c.isascii() and not c.isprintable() for c in rest):
        raise HttpError("the URL holds a control character")
    path, mark, written = rest.split("#", 1)[0].partition("?")
    path = _quote(_without_dot_segments(path), _PATH_SAFE) or "/"
    if query:
        # The query written in the URL, parsed, with the state's values replacing any of the same name.
        merged = parse_qs(_quote(written, _QUERY_SAFE), keep_blank_values=True) if mark else {}
        merged.update((name, [value]) for name, value in query.items())
        return (path + "?" + urlencode([(k, v) for k, values in merged.items() for v in values])).encode("ascii")
    return (path + "?" + _quote(written, _QUERY_SAFE) if mark else path).encode("ascii")


def _quote(text: str, safe: str) -> str:
    """Percent-encodes what is not safe, keeping '%xx' sequences already there."""
    if not text.rstrip(safe):
        return text
    out, position = [], 0
    for match in _PERCENT.finditer(text):
        out.append(_encode(text[position:match.start()], safe))
        out.append(match.group())
        position = match.end()
    out.append(_encode(text[position:], safe))
    return "".join(out)


def _encode(text: str, safe: str) -> str:
    return "".join(c if c in safe else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)


def _without_dot_segments(path: str) -> str:
    """'.' and '..' segments resolved (RFC 3986 5.2.4), as httpx did before sending."""
    if "." not in path:
        return path
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if out and out != [""]:
                out.pop()
        elif segment != ".":
            out.append(segment)
    return "/".join(out)


async def _read(reader: asyncio.StreamReader, end: bytes) -> bytes:
    try:
        return await reader.readuntil(end)
    except asyncio.IncompleteReadError as err:
        raise HttpError("the connection closed in the middle of an answer") from err
    except asyncio.LimitOverrunError as err:
        raise HttpError("an answer's header or chunk line is too long") from err


async def _head_lines(reader: asyncio.StreamReader, first: bytes) -> list[bytes]:
    """An answer's status line (`first`, already read) and header lines up to the blank line, without
    their line ends. A line ends with CRLF or, as h11 under httpx also read it, a bare LF: an answer
    with bare LFs would otherwise be waited on until the request's timeout."""
    lines: list[bytes] = []
    size, line = len(first), first
    while True:
        line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        if not line:
            return lines
        lines.append(line)
        line = await _read(reader, b"\n")
        size += len(line)
        if size > MAX_HEAD_BYTES:
            raise HttpError("an answer's headers are too long")


def _parse_head(lines: list[bytes]) -> tuple[int, bytes, dict[bytes, bytes]]:
    """Status, HTTP version and header fields (names lower-cased, repeated ones joined with commas)."""
    if not lines:
        raise HttpError("an answer begins with an empty line, not a status line")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit() or rest[3:4] not in (b" ", b""):
        raise HttpError(f"not an HTTP/1.1 status line: {lines[0][:60]!r}")
    fields: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):  # also a folded line, which starts with white space
            raise HttpError(f"not a header line: {line[:60]!r}")
        name, value = name.lower(), value.strip(b" \t")
        if b"\0" in value or b"\r" in value:
            raise HttpError(f"a header value holds a NUL or CR: {name[:40]!r}")
        if name not in fields:
            fields[name] = value
        elif name == b"content-length":
            if fields[name] != value:
                raise HttpError("two different content-lengths")
        else:
            fields[name] += b", " + value
    return int(code), version, fields
