"""`ivrc call` and `ivrc test --url` against a real `ivrc serve` process: signed HTTP over loopback."""
from __future__ import annotations

from reportschemas import validate_junit


def test_a_caller_leaves_a_voicemail_over_http(ivrc, served, signed) -> None:
    run = ivrc("call", served.callback, "--to", "+46812345690", "--caller", "+46701234567", "--press", "#")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "  ·  ICE: +46701234567 calls +46812345690"
    assert "  🔊 You have reached Lindqvist Plumbing. We cannot take your call right now." in lines
    # SSML is heard as its text; the beep is an audio file
    assert ("  🔊 Please leave your name, your address and a short description of the problem. "
            "Press the hash key when you are done.") in lines
    assert "  🔊 [audio https://media.example.com/ivr/beep.mp3]" in lines
    assert "  ·  recording started → s3://lindqvist-voicemail/messages/" in lines
    assert lines[-2:] == ["  🔊 Thank you. We will call you back as soon as we can. Goodbye.", "  ·  the flow hangs up"]


def test_a_transfer_shows_the_caller_id(ivrc, served, signed) -> None:
    run = ivrc("call", served.callback, "--to", "+46812345700", "--press", "123456#", "--press", "1234#",
               "--press", "0")
    assert run.code == 0, run.err
    assert "  ·  transferred to number +46812345703 with caller id +46812345700" in run.out
    assert run.out.splitlines()[-1] == "  ·  the caller hangs up"


def test_an_outbound_call_with_an_answering_machine(ivrc, served, signed) -> None:
    run = ivrc("call", served.callback, "--outbound", "--custom", '{"flow": "reminder", "vars": {"clinic": "Smile"}}',
               "--amd", "machine")
    assert run.code == 0, run.err
    assert run.out.splitlines()[:2] == ["  ·  ACE: the callout is answered (machine)",
                                        "  🔊 Hello, this is Smile. You have an appointment coming up soon."]


def test_interactive_lines_from_stdin(ivrc, served, signed) -> None:
    run = ivrc("call", served.callback, "--to", "+46812345710", stdin="3\n9\n2\nq\n")
    assert run.code == 0, run.err
    assert "  ·  menu → language_menu" in run.out  # a fused menu: Sinch moves there without a callback
    assert "  🔊 För beställningar och leveranser, tryck 1. För råd om våra produkter, tryck 2. " \
           "För att prata med kundtjänst, tryck 3. För att byta språk, tryck 9." in run.out


def test_the_number_is_required_and_the_server_says_which(ivrc, served, signed) -> None:
    run = ivrc("call", served.callback)
    assert run.code == 2
    assert "say which number the caller dials, with --to NUMBER (this server answers" in run.err
    assert "+46812345670" in run.err


def test_credentials_are_required_unless_unsigned(ivrc, served, signed, monkeypatch) -> None:
    monkeypatch.delenv("SINCH_APPLICATION_KEY")
    run = ivrc("call", served.callback, "--to", "+46812345670")
    assert run.code == 2
    assert "SINCH_APPLICATION_KEY is not set" in run.err and "--unsigned" in run.err
    unsigned = ivrc("call", served.callback, "--to", "+46812345670", "--unsigned")
    assert unsigned.code == 1
    assert "the server answered the ICE with HTTP 401" in unsigned.err
    assert "the server wants signed callbacks: drop --unsigned" in unsigned.err


def test_a_wrong_secret_is_refused(ivrc, served, signed, monkeypatch) -> None:
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", "c2VjcmV0")
    run = ivrc("call", served.callback, "--to", "+46812345670")
    assert run.code == 1
    assert "HTTP 401" in run.err and "differ from the server's" in run.err


def test_a_secret_that_is_not_base64_is_a_usage_error_not_a_crash(ivrc, signed, unused_port, monkeypatch) -> None:
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", "notbase64!")
    for args in (("call", f"http://127.0.0.1:{unused_port}/sinch/callback", "--to", "+46812345670"),
                 ("test", "examples/support.test.yaml", "--url", f"http://127.0.0.1:{unused_port}/sinch/callback")):
        run = ivrc(*args)
        assert run.code == 2, run.err
        assert "SINCH_APPLICATION_SECRET or SINCH_APPLICATION_KEY is not usable" in run.err
        assert "not valid Base64" in run.err and "internal error" not in run.err


def test_an_unreachable_server_exits_2(ivrc, signed, unused_port) -> None:
    run = ivrc("call", f"http://127.0.0.1:{unused_port}/sinch/callback", "--to", "+46812345670", "--timeout", "2")
    assert run.code == 2
    assert "could not reach" in run.err and "is the server running" in run.err


def test_the_example_scenarios_pass_against_the_live_server(ivrc, served, signed, tmp_path) -> None:
    report = tmp_path / "junit.xml"
    run = ivrc("test", "examples", "--url", served.callback, "--junit", report)
    assert run.code == 0, run.out + run.err
    validate_junit(report)  # with skipped scenarios, against the Jenkins schema
    assert "<skipped" in report.read_text(encoding="utf-8")
    assert "0 failed" in run.out
    assert "SKIP  billing during office hours (it sets `now`, and a live server runs on its own clock)" in run.out
    assert "PASS  the patient asks for reception" in run.out
    assert "coverage: not measured against a live server" in run.out
