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
# A conference room id from a template (`room-{{ account }}`): up to 64 characters (the language's
# limit for a written id), of the plain characters a room name needs.
CONFERENCE = re.compile(r"[A-Za-z0-9._+-]{1,64}")
WHAT = {"number": "a phone number in E.164 format", "sip": "a SIP address user@host",
        "conference": "a conference id of 1 to 64 letters, digits, '.', '_', '+' or '-'"}
_PATTERNS = {"number": E164, "sip": SIP, "conference": CONFERENCE}


def valid(kind: str, value: str) -> bool:
    """Whether the value a template gave is a destination Sinch can dial for this kind of transfer."""
    return _PATTERNS[kind].fullmatch(value) is not None
