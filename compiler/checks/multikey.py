"""Menus with keys like 10: what the caller must do to end a shorter key, and no `#` option among them."""
from __future__ import annotations

from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic, Related
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    for state in flow.states:
        menu = state.action
        if not isinstance(menu, ir.Menu) or all(len(option.key) == 1 for option in menu.options):
            continue
        # Compiled to a digit collection: it ends at the longest key's length, on #, or after a pause.
        by_key = {option.key: option for option in menu.options}
        if "#" in by_key:
            longest = max(by_key, key=len)
            yield Diagnostic("IVR179", f"'#' cannot be an option of a menu with keys like '{longest}': the caller "
                                       "keys those digits, and # only ends them",
                             doc.span(by_key["#"].path, key=True),
                             related=(Related(doc.span(by_key[longest].path, key=True), f"'{longest}' is here"),),
                             help="use another key, such as * or 0, or a separate menu")
        for option in menu.options:
            longer = sorted(k for k in by_key if len(k) > len(option.key) and k.startswith(option.key) and k != "#")
            if not longer or option.key == "#":
                continue
            yield Diagnostic("IVR178", f"'{option.key}' is also how '{longer[0]}' begins: a caller who wants "
                                       f"'{option.key}' must press # after it, or wait {menu.timeout} seconds",
                             doc.span(option.path, key=True),
                             related=tuple(Related(doc.span(by_key[k].path, key=True), f"'{k}' is here")
                                           for k in longer),
                             help=f"say so in the prompt (\"press {option.key} and then the hash key\"), or give "
                                  f"it a key that starts no other, such as '{_free(option.key, by_key)}'")


def _free(key: str, keys: dict) -> str:
    """A key of the same length that is no other option and starts none."""
    for digit in "0123456789":
        candidate = key[:-1] + digit
        if candidate not in keys and not any(k.startswith(candidate) for k in keys):
            return candidate
    return key + "#"
