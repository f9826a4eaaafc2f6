"""Transfer destinations written as templates: what a call's value must be before Sinch dials it."""
from __future__ import annotations

import re

# The same E.164 rule as a literal `number:` (flow schema, IVR050), so a value from a variable
# is held to what a written number is.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
E164_LONGEST = 16
# Stricter than a literal `sip:` (which lint reads): a value from a backend or a caller gets only
# what RFC 3261 allows in a user part, a host name or IPv4 address, and an optional port.
SIP = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=%-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?")
WHAT = {"number": "a phone number in E.164 format", "sip": "a SIP address user@host"}


def valid(kind: str, value: str) -> bool:
    """Whether the value a template gave is a destination Sinch can dial for this kind of transfer."""
    pattern = E164 if kind == "number" else SIP
    return pattern.fullmatch(value) is not None
