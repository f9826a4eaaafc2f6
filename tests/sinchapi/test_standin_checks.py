"""The stand-in itself: its signature check is the reference's, it takes Sinch's own samples and refuses bad bodies."""
from __future__ import annotations

import base64
import json

import httpx
import pytest
from standin import KEY, SECRET, SinchStandIn, fixture, reference_signature


def test_signature_check_reproduces_the_reference_test_vector() -> None:
    body = (b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
            b'"timestamp":"2014-09-24T10:59:41Z","version":1}')
    assert reference_signature(SECRET, "POST", body, "application/json", "2014-09-24T10:59:41Z",
                               "/sinch/callback/ace") == "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4="


def test_signature_check_agrees_with_the_runtime_signer() -> None:
    from ivrc.runtime.signing import sign

    header = sign(KEY, SECRET, "PATCH", "/calling/v1/calls/id/abc", "application/json", "2026-03-03T09:30:00Z",
                  b'{"action":{"name":"hangup"}}')
    assert header == f"Application {KEY}:" + reference_signature(
        SECRET, "PATCH", b'{"action":{"name":"hangup"}}', "application/json", "2026-03-03T09:30:00Z",
        "/calling/v1/calls/id/abc")


@pytest.mark.parametrize("method", ["ttsCallout", "conferenceCallout", "customCallout"])
def test_sinchs_own_sample_callouts_are_accepted(api, standin: SinchStandIn, method: str) -> None:
    call_id = api.callout(fixture(method))
    assert standin.made("POST", "/calling/v1/callouts")[-1].body == fixture(method)
    assert standin.calls[call_id].method == method


def test_the_custom_sample_places_a_call_to_its_ice_number(api, standin: SinchStandIn) -> None:
    call = standin.calls[api.callout(fixture("customCallout"))]
    assert call.to == "+12233445566" and call.amd == {"enabled": True}
    assert call.ace.startswith("{")  # inline SVAML, not a URL


def _post(standin: SinchStandIn, body: dict, *, path: str = "/calling/v1/callouts", key: str = KEY,
          secret: str = SECRET, base: str | None = None) -> httpx.Response:
    from ivrc.runtime.sinch.api import _now, _timestamp

    raw = json.dumps(body).encode()
    stamp = _timestamp(_now())
    headers = {"content-type": "application/json", "x-timestamp": stamp,
               "authorization": f"Application {key}:" + reference_signature(secret, "POST", raw, "application/json",
                                                                           stamp, path)}
    return httpx.post((base or standin.traffic_url) + path, content=raw, headers=headers)


@pytest.mark.parametrize("change, message", [
    (lambda b: b["ttsCallout"].update(colour="blue"), "unknown field 'colour'"),
    (lambda b: b["ttsCallout"].update(enableAce="yes"), "enableAce must be boolean"),
    (lambda b: b["ttsCallout"].update(text="x" * 601), "over 600 characters"),
    (lambda b: b["ttsCallout"].update(dtmf="12*"), "dtmf may hold only"),
    (lambda b: b.update(method="smsCallout"), "method must be"),
])
def test_bad_callout_bodies_get_sinchs_400(standin: SinchStandIn, change, message: str) -> None:
    body = fixture("ttsCallout")
    change(body)
    response = _post(standin, body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == 40001 and message in response.json()["message"]


def test_custom_callout_ice_must_connect_a_number(standin: SinchStandIn) -> None:
    body = fixture("customCallout")
    body["customCallout"]["ice"] = json.dumps({"action": {"name": "runMenu", "menus": []}})
    response = _post(standin, body)
    assert response.status_code == 400 and "customCallout.ice" in response.json()["message"]


def test_a_wrong_signature_is_refused_with_401(standin: SinchStandIn) -> None:
    response = _post(standin, fixture("ttsCallout"), secret=base64.b64encode(b"another secret").decode())
    assert response.status_code == 401
    assert response.json()["errorCode"] == 40108
    assert standin.calls == {}


def test_each_host_serves_only_its_own_paths(standin: SinchStandIn) -> None:
    response = _post(standin, fixture("ttsCallout"), base=standin.config_url)
    assert response.status_code == 404
    response = _post(standin, {"url": {"primary": "https://x.example"}},
                     path=f"/v1/configuration/callbacks/applications/{KEY}")
    assert response.status_code == 404
