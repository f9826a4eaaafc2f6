"""A local stand-in for Sinch's Voice REST API: checks signatures and bodies, answers as Sinch does, records requests.

Two listeners on loopback share one state: the traffic host (callouts, calls, conferences)
and the configuration host (numbers, callback URLs). Each refuses the other's paths, so a
client that sends configuration to the traffic host is caught. Signatures are checked with
an implementation of the reference algorithm (section 6.1) written here, independently of
runtime.signing. Bodies are checked against reference sections 7 and 10 and against the
types of Sinch's own sample callout bodies (sinch-fixtures/callouts).

Use it as a context manager; `play()` then acts out a placed callout against a callback
server, the way Sinch would: the ACE and PIEs of the call, with the callout's `custom`.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

KEY = "669E367E-6BBA-48AB-AF15-266871C28135"  # reference section 6.3: public, for tests only
SECRET = "BeIukql3pTKJ8RGL5zo0DA=="
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "tests/fixtures/sinch/callouts"  # Sinch's samples, Apache-2.0 (see the NOTICE there)
MAX_SKEW = datetime.timedelta(minutes=10)

# Reference section 7: the fields of each callout method.
CALLOUT_FIELDS = {
    "ttsCallout": {"destination", "cli", "dtmf", "domain", "custom", "locale", "text", "prompts", "enableAce",
                   "enableDice", "enablePie"},
    "conferenceCallout": {"destination", "conferenceId", "cli", "conferenceDtmfOptions", "dtmf", "maxDuration",
                          "enableAce", "enableDice", "enablePie", "locale", "greeting", "mohClass", "custom",
                          "domain"},
    "customCallout": {"cli", "destination", "dtmf", "custom", "maxDuration", "ice", "ace", "pie", "dice"},
}
FIXTURE_FILES = {"ttsCallout": "CalloutRequestTtsDto.json", "conferenceCallout": "CalloutRequestConferenceDto.json",
                 "customCallout": "CalloutRequestCustomDto.json"}
_E164 = re.compile(r"\+?[1-9][0-9]{6,14}")
_DTMF = re.compile(r"[0-9#w]*")
JSON_TYPES = {str: "string", int: "integer", bool: "boolean", dict: "object", list: "array", float: "number"}


# The body of a PATCH on a call under Sinch's current SDK models (the file cites them).
MANAGED_CALL_SCHEMA = Path(__file__).with_name("managed-call-svaml.schema.json")


def managed_call_problems(body: Any) -> list[Any]:
    """Why `body` is not a PATCH body the current models accept (jsonschema errors; empty when it is)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads(MANAGED_CALL_SCHEMA.read_text()))
    return sorted(validator.iter_errors(body), key=lambda e: list(e.path))


def fixture(method: str) -> dict[str, Any]:
    return json.loads((FIXTURES / FIXTURE_FILES[method]).read_text())


def fixture_types() -> dict[str, dict[str, type]]:
    """Field -> JSON type of every field in Sinch's sample callout bodies."""
    return {method: {k: type(v) for k, v in fixture(method)[method].items()} for method in FIXTURE_FILES}


# -- the reference signing algorithm (section 6.1), written out again on purpose ---------------------


def reference_signature(secret_b64: str, method: str, body: bytes, content_type: str, timestamp: str,
                        path: str) -> str:
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode() if body else ""
    text = f"{method}\n{md5}\n{content_type}\nx-timestamp:{timestamp}\n{path}"
    digest = hmac.new(base64.b64decode(secret_b64), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Refused(Exception):
    """An answer in Sinch's error shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> Refused:
    return Refused(400, 40001, message)


@dataclass
class Recorded:
    host: str  # traffic | config
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    auth: str | None = None  # signed | basic, once verified
    status: int = 0

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class Fault:
    method: str
    path: str
    status: int = 0  # 0: drop the connection without answering
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class PlacedCall:
    call_id: str
    method: str
    request: dict[str, Any]
    to: str
    cli: str | None
    custom: str | None
    amd: dict[str, Any] | None = None
    ace: str | None = None
    status: str = "ONGOING"
    parked: bool = False
    patches: list[dict[str, Any]] = field(default_factory=list)
    emulated: Any = None  # the emulator's Call, while play() runs one


class SinchStandIn:
    """Sinch's Voice API on loopback, for one application (the reference test-vector key and secret)."""

    def __init__(self, key: str = KEY, secret: str = SECRET, *, accept_basic: bool = True) -> None:
        self.key, self.secret, self.accept_basic = key, secret, accept_basic
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.numbers: dict[str, dict[str, Any]] = {}
        self.callbacks: dict[str, dict[str, str]] = {}
        self.calls: dict[str, PlacedCall] = {}
        self.conferences: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self._types = fixture_types()
        self.legacy_2020 = False  # accept any ICE action when unparking, as the 2020 docs describe
        self._servers: list[ThreadingHTTPServer] = []

    # lifecycle

    def __enter__(self) -> "SinchStandIn":
        for role in ("traffic", "config"):
            server = _QuietServer(("127.0.0.1", 0), _handler(self, role))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self._servers.append(server)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    @property
    def traffic_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def config_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    def env(self) -> dict[str, str]:
        """What `ivrc` needs to talk to this stand-in."""
        return {"SINCH_APPLICATION_KEY": self.key, "SINCH_APPLICATION_SECRET": self.secret,
                "SINCH_API_URL": self.traffic_url, "SINCH_CONFIG_API_URL": self.config_url}

    # set-up helpers for tests

    def own(self, *numbers: str, application: str | None = None, capability: str = "voice") -> None:
        for number in numbers:
            self.numbers[number] = {"number": number, "capability": capability,
                                    **({"applicationkey": application} if application else {})}

    def add_call(self, call_id: str, *, to: str = "+46812345711", cli: str = "+46700000001",
                 parked: bool = False, custom: str | None = None) -> PlacedCall:
        call = PlacedCall(call_id, "incoming", {}, to, cli, custom, parked=parked)
        self.calls[call_id] = call
        return call

    def fail(self, method: str, path: str, status: int = 0, *, code: int | None = None, message: str = "",
             times: int = 1, headers: dict[str, str] | None = None) -> None:
        """The next `times` requests to method+path get this answer (status 0: the connection drops)."""
        body = {"errorCode": code, "message": message} if code is not None else None
        self.faults.append(Fault(method, path, status, body, dict(headers or {}), times))

    def made(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or r.path == path or r.path.startswith(path + "/"))]

    # acting out a placed call, as Sinch would

    def play(self, call_id: str, *, amd: str = "human", key: str | None = None, secret: str | None = None,
             observer: Any = None):
        """The emulator's Call for a placed custom callout, aimed where Sinch would send its ACE.

        That is the callout's `ace` URL, or else the application's callback URL set through the
        configuration API. The ACE carries the callout's `custom` exactly as it was received.
        """
        from ivrc.runtime.emulation.emulator import Call, HttpTransport

        call = self.calls[call_id]
        url = call.ace if call.ace and call.ace.startswith("http") else self.callbacks.get(self.key, {}).get("primary")
        assert url, "no ACE URL in the callout and no callback URL for the application"
        verdict = amd if call.amd and call.amd.get("enabled") else "human"
        emulated = Call(HttpTransport(url, key or self.key, secret or self.secret), called=call.to,
                        caller=call.cli or "", callid=call_id, outbound=True, custom=call.custom, amd=verdict,
                        observer=observer)
        call.emulated = emulated
        return emulated

    # request handling

    def handle(self, role: str, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict]:
        record = Recorded(role, method, path, headers, raw)
        with self.lock:
            self.requests.append(record)
            fault = next((f for f in self.faults if f.method == method and f.path == path and f.times > 0), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            record.status = fault.status
            return fault.status, fault.body, fault.headers
        try:
            record.auth = self._authenticate(method, path, headers, raw)
            body = self._json(raw)
            with self.lock:
                status, answer = self._route(role, method, path, body)
        except Refused as err:
            record.status = err.status
            return err.status, {"errorCode": err.code, "message": err.message, "reference": str(uuid.uuid4())}, {}
        record.status = status
        return status, answer, {}

    def _authenticate(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> str:
        authorization = headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic" and self.accept_basic:
            try:
                key, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
            except ValueError:
                raise Refused(401, 40108, "Invalid credentials") from None
            if key.lower() == self.key.lower() and hmac.compare_digest(secret, self.secret):
                return "basic"
            raise Refused(401, 40108, "Invalid credentials")
        if scheme.lower() != "application":
            raise Refused(401, 40301, "Invalid authorization scheme for calling the method")
        key, _, signature = credentials.rpartition(":")
        timestamp = headers.get("x-timestamp")
        content_type = headers.get("content-type")
        if key.lower() != self.key.lower() or timestamp is None or content_type is None:
            raise Refused(401, 40108, "Invalid credentials")
        expected = reference_signature(self.secret, method, raw, content_type, timestamp, path)
        if not hmac.compare_digest(expected, signature):
            raise Refused(401, 40108, "Invalid signature")
        try:
            moment = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise Refused(401, 40108, f"x-timestamp {timestamp!r} is not ISO-8601 UTC") from None
        if abs(datetime.datetime.now(datetime.timezone.utc) - moment) > MAX_SKEW:
            raise Refused(401, 40108, "Request too old")
        return "signed"

    @staticmethod
    def _json(raw: bytes) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise Refused(400, 40003, "Invalid request: the body is not JSON") from None

    def _route(self, role: str, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if role == "traffic" and parts[:2] == ["calling", "v1"]:
            rest = parts[2:]
            if rest == ["callouts"] and method == "POST":
                return 200, self._callout(body)
            if rest[:2] == ["calls", "id"] and len(rest) == 3:
                return self._call(method, rest[2], body)
            if rest[:2] == ["conferences", "id"] and len(rest) in (3, 4):
                return self._conference(method, rest[2], rest[3] if len(rest) == 4 else None, body)
        if role == "config" and parts[:2] == ["v1", "configuration"]:
            rest = parts[2:]
            if rest == ["numbers"]:
                return self._numbers(method, body)
            if rest[:2] == ["callbacks", "applications"] and len(rest) == 3:
                return self._callbacks(method, rest[2], body)
        raise Refused(404, 40400, f"No such resource on the {role} host: {method} {path}")

    # callouts

    def _callout(self, body: Any) -> dict[str, str]:
        if not isinstance(body, dict) or body.get("method") not in CALLOUT_FIELDS:
            raise _bad("method must be ttsCallout, conferenceCallout or customCallout")
        method = body["method"]
        if set(body) != {"method", method} or not isinstance(body[method], dict):
            raise _bad(f"the body is {{\"method\": \"{method}\", \"{method}\": {{...}}}} and nothing else")
        request = body[method]
        for name, value in request.items():
            if name not in CALLOUT_FIELDS[method]:
                raise _bad(f"{method}: unknown field '{name}'")
            expected = self._types[method].get(name, str)  # `dice` is in no fixture: a string like ice/ace/pie
            if type(value) is not expected:
                raise _bad(f"{method}.{name} must be {JSON_TYPES[expected]}, not {JSON_TYPES.get(type(value))}")
        destination = request.get("destination")
        if destination is not None:
            if set(destination) != {"type", "endpoint"} or destination["type"] not in ("number", "username", "sip"):
                raise _bad(f"{method}.destination is {{type: number|username|sip, endpoint}}")
            if destination["type"] == "number" and not _E164.fullmatch(destination["endpoint"]):
                raise _bad(f"{method}.destination.endpoint is not a phone number")
        if "cli" in request and not _E164.fullmatch(request["cli"]):
            raise _bad(f"{method}.cli is not a phone number")
        if not _DTMF.fullmatch(request.get("dtmf", "")):
            raise _bad(f"{method}.dtmf may hold only 0-9, # and w")
        if len(request.get("custom", "").encode()) > 1024:
            raise _bad(f"{method}.custom is over 1024 bytes")
        if request.get("domain") not in (None, "pstn", "mxp"):
            raise _bad(f"{method}.domain must be pstn or mxp")
        for flag in ("maxDuration",):
            if flag in request and not 0 < request[flag] <= 14400:
                raise _bad(f"{method}.maxDuration must be 1..14400")
        amd = None
        to = destination["endpoint"] if destination else None
        if method == "ttsCallout":
            # Sinch's own sample sends both text and prompts, so both are accepted; one is needed.
            if destination is None or not ("text" in request or "prompts" in request):
                raise _bad("ttsCallout needs a destination, and text or prompts")
            if len(request.get("text", "")) > 600:
                raise _bad("ttsCallout.text is over 600 characters")
        elif method == "conferenceCallout":
            if destination is None or not 0 < len(request.get("conferenceId", "")) <= 64:
                raise _bad("conferenceCallout needs a destination and a conferenceId of 1..64 characters")
            if request.get("mohClass") not in (None, "ring", "music1", "music2", "music3"):
                raise _bad("conferenceCallout.mohClass must be ring or music1..3")
            if (request.get("conferenceDtmfOptions") or {}).get("mode") not in (None, "ignore", "forward", "detect"):
                raise _bad("conferenceCallout.conferenceDtmfOptions.mode must be ignore, forward or detect")
        else:
            ice = request.get("ice")
            for event in ("ice", "ace", "pie", "dice"):
                if event in request:
                    svaml = self._event_target(event, request[event])
                    if event == "ice" and svaml is not None:
                        action = svaml["action"]
                        if action.get("name") != "connectPstn" or not action.get("number"):
                            raise _bad("customCallout.ice: the answer to a callout's ICE is a connectPstn "
                                       "with the number to call")
                        to, amd = action["number"], action.get("amd")
            if ice is None and destination is None:
                raise _bad("customCallout needs a destination, or ICE SVAML that connects one")
        call_id = str(uuid.uuid4())
        self.calls[call_id] = PlacedCall(call_id, method, body, to or "", request.get("cli"), request.get("custom"),
                                         amd, request.get("ace"))
        return {"callId": call_id}

    @staticmethod
    def _event_target(event: str, value: str) -> dict | None:
        """A URL (None) or inline SVAML, checked as an answer to that event."""
        from ivrc.runtime.emulation.svaml_check import problems

        if value.startswith(("http://", "https://")):
            return None
        try:
            svaml = json.loads(value)
        except ValueError:
            raise _bad(f"customCallout.{event} must be a URL or SVAML as a JSON string") from None
        found = problems(svaml, event.upper() if event != "dice" else "PIE")
        if found:
            raise _bad(f"customCallout.{event}: " + "; ".join(found))
        return svaml

    # calls

    def _call(self, method: str, call_id: str, body: Any) -> tuple[int, Any]:
        call = self.calls.get(call_id)
        if call is None:
            raise Refused(404, 40400, "Call not found")
        if method == "GET":
            return 200, {"from": {"type": "number", "endpoint": call.cli or ""},
                         "to": {"type": "number", "endpoint": call.to}, "domain": "pstn", "callId": call_id,
                         "duration": 12, "status": call.status, "result": "N/A" if call.status == "ONGOING"
                         else "ANSWERED", "reason": "N/A" if call.status == "ONGOING" else "MANAGERHANGUP",
                         "timestamp": "2026-03-03T09:30:00Z", "custom": call.custom or "",
                         "userRate": {"currencyId": "EUR", "amount": 0.0158},
                         "debit": {"currencyId": "EUR", "amount": 0.0032}}
        if method == "PATCH":
            from ivrc.runtime.emulation.svaml_check import problems

            if call.status != "ONGOING":
                raise Refused(400, 40003, "Invalid request: the call has ended")
            # Today's models take only hangup, continue or park (Node's ManagedCallSvamlAction); a
            # stand-in told to act as in Sinch's 2020 calling-API docs also unparks a parked call
            # with whatever would have answered its ICE.
            found = problems(body, "ICE" if call.parked else "PIE")
            if not (call.parked and self.legacy_2020) and isinstance(body, dict):
                found += [f"not a body Sinch's current models accept: {e.message}"
                          for e in managed_call_problems(body)]
                if (body.get("action") or {}).get("name") not in ("hangup", "continue", "park"):
                    found.append("a call can only be hung up, continued or parked")
            if found:
                raise Refused(400, 40001, "Illegal SVAML: " + "; ".join(found))
            call.patches.append(body)
            call.parked = body["action"]["name"] == "park"
            if body["action"]["name"] == "hangup":
                call.status = "FINAL"
            if call.emulated is not None:
                # The emulated caller now hears what the PATCH says, as on a live call.
                call.emulated.parked = False
                call.emulated._apply("ICE", body)  # noqa: SLF001 (the emulator has no public "update")
            return 204, None
        raise Refused(405, 40003, f"Invalid request: {method} on a call")

    def _conference(self, method: str, conference_id: str, call_id: str | None, body: Any) -> tuple[int, Any]:
        participants = self.conferences.get(conference_id)
        if participants is None:
            raise Refused(404, 40400, "Conference not found")
        if call_id is None:
            if method == "GET":
                return 200, {"participants": participants}
            if method == "DELETE":
                participants.clear()
                return 204, None
            raise Refused(405, 40003, "Invalid request")
        participant = next((p for p in participants if p["id"] == call_id), None)
        if participant is None:
            raise Refused(404, 40400, "Participant not found")
        if method == "DELETE":
            participants.remove(participant)
            return 204, None
        if method == "PATCH":
            if not isinstance(body, dict) or set(body) != {"command"} or body["command"] not in (
                    "mute", "unmute", "onhold", "resume"):
                raise _bad("the body is {\"command\": mute|unmute|onhold|resume}")
            participant["muted"] = {"mute": True, "unmute": False}.get(body["command"], participant["muted"])
            participant["onhold"] = {"onhold": True, "resume": False}.get(body["command"], participant["onhold"])
            return 204, None
        raise Refused(405, 40003, "Invalid request")

    # configuration

    def _numbers(self, method: str, body: Any) -> tuple[int, Any]:
        if method == "GET":
            return 200, {"numbers": list(self.numbers.values())}
        if method == "POST":
            if not isinstance(body, dict) or set(body) - {"numbers", "applicationkey", "capability"} \
                    or not isinstance(body.get("numbers"), list) or not body["numbers"]:
                raise _bad("the body is {numbers: [E.164, ...], applicationkey, capability}")
            if body.get("capability", "voice") not in ("voice", "sms"):
                raise _bad("capability must be voice or sms")
            application = body.get("applicationkey") or self.key
            unknown = [n for n in body["numbers"] if n not in self.numbers]
            if unknown:
                raise Refused(400, 40001, f"Unable to update numbers: {', '.join(unknown)} not found")
            for number in body["numbers"]:
                self.numbers[number]["applicationkey"] = application
            return 204, None
        if method == "DELETE":
            if not isinstance(body, dict) or set(body) - {"number", "applicationkey", "capability"} \
                    or not isinstance(body.get("number"), str):
                raise _bad("the body is {number, applicationkey, capability}")
            entry = self.numbers.get(body["number"])
            if entry is None:
                raise Refused(400, 40001, "Unable to update number")
            entry.pop("applicationkey", None)
            return 204, None
        raise Refused(405, 40003, "Invalid request")

    def _callbacks(self, method: str, application: str, body: Any) -> tuple[int, Any]:
        if application.lower() != self.key.lower():
            raise Refused(400, 40003, "Invalid Application Key")
        if method == "GET":
            return 200, {"url": dict(self.callbacks.get(self.key, {}))}
        if method == "POST":
            url = body.get("url") if isinstance(body, dict) and set(body) == {"url"} else None
            if not isinstance(url, dict) or set(url) - {"primary", "fallback"} or not isinstance(url.get("primary"), str):
                raise _bad("the body is {url: {primary, fallback}}")
            self.callbacks[self.key] = dict(url)
            return 204, None
        raise Refused(405, 40003, "Invalid request")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection dropped on purpose (Fault with status 0) is not news


def _handler(standin: SinchStandIn, role: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = standin.handle(role, self.command, self.path, headers, raw)
            if status == 0:  # a dropped connection: no answer at all
                self.close_connection = True
                self.connection.shutdown(2)
                return
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if data:
                self.send_header("content-type", "application/json; charset=utf-8")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler
