"""Inbound or outbound: a flow answers its `numbers` or places calls with `outbound`, never both."""
from __future__ import annotations

from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic, Related
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    if flow.outbound is not None and flow.numbers:
        yield Diagnostic("IVR016", "an outbound flow has no `numbers`: it places calls rather than answering them",
                         doc.span(("numbers",), key=True),
                         related=(Related(doc.span(("outbound",), key=True), "the flow is outbound here"),),
                         help="remove `numbers`, or remove `outbound` if this flow answers calls to them")
