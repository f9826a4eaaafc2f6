"""Logs and metrics never hold a secret or a caller's full phone number, whatever the calls did.

Calls run through the real app (signed HTTP in-process) with every log record captured: normal
calls on several flows, rejected and replayed requests, error paths whose cause quotes call data,
and a bug inside a step. Then the log text and /metrics are searched for each secret and number.
"""
from __future__ import annotations

import base64
import json
import logging

import pytest
from relykit import (
    ACCOUNT_PIN,
    CALLBACK_PATH,
    KEY,
    OTHER_SECRET,
    PARTNER_LINE,
    S3_CREDENTIALS,
    SECRET,
    SUPPORT,
    TUESDAY_10,
    ClientTransport,
    encode,
    example_machines,
    library_of,
    make_client,
    signed_headers,
)

from ivrc.runtime.emulation.emulator import Call

# Caller ids as Sinch may write them: E.164, without the +, national with spaces, a SIP URI.
CALLERS = ["+46701234567", "46709876543", "+1 (555) 010-4477", "sip:+46731112233@pbx.example.com"]
RAW_NUMBERS = ["46701234567", "46709876543", "5550104477", "(555) 010-4477", "46731112233"]
ACCOUNT, PIN = "912345678", "4321"

# A VIP lookup keyed by the caller's number: when the number is missing, Jinja's error quotes it.
# Lint rejects the flow (IVR083: it fails for every caller not in the table), so its machine is
# built past lint: if such a machine is ever served, its error logs must still hide the number.
VIP = """\
    ivrc: 1
    flow: vip
    numbers: ["+15550007200"]
    start: route
    states:
      route:
        branch:
          - if: '{"+46700000009": "gold"}[call.caller] == "gold"'
            goto: gold
          - else: bye
      gold:
        say: "Hello gold member."
        hangup: true
      bye:
        hangup: true
"""


def machine_lint_rejects(text: str) -> dict:
    import textwrap

    from ivrc.compiler import check_text
    from ivrc.compiler.machine import build

    result = check_text(textwrap.dedent(text), "<inline>")
    assert [d.code for d in result.errors] == ["IVR083"]
    return build(result.flow)


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    # `ivrc serve` stops the callback log from propagating; in-process it must reach caplog.
    monkeypatch.setattr(logging.getLogger("ivrc.callbacks"), "propagate", True)
    caplog.set_level(logging.DEBUG)
    return caplog


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(json.dumps(record.__dict__, default=str))
    return "\n".join(parts)


def assert_clean(text: str, signatures: list[str]) -> None:
    for secret in (SECRET, base64.b64decode(SECRET).hex(), S3_CREDENTIALS, "example-secret-key", OTHER_SECRET):
        assert secret not in text, f"a secret is in the output: {secret[:6]}..."
    for signature in signatures:
        assert signature.split(":")[-1] not in text, "a request signature is in the output"
    for number in RAW_NUMBERS + [n.lstrip("+") for n in CALLERS]:
        assert number not in text, f"a full phone number is in the output: {number}"
    assert ACCOUNT not in text and f"|{PIN}" not in text and f'"{PIN}"' not in text, "digits the caller keyed in"


def test_logs_and_metrics_after_calls_rejections_and_failures(captured: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_of(*example_machines(), machine_lint_rejects(VIP))
    client = make_client(library)
    transport = ClientTransport(client)

    for caller in CALLERS:
        Call(transport, called=SUPPORT, caller=caller).start().press("9").press("2").hangup()
        Call(transport, called=ACCOUNT_PIN, caller=caller).start().press(ACCOUNT + "#").press(PIN + "#").hangup()
        Call(transport, called=PARTNER_LINE, caller=caller).start().hangup()
        vip = Call(transport, called="+15550007200", caller=caller).start()  # the error path, quoting the number
        assert vip.heard()[-1].startswith("We are sorry")
    custom = json.dumps({"flow": "reminder", "vars": {"clinic": "Dr +46701234567"}})
    Call(transport, outbound=True, custom=custom).start().press("1")

    # Refused requests (a forged signature, the wrong secret) and a duplicate of a real request.
    body = encode({"event": "ice", "callid": "x", "cli": CALLERS[0], "to": {"type": "number", "endpoint": SUPPORT}})
    forged = {"content-type": "application/json", "x-timestamp": "2026-11-24T10:00:00Z",
              "authorization": f"Application {KEY}:{base64.b64encode(b'x' * 32).decode()}"}
    assert client.post(CALLBACK_PATH, content=body, headers=forged).status_code == 401
    wrong = signed_headers(body, TUESDAY_10, secret=OTHER_SECRET)
    assert client.post(CALLBACK_PATH, content=body, headers=wrong).status_code == 401
    good = signed_headers(body, TUESDAY_10)
    assert client.post(CALLBACK_PATH, content=body, headers=good).status_code == 200
    assert client.post(CALLBACK_PATH, content=body, headers=good).status_code == 200  # a duplicate, answered again
    transport.authorizations += [forged["authorization"], wrong["authorization"], good["authorization"]]

    # A bug inside a step whose exception quotes the caller's number: logged with its traceback, masked.
    from ivrc.runtime.engine.step import Engine

    def broken(self, loaded, call, cb, *args):
        raise KeyError(cb.caller)

    monkeypatch.setattr(Engine, "_walk", broken)
    crashed = Call(transport, called=SUPPORT, caller=CALLERS[0]).start()
    assert crashed.heard()[-1].startswith("We are sorry")
    monkeypatch.undo()

    text = everything_logged(captured)
    assert "step failed" in text and "KeyError" in text  # the cause is there ...
    assert "+*********67" in text  # ... with the number masked, as everywhere else
    lines = [json.loads(r.getMessage()) for r in captured.records if r.name == "ivrc.callbacks"]
    assert len(lines) > 40 and {line["outcome"] for line in lines} >= {"error", "menu", "hangup"}
    metrics = client.get("/metrics").text
    assert 'ivrc_errors_total{flow="vip",kind="template"} 4.0' in metrics
    assert_clean(text, transport.authorizations)
    assert_clean(metrics, transport.authorizations)
    assert_clean(json.dumps(client.get("/flows").json()) + client.get("/healthz").text, transport.authorizations)


def test_a_template_error_quoting_the_caller_is_masked(captured: pytest.LogCaptureFixture) -> None:
    """Regression: the error path logged the template's message as is, e.g. "'dict object' has no
    attribute '+46701234567'", putting the caller's full number in the log and the callback line."""
    client = make_client(library_of(machine_lint_rejects(VIP)))
    Call(ClientTransport(client), called="+15550007200", caller="+46701234567").start()
    [line] = [json.loads(r.getMessage()) for r in captured.records
              if r.name == "ivrc.callbacks" and '"event":"ice"' in r.getMessage()]
    assert line["outcome"] == "error"
    assert line["error"] == "template: condition '{\"+*********09\": \"gold\"}[call.caller] == \"gold\"' failed: " \
                            "UndefinedError: 'dict object' has no attribute '+*********67'"
    assert "46701234567" not in everything_logged(captured)
