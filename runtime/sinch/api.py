"""A small client for Sinch's Voice REST API (v1): callouts, calls, conferences and application configuration."""
from __future__ import annotations

import base64
import datetime
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit

import httpx

from ivrc.compiler.errors import IvrcError
from ivrc.runtime.signing import Credentials, sign

# Hosts and settings live apart from the client so the CLI can offer them without importing httpx.
from .hosts import API_URL_ENV, CONFIG_URL, CONFIG_URL_ENV, KEY_ENV, REGION_ENV, REGION_NAMES, REGIONS, SECRET_ENV  # noqa: E402

CONTENT_TYPE = "application/json"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0
DEFAULT_RETRIES = 2
MAX_RETRY_WAIT = 10.0  # seconds; a longer Retry-After is cut to this, so a command never hangs
RETRYABLE_GET_STATUSES = frozenset({502, 503, 504})

AUTH_SCHEMES = ("signed", "basic")


class ApiError(IvrcError):
    """Sinch refused a request: the HTTP status, Sinch's error code and message, and what was asked."""

    def __init__(self, status: int, method: str, path: str, error_code: str | None = None,
                 message: str | None = None, reference: str | None = None) -> None:
        self.status, self.method, self.path = status, method, path
        self.error_code, self.message, self.reference = error_code, message, reference
        super().__init__(str(self))

    def __str__(self) -> str:
        reason = httpx.codes.get_reason_phrase(self.status)
        text = f"Sinch answered {self.status}{' ' + reason if reason else ''} to {self.method} {self.path}"
        if self.error_code:
            text += f": error {self.error_code}"
        if self.message:
            text += f"{':' if not self.error_code else ','} {self.message}"
        if self.reference:
            text += f" (reference {self.reference})"
        return text

    @classmethod
    def from_response(cls, response: httpx.Response, method: str, path: str) -> "ApiError":
        code = message = reference = None
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            # Sinch documents errorCode as a string ("40400"); older answers send a number.
            raw = data.get("errorCode")
            code = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
            message = data.get("message") if isinstance(data.get("message"), str) else None
            reference = data.get("reference") if isinstance(data.get("reference"), str) else None
        elif response.text.strip():
            message = response.text.strip()[:200]
        return cls(response.status_code, method, path, code, message, reference)


class ApiUnreachable(IvrcError):
    """No answer from Sinch: the host could not be reached, or did not answer in time."""


@dataclass(frozen=True)
class Hosts:
    """Where traffic and configuration requests go."""

    traffic: str
    config: str


def hosts(region: str | None = None, api_url: str | None = None, config_url: str | None = None,
          env: Mapping[str, str] = os.environ) -> Hosts:
    """Base URLs from options, then SINCH_API_URL / SINCH_CONFIG_API_URL / SINCH_REGION, then the defaults."""
    region = region or env.get(REGION_ENV) or "global"
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; choose one of " + ", ".join(
            f"{code} ({REGION_NAMES[code]})" for code in REGIONS))
    traffic = api_url or env.get(API_URL_ENV) or REGIONS[region]
    config = config_url or env.get(CONFIG_URL_ENV) or CONFIG_URL
    for name, url in (("API URL", traffic), ("configuration API URL", config)):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"the {name} {url!r} should look like https://host[:port][/prefix]")
    return Hosts(traffic.rstrip("/"), config.rstrip("/"))


def credentials_from_env(env: Mapping[str, str] = os.environ) -> Credentials:
    """The application key and secret, as `ivrc serve` reads them; ValueError says what is missing."""
    # While a secret is rotated the variable lists several; requests are signed with the first, the current one.
    key, secret = env.get(KEY_ENV, "").strip(), env.get(SECRET_ENV, "").split(",")[0].strip()
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise ValueError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; copy the "
                         "application key and secret from the Sinch dashboard into the environment")
    return Credentials(key, secret)


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must not be empty")
    return quote(value, safe="")


class SinchApi:
    """One application's view of the Voice API. Requests are signed (Sinch's signed request) unless auth="basic".

    Retries only where repeating cannot do something twice: any request that never reached
    Sinch (connection refused, connect timeout), a 429 (Sinch did not act on it), and GETs
    that went unanswered or met a 502/503/504. Waits grow 0.5 s, 1 s, ... (or follow
    Retry-After) and never exceed 10 s; at most `retries` repeats.
    """

    def __init__(self, credentials: Credentials, *, region: str | None = None, api_url: str | None = None,
                 config_url: str | None = None, auth: str = "signed", timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, backoff: float = 0.5, env: Mapping[str, str] = os.environ,
                 clock: Callable[[], datetime.datetime] = _now, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        if auth not in AUTH_SCHEMES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_SCHEMES)}, not {auth!r}")
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ValueError(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
        if not 0 <= retries <= 5:
            raise ValueError("retries must be between 0 and 5")
        self.credentials = credentials
        self.hosts = hosts(region, api_url, config_url, env)
        self.auth, self.retries, self.backoff = auth, retries, backoff
        self.clock, self.sleep = clock, sleep
        self.client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), transport=transport,
                                   follow_redirects=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, **options: Any) -> "SinchApi":
        return cls(credentials_from_env(env), env=env, **options)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "SinchApi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def application_key(self) -> str:
        return self.credentials.key

    # callouts (reference section 7)

    def callout(self, request: Mapping[str, Any]) -> str:
        """Places a callout (a body built by runtime.callouts) and returns Sinch's callId."""
        answer = self._request("POST", self.hosts.traffic, "/calling/v1/callouts", request)
        call_id = answer.get("callId") if isinstance(answer, dict) else None
        if not isinstance(call_id, str) or not call_id:
            raise ApiError(200, "POST", "/calling/v1/callouts", message=f"the answer has no callId: {answer!r}")
        return call_id

    # calls (reference section 10)

    def call(self, call_id: str) -> dict[str, Any]:
        """Information about a call: from, to, status, result, reason, duration, custom, debit."""
        return self._request("GET", self.hosts.traffic, f"/calling/v1/calls/id/{_segment(call_id, 'call id')}") or {}

    def update_call(self, call_id: str, svaml: Mapping[str, Any]) -> None:
        """Replaces what a call does now with SVAML (Sinch's manage call; unparks a parked call)."""
        self._request("PATCH", self.hosts.traffic, f"/calling/v1/calls/id/{_segment(call_id, 'call id')}", svaml)

    def hangup(self, call_id: str) -> None:
        self.update_call(call_id, {"instructions": [], "action": {"name": "hangup"}})

    # conferences (reference section 10)

    def conference(self, conference_id: str) -> dict[str, Any]:
        """A conference's participants: cli, id (their call id), duration, muted, onhold."""
        path = f"/calling/v1/conferences/id/{_segment(conference_id, 'conference id')}"
        return self._request("GET", self.hosts.traffic, path) or {}

    def kick(self, conference_id: str, call_id: str) -> None:
        self._request("DELETE", self.hosts.traffic, self._participant(conference_id, call_id))

    def kick_all(self, conference_id: str) -> None:
        path = f"/calling/v1/conferences/id/{_segment(conference_id, 'conference id')}"
        self._request("DELETE", self.hosts.traffic, path)

    def mute(self, conference_id: str, call_id: str) -> None:
        self._participant_command(conference_id, call_id, "mute")

    def unmute(self, conference_id: str, call_id: str) -> None:
        self._participant_command(conference_id, call_id, "unmute")

    def _participant_command(self, conference_id: str, call_id: str, command: str) -> None:
        self._request("PATCH", self.hosts.traffic, self._participant(conference_id, call_id), {"command": command})

    @staticmethod
    def _participant(conference_id: str, call_id: str) -> str:
        return (f"/calling/v1/conferences/id/{_segment(conference_id, 'conference id')}/"
                f"{_segment(call_id, 'call id')}")

    # configuration (Sinch's v1 configuration endpoints; see docs/outbound.md for the sources)

    def numbers(self) -> list[dict[str, Any]]:
        """The account's numbers: number, capability, and applicationkey when assigned to an application."""
        answer = self._request("GET", self.hosts.config, "/v1/configuration/numbers") or {}
        numbers = answer.get("numbers") if isinstance(answer, dict) else None
        return [n for n in numbers or [] if isinstance(n, dict) and isinstance(n.get("number"), str)]

    def assign_numbers(self, numbers: list[str], *, application_key: str | None = None,
                       capability: str = "voice") -> None:
        body = {"numbers": list(numbers), "applicationkey": application_key or self.application_key,
                "capability": capability}
        self._request("POST", self.hosts.config, "/v1/configuration/numbers", body)

    def unassign_number(self, number: str, *, application_key: str | None = None, capability: str = "voice") -> None:
        body = {"number": number, "applicationkey": application_key or self.application_key, "capability": capability}
        self._request("DELETE", self.hosts.config, "/v1/configuration/numbers", body)

    def callback_urls(self, application_key: str | None = None) -> dict[str, str]:
        """The application's callback URLs: {"primary": ..., "fallback": ...} (either may be absent)."""
        key = _segment(application_key or self.application_key, "application key")
        answer = self._request("GET", self.hosts.config, f"/v1/configuration/callbacks/applications/{key}") or {}
        url = answer.get("url") if isinstance(answer, dict) else None
        return {k: v for k, v in (url or {}).items() if k in ("primary", "fallback") and isinstance(v, str) and v}

    def set_callback_urls(self, primary: str, fallback: str | None = None, *,
                          application_key: str | None = None) -> None:
        key = _segment(application_key or self.application_key, "application key")
        url = {"primary": primary, **({"fallback": fallback} if fallback else {})}
        self._request("POST", self.hosts.config, f"/v1/configuration/callbacks/applications/{key}", {"url": url})

    # transport

    def _headers(self, method: str, path: str, raw: bytes) -> dict[str, str]:
        headers = {"content-type": CONTENT_TYPE, "accept": "application/json"}
        if self.auth == "basic":
            pair = f"{self.credentials.key}:{self.credentials.secret_b64.strip()}".encode()
            headers["authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            headers["x-timestamp"] = _timestamp(self.clock())
            headers["authorization"] = sign(self.credentials.key, self.credentials.secret_b64, method, path,
                                            CONTENT_TYPE, headers["x-timestamp"], raw)
        return headers

    def _wait(self, attempt: int, response: httpx.Response | None = None) -> None:
        delay = self.backoff * (2 ** attempt)
        if response is not None:
            after = response.headers.get("retry-after", "")
            if after.strip().isdigit():
                delay = float(after.strip())
        self.sleep(min(delay, MAX_RETRY_WAIT))

    def _request(self, method: str, base: str, path: str, body: Any = None) -> Any:
        url = base + path
        signed_path = urlsplit(url).path  # includes any prefix of an overridden base URL
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() if body is not None else b""
        idempotent = method == "GET"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            # Signed afresh on every attempt: the timestamp is part of the signature.
            headers = self._headers(method, signed_path, raw)
            try:
                response = self.client.request(method, url, content=raw or None, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as err:
                if not last:  # the request never left: repeating it cannot do anything twice
                    self._wait(attempt)
                    continue
                raise ApiUnreachable(f"could not reach {base} ({type(err).__name__}: {err}); "
                                     f"tried {attempt + 1} times") from None
            except httpx.TransportError as err:
                # Sent, perhaps acted on, but unanswered (timeout, dropped connection): only a GET may repeat.
                if idempotent and not last:
                    self._wait(attempt)
                    continue
                raise ApiUnreachable(
                    f"{method} {path}: no answer from {base} ({type(err).__name__})"
                    + ("" if idempotent else "; Sinch may or may not have acted on it, so it was not sent again")
                ) from None
            except httpx.HTTPError as err:
                raise ApiUnreachable(f"{method} {path}: {type(err).__name__}: {err}") from None
            status = response.status_code
            if not last and (status == 429 or (idempotent and status in RETRYABLE_GET_STATUSES)):
                self._wait(attempt, response)
                continue
            if status >= 300:  # redirects are not followed: a signed request must not wander
                raise ApiError.from_response(response, method, path)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ApiError(status, method, path,
                               message=f"the answer is not JSON: {response.text[:200]!r}") from None
        raise AssertionError("unreachable")  # the loop always returns or raises
