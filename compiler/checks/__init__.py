"""The checks beyond the schema, each a generator of diagnostics over one flow."""
from __future__ import annotations

from typing import Callable, Iterator

from ..diagnostics import Diagnostic
from ..ir import Flow
from ..loader import Document
from . import (
    advice,
    bounds,
    controls,
    cookies,
    destinations,
    digit_patterns,
    direction,
    error_path,
    events,
    expressions,
    hours,
    menus,
    multikey,
    platform,
    prompts,
    references,
    repeats,
    requests,
    structure,
    templates,
)

Check = Callable[[Flow, Document], Iterator[Diagnostic]]

ALL: tuple[Check, ...] = (
    references.check,
    error_path.check,
    direction.check,
    structure.check,
    repeats.check,
    menus.check,
    multikey.check,
    digit_patterns.check,
    templates.check,
    bounds.check,
    expressions.check,
    prompts.check,
    hours.check,
    platform.check,
    controls.check,
    cookies.check,
    requests.check,
    events.check,
    advice.check,
    destinations.check,
)


def run_all(flow: Flow, doc: Document) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for check in ALL:
        found.extend(check(flow, doc))
    return found
