"""MD5 and HMAC-SHA256 for every callback (its signature, its seal), on CPython's built-in hash modules.

A callback hashes three or four times: the body's MD5 and the HMAC of Sinch's signature, then the
HMACs that check the call's seal and make the next one. hashlib hands each to OpenSSL, whose EVP
layers run a large body of code for a digest of a few hundred bytes; in the middle of a request,
with uvicorn's and ivrc's own code around it, that code is no longer in the CPU's caches, and the
signature check cost about 25 us of a callback (bench/callback_costs.py). The built-in modules
(_md5, _sha256) are small and give the same digests: the same check cost about 14 us. Where a
Python is built without them, hashlib's are used.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

try:  # CPython's own implementations; a build may leave them out (--without-builtin-hashlib-hashes)
    from _md5 import md5 as _builtin_md5
    from _sha256 import sha256 as _builtin_sha256
except ImportError:  # pragma: no cover - only on such builds
    _builtin_md5 = None
    _builtin_sha256 = None

_SHA256: Callable[..., Any] = _builtin_sha256 or hashlib.sha256
BLOCK = 64  # SHA-256's block size, in bytes


def md5(data: bytes) -> bytes:
    """The MD5 digest of `data` (Sinch's Content-MD5: part of its format, not a choice of ours)."""
    if _builtin_md5 is not None:
        return _builtin_md5(data).digest()
    # usedforsecurity=False: FIPS-mode OpenSSL refuses MD5 without it.
    return hashlib.md5(data, usedforsecurity=False).digest()


class HmacSha256:
    """HMAC-SHA256 under one key (RFC 2104), its padded key hashed once for all the messages it signs."""

    def __init__(self, key: bytes) -> None:
        if len(key) > BLOCK:  # longer keys are hashed first
            key = _SHA256(key).digest()
        key = key.ljust(BLOCK, b"\0")
        self._inner = _SHA256(bytes(b ^ 0x36 for b in key))
        self._outer = _SHA256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()
