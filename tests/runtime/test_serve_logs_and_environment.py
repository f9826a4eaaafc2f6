"""What `ivrc serve` says at start-up and how it logs: JSON lines throughout with --log-format json,
and a warning for each environment variable a flow reads that is unset."""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import httpx
from callkit import encode, example_machines, signed_headers
from ivrctest import serve_env, start_serve

from ivrc.compiler.compiled import Machine
from ivrc.runtime.server.environment import Needed, needed, unset

VOICEMAIL = "+46812345690"


def _json_lines(path: Path) -> list[dict]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    for record in records:
        assert list(record)[:2] == ["time", "level"], record
        datetime.datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
        assert record["level"] in {"debug", "info", "warning", "error", "critical"}
    return records


def test_the_flows_say_which_environment_variables_they_read() -> None:
    machines = [Machine.load(m) for m in example_machines()]
    assert needed(machines) == [Needed("VOICEMAIL_S3_CREDENTIALS", "support", "voicemail"),
                                Needed("VOICEMAIL_S3_CREDENTIALS", "voicemail", "take_message")]
    assert unset(machines, {"VOICEMAIL_S3_CREDENTIALS": "x:y:z"}) == []
    assert {n.flow for n in unset(machines, {"VOICEMAIL_S3_CREDENTIALS": "  "})} == {"voicemail", "support"}


def test_an_unset_variable_is_named_at_start_up(tmp_path: Path) -> None:
    server = start_serve(tmp_path, env=serve_env(VOICEMAIL_S3_CREDENTIALS=None))
    server.stop()
    err = server.stderr.read_text(encoding="utf-8")
    assert ("ivrc: WARNING: VOICEMAIL_S3_CREDENTIALS is not set: flow voicemail reads it in state take_message, "
            "so calls that reach that state will take the error path. Set it before starting the server.") in err


def test_json_logging_makes_every_line_json_with_time_and_level(tmp_path: Path) -> None:
    server = start_serve(tmp_path, env=serve_env(VOICEMAIL_S3_CREDENTIALS=None), extra=("--log-format", "json"))
    try:
        body = encode({"event": "ice", "callid": "json-logs", "cli": "+46701234567",
                       "to": {"type": "number", "endpoint": VOICEMAIL}})
        headers = signed_headers(body, datetime.datetime.now(datetime.timezone.utc))
        assert httpx.post(server.callback, content=body, headers=headers).status_code == 200
        unsigned = httpx.post(server.callback, content=body)  # rejected: a warning line
        assert unsigned.status_code == 401
    finally:
        server.stop()
    errors = _json_lines(server.stderr)
    loggers = {record["logger"] for record in errors}
    assert {"ivrc.serve", "uvicorn.error"} <= loggers  # ivrc's start-up lines and uvicorn's own
    assert any(r["level"] == "warning" and r["message"].startswith("VOICEMAIL_S3_CREDENTIALS is not set")
               for r in errors)
    assert any(r["level"] == "warning" and "rejected callback" in r["message"] for r in errors)
    callbacks = _json_lines(server.stdout)
    assert [r["callid"] for r in callbacks] == ["json-logs"]
