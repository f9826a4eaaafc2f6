"""The seal on a call's state: a MAC over the cookies ivrc writes, so a forged callback cannot forge state.

Anyone holding the Sinch application secret can sign callbacks, and with them send any cookies.
Every answer therefore seals the state cookies it leaves with Sinch: HMAC-SHA256 over the call id
and every ivrc cookie (sorted), under a server-side key distinct from the Sinch secret
(IVRC_STATE_KEY). A callback whose cookies do not carry a valid seal is treated as carrying no
state at all. Several keys may be accepted at once, so a key can be rotated without dropping calls:
the first signs, every one verifies.
"""
from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping, Sequence

from ivrc.compiler import cookies as layout
from ivrc.runtime.digests import HmacSha256

STATE_KEY_ENV = "IVRC_STATE_KEY"
# Engines run in one process (flow tests, simulations, the studio) seal with this key; a server
# always reads its keys from the environment (runtime/server/startup.py).
IN_PROCESS_KEY = b"ivrc in-process state key: never used by ivrc serve"


class Sealer:
    def __init__(self, keys: Sequence[bytes] = (IN_PROCESS_KEY,)) -> None:
        if not keys:
            raise ValueError("at least one state key is needed")
        self.keys = tuple(keys)
        self._macs = tuple(HmacSha256(key) for key in self.keys)

    def seal(self, callid: str, held: Mapping[str, str]) -> str:
        return _mac(self._macs[0], callid, held)

    def verify(self, callid: str, held: Mapping[str, str]) -> bool:
        """Whether the ivrc cookies Sinch echoed carry a seal this server made for this call."""
        given = held.get(layout.MAC_KEY)
        if not given or not given.isascii():  # a seal is Base64 text; compare_digest refuses other text
            return False
        return any(hmac.compare_digest(given, _mac(mac, callid, held)) for mac in self._macs)


def _escaped(text: str, also: str = "") -> str:
    """`text` on one line: a backslash doubled, a line feed as backslash and n, each character of `also` after a backslash."""
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    for char in also:
        text = text.replace(char, "\\" + char)
    return text


def _mac(mac: HmacSha256, callid: str, held: Mapping[str, str]) -> str:
    # One line per cookie, `name=value`, after the call id. Each part is escaped so the text reads one
    # way only: a value holding a line feed (caller data, a backend's answer) must not be signed as
    # if it were two cookies, which a forged callback could then send apart under the same seal.
    # Text without a backslash or line feed (and names without '=') is unchanged by escaping, so
    # seals made before it still verify.
    parts = [_escaped(callid)]
    for name in sorted(k for k in held if layout.is_owned(k) and k != layout.MAC_KEY):
        parts.append(f"{_escaped(name, '=')}={_escaped(str(held[name]))}")
    # surrogatepass: a malformed echoed cookie must give a MAC that does not match, not an exception.
    message = "\n".join(parts).encode("utf-8", "surrogatepass")
    digest = mac.digest(message)
    return base64.urlsafe_b64encode(digest).decode()[: layout.MAC_LENGTH]


def keys_from_env(value: str | None) -> tuple[bytes, ...]:
    """IVRC_STATE_KEY: one key, or several separated by commas (the first signs); each at least 16 characters."""
    keys = tuple(k.strip().encode() for k in (value or "").split(",") if k.strip())
    short = [i for i, k in enumerate(keys, 1) if len(k) < 16]
    if short:
        raise ValueError(f"{STATE_KEY_ENV}: key {short[0]} is shorter than 16 characters; use a long random "
                         "value, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    return keys
