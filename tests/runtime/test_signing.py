"""Callback signing: the reference's verified vector, and every way a request is refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ivrc.runtime.signing import (
    Credentials,
    content_md5,
    parse_timestamp,
    sign,
    string_to_sign,
    verify,
)

# Reference section 6.3, verified there with hashlib/hmac.
KEY = "669E367E-6BBA-48AB-AF15-266871C28135"
SECRET = "BeIukql3pTKJ8RGL5zo0DA=="
BODY = (
    b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
    b'"timestamp":"2014-09-24T10:59:41Z","version":1}'
)
CONTENT_TYPE = "application/json"
TIMESTAMP = "2014-09-24T10:59:41Z"
PATH = "/sinch/callback/ace"
MD5 = "REWF+X220L4/Gw1spXOU7g=="
SIGNATURE = "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4="
HEADER = f"application {KEY}:{SIGNATURE}"
CHARSET_SIGNATURE = "+7IX6MJJ6hapyCsjPaOlzOfQAE8XAFAogUxTYQiSzmQ="

CREDS = Credentials(KEY, SECRET)
NOW = datetime(2014, 9, 24, 10, 59, 41, tzinfo=timezone.utc)


def headers(**overrides: str | None) -> dict[str, str]:
    base = {"Authorization": HEADER, "X-Timestamp": TIMESTAMP, "Content-Type": CONTENT_TYPE}
    for name, value in overrides.items():
        name = name.replace("_", "-").title()
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def signed(
    timestamp: str = TIMESTAMP, body: bytes = BODY, content_type: str = CONTENT_TYPE
) -> dict[str, str]:
    return {
        "authorization": sign(KEY, SECRET, "POST", PATH, content_type, timestamp, body),
        "x-timestamp": timestamp,
        "content-type": content_type,
    }


# -- the vector ---------------------------------------------------------------------------


def test_content_md5_matches_the_vector() -> None:
    assert content_md5(BODY) == MD5


def test_sign_reproduces_the_vector_signature_and_header() -> None:
    header = sign(KEY, SECRET, "POST", PATH, CONTENT_TYPE, TIMESTAMP, BODY)
    scheme, rest = header.split(" ")
    assert scheme == "Application"
    assert rest == f"{KEY}:{SIGNATURE}"
    assert header.lower() == HEADER.lower()


def test_charset_in_content_type_changes_the_signature() -> None:
    header = sign(KEY, SECRET, "POST", PATH, "application/json; charset=utf-8", TIMESTAMP, BODY)
    assert header.endswith(":" + CHARSET_SIGNATURE)


def test_string_to_sign_layout() -> None:
    assert string_to_sign("post", PATH, CONTENT_TYPE, TIMESTAMP, BODY) == (
        f"POST\n{MD5}\n{CONTENT_TYPE}\nx-timestamp:{TIMESTAMP}\n{PATH}"
    )


def test_empty_body_signs_an_empty_md5() -> None:
    assert content_md5(b"") == ""
    assert string_to_sign("POST", PATH, CONTENT_TYPE, TIMESTAMP, b"").split("\n")[1] == ""


def test_verify_accepts_the_vector_header_verbatim() -> None:
    verdict = verify(headers(), BODY, PATH, "POST", CREDS, NOW)
    assert verdict
    assert verdict.ok and verdict.reason is None
    assert verdict.signature == SIGNATURE
    assert verdict.timestamp == NOW


def test_verify_accepts_the_charset_variant() -> None:
    ct = "application/json; charset=utf-8"
    h = headers(authorization=f"Application {KEY}:{CHARSET_SIGNATURE}", content_type=ct)
    assert verify(h, BODY, PATH, "POST", CREDS, NOW).ok


# -- leniency that is safe ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["application", "Application", "APPLICATION"])
def test_scheme_is_case_insensitive(scheme: str) -> None:
    h = headers(authorization=f"{scheme} {KEY}:{SIGNATURE}")
    assert verify(h, BODY, PATH, "POST", CREDS, NOW).ok


def test_key_is_case_insensitive() -> None:
    h = headers(authorization=f"application {KEY.lower()}:{SIGNATURE}")
    assert verify(h, BODY, PATH, "POST", CREDS, NOW).ok
    lower_creds = Credentials(KEY.lower(), SECRET)
    assert verify(headers(), BODY, PATH, "POST", lower_creds, NOW).ok


def test_header_names_are_case_insensitive() -> None:
    h = {"AUTHORIZATION": HEADER, "x-TIMESTAMP": TIMESTAMP, "content-type": CONTENT_TYPE}
    assert verify(h, BODY, PATH, "POST", CREDS, NOW).ok


def test_starlette_headers_are_accepted() -> None:
    from starlette.datastructures import Headers

    h = Headers(raw=[(k.lower().encode(), v.encode()) for k, v in headers().items()])
    assert verify(h, BODY, PATH, "POST", CREDS, NOW).ok


@pytest.mark.parametrize(
    "stamp",
    [
        "2014-09-24T10:59:41.1234567Z",
        "2014-09-24T10:59:41.5Z",
        "2014-09-24T10:59:41+00:00",
        "2014-09-24T10:59:41.123456+00:00",
    ],
)
def test_timestamp_forms_sinch_may_send(stamp: str) -> None:
    assert verify(signed(stamp), BODY, PATH, "POST", CREDS, NOW).ok


def test_parse_timestamp_keeps_microseconds() -> None:
    parsed = parse_timestamp("2014-06-02T15:39:31.2729234Z")
    assert parsed == datetime(2014, 6, 2, 15, 39, 31, 272923, tzinfo=timezone.utc)


@pytest.mark.parametrize("skew", [timedelta(minutes=5), -timedelta(minutes=5)])
def test_skew_at_the_limit_is_accepted(skew: timedelta) -> None:
    assert verify(headers(), BODY, PATH, "POST", CREDS, NOW + skew).ok


# -- every refusal ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("h", "reason"),
    [
        (headers(authorization=None), "missing-authorization"),
        (headers(authorization=""), "malformed-authorization"),
        (headers(authorization=f"application{KEY}:{SIGNATURE}"), "malformed-authorization"),
        (headers(authorization=f"application {KEY} {SIGNATURE}"), "malformed-authorization"),
        (headers(authorization=f"application {KEY}{SIGNATURE}"), "malformed-authorization"),
        (headers(authorization=f"application {KEY}:"), "malformed-authorization"),
        (headers(authorization=f"application :{SIGNATURE}"), "malformed-authorization"),
        (headers(authorization=f"application {KEY}:sigé"), "malformed-authorization"),
        (headers(authorization=f"Basic {KEY}:{SECRET}"), "wrong-scheme"),
        (headers(authorization=f"service {KEY}:{SIGNATURE}"), "wrong-scheme"),
        (headers(authorization=f"application {KEY.replace('6', '7')}:{SIGNATURE}"), "unknown-key"),
        (headers(x_timestamp=None), "missing-timestamp"),
        (headers(content_type=None), "missing-content-type"),
    ],
)
def test_refusals_before_the_signature(h: dict[str, str], reason: str) -> None:
    verdict = verify(h, BODY, PATH, "POST", CREDS, NOW)
    assert not verdict
    assert verdict.reason == reason
    assert verdict.signature is None


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("body", BODY + b" "),
        ("body", b""),
        ("path", "/sinch/callback/ice"),
        ("path", PATH + "?x=1"),
        ("method", "GET"),
        ("content_type", "application/json; charset=utf-8"),
        ("timestamp", "2014-09-24T10:59:42Z"),
        ("signature", "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb5="),
        ("secret", "AAAAAAAAAAAAAAAAAAAAAA=="),
    ],
)
def test_any_change_breaks_the_signature(change: str, value: object) -> None:
    h = headers()
    body, path, method, creds = BODY, PATH, "POST", CREDS
    if change == "body":
        body = value
    elif change == "path":
        path = value
    elif change == "method":
        method = value
    elif change == "content_type":
        h["Content-Type"] = value
    elif change == "timestamp":
        h["X-Timestamp"] = value
    elif change == "signature":
        h["Authorization"] = f"application {KEY}:{value}"
    else:
        creds = Credentials(KEY, value)
    assert verify(h, body, path, method, creds, NOW).reason == "bad-signature"


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "yesterday",
        "2014-09-24 10:59:41Z",
        "2014-09-24T10:59:41",  # no zone: ambiguous
        "2014-09-24T12:59:41+02:00",  # Sinch promises UTC
        "2014-09-24T10:59:41.12345678Z",  # 8 fractional digits
        "2014-13-24T10:59:41Z",
        "２０14-09-24T10:59:41Z",  # non-ASCII digits
    ],
)
def test_bad_timestamp_even_when_signed(stamp: str) -> None:
    assert verify(signed(stamp), BODY, PATH, "POST", CREDS, NOW).reason == "bad-timestamp"


@pytest.mark.parametrize("skew", [timedelta(minutes=5, seconds=1), -timedelta(minutes=6)])
def test_stale_timestamp_either_direction(skew: timedelta) -> None:
    verdict = verify(headers(), BODY, PATH, "POST", CREDS, NOW + skew)
    assert verdict.reason == "stale-timestamp"


def test_max_skew_is_configurable() -> None:
    later = NOW + timedelta(seconds=30)
    assert verify(headers(), BODY, PATH, "POST", CREDS, later).ok
    short = timedelta(seconds=10)
    assert verify(headers(), BODY, PATH, "POST", CREDS, later, short).reason == "stale-timestamp"


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(headers(), BODY, PATH, "POST", CREDS, NOW.replace(tzinfo=None))


# -- credentials --------------------------------------------------------------------------


def test_credentials_repr_hides_the_secret() -> None:
    assert SECRET not in repr(CREDS)
    assert SECRET not in str(CREDS)
    assert "hidden" in repr(CREDS)
    assert KEY in repr(CREDS)


@pytest.mark.parametrize("secret", ["not base64!", "BeIukql3pTKJ8RGL5zo0DA=", "", "===="])
def test_undecodable_secret_fails_at_construction(secret: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        Credentials(KEY, secret)
    message = str(excinfo.value)
    assert KEY in message
    if secret:
        assert secret not in message
    assert excinfo.value.__cause__ is None


def test_secret_with_a_trailing_newline_is_accepted() -> None:
    assert Credentials(KEY, SECRET + "\n").secret == CREDS.secret


@pytest.mark.parametrize("key", ["", "a:b", "a b"])
def test_bad_key_fails_at_construction(key: str) -> None:
    with pytest.raises(ValueError, match="application key"):
        Credentials(key, SECRET)


def test_a_refused_verdict_carries_nothing_from_the_header() -> None:
    h = headers(authorization=f"application {KEY}:{SECRET}")
    verdict = verify(h, BODY, PATH, "POST", CREDS, NOW)
    assert verdict.reason == "bad-signature"
    assert SECRET not in repr(verdict)
