"""Shared pieces for the runtime tests: a frozen clock, Sinch's test-vector credentials, small flows."""
from __future__ import annotations

import datetime
import itertools
import json
import textwrap
import warnings
from typing import Any

from ivrctest import BANK_TOKEN, EXAMPLES, KEY, REPO, S3_CREDENTIALS, SECRET, backend_fetch  # noqa: F401 (re-exported)

from ivrc.compiler import compile_file, compile_text, formats
from ivrc.compiler.compiled import Machine
from ivrc.compiler.cookies import MAC_KEY
from ivrc.runtime.emulation.emulator import describe_prompt
from ivrc.runtime.emulation.svaml_check import problems
from ivrc.runtime.engine.events import parse_callback
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.sealing import Sealer
from ivrc.runtime.engine.step import Answer
from ivrc.runtime.signing import sign

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx is what this project lists.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: F401  (re-exported for the app tests)

UTC = datetime.timezone.utc
# A working Tuesday: 11:00 in Stockholm, inside every example's office hours.
TUESDAY_10 = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TUESDAY_EVENING = datetime.datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 18:00 in Stockholm
CHRISTMAS_EVE = datetime.datetime(2026, 12, 24, 10, 0, tzinfo=UTC)  # a Thursday, a holiday in support.yaml

# The verified test vector of reference section 6.3.
OTHER_SECRET = "c2VjcmV0LW9mLWFub3RoZXItYXBw"  # valid Base64, wrong application

ENV = {"VOICEMAIL_S3_CREDENTIALS": S3_CREDENTIALS, "KITCHEN_S3": S3_CREDENTIALS, "BANK_API_TOKEN": BANK_TOKEN}


def fixed(moment: datetime.datetime):
    return lambda: moment


def compile_flow(text: str) -> dict[str, Any]:
    """The machine of an inline flow; a flow with errors fails the test with its diagnostics."""
    result = compile_text(textwrap.dedent(text), "<inline>")
    assert result.ok and result.machine is not None, formats.text([result])
    return result.machine


def example_machines() -> list[dict[str, Any]]:
    from ivrc.compiler.project import flow_files

    machines = []
    for path in flow_files([str(EXAMPLES)]):  # flows only: *.test.yaml beside them are flow tests
        result = compile_file(path)
        assert result.machine is not None, formats.text([result])
        machines.append(result.machine)
    return machines


def library_of(*machines: dict[str, Any], default_flow: str | None = None) -> Library:
    library = Library()
    for machine in machines:
        library.add(machine)
    library.default_flow = default_flow
    return library


_ticks = itertools.count(1)


def timestamp(moment: datetime.datetime) -> str:
    """An x-timestamp Sinch-style (7 fractional digits), unique per call so the replay guard never trips."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{next(_ticks) % 10_000_000:07d}Z"


def signed_headers(body: bytes, moment: datetime.datetime, *, key: str = KEY, secret: str = SECRET,
                   path: str = "/sinch/callback", content_type: str = "application/json") -> dict[str, str]:
    stamp = timestamp(moment)
    return {"content-type": content_type, "x-timestamp": stamp,
            "authorization": sign(key, secret, "POST", path, content_type, stamp, body)}


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


# -- talking to the engine directly ----------------------------------------------------------------------------------


def cookies_set(answer: Answer, *, seal: bool = False) -> dict[str, str]:
    """The cookies an answer sets; the seal (a MAC that changes with everything) only when asked for."""
    return {i["key"]: i["value"] for i in answer.svaml["instructions"]
            if i["name"] == "setCookie" and (seal or i["key"] != MAC_KEY)}


def spoken(answer: Answer) -> list[str]:
    """What the caller hears from one answer, in order: prompts, then the menu's or park's prompts."""
    out: list[str] = []
    for instruction in answer.svaml["instructions"]:
        if instruction["name"] == "playFiles":
            out.extend(describe_prompt(part) for part in instruction["ids"])
        elif instruction["name"] == "say":
            out.append(instruction["text"])
    action = answer.svaml["action"]
    prompts = []
    if action["name"] == "runMenu":
        main = next(m for m in action["menus"] if m["id"] == action["mainMenu"])
        prompts = [main.get("mainPrompt", "")]
    elif action["name"] == "park":
        prompts = [action.get("introPrompt", ""), action["holdPrompt"]]
    for prompt in prompts:
        out.extend(describe_prompt(p) for p in prompt.split(";") if p)
    return out


def names(answer: Answer) -> list[str]:
    return [i["name"] for i in answer.svaml["instructions"]]


def pin(flow_machine: Machine | dict[str, Any], state: str, attempt: int = 0, locale: str = "en-US") -> str:
    """The state cookie for a machine (typed, as a Library holds it, or its document)."""
    doc = flow_machine.document if isinstance(flow_machine, Machine) else flow_machine
    return f"{doc['flow']}|{doc['version']}|{state}|{attempt}|{locale}"


class Phone:
    """Sends one callback at a time straight to the engine and checks the answer like Sinch would."""

    def __init__(self, engine, sinch_body) -> None:
        self.engine = engine
        self.sinch_body = sinch_body

    def send(self, event: str, *, called: str | None = None, cookies: Any = None, as_map: bool = False,
             seal: bool = True, **fields: Any) -> Answer:
        """cookies: a dict goes out as Sinch's list of {key, value} (or as a map with as_map); anything else as is.

        A dict is sealed as the engine seals the state it leaves with Sinch (seal=False: as a forger sends it)."""
        body = self.sinch_body(event, callid="call-1", **fields)
        if seal and isinstance(cookies, dict) and cookies and MAC_KEY not in cookies:
            cookies = {**cookies, MAC_KEY: Sealer().seal("call-1", cookies)}
        if called is not None:
            body["to"] = {"type": "number", "endpoint": called}
        if cookies is not None:
            body["cookies"] = ([{"key": k, "value": v} for k, v in cookies.items()]
                               if isinstance(cookies, dict) and not as_map else cookies)
        cb = parse_callback(json.dumps(body).encode())
        answer = self.engine.step(cb)
        if event in ("dice", "notify"):
            assert answer.svaml is None, "DiCE and Notify are answered with an empty 200"
        else:
            assert answer.svaml is not None
            json.dumps(answer.svaml)  # serialisable as it stands
            assert problems(answer.svaml, event, cb.cookies) == []
        return answer

    def ice(self, called: str, **fields: Any) -> Answer:
        return self.send("ice", called=called, cli="+46701234567", **fields)

    def pie(self, cookies: Any, type: str, value: str = "", menu_id: str = "main", method: str = "dtmf") -> Answer:
        return self.send("pie", cookies=cookies,
                         menuResult={"menuId": menu_id, "type": type, "value": value, "inputMethod": method})


def assert_error_path(answer: Answer, event: str, apology: str) -> None:
    """The flow's error path: an apology and a hang-up, as valid SVAML."""
    assert answer.outcome == "error"
    assert answer.svaml["action"] == {"name": "hangup"}
    assert spoken(answer) == [apology]
    assert problems(answer.svaml, event) == []
    if event == "ice":
        assert names(answer)[0] == "answer"


DEFAULT_APOLOGY = "We are sorry, something went wrong. Please call again later. Goodbye."


# -- small flows for what the examples do not show -------------------------------------------

KITCHEN = """\
    ivrc: 1
    flow: kitchen
    numbers: ["+15550001000"]
    locale: en-US
    locales: [en-US, sv-SE]
    timezone: Europe/Stockholm
    start: greet
    variables:
      tier:
        max_length: 8
        default: basic
      greeting:
        max_length: 40
    hours:
      office:
        weekly:
          tue: ["09:00-17:00"]
        holidays: ["2026-12-01"]
    prompts:
      hello:
        en-US: "Hello {{ tier }} caller."
        sv-SE: "Hej {{ tier }}."
    on_error:
      say: "The kitchen is sorry."
    states:
      greet:
        set: {tier: gold, greeting: "hi {{ tier }}"}
        say: {prompt: hello}
        next: hours
      hours:
        branch:
          - if: is_open("office")
            goto: top
          - else: closed
      closed:
        say: "We are closed."
        hangup: true
      top:
        menu:
          prompt: "Top menu."
          options:
            1: sub
            2: pin
            3: {goto: swedish, say: "Byter språk."}
            4: voicemail
            5: to_number
            6: to_sip
            7: to_conf
            "#": hang
          timeout: 4
          attempts: 2
          no_input: {say: "Nothing heard."}
          invalid: {say: "Not an option."}
          exhausted: hang
      sub:
        menu:
          prompt: "Sub menu."
          reprompt: "Sub menu again."
          options:
            1: to_number
            "*": top
          attempts: 3
          no_input: {say: "Sub silence."}
          invalid: {say: "Sub invalid.", goto: hang}
          exhausted: hang
      swedish:
        set: {locale: sv-SE}
        say: {prompt: hello}
        hangup: true
      pin:
        collect:
          prompt: "Enter your PIN."
          into: code
          min_digits: 4
          max_digits: 6
          pattern: "1[0-9]+"
          attempts: 3
          no_input: {say: "No digits."}
          invalid: {say: "Bad PIN."}
          next: thanks
          exhausted: hang
      thanks:
        say: "PIN {{ code }} accepted, {{ tier }} member."
        hangup: true
      voicemail:
        record:
          prompt: "Speak now."
          max_length: 60
          recording:
            destination: s3://kitchen-bucket/messages/
            credentials_env: KITCHEN_S3
          next: bye
      bye:
        say: "Bye."
        hangup: true
      to_number:
        transfer:
          number: "+15550002000"
          caller_id: "+15550001000"
          dial_timeout: 20
      to_sip:
        transfer:
          sip: desk@pbx.example.com
          transport: tls
          headers: {X-Tier: gold}
      to_conf:
        transfer:
          conference: room-1
          music_on_hold: music2
      hang:
        hangup: true
"""
KITCHEN_NUMBER = "+15550001000"

# Park and connectMxp may only answer an ICE, so they are reached straight from the call's start.
FRONT_DESK = """\
    ivrc: 1
    flow: front-desk
    numbers: ["+15550003000", "+15550003001", "+15550003002"]
    start: route
    states:
      route:
        branch:
          - if: call.called == "+15550003001"
            goto: hold
          - if: call.called == "+15550003002"
            goto: to_user
          - else: recorded_transfer
      hold:
        park:
          intro: "Please hold."
          hold: "Still holding."
          max_duration: 300
      to_user:
        transfer:
          user: alice
      recorded_transfer:
        transfer:
          number: "+15550004000"
          record:
            destination: https://recordings.example.com/calls/
"""

VOICE = """\
    ivrc: 1
    flow: voice
    numbers: ["+15550006000"]
    start: ask
    states:
      ask:
        menu:
          prompt: "Say yes or press 1, say no or press 2."
          options:
            1: {goto: said_yes, keywords: ["yes", "Yeah"]}
            2: {goto: said_no, keywords: ["no"]}
          invalid: {say: "Pardon?"}
          no_input: {say: "Hello?"}
          exhausted: said_no
      said_yes:
        say: "You said yes."
        hangup: true
      said_no:
        say: "You said no."
        hangup: true
"""

# Templates that fail on a call: integer division by a variable that is zero by default. Lint
# rejects them (IVR083); their machines are built past lint (built_past_lint), because the
# engine must still answer well whatever machine it is given.
OOPS = """\
    ivrc: 1
    flow: oops
    numbers: ["+15550005000", "+15550005001"]
    start: route
    variables:
      n:
        max_length: 4
        default: "0"
    on_error:
      say: "Oops is sorry."
    states:
      route:
        branch:
          - if: call.called == "+15550005001"
            goto: divide
          - else: ask
      ask:
        menu:
          prompt: "Press 1 to divide."
          options:
            1: divide
          no_input: ask_again
          invalid: ask_again
          exhausted: ask_again
      ask_again:
        hangup: true
      divide:
        say: "Ten divided by n is {{ 10 // (n | int) }}."
        hangup: true
"""

# The flow's own apology fails too: the engine falls back to its built-in one.
BROKEN_APOLOGY = """\
    ivrc: 1
    flow: broken-apology
    numbers: ["+15550008000"]
    start: divide
    variables:
      n:
        max_length: 4
        default: "0"
    on_error:
      say: "Sorry {{ 1 // (n | int) }}."
    states:
      divide:
        say: "{{ 10 // (n | int) }}"
        hangup: true
"""

OUTBOUND = """\
    ivrc: 1
    flow: survey
    outbound:
      amd: true
    start: check
    variables:
      name:
        max_length: 10
        default: "friend"
    states:
      check:
        branch:
          - if: call.amd == "machine"
            goto: machine
          - if: call.amd == "notsure"
            goto: unsure
          - else: hello
      machine:
        say: "Machine message for {{ name }}."
        hangup: true
      unsure:
        say: "Are you there, {{ name }}?"
        hangup: true
      hello:
        say: "Hello {{ name }}."
        transfer:
          conference: survey-room
"""


# Long rendered text, and the caller's own number spoken back (caller data is untrusted).
ECHO = """\
    ivrc: 1
    flow: echo
    numbers: ["+15550009000"]
    start: greet
    variables:
      a: {max_length: 400}
      b: {max_length: 400}
    states:
      greet:
        set: {a: "{{ 'word ' * 79 }}", b: "{{ 'more ' * 79 }}"}
        say: "{{ a }} {{ b }}"
        next: ask
      ask:
        menu:
          prompt: "Calling from {{ call.caller }}."
          options:
            1: {goto: bye, say: "Goodbye {{ call.caller }}."}
          no_input: bye
          invalid: bye
          exhausted: bye
      bye:
        hangup: true
"""


def built_past_lint(text: str, codes: list[str]) -> dict[str, Any]:
    """The machine of a flow lint rejects with exactly these codes, built as if it had not."""
    from ivrc.compiler import check_text
    from ivrc.compiler.machine import build

    result = check_text(textwrap.dedent(text), "<inline>")
    assert [d.code for d in result.errors] == codes, formats.text([result])
    return build(result.flow)


def inline_machines() -> list[dict[str, Any]]:
    return ([compile_flow(text) for text in (KITCHEN, FRONT_DESK, VOICE, OUTBOUND, ECHO)]
            + [built_past_lint(OOPS, ["IVR083"]), built_past_lint(BROKEN_APOLOGY, ["IVR083", "IVR083"])])
