"""Problems found in modules this suite does not own, kept as strict xfails until their owners decide."""
from __future__ import annotations

import json

import pytest

from standin import EXAMPLES


@pytest.mark.xfail(strict=True, reason="runtime/engine.py routes every non-JSON `custom` of an ACE as a flow id: "
                                       "a text-to-speech or conference callout placed with --ace and its own "
                                       "--custom (e.g. an order number) gets the error path (apology, hang-up) "
                                       "from `ivrc serve` instead of `continue`, so the caller never hears the text")
def test_an_ace_whose_custom_names_no_flow_lets_a_tts_callout_go_on() -> None:
    from runtime.engine import Engine
    from runtime.events import parse_callback
    from runtime.library import Library
    from runtime.simulate import compile_flows

    library = Library()
    for result in compile_flows([str(EXAMPLES)]):
        library.add(result.machine)
    body = {"event": "ace", "callid": "tts-1", "version": 1, "custom": "order-17",
            "amd": {"status": "human", "reason": "n/a", "duration": 1}}
    answer = Engine(library).step(parse_callback(json.dumps(body).encode()))
    assert answer.svaml == {"instructions": [], "action": {"name": "continue"}}
