"""A request state's URL: the literal scheme and host, and the templated rest, as one module reads and checks it."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# The origin must be written out: scheme://host[:port], no template, no user info.
_ORIGIN = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/?#{}%@:\s]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class Url:
    origin: str  # scheme://host[:port], literal
    scheme: str
    host: str
    rest: str  # path, query and fragment: may hold {{ expressions }}

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


class UrlProblem(ValueError):
    """Why a request URL cannot be used; the message is for the flow's author."""


def parse(url: str) -> Url:
    match = _ORIGIN.match(url)
    if match is None:
        origin = url.split("://", 1)[-1].split("/", 1)[0]
        if "{{" in origin or url.lstrip().startswith("{"):
            raise UrlProblem("the host is chosen by a template; write the scheme and host out, e.g. "
                             "https://api.example.com/orders/{{ order }}")
        raise UrlProblem("not an absolute URL like https://api.example.com/path")
    rest = url[match.end():]
    if rest and rest[0] not in "/?#":
        raise UrlProblem("the host is chosen by a template; write the scheme and host out, e.g. "
                         "https://api.example.com/orders/{{ order }}")
    if "{%" in url or "{#" in url:
        raise UrlProblem("only {{ expressions }} may fill in a URL's path and query")
    scheme = match.group("scheme").lower()
    if scheme not in ("https", "http"):
        raise UrlProblem(f"the scheme {scheme}:// is not HTTP; requests use https://")
    if match.group("port") is not None and not 0 < int(match.group("port")) < 65536:
        raise UrlProblem(f"port {match.group('port')} does not exist")
    host = match.group("host").lower()
    return Url(url[: match.end()], scheme, host, rest)


def is_loopback(host: str) -> bool:
    bare = host.strip("[]")
    if bare in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def pieces(rest: str) -> list[tuple[bool, str]]:
    """The path-and-query text split into (is_expression, text) pieces, in order."""
    out: list[tuple[bool, str]] = []
    position = 0
    # A scan, not a regex: linear however many "{{" are left unclosed.
    while (start := rest.find("{{", position)) >= 0:
        end = rest.find("}}", start + 2)
        if end < 0:
            break
        if start > position:
            out.append((False, rest[position:start]))
        out.append((True, rest[start + 2:end].strip()))
        position = end + 2
    if position < len(rest):
        out.append((False, rest[position:]))
    return out


def origin_of(url: str) -> str:
    """scheme://host:port of a rendered URL, as the server's allow-list compares it."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"
