"""Real callbacks, mutated: whatever a request looks like, the answer is never a 5xx nor invalid SVAML.

tests/runtime/test_callback_app.py throws arbitrary JSON at the endpoint. Here the starting
points are the exact bodies Sinch sent during real emulated calls on every example (with the
cookies the server set), and the mutations are the ones the network and a careless or hostile
platform could make: cookie shapes and contents, fields dropped or retyped, menu results,
character encodings, sizes up to and past the cap, content types, extra and odd headers.
Each request is signed as sent (except where the mutation is the signing itself), so the
engine and not the signature check is what gets exercised.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relykit import (
    CALLBACK_PATH,
    ENV,
    KEY,
    SECRET,
    TUESDAY_10,
    Recorder,
    TestClient,
    backend_fetch,
    example_machines,
    fixed,
    library_of,
    load_script,
    make_client,
    stamp,
)

from ivrc.runtime.emulation.emulator import EngineTransport
from ivrc.runtime.emulation.svaml_check import problems
from ivrc.runtime.engine.step import Engine
from ivrc.runtime.server.app import MAX_BODY_BYTES
from ivrc.runtime.signing import sign

LIMIT = 1024


def _record() -> list[dict[str, Any]]:
    """Every callback body of one run of each load-test scenario, cookies included."""
    library = library_of(*example_machines())
    recorder = Recorder(EngineTransport(Engine(library, clock=fixed(TUESDAY_10), env=ENV, backend=backend_fetch)))
    for scenario in load_script().SCENARIOS.values():
        scenario(recorder)
    return [body for body, _ in recorder.exchanges]


RECORDED = _record()
PAYLOADS = ["", " ", "{{7*7}}", "]#tts[x];http://evil.example/", "<speak>", "\ud800", "\x00", "é" * 300, "9" * 5000,
            "main", "support", "support.main_menu.2", "ivrc", "|", "||||", "0", "-1", "NaN"]
text = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=40))
json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                          max_leaves=8)
FIELDS = ["event", "callid", "callId", "cookies", "menuResult", "custom", "to", "cli", "amd", "reason", "result",
          "type", "destination", "timestamp", "version", "applicationKey", "duration", "userRate", "from"]


def _cookie_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    cookies = body.get("cookies")
    return cookies if isinstance(cookies, list) else []


def _state_part(body: dict[str, Any], draw: Callable) -> None:
    for cookie in _cookie_list(body):
        if isinstance(cookie, dict) and cookie.get("key") == "ivrc" and isinstance(cookie.get("value"), str):
            parts = cookie["value"].split("|")
            parts[draw(st.integers(0, len(parts) - 1))] = draw(text)
            cookie["value"] = "|".join(parts)


def _cookie_shape(body: dict[str, Any], draw: Callable) -> None:
    cookies = _cookie_list(body)
    shape = draw(st.sampled_from(["map", "absent", "junk", "duplicate", "string", "values-not-text"]))
    if shape == "map":
        body["cookies"] = {c.get("key"): c.get("value") for c in cookies if isinstance(c, dict)}
    elif shape == "absent":
        body.pop("cookies", None)
    elif shape == "junk":
        body["cookies"] = cookies + draw(st.lists(json_value, max_size=4))
    elif shape == "duplicate" and cookies:
        body["cookies"] = cookies + [{"key": cookies[0].get("key"), "value": draw(text)}]
    elif shape == "string":
        body["cookies"] = draw(text)
    else:
        body["cookies"] = [{"key": c.get("key"), "value": draw(json_value)} for c in cookies if isinstance(c, dict)]


def _variable(body: dict[str, Any], draw: Callable) -> None:
    name = draw(st.sampled_from(["v.answer", "v.account", "v.pin", "v.clinic", "v.x", "amd", "cli", "to"]))
    body["cookies"] = _cookie_list(body) + [{"key": name, "value": draw(text)}]


def _many_cookies(body: dict[str, Any], draw: Callable) -> None:
    count, size = draw(st.integers(1, 300)), draw(st.integers(1, 200))
    body["cookies"] = _cookie_list(body) + [{"key": f"k{i}", "value": "x" * size} for i in range(count)]


def _menu_result(body: dict[str, Any], draw: Callable) -> None:
    result = body.get("menuResult") if isinstance(body.get("menuResult"), dict) else {}
    which = draw(st.sampled_from(["type", "value", "menuId", "inputMethod", "whole"]))
    if which == "type":
        result["type"] = draw(st.sampled_from(["Return", "SEQUENCE", "timeout", "hangup", "invalidinput", "error",
                                               "unknown"]) | text)
    elif which == "whole":
        body["menuResult"] = draw(json_value)
        return
    else:
        result[which] = draw(text | st.integers() | st.none())
    body["menuResult"] = result


def _drop(body: dict[str, Any], draw: Callable) -> None:
    if body:
        body.pop(draw(st.sampled_from(sorted(body))), None)


def _retype(body: dict[str, Any], draw: Callable) -> None:
    body[draw(st.sampled_from(FIELDS))] = draw(json_value)


def _event_case(body: dict[str, Any], draw: Callable) -> None:
    if isinstance(body.get("event"), str):
        body["event"] = draw(st.sampled_from([str.upper, str.title, str.lower]))(body["event"])


def _caller_data(body: dict[str, Any], draw: Callable) -> None:
    body[draw(st.sampled_from(["cli", "custom", "callid"]))] = draw(text)
    if draw(st.booleans()):
        body["to"] = {"type": draw(text), "endpoint": draw(text)}


BODY_MUTATIONS = [_state_part, _cookie_shape, _variable, _many_cookies, _menu_result, _drop, _retype, _event_case,
                  _caller_data]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=x",
                 "application/json" + " " * 200]
EXTRA_HEADERS = [
    {"cookie": "ivrc=support|000000000000|billing|0|en-US; v.pin=1234"},  # HTTP cookies are not Sinch's cookies
    {"content-encoding": "gzip"}, {"x-forwarded-for": "203.0.113.9, 10.0.0.1"}, {"x-forwarded-proto": "http"},
    {"accept": "text/html"}, {"x-sinch-something": "é".encode()}, {"x-long": "a" * 8000},
    {"x-timestamp-extra": "2001-01-01T00:00:00Z"}, {"content-md5": "AAAAAAAAAAAAAAAAAAAAAA=="},
]


@st.composite
def requests(draw: Callable) -> dict[str, Any]:
    body = copy.deepcopy(draw(st.sampled_from(RECORDED)))
    for _ in range(draw(st.integers(0, 3))):
        draw(st.sampled_from(BODY_MUTATIONS))(body, draw)
    encoding = draw(st.sampled_from(["compact", "pretty", "utf-16", "utf-32", "bom", "pad"]))
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if encoding == "pretty":
        raw = json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass")
    elif encoding in ("utf-16", "utf-32"):  # json.loads reads both, from their byte order marks
        raw = json.dumps(body).encode(encoding)
    elif encoding == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif encoding == "pad":  # up to and past the body cap
        raw += b" " * draw(st.sampled_from([0, MAX_BODY_BYTES - len(raw), MAX_BODY_BYTES - len(raw) + 1,
                                            MAX_BODY_BYTES]))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    timestamp = stamp(TUESDAY_10)
    headers = {"content-type": content_type, "x-timestamp": timestamp,
               "authorization": sign(KEY, SECRET, "POST", CALLBACK_PATH, content_type, timestamp, raw)}
    headers.update(draw(st.sampled_from([{}] + EXTRA_HEADERS)))
    return {"body": body, "raw": raw, "headers": headers}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return make_client(library_of(*example_machines()))


def _incoming(body: dict[str, Any]) -> dict[str, str]:
    """The cookies as the server read them, when Sinch could have sent them at all (at most 1024 bytes)."""
    from ivrc.runtime.engine.events import read_cookies

    cookies = read_cookies(body.get("cookies"))
    size = sum(len(k.encode("utf-8", "surrogatepass")) + len(v.encode("utf-8", "surrogatepass"))
               for k, v in cookies.items())
    return cookies if size <= LIMIT else {}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(request=requests())
def test_a_mutated_real_callback_never_gets_a_5xx_or_invalid_svaml(client: TestClient, request: dict) -> None:
    response = client.post(CALLBACK_PATH, content=request["raw"], headers=request["headers"])
    assert response.status_code in (200, 400, 413), (response.status_code, response.text)
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] in ("bad-request", "payload-too-large")
        if response.status_code == 413:
            assert len(request["raw"]) > MAX_BODY_BYTES
        return
    event = str(request["body"].get("event")).lower()
    if event in ("dice", "notify"):
        assert response.content == b""
        return
    answer = response.json()
    assert problems(answer, event.upper(), _incoming(request["body"])) == [], answer


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests(), tamper=st.sampled_from(["body", "content-type", "timestamp", "no-content-type",
                                                     "no-timestamp", "no-authorization", "scheme-only", "path"]))
def test_a_mutated_request_whose_signature_no_longer_fits_is_refused(client: TestClient, request: dict,
                                                                     tamper: str) -> None:
    headers, raw, path = dict(request["headers"]), request["raw"], CALLBACK_PATH
    if len(raw) >= MAX_BODY_BYTES:
        return  # the size check comes first; covered above
    if tamper == "body":
        raw = raw + b" "
    elif tamper == "content-type":
        headers["content-type"] += ";"
    elif tamper == "timestamp":
        headers["x-timestamp"] = stamp(TUESDAY_10)
    elif tamper == "no-content-type":
        del headers["content-type"]
    elif tamper == "no-timestamp":
        del headers["x-timestamp"]
    elif tamper == "no-authorization":
        del headers["authorization"]
    elif tamper == "scheme-only":
        headers["authorization"] = headers["authorization"].split(":")[0]
    else:
        path = CALLBACK_PATH + "/"
    response = client.post(path, content=raw, headers=headers, follow_redirects=False)
    if tamper == "path":  # another path is another route: redirected or not found, never answered
        assert response.status_code in (307, 404, 405), response.status_code
        return
    assert response.status_code == 401, (tamper, response.status_code, response.text)
    assert response.json()["error"] == "unauthorized"
