"""Text XML 1.0 can hold: reports carry flow keys, messages and transcripts that may not."""
from __future__ import annotations

import re

# XML 1.0 cannot hold most control characters (nor lone surrogates), even escaped: a parser
# rejects the whole document. A flow key or a misbehaving server may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """text with each character XML forbids replaced by U+FFFD, so the report stays readable."""
    return _NOT_XML.sub("\ufffd", text)
