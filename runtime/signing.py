"""Sign and verify Sinch "Application signed request" callbacks (reference section 6)."""
from __future__ import annotations

import base64
import binascii
import functools
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ivrc.runtime.digests import HmacSha256, md5

SCHEME = "Application"
# Where every command that signs or verifies finds the Sinch application's credentials.
KEY_ENV, SECRET_ENV = "SINCH_APPLICATION_KEY", "SINCH_APPLICATION_SECRET"
DEFAULT_MAX_SKEW = timedelta(minutes=5)

# ISO-8601 in UTC only: Sinch promises UTC, and an offset we would have to trust is one more
# thing an attacker controls. Up to 7 fractional digits because Sinch sends .NET ticks.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(?:[Zz]|\+00:00)",
    re.ASCII,
)


@dataclass(frozen=True)
class Credentials:
    """One Sinch application's key and Base64 secret; the secret never appears in a repr."""

    key: str
    secret_b64: str = field(repr=False)
    secret: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key or ":" in self.key or any(
            c.isspace() for c in self.key
        ):
            raise ValueError(
                "application key must be a non-empty string without ':' or whitespace"
            )
        if not isinstance(self.secret_b64, str):
            raise ValueError(f"application secret for key {self.key!r} must be a string")
        try:
            # strip(): a trailing newline from a secrets file is a copy artefact, not data.
            secret = base64.b64decode(self.secret_b64.strip(), validate=True)
        except (binascii.Error, ValueError, TypeError):
            # `from None`: the decoder's own message could quote part of the secret.
            raise ValueError(
                f"application secret for key {self.key!r} is not valid Base64 "
                "(copy it unchanged from the Sinch dashboard)"
            ) from None
        if not secret:
            raise ValueError(f"application secret for key {self.key!r} is empty")
        object.__setattr__(self, "secret", secret)

    def __repr__(self) -> str:
        return f"Credentials(key={self.key!r}, secret=<hidden>)"


@dataclass(frozen=True)
class Verdict:
    """The outcome of verify(): ok, or a stable kebab-case reason code.

    On success it carries the signature and parsed timestamp, which the replay guard needs.
    """

    ok: bool
    reason: str | None = None
    signature: str | None = None
    timestamp: datetime | None = None

    def __bool__(self) -> bool:
        return self.ok


def content_md5(body: bytes) -> str:
    """Base64 of the body's MD5, or "" for an empty body (as Sinch computes it)."""
    if not body:
        return ""
    return base64.b64encode(md5(body)).decode("ascii")


def string_to_sign(
    method: str, path: str, content_type: str, timestamp: str, body: bytes
) -> str:
    """The exact text Sinch signs; no trailing newline after the path."""
    return "\n".join(
        (method.upper(), content_md5(body), content_type, f"x-timestamp:{timestamp}", path)
    )


@functools.lru_cache(maxsize=64)  # an application's secrets are few; each key is set up once
def _keyed(secret: bytes) -> HmacSha256:
    return HmacSha256(secret)


def _signature(secret: bytes, text: str) -> str:
    # surrogatepass: header text from a test or an odd proxy must never raise here.
    digest = _keyed(secret).digest(text.encode("utf-8", "surrogatepass"))
    return base64.b64encode(digest).decode("ascii")


def sign(
    key: str,
    secret_b64: str,
    method: str,
    path: str,
    content_type: str,
    timestamp: str,
    body: bytes,
) -> str:
    """The full Authorization header value, `Application KEY:SIGNATURE`."""
    credentials = Credentials(key, secret_b64)
    text = string_to_sign(method, path, content_type, timestamp, body)
    return f"{SCHEME} {credentials.key}:{_signature(credentials.secret, text)}"


@functools.lru_cache(maxsize=256)  # Sinch's callbacks within one second share a timestamp
def parse_timestamp(value: str) -> datetime | None:
    """An aware UTC datetime from an x-timestamp value, or None if it is not ISO-8601 UTC."""
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    # The 7th fractional digit (100 ns) is below datetime's resolution; drop it.
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros,
            tzinfo=timezone.utc,
        )
    except ValueError:  # e.g. month 13 or second 60
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Starlette's Headers (and a dict with lower-case keys) answer directly; a plain dict may
    # use any case, so fall back to scanning its few keys.
    value = headers.get(name)
    if value is not None:
        return value
    for key in headers.keys():
        if key.lower() == name:
            return headers[key]
    return None


def verify(
    headers: Mapping[str, str],
    body: bytes,
    path: str,
    method: str,
    credentials: Credentials | Sequence[Credentials],
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
) -> Verdict:
    """Check a callback's Authorization header and x-timestamp against our credentials.

    Several credentials may be given while a secret is rotated: a request signed with any of
    them (for its key) is accepted.

    `path` is the public request path Sinch called, without the query string; `body` is the
    raw bytes exactly as received. The timestamp is checked only for authentic requests, so
    "stale-timestamp" always means a genuine Sinch request that is too old or replayed.
    """
    if now.tzinfo is None:
        raise ValueError("verify() needs a timezone-aware `now`")

    authorization = _header(headers, "authorization")
    if authorization is None:
        return Verdict(False, "missing-authorization")
    parts = authorization.split()
    # Non-ASCII cannot occur in a real header and would break compare_digest on str.
    if len(parts) != 2 or not authorization.isascii():
        return Verdict(False, "malformed-authorization")
    scheme, key_and_signature = parts
    if scheme.lower() != SCHEME.lower():
        return Verdict(False, "wrong-scheme")
    key, colon, given = key_and_signature.rpartition(":")
    if not colon or not key or not given:
        return Verdict(False, "malformed-authorization")
    # Keys are GUIDs, which Sinch prints in either case.
    accepted = [credentials] if isinstance(credentials, Credentials) else list(credentials)
    candidates = [c for c in accepted if c.key.lower() == key.lower()]
    if not candidates:
        return Verdict(False, "unknown-key")

    timestamp = _header(headers, "x-timestamp")
    if timestamp is None:
        return Verdict(False, "missing-timestamp")
    content_type = _header(headers, "content-type")
    if content_type is None:
        return Verdict(False, "missing-content-type")

    text = string_to_sign(method, path, content_type, timestamp, body)
    # Every candidate is compared (no early exit), so timing does not tell which secret matched.
    matched = False
    for candidate in candidates:
        expected = _signature(candidate.secret, text)
        matched |= hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
    if not matched:
        return Verdict(False, "bad-signature")

    when = parse_timestamp(timestamp)
    if when is None:
        return Verdict(False, "bad-timestamp")
    if abs(now - when) > max_skew:
        return Verdict(False, "stale-timestamp")
    return Verdict(True, signature=given, timestamp=when)
