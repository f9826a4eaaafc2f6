"""Keys a state sends (`send_digits`, Sinch's sendDtmf): after the state's prompt, on an answered call."""
from __future__ import annotations

from callkit import TUESDAY_10, Phone, compile_flow, fixed, library_of, names

from ivrc.runtime.engine.step import Engine

FLOW = """\
ivrc: 1
flow: tones
numbers: ["+46812345870"]
start: partner
states:
  partner:
    send_digits: "1w2"
    transfer: {number: "+46812345871"}
"""


def test_keys_sent_in_the_first_answer_come_after_the_call_is_answered(sinch_body) -> None:
    phone = Phone(Engine(library_of(compile_flow(FLOW)), clock=fixed(TUESDAY_10)), sinch_body)
    answer = phone.ice("+46812345870")
    instructions = [i for i in answer.svaml["instructions"] if i["name"] != "setCookie"]
    assert instructions == [{"name": "answer"}, {"name": "sendDtmf", "value": "1w2"}]
    assert names(answer).index("answer") < names(answer).index("sendDtmf")
    assert answer.svaml["action"]["name"] == "connectPstn"
