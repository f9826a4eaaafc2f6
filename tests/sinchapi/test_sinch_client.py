"""runtime.sinch_api against the stand-in: every method, both auth schemes, hosts and regions, errors and retries."""
from __future__ import annotations

import socket

import httpx
import pytest
from standin import KEY, SECRET, SinchStandIn, fixture

from ivrc.runtime.signing import Credentials
from ivrc.runtime.sinch.api import ApiError, ApiUnreachable, SinchApi, hosts

CALLOUTS = "/calling/v1/callouts"


# -- hosts and regions ------------------------------------------------------------------------------


@pytest.mark.parametrize("region, url", [
    ("global", "https://calling.api.sinch.com"), ("use1", "https://calling-use1.api.sinch.com"),
    ("euc1", "https://calling-euc1.api.sinch.com"), ("apse1", "https://calling-apse1.api.sinch.com"),
    ("apse2", "https://calling-apse2.api.sinch.com"), ("sae1", "https://calling-sae1.api.sinch.com"),
])
def test_regions_choose_the_traffic_host_and_configuration_stays_global(region: str, url: str) -> None:
    assert hosts(region, env={}) == hosts(env={"SINCH_REGION": region})
    assert hosts(region, env={}).traffic == url
    assert hosts(region, env={}).config == "https://callingapi.sinch.com"


def test_urls_come_from_options_then_the_environment() -> None:
    env = {"SINCH_API_URL": "http://127.0.0.1:9/", "SINCH_CONFIG_API_URL": "http://127.0.0.1:8"}
    assert hosts(env=env) == hosts(api_url="http://127.0.0.1:9", config_url="http://127.0.0.1:8", env={})
    assert hosts(api_url="http://other:1", env=env).traffic == "http://other:1"


@pytest.mark.parametrize("kwargs, message", [
    ({"region": "mars1"}, "unknown region 'mars1'"),
    ({"api_url": "calling.api.sinch.com"}, "should look like https://host"),
    ({"config_url": "https://callingapi.sinch.com/?x=1"}, "should look like https://host"),
])
def test_bad_hosts_are_refused_with_the_choices(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        hosts(env={}, **kwargs)
    if "region" in kwargs:
        assert "euc1 (Europe)" in str(info.value)


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": 121}, {"retries": 9}, {"auth": "oauth"}])
def test_limits_are_bounded(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SinchApi(Credentials(KEY, SECRET), env={}, **kwargs)


def test_credentials_come_from_the_environment() -> None:
    with pytest.raises(ValueError, match="SINCH_APPLICATION_SECRET is not set"):
        SinchApi.from_env({"SINCH_APPLICATION_KEY": KEY})
    with SinchApi.from_env({"SINCH_APPLICATION_KEY": KEY, "SINCH_APPLICATION_SECRET": SECRET}) as api:
        assert api.application_key == KEY and SECRET not in repr(api.credentials)


# -- every method ---------------------------------------------------------------------------------------


def test_callout_returns_the_call_id_and_is_signed(api: SinchApi, standin: SinchStandIn) -> None:
    call_id = api.callout(fixture("ttsCallout"))
    assert call_id in standin.calls
    sent = standin.made("POST", CALLOUTS)[0]
    assert sent.auth == "signed" and sent.host == "traffic"
    assert sent.headers["authorization"].startswith(f"Application {KEY}:")
    assert sent.headers["content-type"] == "application/json"


def test_call_information_update_and_hangup(api: SinchApi, standin: SinchStandIn) -> None:
    standin.add_call("call-1", to="+46812345670", custom="reminder")
    info = api.call("call-1")
    assert info["callId"] == "call-1" and info["to"]["endpoint"] == "+46812345670" and info["status"] == "ONGOING"
    api.update_call("call-1", {"instructions": [{"name": "say", "text": "One moment.", "locale": "en-US"}],
                               "action": {"name": "continue"}})
    api.hangup("call-1")
    patches = standin.made("PATCH", "/calling/v1/calls/id/call-1")
    assert [p.body["action"]["name"] for p in patches] == ["continue", "hangup"]
    assert patches[1].body == {"instructions": [], "action": {"name": "hangup"}}
    assert all(p.auth == "signed" for p in patches)
    assert api.call("call-1")["status"] == "FINAL"


def test_ids_in_paths_are_escaped(api: SinchApi, standin: SinchStandIn) -> None:
    standin.add_call("a/b c")
    assert api.call("a/b c")["callId"] == "a/b c"
    assert standin.requests[-1].path == "/calling/v1/calls/id/a%2Fb%20c"  # and the signature covered that path
    with pytest.raises(ValueError, match="call id must not be empty"):
        api.call(" ")


def test_conference_information_and_participant_control(api: SinchApi, standin: SinchStandIn) -> None:
    standin.conferences["fjord-product-advice"] = [
        {"cli": "+46700000001", "id": "leg-1", "duration": 30, "muted": False, "onhold": False},
        {"cli": "+46700000002", "id": "leg-2", "duration": 12, "muted": False, "onhold": False},
        {"cli": "+46700000003", "id": "leg-3", "duration": 5, "muted": False, "onhold": False}]
    assert [p["id"] for p in api.conference("fjord-product-advice")["participants"]] == ["leg-1", "leg-2", "leg-3"]
    api.mute("fjord-product-advice", "leg-1")
    assert api.conference("fjord-product-advice")["participants"][0]["muted"] is True
    api.unmute("fjord-product-advice", "leg-1")
    assert api.conference("fjord-product-advice")["participants"][0]["muted"] is False
    assert [r.body for r in standin.made("PATCH", "/calling/v1/conferences/id/fjord-product-advice")] == [
        {"command": "mute"}, {"command": "unmute"}]
    api.kick("fjord-product-advice", "leg-2")
    assert [p["id"] for p in api.conference("fjord-product-advice")["participants"]] == ["leg-1", "leg-3"]
    api.kick_all("fjord-product-advice")
    assert api.conference("fjord-product-advice") == {"participants": []}


def test_numbers_and_assignment_go_to_the_configuration_host(api: SinchApi, standin: SinchStandIn) -> None:
    standin.own("+46812345670", "+46812345690")
    assert [n["number"] for n in api.numbers()] == ["+46812345670", "+46812345690"]
    api.assign_numbers(["+46812345670"])
    assert standin.numbers["+46812345670"]["applicationkey"] == KEY
    sent = standin.made("POST", "/v1/configuration/numbers")[0]
    assert sent.host == "config" and sent.auth == "signed"
    assert sent.body == {"numbers": ["+46812345670"], "applicationkey": KEY, "capability": "voice"}
    api.unassign_number("+46812345670")
    assert "applicationkey" not in standin.numbers["+46812345670"]
    assert standin.made("DELETE", "/v1/configuration/numbers")[0].body == {
        "number": "+46812345670", "applicationkey": KEY, "capability": "voice"}


def test_callback_urls(api: SinchApi, standin: SinchStandIn) -> None:
    assert api.callback_urls() == {}
    api.set_callback_urls("https://ivr.example.com/sinch/callback")
    assert api.callback_urls() == {"primary": "https://ivr.example.com/sinch/callback"}
    api.set_callback_urls("https://ivr2.example.com/sinch/callback", "https://backup.example.com/sinch/callback")
    assert api.callback_urls() == {"primary": "https://ivr2.example.com/sinch/callback",
                                   "fallback": "https://backup.example.com/sinch/callback"}
    sent = standin.made("POST", f"/v1/configuration/callbacks/applications/{KEY}")
    assert sent[0].body == {"url": {"primary": "https://ivr.example.com/sinch/callback"}}
    assert {r.host for r in standin.requests} == {"config"}


def test_basic_authentication_when_chosen(standin: SinchStandIn) -> None:
    with SinchApi(Credentials(KEY, SECRET), api_url=standin.traffic_url, config_url=standin.config_url,
                  auth="basic", env={}) as api:
        api.callout(fixture("conferenceCallout"))
        assert api.callback_urls() == {}
    assert [r.auth for r in standin.requests] == ["basic", "basic"]
    assert all("x-timestamp" not in r.headers for r in standin.requests)


def test_basic_authentication_refused_where_only_signed_requests_are_taken() -> None:
    with SinchStandIn(accept_basic=False) as standin, SinchApi(
            Credentials(KEY, SECRET), api_url=standin.traffic_url, auth="basic", env={}) as api:
        with pytest.raises(ApiError) as info:
            api.callout(fixture("ttsCallout"))
    assert info.value.status == 401 and info.value.error_code == "40301"


def test_a_base_url_with_a_prefix_is_signed_with_the_full_path(standin: SinchStandIn) -> None:
    """A proxy in front of the API: the path Sinch (here the stand-in) sees is what must be signed."""
    with SinchApi(Credentials(KEY, SECRET), api_url=standin.traffic_url + "/proxy", env={}) as api:
        with pytest.raises(ApiError) as info:
            api.callout(fixture("ttsCallout"))
    assert info.value.status == 404  # signed correctly for /proxy/calling/v1/callouts, then not found
    assert standin.requests[0].path == "/proxy/calling/v1/callouts"


# -- errors -------------------------------------------------------------------------------------------------


def test_sinch_errors_carry_status_code_and_message(api: SinchApi) -> None:
    with pytest.raises(ApiError) as info:
        api.call("no-such-call")
    err = info.value
    assert (err.status, err.error_code, err.message) == (404, "40400", "Call not found")
    assert str(err).startswith("Sinch answered 404 Not Found to GET /calling/v1/calls/id/no-such-call: "
                               "error 40400, Call not found (reference ")


def test_a_refused_callout_body(api: SinchApi) -> None:
    body = fixture("ttsCallout")
    body["ttsCallout"]["colour"] = "blue"
    with pytest.raises(ApiError, match=r"400 Bad Request .* error 40001, ttsCallout: unknown field 'colour'"):
        api.callout(body)


def test_wrong_credentials(standin: SinchStandIn) -> None:
    with SinchApi(Credentials(KEY, "c2VjcmV0"), api_url=standin.traffic_url, env={}) as api:
        with pytest.raises(ApiError) as info:
            api.callout(fixture("ttsCallout"))
    assert (info.value.status, info.value.error_code) == (401, "40108")


def test_an_error_without_sinchs_shape_still_reads_well(api: SinchApi, standin: SinchStandIn) -> None:
    standin.fail("GET", "/calling/v1/calls/id/x", 400, code=None)
    with pytest.raises(ApiError) as info:
        api.call("x")
    assert str(info.value) == "Sinch answered 400 Bad Request to GET /calling/v1/calls/id/x"


# -- retries ---------------------------------------------------------------------------------------------


def test_429_is_retried_after_the_wait_sinch_asks_for(api: SinchApi, standin: SinchStandIn) -> None:
    standin.fail("POST", CALLOUTS, 429, code=42900, message="Too many requests", headers={"retry-after": "3"})
    assert api.callout(fixture("ttsCallout"))
    attempts = standin.made("POST", CALLOUTS)
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[0].headers["authorization"] != "" and api.waits == [3.0]


def test_429_retries_are_bounded_and_waits_capped(api: SinchApi, standin: SinchStandIn) -> None:
    standin.fail("POST", CALLOUTS, 429, code=42900, message="Too many requests", times=5,
                 headers={"retry-after": "3600"})
    with pytest.raises(ApiError) as info:
        api.callout(fixture("ttsCallout"))
    assert info.value.status == 429
    assert len(standin.made("POST", CALLOUTS)) == 3 and api.waits == [10.0, 10.0]


def test_server_errors_are_retried_for_reads_only(api: SinchApi, standin: SinchStandIn) -> None:
    standin.add_call("call-1")
    standin.fail("GET", "/calling/v1/calls/id/call-1", 503, code=50000, message="Internal error")
    assert api.call("call-1")["callId"] == "call-1"
    assert api.waits == [0.5]
    standin.fail("PATCH", "/calling/v1/calls/id/call-1", 503, code=50000, message="Internal error")
    with pytest.raises(ApiError, match="503"):
        api.hangup("call-1")
    assert len(standin.made("PATCH", "/calling/v1/calls/id/call-1")) == 1


def test_an_unanswered_read_is_retried(api: SinchApi, standin: SinchStandIn) -> None:
    standin.own("+46812345670")
    standin.fail("GET", "/v1/configuration/numbers", 0)
    assert [n["number"] for n in api.numbers()] == ["+46812345670"]
    assert len(standin.made("GET", "/v1/configuration/numbers")) == 2


def test_an_unanswered_callout_is_not_placed_twice(api: SinchApi, standin: SinchStandIn) -> None:
    standin.fail("POST", CALLOUTS, 0)
    with pytest.raises(ApiUnreachable, match="may or may not have acted on it"):
        api.callout(fixture("ttsCallout"))
    assert len(standin.made("POST", CALLOUTS)) == 1


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    waits: list[float] = []
    with SinchApi(Credentials(KEY, SECRET), api_url=f"http://127.0.0.1:{port}", env={}, sleep=waits.append) as api:
        with pytest.raises(ApiUnreachable, match=f"could not reach http://127.0.0.1:{port} .*tried 3 times"):
            api.callout(fixture("ttsCallout"))
    assert waits == [0.5, 1.0]


def test_a_request_that_never_left_is_sent_again_even_when_not_idempotent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"callId": "c-1"})

    with SinchApi(Credentials(KEY, SECRET), env={}, sleep=lambda s: None,
                  transport=httpx.MockTransport(handler)) as api:
        assert api.callout(fixture("ttsCallout")) == "c-1"
    assert len(seen) == 2 and str(seen[1].url) == "https://calling.api.sinch.com/calling/v1/callouts"


def test_a_read_timeout_on_a_change_is_reported_not_repeated() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with SinchApi(Credentials(KEY, SECRET), env={}, region="euc1", sleep=lambda s: None,
                  transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(ApiUnreachable, match="ReadTimeout.*not sent again"):
            api.hangup("call-1")
    assert len(seen) == 1 and seen[0].url.host == "calling-euc1.api.sinch.com"
