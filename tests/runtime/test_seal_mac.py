"""The seal's MAC, made with the key's padding hashed once, is HMAC-SHA256 as the hmac module makes it."""
from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from ivrc.runtime.engine.sealing import _HmacSha256


@given(st.binary(min_size=16, max_size=200), st.binary(max_size=300))
def test_the_seal_is_hmac_sha256(key: bytes, message: bytes) -> None:
    assert _HmacSha256(key).digest(message) == hmac.new(key, message, hashlib.sha256).digest()
