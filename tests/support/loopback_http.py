"""A tiny HTTP/1.1 server on loopback for the request-state client's tests: each test writes the answers' bytes."""
from __future__ import annotations

import asyncio
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable


@dataclass
class Seen:
    """A request as the server read it."""

    connection: int  # 1 for the first connection the server accepted, and so on
    method: str
    target: str
    headers: list[tuple[str, str]]  # in the order sent, names as sent
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


# What a test's server does with one request: writes an answer (or not) on `writer`.
Answer = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


def answer_with(raw: bytes) -> Answer:
    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(raw)
        await writer.drain()

    return answer


def json_answer(body: bytes = b'{"verified": true}', status: str = "200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status.encode(), len(body), extra, body)


@dataclass
class LoopbackServer:
    """Serves `answer` for every request on 127.0.0.1 until the block ends; records what it read."""

    answer: Answer
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    def stop_listening(self) -> None:
        """New connections are refused from now on; those open stay open."""
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head[:-4].decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
                length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
                seen = Seen(number, method, target, headers, await reader.readexactly(length))
                self.seen.append(seen)
                await self.answer(seen, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass  # the client went away (or refused our certificate), or the test is over
        finally:
            writer.close()


def self_signed(folder: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `name` that no one trusts, and its key, made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    san = f"IP:{name}" if name[0].isdigit() else f"DNS:{name}"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName={san}"], check=True, capture_output=True)
    return cert, key


def serving_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
