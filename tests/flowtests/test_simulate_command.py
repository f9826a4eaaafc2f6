"""`ivrc simulate`: a flow in-process, scripted from options or from lines on stdin."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


def test_scripted_voicemail_in_the_support_flow(ivrc) -> None:
    run = ivrc("simulate", "examples/support.yaml", "--now", "2026-03-03T10:00", "--press", "3", "--press", "#")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "  ·  ICE: +46700000001 calls +46812345670"
    assert "  🔊 Welcome to Acme support." in lines
    assert "  ☎  presses 3" in lines
    assert "  ·  recording started → s3://acme-voicemail/support/" in lines
    assert any(line.startswith("  ·  recording stopped; Sinch stores it at s3://acme-voicemail/support/")
               for line in lines)
    assert lines[-2:] == ["  🔊 Thank you for calling Acme. Goodbye.", "  ·  the flow hangs up"]
    assert "the flow read VOICEMAIL_S3_CREDENTIALS from the server's environment" in run.err


def test_env_values_replace_placeholders(ivrc) -> None:
    run = ivrc("simulate", "examples/support.yaml", "--now", "2026-03-03T10:00", "--env",
               "VOICEMAIL_S3_CREDENTIALS=a:b:c", "--press", "3", "--hangup")
    assert run.code == 0
    assert "placeholder" not in run.err
    assert run.out.splitlines()[-2:] == ["  ·  the caller hangs up",
                                         "  ·  recording stopped; Sinch stores it at "
                                         + run.out.split("Sinch stores it at ")[1].splitlines()[0]]


def test_the_clock_decides_business_hours(ivrc) -> None:
    closed = ivrc("simulate", "examples/support.yaml", "--now", "2026-12-24T10:00+01:00")
    assert "  🔊 Our office is closed. We are open weekdays from 9 to 17." in closed.out
    assert ivrc("simulate", "examples/support.yaml", "--now", "yesterday").code == 2


def test_an_outbound_flow_starts_with_the_answered_callout(ivrc) -> None:
    run = ivrc("simulate", "examples", "--flow", "reminder", "--var", "clinic=Bright Smile",
               "--var", "appointment_time=tomorrow at 9", "--say", "yes")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "  ·  ACE: the callout is answered (human)"
    assert "  🔊 Hello, this is Bright Smile. You have an appointment tomorrow at 9." in lines
    assert "  ☎  says 'yes'" in lines
    assert "  🔊 Thank you, your appointment is confirmed. See you then. Goodbye." in lines
    machine = ivrc("simulate", "examples", "--flow", "reminder", "--amd", "machine")
    assert "  🔊 To change or cancel it, please call us back on this number. Goodbye." in machine.out


def test_a_folder_is_routed_by_number(ivrc) -> None:
    run = ivrc("simulate", "examples", "--to", "+46812345711")
    assert run.code == 0
    assert "  🔊 Welcome to the Fjord Outdoor partner line. A partner manager will be with you shortly." in run.out
    assert "  ·  parked (on hold for up to 600 s)" in run.out
    several = ivrc("simulate", "examples")
    assert several.code == 2
    assert "several flows; choose one with --to NUMBER or --flow ID" in several.err
    assert "support (+46812345670)" in several.err and "reminder (outbound)" in several.err


def test_lines_from_stdin_when_it_is_not_a_terminal(ivrc) -> None:
    run = ivrc("simulate", "examples/multilingual.yaml", stdin="2\n\nbanana\nq\n")
    assert run.code == 0
    lines = run.out.splitlines()
    assert "  ☎  presses 2" in lines
    assert "  ☎  stays silent" in lines
    assert "  🔊 Förlåt, jag hörde inget val." in lines
    assert lines[-1] == "  ·  the caller hangs up"
    assert "not understood: 'banana'" in run.err


def test_keys_the_call_cannot_take_exit_1(ivrc) -> None:
    run = ivrc("simulate", "examples/account_pin.yaml", "--press", "123456#", "--press", "1234#", "--press", "2",
               "--press", "5", "--stub", 'verify={"status": 200, "json": {"holder": "Ada"}}')
    assert run.code == 1
    assert "  ·  transferred to number +46812345702" in run.out
    assert "the caller cannot do this: pressed '5' but nothing is listening for keys (the call was transferred)" in run.err


def test_bad_keys_and_broken_flows(ivrc, workspace) -> None:
    assert ivrc("simulate", "examples/support.yaml", "--press", "12a").code == 2
    broken = workspace("broken.yaml", "ivrc: 1\nflow: broken\nstart: nowhere\nstates:\n  a:\n    hangup: true\n")
    run = ivrc("simulate", broken)
    assert run.code == 1
    assert "IVR" in run.err and "fix them before simulating" in run.err


def test_interactive_mode_on_a_terminal() -> None:
    """A person at a terminal: a prompt says what the call waits for; keys, an empty line, q."""
    pty = pytest.importorskip("pty")
    import os
    import select
    import time

    repo = Path(__file__).resolve().parents[2]
    pid, fd = pty.fork()
    if pid == 0:  # the child: ivrc on the terminal, and never back into pytest
        try:
            os.chdir(repo)
            os.execv(sys.executable, [sys.executable, "-m", "ivrc", "simulate", "examples/support.yaml",
                                      "--now", "2026-03-03T10:00"])
        finally:
            os._exit(127)
    seen = b""

    def until(text: bytes, timeout: float = 15.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        assert text in seen, seen.decode(errors="replace")

    try:
        until(b"[waiting for keys] > ")
        os.write(fd, b"7\n")
        until(b"Sorry, that is not an option.")
        until(b"[waiting for keys] > ")
        os.write(fd, b"q\n")
        until(b"the caller hangs up")
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"For billing, press 1." in seen


def test_a_call_that_takes_the_error_path_exits_1(ivrc, tmp_path) -> None:
    flow = tmp_path / "fails.yaml"
    flow.write_text('ivrc: 1\nflow: fails\nnumbers: ["+46812349603"]\nstart: ask\nstates:\n'
                    '  ask:\n    request: {url: "https://x.example.com/a", next: bye}\n'
                    '  bye: {say: "Bye.", hangup: true}\n')
    run = ivrc("simulate", str(flow))
    assert run.code == 1 and "the call took the flow's error path" in run.err
    assert ivrc("simulate", str(flow), "--stub", 'ask={"json": {}}').code == 0


def test_keys_pressed_in_a_conference_reach_the_flow(ivrc) -> None:
    run = ivrc("simulate", "examples/concierge.yaml", "--press", "2", "--press", "*1", "--press", "#",
               "--stub", 'identify={"status": 404, "json": {}}')
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert "  ·  transferred to conference harbor-advisers, keys pressed reach the flow" in lines
    assert "  ·  PIE: keys '*1' pressed in the conference" in lines
    assert "  🔊 Press star 0 for the duty adviser, or hash to leave the meeting." in lines
    assert lines[-2:] == ["  🔊 You have left the meeting. Goodbye.", "  ·  the flow hangs up"]


def test_a_recognised_caller_is_streamed_with_the_account_header(ivrc) -> None:
    run = ivrc("simulate", "examples/concierge.yaml", "--caller", "+46701234567",
               "--stub", 'identify={"status": 200, "json": {"caller": {"account": "123456"}}}')
    assert run.code == 0, run.err
    assert ("  ·  transferred to stream wss://assistant.harborbank.example/calls, headers X-Account: 123456, "
            "X-Line: advice") in run.out.splitlines()


def test_a_conference_room_from_a_template_is_filled_in_and_checked(ivrc, tmp_path) -> None:
    flow = tmp_path / "room.yaml"
    flow.write_text('ivrc: 1\nflow: room\nnumbers: ["+46812349604"]\nstart: ask\nstates:\n'
                    '  ask:\n    collect: {prompt: "Account?", into: account, max_digits: 6, next: meet,'
                    ' no_input: {say: "No."}, invalid: {say: "Bad."}}\n'
                    '  meet:\n    transfer: {conference: "room-{{ account }}", on_invalid: bye}\n'
                    '  bye: {say: "Sorry, no room.", hangup: true}\n')
    run = ivrc("simulate", str(flow), "--press", "123456")
    assert run.code == 0 and "  ·  transferred to conference room-123456" in run.out.splitlines()
    machine = ivrc("compile", str(flow), "-o", str(tmp_path / "m.json"))
    action = json.loads((tmp_path / "m.json").read_text())["states"]["meet"]["action"]
    assert machine.code == 0 and action["conferenceId"] == {"$destination": {"kind": "conference",
                                                                            "template": "room-{{ account }}"}}


def test_a_var_the_flow_does_not_declare_is_a_usage_error(ivrc) -> None:
    run = ivrc("simulate", "examples/reminder.yaml", "--var", "clinc=Smile Dental")
    assert run.code == 2 and "--var clinc: flow reminder declares no such variable; did you mean 'clinic'?" in run.err
