"""Phone numbers hidden from logs and error reports: the last two digits kept, the rest masked."""
from __future__ import annotations

import re

# A phone number inside free text (an error message that quotes a caller's number, say), written
# as E.164 or with spaces, dashes, dots and brackets; mask_numbers keeps runs of fewer than 6 digits.
_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[+(]?[0-9][0-9 ().-]*[0-9](?![0-9A-Za-z])")


def mask_number(value: str) -> str:
    """Keep a leading '+' and the last two digits, mask everything else with '*'.

    "+46708168770" -> "+*********70". Values of two characters or fewer, and values not
    ending in two digits (e.g. "private", a SIP address), are masked entirely.
    """
    plus = "+" if value.startswith("+") else ""
    rest = value[len(plus):]
    tail = rest[-2:]
    if len(rest) > 2 and tail.isascii() and tail.isdigit():
        return plus + "*" * (len(rest) - 2) + tail
    return plus + "*" * len(rest)


def mask_numbers(text: str) -> str:
    """Every run of six or more digits that looks like a phone number, masked."""
    def mask(match: re.Match) -> str:
        found = match.group()
        return mask_number(found) if sum(c.isdigit() for c in found) >= 6 else found

    return _NUMBER_IN_TEXT.sub(mask, text)
