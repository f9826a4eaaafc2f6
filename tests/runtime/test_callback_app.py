"""The Starlette app: signed callbacks in, SVAML out; everything else refused with a clear JSON reason."""
from __future__ import annotations

import contextlib
import datetime
import json
import logging
from typing import Any, AsyncIterator, Iterator

import pytest
from callkit import ENV, KEY, OTHER_SECRET, SECRET, TUESDAY_10, TestClient, encode, fixed, signed_headers, timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivrc.runtime.emulation.svaml_check import problems
from ivrc.runtime.server.app import CALLBACK_PATH, MAX_BODY_BYTES, Settings, create_app
from ivrc.runtime.signing import Credentials

SUPPORT = "+46812345670"
CALLER = "+46701234567"


def make_client(library, **overrides: Any) -> TestClient:
    options: dict[str, Any] = {"credentials": Credentials(KEY, SECRET), "clock": fixed(TUESDAY_10), "env": ENV}
    options.update(overrides)
    return TestClient(create_app(library, Settings(**options)), raise_server_exceptions=False)


@pytest.fixture
def client(library) -> TestClient:
    return make_client(library)


def post(client: TestClient, body: Any, *, raw: bytes | None = None, moment: datetime.datetime = TUESDAY_10,
         **sign_options: Any):
    content = raw if raw is not None else encode(body)
    return client.post(CALLBACK_PATH, content=content, headers=signed_headers(content, moment, **sign_options))


def ice(sinch_body, **fields: Any) -> dict[str, Any]:
    body = sinch_body("ice", **{"cli": CALLER, **fields})
    body["to"] = {"type": "number", "endpoint": SUPPORT}
    return body


# -- signed callbacks are answered ----------------------------------------------------------------


def test_signed_ice_is_answered_with_svaml(client: TestClient, sinch_body) -> None:
    response = post(client, ice(sinch_body))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert problems(answer, "ICE") == []
    assert answer["action"]["name"] == "runMenu"


def test_reference_test_vector_is_accepted(library) -> None:
    # Reference section 6.3, byte for byte, with the clock at its x-timestamp and its path.
    moment = datetime.datetime(2014, 9, 24, 10, 59, 41, tzinfo=datetime.timezone.utc)
    client = make_client(library, clock=fixed(moment), callback_path="/sinch/callback/ace")
    body = (b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
            b'"timestamp":"2014-09-24T10:59:41Z","version":1}')
    response = client.post("/sinch/callback/ace", content=body, headers={
        "content-type": "application/json", "x-timestamp": "2014-09-24T10:59:41Z",
        "authorization": "application 669E367E-6BBA-48AB-AF15-266871C28135:"
                         "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4="})
    assert response.status_code == 200
    assert response.json() == {"instructions": [], "action": {"name": "continue"}}


def test_content_type_with_charset_is_signed_as_sent(client: TestClient, sinch_body) -> None:
    response = post(client, ice(sinch_body), content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_callid_spelt_callId_is_accepted(client: TestClient, sinch_body) -> None:
    body = ice(sinch_body)
    body["callId"] = body.pop("callid")
    assert post(client, body).status_code == 200


@pytest.mark.parametrize("event", ["dice", "notify"])
def test_dice_and_notify_get_an_empty_200(client: TestClient, sinch_body, event: str) -> None:
    response = post(client, sinch_body(event))
    assert response.status_code == 200
    assert response.content == b""


# -- refused: not signed by us --------------------------------------------------------------------


def _unauthorized(response, reason: str) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["error"], body["reason"]) == ("unauthorized", reason)
    assert body["message"]


def test_missing_authorization(client: TestClient, sinch_body) -> None:
    body = encode(ice(sinch_body))
    response = client.post(CALLBACK_PATH, content=body,
                           headers={"content-type": "application/json", "x-timestamp": timestamp(TUESDAY_10)})
    _unauthorized(response, "missing-authorization")


@pytest.mark.parametrize(("authorization", "reason"), [
    ("Application", "malformed-authorization"),
    ("Application nocolon", "malformed-authorization"),
    ("Application a:b c", "malformed-authorization"),
    ("Basic " + KEY + ":" + SECRET, "wrong-scheme"),
    ("Application 00000000-0000-0000-0000-000000000000:c2ln", "unknown-key"),
    ("Application " + KEY + ":bm90IHRoZSBzaWduYXR1cmU=", "bad-signature"),
])
def test_malformed_or_forged_authorization(client: TestClient, sinch_body, authorization: str, reason: str) -> None:
    response = client.post(CALLBACK_PATH, content=encode(ice(sinch_body)), headers={
        "content-type": "application/json", "x-timestamp": timestamp(TUESDAY_10), "authorization": authorization})
    _unauthorized(response, reason)


def test_signed_with_another_applications_key(client: TestClient, sinch_body) -> None:
    _unauthorized(post(client, ice(sinch_body), key="11111111-2222-3333-4444-555555555555"), "unknown-key")


def test_signed_with_the_wrong_secret(client: TestClient, sinch_body) -> None:
    _unauthorized(post(client, ice(sinch_body), secret=OTHER_SECRET), "bad-signature")


def test_signed_for_another_path(client: TestClient, sinch_body) -> None:
    _unauthorized(post(client, ice(sinch_body), path="/elsewhere"), "bad-signature")


def test_body_changed_after_signing(client: TestClient, sinch_body) -> None:
    headers = signed_headers(encode(ice(sinch_body)), TUESDAY_10)
    forged = encode(ice(sinch_body, cli="+46700000666"))
    _unauthorized(client.post(CALLBACK_PATH, content=forged, headers=headers), "bad-signature")


@pytest.mark.parametrize("minutes", [-10, 10, -60 * 24])
def test_stale_timestamp(client: TestClient, sinch_body, minutes: int) -> None:
    moment = TUESDAY_10 + datetime.timedelta(minutes=minutes)
    _unauthorized(post(client, ice(sinch_body), moment=moment), "stale-timestamp")


def test_timestamp_inside_the_window_is_fine(client: TestClient, sinch_body) -> None:
    assert post(client, ice(sinch_body), moment=TUESDAY_10 - datetime.timedelta(minutes=4)).status_code == 200


def _counted(client: TestClient, name: str) -> float:
    """The sum of a counter's samples whose line starts with `name` (a metric, or a metric and labels)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in client.get("/metrics").text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def test_a_duplicate_delivery_gets_the_first_answer(library, sinch_body) -> None:
    # The first answer was lost (connection closed, a load balancer retried): refusing the
    # duplicate with 401 dropped a real call. A step has no side effects: answer it again.
    client = make_client(library)
    content = encode(ice(sinch_body))
    headers = signed_headers(content, TUESDAY_10)
    first = client.post(CALLBACK_PATH, content=content, headers=headers)
    again = client.post(CALLBACK_PATH, content=content, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["content-type"] == "application/json"
    assert _counted(client, "ivrc_duplicate_requests_total") == 1
    assert _counted(client, 'ivrc_callbacks_total{event="ice"') == 1  # the flow ran once


def test_a_wall_clock_step_forward_and_back_does_not_run_a_request_twice(library, sinch_body) -> None:
    wall = [TUESDAY_10]
    client = make_client(library, clock=lambda: wall[0])
    content = encode(ice(sinch_body))
    headers = signed_headers(content, TUESDAY_10)
    first = client.post(CALLBACK_PATH, content=content, headers=headers)
    wall[0] = TUESDAY_10 + datetime.timedelta(minutes=20)  # NTP steps the clock forward ...
    _unauthorized(client.post(CALLBACK_PATH, content=content, headers=headers), "stale-timestamp")
    other = encode(ice(sinch_body, callid="another call"))
    assert client.post(CALLBACK_PATH, content=other, headers=signed_headers(other, wall[0])).status_code == 200
    wall[0] = TUESDAY_10 + datetime.timedelta(seconds=2)  # ... and back
    again = client.post(CALLBACK_PATH, content=content, headers=headers)
    assert again.status_code == 200 and again.content == first.content
    assert _counted(client, "ivrc_duplicate_requests_total") == 1
    assert _counted(client, 'ivrc_callbacks_total{event="ice"') == 2  # this call once, the other call once


def test_several_secrets_are_accepted_while_one_is_rotated(library, sinch_body) -> None:
    client = make_client(library, credentials=(Credentials(KEY, OTHER_SECRET), Credentials(KEY, SECRET)))
    assert post(client, ice(sinch_body, callid="old secret"), secret=SECRET).status_code == 200
    assert post(client, ice(sinch_body, callid="new secret"), secret=OTHER_SECRET).status_code == 200
    third = "dGhpcmQtc2VjcmV0LW5vdC1hY2NlcHRlZA=="
    _unauthorized(post(client, ice(sinch_body, callid="third"), secret=third), "bad-signature")


def test_serve_reads_several_secrets_separated_by_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    from ivrc.runtime.server.startup import ServeOptions, StartupError, credentials_from_env

    env = {"SINCH_APPLICATION_KEY": KEY, "SINCH_APPLICATION_SECRET": f"{OTHER_SECRET}, {SECRET}"}
    found = credentials_from_env(ServeOptions(paths=[]), env)
    assert [c.secret_b64 for c in found] == [OTHER_SECRET, SECRET]
    with pytest.raises(StartupError, match="not valid Base64"):
        credentials_from_env(ServeOptions(paths=[]), {**env, "SINCH_APPLICATION_SECRET": f"{SECRET},not base64!"})


def test_signature_is_checked_before_the_body_is_read_as_json(client: TestClient) -> None:
    response = client.post(CALLBACK_PATH, content=b"not json", headers={"content-type": "application/json"})
    _unauthorized(response, "missing-authorization")


# -- refused: too large, not a callback, wrong method ---------------------------------------------


def test_body_over_the_cap_with_content_length(client: TestClient) -> None:
    content = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = client.post(CALLBACK_PATH, content=content, headers=signed_headers(content, TUESDAY_10))
    assert response.status_code == 413
    assert response.json()["error"] == "payload-too-large"


def test_body_over_the_cap_chunked(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 8192

    response = client.post(CALLBACK_PATH, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["reason"] == "too-large"


def test_body_at_the_cap_is_read(client: TestClient, sinch_body) -> None:
    content = encode(ice(sinch_body))
    content = content[:-1] + b" " * (MAX_BODY_BYTES - len(content)) + b"}"
    assert len(content) == MAX_BODY_BYTES
    assert post(client, None, raw=content).status_code == 200


@pytest.mark.parametrize(("content", "reason"), [
    (b"not json", "not-json"),
    (b"\xff\xfe", "not-json"),
    (b"", "not-json"),
    (b"[1, 2]", "not-an-object"),
    (b'{"event": "ring", "callid": "c1"}', "unknown-event"),
    (b'{"callid": "c1"}', "missing-event"),
    (b'{"event": "ice"}', "missing-callid"),
    (b'{"event": "ice", "callid": ""}', "missing-callid"),
    (b'{"event": "ice", "callid": 7}', "wrong-type"),
])
def test_not_a_callback(client: TestClient, content: bytes, reason: str) -> None:
    response = post(client, None, raw=content)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "bad-request" and response.json()["reason"] == reason


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_only_post_on_the_callback_path(client: TestClient, method: str) -> None:
    response = client.request(method, CALLBACK_PATH)
    assert response.status_code == 405
    assert response.json()["error"] == "method-not-allowed"


def test_a_callback_through_the_router_gets_the_same_answer(library, sinch_body) -> None:
    # POSTs to the callback path skip Starlette's router (CallbackApp); behind a proxy's root_path
    # they go through it. Both must give the same bytes and headers.
    body = encode(ice(sinch_body, callid="same-call"))
    answers = []
    for root_path in ("", "/ivr"):
        client = make_client(library, clock=fixed(TUESDAY_10))
        if root_path:
            client = TestClient(client.app, root_path=root_path, raise_server_exceptions=False)
        response = client.post(CALLBACK_PATH, content=body,
                               headers=signed_headers(body, TUESDAY_10, path=root_path + CALLBACK_PATH))
        assert response.status_code == 200, response.text
        answers.append((response.content, response.headers["content-type"], response.headers["content-length"]))
    assert answers[0] == answers[1]
    assert answers[0][0].startswith(b'{"instructions":[{"name":"answer"}')


def test_behind_a_root_path_the_full_path_is_the_signed_one_as_servers_now_give_it(library, sinch_body) -> None:
    """uvicorn --root-path (0.26 and later) and Starlette's Mount put root_path inside `path`; it is not added twice."""
    import asyncio

    import httpx

    body = encode(ice(sinch_body, callid="behind-a-proxy"))
    app = make_client(library, clock=fixed(TUESDAY_10)).app

    async def post_it() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, root_path="/ivr")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post("/ivr" + CALLBACK_PATH, content=body,
                                   headers=signed_headers(body, TUESDAY_10, path="/ivr" + CALLBACK_PATH))

    response = asyncio.run(post_it())
    assert response.status_code == 200, response.text


# -- health, flows, metrics -----------------------------------------------------------------------


def test_healthz(client: TestClient, library) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "flows": len(library.current)}


def test_flows_lists_versions(client: TestClient, library) -> None:
    import copy

    older = copy.deepcopy(dict(library.current["support"].machine.document))
    older["version"] = "000000000001"
    library.add(older, current=False)
    listing = {entry["flow"]: entry for entry in client.get("/flows").json()["flows"]}
    assert set(listing) == set(library.current)
    for flow, loaded in library.current.items():
        assert listing[flow]["version"] == loaded.version
    assert listing["support"]["older_versions"] == ["000000000001"]
    assert listing["support"]["numbers"] == [SUPPORT] and listing["reminder"]["direction"] == "outbound"


def _metric(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_callbacks_and_rejections(client: TestClient, sinch_body) -> None:
    post(client, ice(sinch_body))
    post(client, ice(sinch_body))
    post(client, sinch_body("dice"))
    client.post(CALLBACK_PATH, content=b"{}", headers={"content-type": "application/json"})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text
    assert _metric(text, 'ivrc_callbacks_total{event="ice",flow="support",state="main_menu"}') == 2
    assert _metric(text, 'ivrc_callbacks_total{event="dice",flow="",state=""}') == 1
    assert _metric(text, 'ivrc_calls_ended_total{reason="managerhangup"}') == 1
    assert _metric(text, 'ivrc_rejected_requests_total{reason="missing-authorization"}') == 1
    assert _metric(text, "ivrc_step_seconds_count") == 3


def test_metric_labels_never_carry_cookie_or_reason_text(client: TestClient, sinch_body, library) -> None:
    version = library.current["support"].version
    junk = {"ivrc": f"support|{version}|st\ud800ate|0|en-US"}
    post(client, sinch_body("dice", reason="WEIRD\ud800", cookies=junk))
    post(client, sinch_body("notify", cookies=[{"key": "ivrc", "value": "evil\nflow|v|s\"t|0|x"}]))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "evil" not in response.text and "weird" not in response.text
    assert _metric(response.text, 'ivrc_calls_ended_total{reason="other"}') == 1


# -- development mode -------------------------------------------------------------------------------


def test_unsigned_requests_only_with_signatures_explicitly_off(library, sinch_body,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(library, credentials=None, verify_signatures=False)
    caplog.set_level(logging.WARNING, logger="ivrc.server")
    for _ in range(2):
        response = client.post(CALLBACK_PATH, content=encode(ice(sinch_body)),
                               headers={"content-type": "application/json"})
        assert response.status_code == 200
    warnings = [r for r in caplog.records if r.name == "ivrc.server" and "signature check skipped" in r.getMessage()]
    assert len(warnings) == 2


def test_signatures_on_without_credentials_is_refused(library) -> None:
    from ivrc.runtime.server.app import StartupError

    with pytest.raises(StartupError, match="credentials"):
        create_app(library, Settings(credentials=None))


# -- logs ---------------------------------------------------------------------------------------------


def test_one_json_log_line_per_callback_with_masked_numbers(client: TestClient, sinch_body,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    content = encode(ice(sinch_body))
    headers = signed_headers(content, TUESDAY_10)
    client.post(CALLBACK_PATH, content=content, headers=headers)
    client.post(CALLBACK_PATH, content=content, headers=headers)  # a duplicate: the first answer again, no new line
    post(client, sinch_body("dice"))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ivrc.callbacks"]
    assert [line["event"] for line in lines] == ["ice", "dice"]
    first = lines[0]
    assert list(first)[:9] == ["time", "level", "callid", "flow", "version", "state", "event", "outcome",
                               "duration_ms"]
    assert first["level"] == "info"
    assert (first["callid"], first["flow"], first["state"]) == ("a call id", "support", "main_menu")
    assert first["caller"] == "+*********67"
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "46701234567" not in everything
    assert SECRET not in everything
    assert headers["authorization"].split(":")[1] not in everything  # nor the signature


def test_an_error_path_is_logged_with_its_cause(client: TestClient, sinch_body,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ivrc.callbacks")
    post(client, sinch_body("ice", cli=CALLER))  # Sinch's sample calls a number no flow claims
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ivrc.callbacks"]
    assert line["outcome"] == "error" and line["error"].startswith("routing:")


# -- nothing gives a 5xx ------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
_field_values = _json | st.sampled_from(["ice", "ace", "pie", "dice", "notify", "support", SUPPORT, "main"])
_callback_like = st.fixed_dictionaries(
    {"event": st.sampled_from(["ice", "ace", "pie", "dice", "notify"]) | _json,
     "callid": st.text(min_size=1, max_size=10) | _json},
    optional={name: _field_values for name in
              ("cookies", "menuResult", "custom", "to", "cli", "amd", "reason", "type", "destination", "timestamp")},
)


@pytest.fixture(scope="module")
def fuzz_client(all_machines) -> TestClient:
    from callkit import library_of

    return make_client(library_of(*all_machines))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_callback_like, _json, st.binary(max_size=300)))
def test_no_request_body_gives_a_server_error(fuzz_client: TestClient, body: Any) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = fuzz_client.post(CALLBACK_PATH, content=content, headers=signed_headers(content, TUESDAY_10))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"] == "bad-request"
    elif response.content:
        assert problems(response.json(), json.loads(content)["event"]) == []
    assert fuzz_client.get("/metrics").status_code == 200


@contextlib.asynccontextmanager
async def _ticket_desk(sinch_body) -> AsyncIterator[tuple[Any, Any, Any]]:
    """A flow whose ICE POSTs a ticket to a loopback backend that answers after 0.3 s and reads out its status;
    yields (backend, client, deliver): deliver(after) sends the same signed ICE, byte for byte, after `after` s."""
    import asyncio

    import httpx
    from callkit import compile_flow, library_of
    from loopback_http import LoopbackServer, Seen, json_answer

    async def slow(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.3)
        writer.write(json_answer(b'{"status": "open"}'))

    async with LoopbackServer(slow) as backend:
        flow = compile_flow(f"""\
            ivrc: 1
            flow: desk
            numbers: ["{SUPPORT}"]
            start: ask
            variables:
              status: {{max_length: 8}}
            states:
              ask:
                request:
                  method: POST
                  url: "{backend.origin}/tickets"
                  body: {{caller: "{{{{ call.caller }}}}"}}
                  save: {{status: status}}
                  next: done
                  on_failure: done
              done: {{say: "Your ticket is {{{{ status }}}}.", hangup: true}}
            """)
        app = create_app(library_of(flow), Settings(credentials=Credentials(KEY, SECRET), clock=fixed(TUESDAY_10),
                                                    env=ENV))
        content = encode(ice(sinch_body))
        headers = signed_headers(content, TUESDAY_10)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ivrc") as client:
            async def deliver(after: float) -> httpx.Response:
                await asyncio.sleep(after)
                return await client.post(CALLBACK_PATH, content=content, headers=headers)

            yield backend, client, deliver


def test_a_delivery_repeated_while_the_first_waits_on_a_backend_runs_the_flow_once(sinch_body) -> None:
    """A retry that arrives while the first delivery waits on a request state gets the first one's answer:
    the flow, and its POST to the business, run once (they ran twice, each delivery for itself)."""
    import asyncio

    async def run() -> tuple[list[int], bool, int, float]:
        async with _ticket_desk(sinch_body) as (backend, client, deliver):
            answers = await asyncio.gather(deliver(0), deliver(0.1), deliver(0.15))
            metrics = (await client.get("/metrics")).text
        duplicates = next(float(line.split()[-1]) for line in metrics.splitlines()
                          if line.startswith("ivrc_duplicate_requests_total"))
        return ([a.status_code for a in answers], len({a.content for a in answers}) == 1
                and b"open" in answers[0].content, len(backend.seen), duplicates)

    statuses, same_answer, backend_requests, duplicates = asyncio.run(run())
    assert statuses == [200, 200, 200] and same_answer
    assert backend_requests == 1 and duplicates == 2


def test_when_the_first_delivery_ends_without_an_answer_one_repeat_answers_and_the_others_wait_for_it(
        sinch_body) -> None:
    """The first delivery is cancelled while it waits on the backend (a shutdown, say): every waiting repeat
    woke and ran the flow (three POSTs); now the first repeat to wake answers and the other gets its answer."""
    import asyncio

    async def run() -> tuple[list[int], bool, int]:
        async with _ticket_desk(sinch_body) as (backend, client, deliver):
            first = asyncio.create_task(deliver(0))
            repeats = [asyncio.create_task(deliver(0.05)), asyncio.create_task(deliver(0.1))]
            await asyncio.sleep(0.15)  # before the backend's answer at 0.3 s: timers of one loop fire in order
            first.cancel()
            answers = await asyncio.gather(*repeats)
            await asyncio.gather(first, return_exceptions=True)
        return ([a.status_code for a in answers], answers[0].content == answers[1].content, len(backend.seen))

    statuses, same, backend_requests = asyncio.run(run())
    assert statuses == [200, 200] and same
    assert backend_requests == 2  # the cancelled first delivery's, and one repeat's
