"""The built-in MD5 and HMAC-SHA256 every callback uses give hashlib's and hmac's digests, for any key and message."""
from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from ivrc.runtime import digests


@given(st.binary(max_size=3000))
@settings(max_examples=300)
def test_md5_is_hashlibs(data: bytes) -> None:
    assert digests.md5(data) == hashlib.md5(data, usedforsecurity=False).digest()


@given(key=st.binary(max_size=200), messages=st.lists(st.binary(max_size=2000), min_size=1, max_size=4))
@settings(max_examples=300)
def test_hmac_sha256_is_hmacs_for_every_message_under_one_key(key: bytes, messages: list[bytes]) -> None:
    """Keys shorter, as long as and longer than SHA-256's 64-byte block; one key set up for several messages."""
    mac = digests.HmacSha256(key)
    for message in messages:
        assert mac.digest(message) == hmac.digest(key, message, "sha256")


def test_the_keys_around_the_block_size() -> None:
    for size in (0, 1, 63, 64, 65, 128):
        key = bytes(range(size % 256)) * (size // 256 + 1)
        key = key[:size]
        assert digests.HmacSha256(key).digest(b"message") == hmac.digest(key, b"message", "sha256")


def test_the_built_in_modules_are_the_ones_used() -> None:
    """This Python has CPython's own MD5 and SHA-256, so the callback path does not fall back to OpenSSL."""
    assert digests._builtin_md5 is not None and digests._builtin_sha256 is not None
    assert digests._SHA256 is digests._builtin_sha256
