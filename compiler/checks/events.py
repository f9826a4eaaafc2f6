"""A flow's own call-events receiver: a URL written out in full, over https (or http on loopback)."""
from __future__ import annotations

from typing import Iterator

from .. import ir, request_url
from ..diagnostics import Diagnostic
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    if flow.events is None:
        return
    url = flow.events.url
    span = doc.span(flow.events.path + ("url",))
    if "{" in url:
        # Events are sent after the call, with no call to render a template for: the URL is fixed.
        yield Diagnostic("IVR147", f"events URL {url!r} holds a template; the receiver's URL is written out in full",
                         span, help="write one fixed URL, e.g. https://hooks.example.com/ivrc/calls")
        return
    try:
        parsed = request_url.parse(url)
    except request_url.UrlProblem as problem:
        yield Diagnostic("IVR147", f"events URL {url!r}: {problem}", span,
                         help="write the receiver's URL in full, e.g. https://hooks.example.com/ivrc/calls")
        return
    if parsed.scheme == "http" and not parsed.loopback:
        yield Diagnostic("IVR147", f"{parsed.origin} is plain http: the call's reported variables would cross the "
                                   "network unencrypted", span,
                         help=f"use https://{parsed.host}; http is allowed only for loopback hosts (localhost, 127.0.0.1)")
