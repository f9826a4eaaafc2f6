"""Flow tests and simulations never reach the network: request states get stubs, and a missing stub is named."""
from __future__ import annotations

from pathlib import Path

import pytest

FLOW = """\
ivrc: 1
flow: orders
numbers: ["+46812345790"]
start: ask
variables:
  status: {max_length: 12}
states:
  ask:
    collect: {prompt: "Your order number?", into: order, max_digits: 6, next: look_up, no_input: bye, invalid: bye}
  look_up:
    request:
      url: "https://orders.example.com/v1/orders/{{ order }}"
      query: {lang: "{{ locale }}"}
      save: {status: order.status}
      next: tell
      on_status: {404: unknown}
      on_failure: bye
  tell: {say: "It is {{ status }}.", hangup: true}
  unknown: {say: "No such order.", hangup: true}
  bye: {say: "Goodbye.", hangup: true}
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(FLOW)
    return path


def scenarios(flow: Path, text: str) -> Path:
    path = flow.parent / "orders.test.yaml"
    path.write_text("flow: orders.yaml\nscenarios:\n" + text)
    return path


def test_a_request_without_a_stub_fails_the_scenario_and_names_the_state(ivrc, flow: Path) -> None:
    path = scenarios(flow, "  - name: no stub\n    steps:\n      - press: '123456'\n      - expect: It is\n")
    run = ivrc("test", path)
    assert run.code == 1
    assert "state 'look_up' made a request the scenario does not stub" in run.out
    assert "requests: {look_up: {status: 200, json: {...}}}" in run.out


def test_expect_request_checks_what_was_sent(ivrc, flow: Path) -> None:
    path = scenarios(flow, """\
  - name: sent right
    requests: {look_up: {json: {order: {status: shipped}}}}
    steps:
      - press: "123456"
      - expect_request: {state: look_up, method: get, path: /v1/orders/123456, query: {lang: en-US}}
      - expect: It is shipped.
  - name: sent wrong
    requests: {look_up: {json: {order: {status: shipped}}}}
    steps:
      - press: "123456"
      - expect_request: {path: /v1/orders/654321}
""")
    run = ivrc("test", path)
    assert run.code == 1
    assert "PASS  sent right" in run.out and "FAIL  sent wrong" in run.out
    assert "expected a request path '/v1/orders/654321', but the flow sent: GET /v1/orders/123456 (state look_up)" \
        in run.out


def test_a_caller_cannot_add_a_path_segment_to_the_url(ivrc, flow: Path) -> None:
    flow.write_text(FLOW.replace("max_digits: 6,", "max_digits: 6, pattern: '[0-9*]+',"))
    path = scenarios(flow, """\
  - name: a star is encoded
    requests: {look_up: {status: 404}}
    steps:
      - press: "12*3"
      - expect_request: {path: /v1/orders/12%2A3}
      - expect: No such order.
""")
    run = ivrc("test", path)
    assert run.code == 0, run.out + run.err


@pytest.mark.parametrize(("stub", "message"), [
    ("{look_up: {status: 99}}", "`status` is an HTTP status from 100 to 599, found 99"),
    ("{look_up: {error: crash}}", "`error` is one of timeout, connection, found 'crash'"),
    ("{look_up: {json: {}, body: x}}", "give `json` or `body`, not both"),
    ("{look_up: {statuz: 200}}", "unknown key 'statuz'"),
])
def test_a_stub_written_wrong_is_explained_with_its_position(ivrc, flow: Path, stub: str, message: str) -> None:
    path = scenarios(flow, f"  - name: bad stub\n    requests: {stub}\n    steps:\n      - press: '123456'\n")
    run = ivrc("test", path)
    assert run.code == 2
    assert "orders.test.yaml:4:" in run.err and message in run.err


def test_simulate_takes_stubs_and_says_which_request_had_none(ivrc, flow: Path) -> None:
    run = ivrc("simulate", flow, "--press", "123456")
    assert "state 'look_up' made a request with no stub, so it took its failure path" in run.err
    assert "  🔊 Goodbye." in run.out
    stubbed = ivrc("simulate", flow, "--press", "123456", "--stub", 'look_up={"json": {"order": {"status": "late"}}}')
    assert "  🔊 It is late." in stubbed.out
    bad = ivrc("simulate", flow, "--stub", "look_up={not json")
    assert bad.code == 2 and "--stub look_up: not JSON" in bad.err


@pytest.mark.parametrize("text", ["look_up:\n  - {status: 404}\n", "requests:\n  look_up:\n    - {status: 404}\n"],
                         ids=["stubs", "a-scenarios-requests-block"])
def test_simulate_reads_a_stubs_file(ivrc, flow: Path, text: str) -> None:
    stubs = flow.parent / "stubs.yaml"
    stubs.write_text(text)
    run = ivrc("simulate", flow, "--press", "123456", "--stubs", stubs)
    assert "  🔊 No such order." in run.out, run.err


def test_a_stubs_file_for_a_request_state_named_requests_is_read_as_that_states_stub(ivrc, tmp_path: Path) -> None:
    flow = tmp_path / "named.yaml"
    flow.write_text("""\
ivrc: 1
flow: named
numbers: ["+46812345794"]
start: requests
variables:
  status: {max_length: 8}
states:
  requests:
    request: {url: "https://api.example.com/status", save: {status: status}, next: bye, on_failure: bye}
  bye: {say: "Status {{ status }}.", hangup: true}
""")
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text("requests: {json: {status: ok}}\n")
    run = ivrc("simulate", flow, "--stubs", stubs)
    assert "  🔊 Status ok." in run.out, run.out + run.err


def test_simulate_names_a_stub_for_a_state_that_makes_no_request(ivrc, flow: Path) -> None:
    """A misspelt --stub was accepted and made no difference: the request went unstubbed."""
    run = ivrc("simulate", flow, "--press", "123456", "--stub", 'lookup={"json": {}}')
    assert run.code == 2
    assert "a stub is given for 'lookup', which is no request state of the flows simulated" in run.err
    assert "look_up" in run.err


TWO_REQUESTS = """\
ivrc: 1
flow: chain
numbers: ["+46812341401"]
start: one
states:
  one:
    request: {url: "https://api.example.com/one", timeout: 2, next: two, on_failure: fail_one}
  two:
    request: {url: "https://api.example.com/two", timeout: 2, next: ok, on_failure: fail_two}
  ok: {say: "Both answered.", hangup: true}
  fail_one: {say: "The first failed.", hangup: true}
  fail_two: {say: "The second failed.", hangup: true}
"""


@pytest.mark.parametrize("delays, heard", [((1.0, 1.5), "Both answered."),  # 2.5 s of the callback's 3 s
                                           ((1.9, 1.9), "The second failed."),  # cut short at 1.1 s left
                                           ((1.9, 0.5), "Both answered.")])
def test_stubbed_delays_share_the_callbacks_budget_as_on_the_server(ivrc, tmp_path: Path, delays, heard) -> None:
    (tmp_path / "chain.yaml").write_text(TWO_REQUESTS)
    (tmp_path / "chain.test.yaml").write_text(
        "flow: chain.yaml\nscenarios:\n  - name: timed\n"
        f"    requests: {{one: {{delay: {delays[0]}, json: {{}}}}, two: {{delay: {delays[1]}, json: {{}}}}}}\n"
        f"    steps:\n      - expect: {heard}\n      - expect_end: hangup\n")
    run = ivrc("test", tmp_path / "chain.test.yaml")
    assert run.code == 0, run.out + run.err


def test_a_stub_for_a_state_that_makes_no_request_is_named_with_a_suggestion(ivrc, flow: Path) -> None:
    path = scenarios(flow, "  - name: typo\n    requests: {look_pu: {json: {}}}\n    steps:\n"
                           "      - press: '123456'\n")
    run = ivrc("test", path)
    assert run.code == 1
    assert "`requests` stubs 'look_pu', which is not a state of flow orders; did you mean 'look_up'?" in run.out
    path = scenarios(flow, "  - name: not a request\n    requests: {tell: {json: {}}}\n    steps:\n"
                           "      - press: '123456'\n")
    assert "`requests` stubs 'tell', which makes no request of flow orders" in ivrc("test", path).out


def test_nested_body_keys_match_as_a_subset_and_a_mismatch_shows_what_was_sent(ivrc, tmp_path: Path) -> None:
    (tmp_path / "post.yaml").write_text(FLOW.replace(
        'query: {lang: "{{ locale }}"}', 'method: POST\n      body: {order: {id: "{{ order }}", lang: "{{ locale }}"}}'))
    (tmp_path / "post.test.yaml").write_text("""\
flow: post.yaml
scenarios:
  - name: nested subset
    requests: {look_up: {json: {order: {status: shipped}}}}
    steps:
      - press: "123456"
      - expect_request: {state: look_up, body: {order: {id: "123456"}}}
  - name: nested mismatch
    requests: {look_up: {json: {order: {status: shipped}}}}
    steps:
      - press: "123456"
      - expect_request: {state: look_up, body: {order: {id: "999999"}}}
""")
    run = ivrc("test", tmp_path / "post.test.yaml")
    assert run.code == 1 and "1 passed, 1 failed" in run.out
    assert 'with body {"order": {"id": "123456", "lang": "en-US"}}' in run.out


@pytest.mark.parametrize("value", ["..", ".", ""])
def test_a_value_that_would_make_a_dot_or_empty_path_segment_is_never_sent(ivrc, tmp_path: Path, value: str) -> None:
    """'..' from a backend's answer or a SIP caller id (a keypad cannot type one), or an empty value, would
    change which resource the path names ('/../', '//'; percent-encoding the dots does not help: URL
    parsers resolve %2E%2E as '..'). The request is not sent and the state takes its failure path."""
    flow = tmp_path / "climb.yaml"
    flow.write_text(f"""\
ivrc: 1
flow: climb
numbers: ["+46812345791"]
start: pick
variables:
  segment: {{max_length: 4}}
  status: {{max_length: 12}}
states:
  pick: {{set: {{segment: "{value}"}}, next: look_up}}
  look_up:
    request:
      url: "https://orders.example.com/v1/orders/{{{{ segment }}}}/status"
      save: {{status: status}}
      next: bye
      on_failure: refused
  inside:
    request:
      url: "https://orders.example.com/v1/orders/x{{{{ segment }}}}/status"
      save: {{status: status}}
      next: bye
      on_failure: bye
  refused: {{say: "Not sent.", next: inside}}
  bye: {{say: "Goodbye.", hangup: true}}
""")
    (tmp_path / "climb.test.yaml").write_text(f"""\
flow: climb.yaml
scenarios:
  - name: the whole segment is refused, inside a segment the value is a name
    requests: {{inside: {{json: {{status: ok}}}}}}
    steps:
      - expect: Not sent.
      - expect_request: {{state: inside, path: "/v1/orders/x{value}/status"}}
      - expect: Goodbye.
""")
    run = ivrc("test", tmp_path / "climb.test.yaml")
    assert run.code == 0, run.out + run.err


# (A value completing an escape written in the URL, '%2{{ a }}' with a = 'E', is refused by lint: IVR149.)
@pytest.mark.parametrize("path, value", [("/v1/orders/{{ segment }}%2E/status", "."),
                                         ("/v1/orders/%2E{{ segment }}/status", "."),
                                         ("/v1/orders/{{ segment }}/status", "%2e%2E")])
def test_a_dot_segment_made_with_percent_escapes_is_never_sent_either(ivrc, tmp_path: Path, path: str,
                                                                     value: str) -> None:
    """'.%2E' and '%2E.' are '..' to URL parsers as well. (A value's own '%' is encoded, so '%2e%2E' from a
    backend stays a name and is sent.)"""
    (tmp_path / "climb.yaml").write_text(f"""\
ivrc: 1
flow: climb
numbers: ["+46812345791"]
start: pick
variables:
  segment: {{max_length: 8}}
  status: {{max_length: 12}}
states:
  pick: {{set: {{segment: "{value}"}}, next: look_up}}
  look_up:
    request:
      url: "https://orders.example.com{path}"
      save: {{status: status}}
      next: bye
      on_failure: refused
  refused: {{say: "Not sent.", hangup: true}}
  bye: {{say: "Goodbye.", hangup: true}}
""")
    sent = value == "%2e%2E"
    (tmp_path / "climb.test.yaml").write_text(f"""\
flow: climb.yaml
scenarios:
  - name: sent only when the segment is a name
    requests: {{look_up: {{json: {{status: ok}}}}}}
    steps:
      - expect: {"Goodbye." if sent else "Not sent."}
""")
    run = ivrc("test", tmp_path / "climb.test.yaml")
    assert run.code == 0, run.out + run.err


def test_coverage_names_the_error_path_where_a_failed_request_goes_to_it(ivrc, tmp_path: Path) -> None:
    """It printed '--failure--> (end of call)' though the flow's on_error goes on in a state of its own."""
    (tmp_path / "desk.yaml").write_text("""\
ivrc: 1
flow: desk
numbers: ["+46812345792"]
start: look_up
on_error: {goto: agent}
states:
  look_up:
    request: {url: "https://orders.example.com/v1/status", next: bye}
  agent: {transfer: {number: "+46812345793"}}
  bye: {say: "Goodbye.", hangup: true}
""")
    (tmp_path / "desk.test.yaml").write_text("""\
flow: desk.yaml
scenarios:
  - name: answered
    requests: {look_up: {json: {}}}
    steps:
      - expect: Goodbye.
""")
    run = ivrc("test", tmp_path / "desk.test.yaml")
    assert "transition never taken: look_up --failure--> (the flow's error path)" in run.out, run.out
