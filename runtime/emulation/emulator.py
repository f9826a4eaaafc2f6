"""Plays Sinch's side of a call against a callback server: signed events, cookie echo, runMenu as Sinch runs it.

Every answer is checked against Sinch's rules (runtime.svaml_check); a server that breaks them
fails the call with CallFailed, loudly, because the real platform would fail it too.
"""
from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ivrc.compiler import svaml
from ivrc.compiler.errors import IvrcError

from .svaml_check import problems

_PROMPT_PART = re.compile(r"#(tts|ssml|href)\[(.*)\]\Z", re.S)
_BEFORE_PUNCTUATION = re.compile(r" ([.,;:!?])")
_TAG = re.compile(r"<[^>]+>")
_MENU_ACTION = re.compile(r"(menu|return)\((.*)\)\Z")


class CallFailed(IvrcError):
    """The server answered something Sinch would reject, or not at all."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class Unreachable(CallFailed):
    """No answer at all: the server could not be reached."""


class CallerMistake(CallFailed):
    """The caller did something this call cannot take: keys after the end, speech to a keys-only menu."""


class Transport(Protocol):
    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        """POSTs one callback; returns the HTTP status and the parsed JSON answer (None if empty)."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class HttpTransport:
    """Real HTTP with Sinch's signature on every request, as the platform sends it."""

    def __init__(self, url: str, key: str | None, secret: str | None, *, clock: Callable[[], datetime.datetime] = _now,
                 timeout: float = 10.0, client: Any = None) -> None:
        from urllib.parse import urlsplit

        import httpx

        self.url = url
        self.path = urlsplit(url).path or "/"
        self.key, self.secret = key, secret
        self.clock = clock
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        import httpx

        from ivrc.runtime.signing import sign

        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "x-timestamp": iso(self.clock())}
        if self.key and self.secret:
            headers["authorization"] = sign(self.key, self.secret, "POST", self.path, headers["content-type"],
                                            headers["x-timestamp"], raw)
        try:
            response = self.client.post(self.url, content=raw, headers=headers)
        except httpx.HTTPError as err:
            raise Unreachable(f"could not reach {self.url}: {err}") from None
        if not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise CallFailed(f"the server answered {response.status_code} with a body that is not JSON: "
                             f"{response.text[:200]!r}") from None


def served_flows(url: str, timeout: float = 3.0) -> list[dict[str, Any]] | None:
    """The flows an ivrc server lists at /flows (beside its callback path), or None if it lists none."""
    from urllib.parse import urlsplit, urlunsplit

    import httpx

    parts = urlsplit(url)
    try:
        response = httpx.get(urlunsplit((parts.scheme, parts.netloc, "/flows", "", "")), timeout=timeout)
        flows = response.json().get("flows") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return flows if isinstance(flows, list) else None


class EngineTransport:
    """In-process: the same engine the server runs, without HTTP or signatures."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.last_error: str | None = None  # the engine's reason when its last answer was the error path

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        from ivrc.runtime.engine.events import parse_callback

        answer = self.engine.step(parse_callback(json.dumps(body).encode()))
        self.last_error = answer.error if answer.outcome in ("error", "on-error") else None
        return 200, answer.svaml


_MARKS = {"hear": "  🔊 ", "press": "  ☎  ", "silence": "  ☎  ", "error": "  ✗  ", "flow-error": "  ✗  "}


@dataclass
class Line:
    """One line of the conversation, as a person would tell it."""

    kind: str  # hear, press, silence, menu, transfer, park, record, hangup, callback, error, flow-error
    text: str
    data: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return _MARKS.get(self.kind, "  ·  ") + self.text


def describe_prompt(part: str) -> str:
    """What a caller hears for one Sinch prompt part."""
    match = _PROMPT_PART.match(part.strip())
    if match is None:
        return f"[recorded file {part}]" if not part.startswith("http") else f"[audio {part}]"
    kind, body = match.groups()
    if kind == "href":
        return f"[audio {body}]"
    if kind == "ssml":
        # A tag may stand between two words (<break/>), so it becomes a space; none goes before punctuation,
        # as in '<say-as ...>AB12</say-as>.'.
        return _BEFORE_PUNCTUATION.sub(r"\1", " ".join(_TAG.sub(" ", body).split()))
    return body


@dataclass
class Keypad:
    """A conference in `detect` mode: Sinch collects a participant's keys and reports them in a PIE."""

    max_digits: int
    typed: str = ""


@dataclass
class Menu:
    """A runMenu the emulator is running, as Sinch would."""

    action: dict[str, Any]
    current: str
    repeats_left: int = 0
    typed: str = ""

    @property
    def menus(self) -> dict[str, dict]:
        return {m["id"]: m for m in self.action["menus"]}

    @property
    def menu(self) -> dict:
        return self.menus[self.current]


class Call:
    """One emulated call. Drive it with start(), press(), silence(), hangup()."""

    def __init__(self, transport: Transport, *, called: str = "", caller: str = "+46700000001", callid: str | None = None,
                 custom: str | None = None, outbound: bool = False, amd: str = "human", key: str | None = None,
                 clock: Callable[[], datetime.datetime] = _now, strict: bool = True,
                 observer: Callable[[Line], None] | None = None, echo_cookies: bool = True) -> None:
        self.transport = transport
        self.observer = observer  # sees every line as it happens (live transcripts, coverage)
        self.caller, self.called = caller, called
        self.callid = callid or f"emulated-{uuid.uuid4()}"
        self.custom, self.outbound, self.amd = custom, outbound, amd
        self.key = key or "emulator"
        self.clock = clock
        self.strict = strict
        # False: act as a Sinch that does not echo cookies in later callbacks (docs/serving.md, Routing).
        self.echo_cookies = echo_cookies
        self.cookies: dict[str, str] = {}
        self.lines: list[Line] = []
        self.menu: Menu | None = None
        self.recording: dict | None = None
        self.ended = False
        self.transferred: dict | None = None
        self.keypad: Keypad | None = None  # keys pressed in a conference reach the flow
        self.parked = False
        self.answers: list[tuple[str, Any]] = []  # every (event, answer), for tests

    # what a caller does

    def start(self) -> "Call":
        if self.outbound:
            self._say("callback", f"ACE: the callout is answered ({self.amd})")
            body: dict[str, Any] = {"event": "ace", "custom": self.custom or "", "amd": {"status": self.amd, "reason": "n/a", "duration": 1}}
            self._exchange("ACE", body)
        else:
            self._say("callback", f"ICE: {self.caller} calls {self.called}")
            body = {"event": "ice", "cli": self.caller, "to": {"type": "number", "endpoint": self.called},
                    "domain": "pstn", "originationType": "PSTN", "custom": self.custom or "",
                    "userRate": {"currencyId": "EUR", "amount": 0.0}, "duration": 0}
            self._exchange("ICE", body)
        return self

    def press(self, keys: str) -> "Call":
        self._say("press", f"presses {keys}")
        filled = False
        for i, key in enumerate(keys):
            if filled and key == "#" and i == len(keys) - 1:
                # `1234#` into four digits: the input ended at its last digit, and the caller's # closes
                # what they typed; it is not a key for whatever comes next (docs/testing.md).
                break
            if self.ended:
                raise CallerMistake(f"pressed {keys[i:]!r} but the call has ended")
            if self.menu is None and self.keypad is None:
                raise CallerMistake(f"pressed {keys[i:]!r} but nothing is listening for keys"
                                   + (" (the call was transferred)" if self.transferred else
                                      " (the call is parked)" if self.parked else ""))
            filled = self._key(key)
        menu = self.menu
        if menu is not None and menu.typed:  # digits typed, then a pause: Sinch ends the input
            self._pie("sequence", menu.typed)
        elif self.menu is None and self.keypad is not None and self.keypad.typed:
            self._keypad_pie(self.keypad.typed)
        return self

    def press_key(self, key: str) -> "Call":
        """One key and no pause after it, as on a keypad: typed digits wait for #, the last digit or silence()."""
        self._say("press", f"presses {key}")
        if self.ended:
            raise CallerMistake(f"pressed {key!r} but the call has ended")
        if self.menu is None and self.keypad is None:
            raise CallerMistake(f"pressed {key!r} but nothing is listening for keys"
                               + (" (the call was transferred)" if self.transferred else
                                  " (the call is parked)" if self.parked else ""))
        self._key(key)
        return self

    def say(self, words: str) -> "Call":
        """Speech input, for menus with keywords (Sinch's enableVoice)."""
        self._say("press", f"says {words!r}")
        if self.menu is None:
            raise CallerMistake(f"said {words!r} but nothing is listening"
                                + (" (the call has ended)" if self.ended else ""))
        if not self.menu.action.get("enableVoice"):
            raise CallerMistake("this menu does not accept speech (enableVoice is off)")
        self._pie("sequence", words, method="voice")
        return self

    def silence(self) -> "Call":
        self._say("silence", "stays silent")
        if self.menu is None and self.keypad is not None:
            if self.keypad.typed:  # the pause after the last key ends the sequence
                self._keypad_pie(self.keypad.typed)
            return self
        if self.menu is None:
            raise CallerMistake("stayed silent but nothing is waiting for input"
                                + (" (the call has ended)" if self.ended else ""))
        menu = self.menu
        if menu.typed:
            self._pie("sequence", menu.typed)
        elif menu.repeats_left > 0:
            menu.repeats_left -= 1
            self._hear(menu.menu.get("repeatPrompt") or menu.menu.get("mainPrompt", ""), menu.action.get("locale"))
        else:
            self._pie("timeout", "")
        return self

    def hangup(self) -> "Call":
        if not self.ended:
            self._say("hangup", "the caller hangs up", {"by": "caller"})
            self._end("CALLERHANGUP")
        return self

    # Sinch's side

    def _key(self, key: str) -> bool:
        """Presses one key; True when it was the last digit a digit input takes (Sinch ends the input there)."""
        if self.menu is None and self.keypad is not None:
            self._conference_key(key)
            return False
        menu = self.menu
        assert menu is not None
        current = menu.menu
        if "maxDigits" in current:
            if key == "#":
                self._pie("sequence", menu.typed)
                return False
            menu.typed += key
            if len(menu.typed) >= current["maxDigits"]:
                self._pie("sequence", menu.typed)
                return True
            return False
        for option in current.get("options", []):
            if option.get("dtmf") == key:
                action = _MENU_ACTION.match(option["action"])
                assert action is not None  # the engine writes every option's action as menu(...) or return(...)
                kind, target = action.groups()
                if kind == "menu":
                    shown = svaml.state_of_menu(target)[1] or target  # the state, without its flow
                    self._say("menu", f"menu → {shown}", {"from": menu.current, "key": key, "to": target})
                    menu.current, menu.repeats_left = target, menu.menus[target].get("repeats", 0)
                    self._hear(menu.menus[target].get("mainPrompt", ""), menu.action.get("locale"))
                else:
                    self._pie("return", target)
                return False
        if menu.repeats_left > 0:
            menu.repeats_left -= 1
            self._hear(current.get("repeatPrompt") or current.get("mainPrompt", ""), menu.action.get("locale"))
        else:
            self._pie("invalidinput", key)
        return False

    def _pie(self, kind: str, value: str, method: str = "dtmf") -> None:
        menu = self.menu
        assert menu is not None
        self.menu = None
        self._say("callback", f"PIE: {kind} {value!r} from menu {menu.current!r}")
        result = {"menuId": menu.current, "type": kind, "value": value, "inputMethod": method}
        self._exchange("PIE", {"event": "pie", "menuResult": result, "custom": self.custom or ""})

    def _conference_key(self, key: str) -> None:
        """Sinch's conferenceDtmfOptions in detect mode: a PIE at `#`, at maxDigits keys, or after a pause."""
        keypad = self.keypad
        assert keypad is not None
        keypad.typed += key
        if key == "#" or len(keypad.typed) >= keypad.max_digits:
            self._keypad_pie(keypad.typed)

    def _keypad_pie(self, value: str) -> None:
        assert self.keypad is not None
        self.keypad.typed = ""
        self._say("callback", f"PIE: keys {value!r} pressed in the conference")
        # No menu runs in a conference: the result names none (Sinch's menuId here is undocumented).
        result = {"type": "sequence", "value": value, "inputMethod": "dtmf"}
        self._exchange("PIE", {"event": "pie", "menuResult": result, "custom": self.custom or ""})

    def _end(self, reason: str) -> None:
        self.menu = None
        self.keypad = None
        if self.recording is not None:
            self._recording_done()
        self.ended = True
        self._exchange("DICE", {"event": "dice", "reason": reason, "result": "ANSWERED", "duration": 30,
                                "from": self.caller, "to": {"type": "number", "endpoint": self.called},
                                "custom": self.custom or ""})

    def _recording_done(self) -> None:
        options = self.recording or {}
        destination = options.get("destinationUrl", "")
        if not destination.endswith("/"):
            destination += "/"
        destination += f"{self.callid}.{options.get('format', 'mp3')}"
        self.recording = None
        self._say("record", f"recording stopped; Sinch stores it at {destination}",
                  {"recording": "stopped", "destination": destination})
        if options.get("notificationEvents", True):
            self._exchange("NOTIFY", {"event": "notify", "type": "recording_finished", "destination": destination,
                                      "custom": self.custom or ""})

    def _exchange(self, event: str, body: dict[str, Any]) -> None:
        body = {"event": body["event"], "callid": self.callid, "version": 1, "applicationKey": self.key,
                **({"timestamp": iso(self.clock())} if event != "NOTIFY" else {}),
                **{k: v for k, v in body.items() if k != "event"}}
        if self.cookies and self.echo_cookies:
            body["cookies"] = [{"key": k, "value": v} for k, v in self.cookies.items()]
        status, answer = self.transport.send(body)
        self.answers.append((event, answer))
        failure = getattr(self.transport, "last_error", None)  # only an in-process engine can say why
        if failure:
            self._say("flow-error", f"the flow failed ({failure}); the caller hears its error message",
                      {"error": failure})
        if status != 200:
            raise CallFailed(f"the server answered the {event} with HTTP {status}: {answer}")
        if event in ("DICE", "NOTIFY"):
            return
        found = problems(answer, event, self.cookies)
        if found:
            self._say("error", f"Sinch would reject the answer to {event}: " + "; ".join(found))
            if self.strict:
                raise CallFailed(f"the answer to {event} breaks Sinch's rules", found)
        self._apply(event, answer)

    def _apply(self, event: str, answer: dict[str, Any]) -> None:
        for instruction in answer.get("instructions", []):
            name = instruction.get("name")
            if name == "setCookie":
                self.cookies[instruction["key"]] = instruction["value"]
            elif name == "playFiles":
                for part in instruction.get("ids", []):
                    self._hear(part, instruction.get("locale"))
            elif name == "say":
                self._say("hear", instruction.get("text", ""), {"locale": instruction.get("locale")})
            elif name == "startRecording" and answer.get("action", {}).get("name") == "connectMxp":
                # Sinch records no call to an in-app user (IVR061 says so at lint time): nothing is stored.
                self._say("record", "Sinch does not record a call to an in-app user: nothing is recorded",
                          {"recording": "ignored"})
            elif name == "startRecording":
                self.recording = instruction.get("options", {})
                self._say("record", f"recording started → {self.recording.get('destinationUrl')}",
                          {"recording": "started", "destination": self.recording.get("destinationUrl")})
            elif name == "stopRecording" and self.recording is not None:
                self._recording_done()
            elif name == "answer":
                self._say("callback", "the call is answered")
            elif name == "sendDtmf":
                self._say("hear", f"[keys {instruction.get('value', '')} sent as tones]", {"keys": instruction.get("value")})
        action = answer.get("action", {})
        name = action.get("name")
        if name != "continue":
            self.keypad = None  # a new action takes the caller out of the conference's keypad
        if name == "runMenu":
            first = next(m for m in action["menus"] if m["id"] == action.get("mainMenu", "main"))
            self.menu = Menu(action, first["id"], first.get("repeats", 0))
            self._hear(first.get("mainPrompt", ""), action.get("locale"))
        elif name == "hangup":
            self._say("hangup", "the flow hangs up", {"by": "flow"})
            self._end("MANAGERHANGUP")
        elif name == "park":
            self.parked = True
            self._hear(action.get("introPrompt", ""), action.get("locale"))
            self._hear(action.get("holdPrompt", ""), action.get("locale"))
            self._say("park", f"parked (on hold for up to {action.get('maxDuration', 'the platform limit of')} s)",
                      {"action": action})
        elif name in ("connectPstn", "connectSip", "connectMxp", "connectConf", "connectStream"):
            self._transfer(action)
        elif name == "continue":
            self._say("callback", "the call continues")

    def _transfer(self, action: dict[str, Any]) -> None:
        name = action["name"]
        target = {"connectPstn": lambda: action.get("number", self.called),
                  "connectSip": lambda: action["destination"]["endpoint"],
                  "connectMxp": lambda: action["destination"]["endpoint"],
                  "connectConf": lambda: action["conferenceId"],
                  "connectStream": lambda: action["destination"]["endpoint"]}[name]()
        kind = {"connectPstn": "number", "connectSip": "sip", "connectMxp": "user", "connectConf": "conference",
                "connectStream": "stream"}[name]
        self.transferred = {"kind": kind, "target": target, "caller_id": action.get("cli"), "action": action}
        detail = f" with caller id {action['cli']}" if action.get("cli") else ""
        if action.get("dtmf"):
            detail += f", keys {action['dtmf']} on answer"
        if action.get("callHeaders"):
            detail += ", headers " + ", ".join(f"{h.get('key')}: {h.get('value')}" for h in action["callHeaders"])
        keys = action.get("conferenceDtmfOptions") or {}
        if keys.get("mode") == "detect":
            self.keypad = Keypad(int(keys.get("maxDigits", 1)))
            detail += ", keys pressed reach the flow"
        self._say("transfer", f"transferred to {kind} {target}{detail}", self.transferred)
        if name in ("connectPstn", "connectSip") and not action.get("suppressCallbacks"):
            # Sinch tells the flow when the other side picks up; the answer may only continue or hang up.
            self._exchange("ACE", {"event": "ace", "custom": self.custom or ""})

    # transcript

    def _hear(self, prompt: str, locale: str | None = None) -> None:
        for part in (prompt.split(";") if prompt else []):
            if part.strip():
                self._say("hear", describe_prompt(part), {"locale": locale})

    def _say(self, kind: str, text: str, data: dict | None = None) -> None:
        line = Line(kind, text, dict(data or {}))
        self.lines.append(line)
        if self.observer is not None:
            self.observer(line)

    def heard(self) -> list[str]:
        return [line.text for line in self.lines if line.kind == "hear"]

    def transcript(self) -> str:
        return "\n".join(str(line) for line in self.lines)
