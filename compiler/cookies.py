"""The cookie layout that carries a call's state between callbacks, and its size bound."""
from __future__ import annotations

# Sinch keeps every cookie set during a call and echoes them all; keys plus values must stay
# within 1024 bytes (reference section 5.7).
LIMIT = 1024
STATE_KEY = "ivrc"  # value: flow|version|state|attempt|locale
AMD_KEY = "amd"  # outbound flows: the answering-machine verdict from the ACE
AMD_MAX = 7  # "notsure"
VAR_PREFIX = "v."
VERSION_LENGTH = 12
SEPARATOR = "|"
# The seal: a MAC over the call's state cookies under a server-side key (runtime/engine/sealing.py),
# 128 bits in unpadded base64url.
MAC_KEY = "m"
MAC_LENGTH = 22


def mac_cookie_bound() -> int:
    return len(MAC_KEY) + MAC_LENGTH


def is_owned(key: str) -> bool:
    """Whether a cookie key is one ivrc writes (and so one the seal covers)."""
    return key in (STATE_KEY, AMD_KEY, MAC_KEY, "cli", "to") or key.startswith(VAR_PREFIX)


def var_key(name: str) -> str:
    return VAR_PREFIX + name


# A repeat state's count travels like a variable named "#STATE": no author's variable can be
# called that, and one digit holds it (a repeat runs at most 10 times, so it counts to 9).
COUNTER_PREFIX = "#"
COUNTER_MAX = 1


def counter(state: str) -> str:
    return COUNTER_PREFIX + state


def state_value(flow: str, version: str, state: str, attempt: int, locale: str) -> str:
    return SEPARATOR.join((flow, version, state, str(attempt), locale))


def state_cookie_bound(flow: str, state: str, locale_max: int) -> int:
    """Bytes of the state cookie when parked in `state`: attempts stay single-digit (at most 9)."""
    value = len(flow.encode()) + VERSION_LENGTH + len(state.encode()) + 1 + locale_max + 4 * len(SEPARATOR)
    return len(STATE_KEY) + value


def var_cookie_bound(name: str, max_length: int) -> int:
    return len(var_key(name).encode()) + max_length


def amd_cookie_bound() -> int:
    return len(AMD_KEY) + AMD_MAX

# Call data that later callbacks do not repeat (PIE carries no caller or called number), kept
# in cookies only when the flow's templates use it.
CALL_KEYS = {"caller": "cli", "called": "to"}
CALL_FIELD_MAX = 32  # E.164 numbers have at most 16 characters; longer caller ids are cut


def call_cookie_bound(field: str) -> int:
    return len(CALL_KEYS[field]) + CALL_FIELD_MAX
