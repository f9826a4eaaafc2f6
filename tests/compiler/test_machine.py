"""The compiled machine: matches schemas/machine.schema.json, is deterministic, and says what the flow says.

Every example compiles into a machine that validates; compiling is repeatable to the byte; the
version moves with content and not with layout; each state carries its kind's fields and only
names states and prompts that exist; nested menus fuse into one runMenu with menu(id) navigation;
menu options return FLOW.STATE.KEY; and the start state runs in the callback Sinch opens the call with.
"""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from jsonschema import Draft202012Validator

from ivrc import compiler
from ivrc.compiler.loader import load_file
from ivrc.compiler.machine import dumps
from ivrc.compiler.project import is_flow_file
from ivrc.compiler.svaml import state_of_menu

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "examples").iterdir() if is_flow_file(p.name))
MACHINE_SCHEMA = REPO / "schemas" / "machine.schema.json"
INBOUND = [p for p in EXAMPLES if p.name != "reminder.yaml"]

# Sinch's allowed-in tables, copied from reference/sinch-voice.md section 2.1 so the test does not
# trust the compiler's own copy (compiler/svaml.py).
ACTIONS_ALLOWED = {
    "hangup": {"ICE", "ACE", "PIE"}, "continue": {"ACE", "PIE"}, "connectPstn": {"ICE", "PIE"},
    "connectMxp": {"ICE"}, "connectConf": {"ICE", "ACE", "PIE"}, "connectSip": {"ICE", "PIE"},
    "runMenu": {"ICE", "ACE", "PIE"}, "park": {"ICE"}, "connectStream": {"ICE"},
}
INSTRUCTIONS_ALLOWED = {"playFiles": {"ICE", "ACE", "PIE"}, "startRecording": {"ICE", "ACE", "PIE"},
                        "stopRecording": {"ICE", "ACE", "PIE"}, "sendDtmf": {"ICE", "PIE"}}
KIND_FIELDS = {
    "next": {"next"},
    "branch": {"cases"},
    "hangup": {"action"},
    "menu": {"action", "retry_action", "options", "attempts"},
    "collect": {"action", "retry_action", "into", "min_digits", "max_digits", "next", "attempts"},
    "record": {"instructions", "action", "after", "next"},
    "transfer": {"action", "on_answer"},
    "park": {"action"},
    "request": {"method", "url", "timeout", "next"},
    "repeat": {"times", "goto", "then"},
}
COMMON_FIELDS = {"do", "runs_in", "set", "say", "send_digits"}
OPTIONAL_FIELDS = {
    "menu": {"keywords", "fused", "no_input", "invalid", "exhausted", "repeats_in_sinch"},
    "collect": {"pattern", "no_input", "invalid", "exhausted"},
    "transfer": {"instructions", "keys", "on_invalid"},
    "request": {"query", "headers", "secret_headers", "body", "save", "on_status", "on_failure"},
}
KEY_NAMES = {"#": "hash", "*": "star"}


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    with open(MACHINE_SCHEMA, encoding="utf-8") as fh:
        return Draft202012Validator(json.load(fh))


@lru_cache(maxsize=None)
def _compiled(path: str) -> str:
    result = compiler.compile_file(path)
    assert result.ok, [f"{d.span} {d.code} {d.message}" for d in result.errors]
    assert result.machine is not None
    return dumps(result.machine)


def machine_of(path: Path) -> dict:
    """A fresh copy of the example's machine (tests may not share mutations)."""
    return json.loads(_compiled(str(path)))


def source_of(path: Path) -> dict:
    loaded = load_file(str(path))
    assert loaded.document is not None
    return loaded.document.data


def schema_errors(machine: dict) -> list[str]:
    errors = sorted(validator().iter_errors(machine), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def run_menus(state: dict) -> Iterator[dict]:
    for field in ("action", "retry_action"):
        action = state.get(field)
        if isinstance(action, dict) and action.get("name") == "runMenu":
            yield action


def placeholders(node: Any, key: str) -> Iterator[Any]:
    """Every value of {key: VALUE} placeholders below node."""
    if isinstance(node, dict):
        if key in node and len(node) == 1:
            yield node[key]
        for value in node.values():
            yield from placeholders(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from placeholders(value, key)


def gotos(state: dict) -> Iterator[str]:
    """Every state name a compiled state can move to."""
    if "next" in state:
        yield state["next"]
    for case in state.get("cases", []):
        yield case["goto"]
    for option in state.get("options", {}).values():
        yield option["goto"]
    for handler in ("no_input", "invalid"):
        if "goto" in state.get(handler, {}):
            yield state[handler]["goto"]
    if "exhausted" in state:
        yield state["exhausted"]
    yield from state.get("fused", [])


def prompt_ids(state: dict) -> Iterator[str]:
    """Every prompt id a compiled state uses: its say, handlers, option says and SVAML placeholders."""
    if "say" in state:
        yield state["say"]
    for handler in ("no_input", "invalid"):
        if "say" in state.get(handler, {}):
            yield state[handler]["say"]
    for option in state.get("options", {}).values():
        if "say" in option:
            yield option["say"]
    for found in placeholders(state, "$prompt"):
        yield from found if isinstance(found, list) else [found]  # a repeatPrompt plays two prompts
    yield from placeholders(state, "$prompt_ids")


# ---------------------------------------------------------------------------------------------
# the schema and the examples

def test_machine_schema_is_a_valid_2020_12_schema() -> None:
    with open(MACHINE_SCHEMA, encoding="utf-8") as fh:
        schema = json.load(fh)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://ivrc.dev/schemas/machine-1.schema.json"
    assert schema["additionalProperties"] is False


def test_every_example_is_compiled_here() -> None:
    assert {p.name for p in EXAMPLES} >= {"support.yaml", "multilingual.yaml", "reminder.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles_to_a_machine_that_matches_the_schema(path: Path) -> None:
    assert schema_errors(machine_of(path)) == []


def _main_menu(m: dict) -> dict:
    return m["states"]["main_menu"]["action"]["menus"][0]


BROKEN_MACHINES = [
    pytest.param(lambda m: m["states"]["welcome"].update(action={"name": "hangup"}), id="a field of another kind"),
    pytest.param(lambda m: m["states"]["welcome"].pop("next"), id="a missing kind field"),
    pytest.param(lambda m: m["states"]["main_menu"].update(do="goto"), id="an unknown kind"),
    pytest.param(lambda m: _main_menu(m).update(timeoutMills="6000"), id="timeoutMills as text"),
    pytest.param(lambda m: _main_menu(m)["options"][0].update(dtmf=1), id="dtmf as a number"),
    pytest.param(lambda m: _main_menu(m).update(id="start"), id="no menu with id main"),
    pytest.param(lambda m: _main_menu(m)["options"][1].update(action="return(2)"), id="a bare return value"),
    pytest.param(lambda m: m["states"]["agent_en"]["action"].update(dialTimeout=30.5), id="a fractional dialTimeout"),
    pytest.param(lambda m: m["states"]["partner_line"]["action"].pop("holdPrompt"), id="park without holdPrompt"),
    pytest.param(lambda m: m["prompts"]["welcome"]["en-US"].append({"audio": "http://a.example/a.mp3"}), id="http audio"),
    pytest.param(lambda m: m["prompts"]["welcome"]["en-US"][0].update(render=False), id="render other than true"),
    pytest.param(lambda m: m.update(direction="outbound"), id="outbound without its settings"),
    pytest.param(lambda m: m["cookies"].update(max_bytes=1025), id="over the cookie limit"),
    pytest.param(lambda m: m.update(extra=1), id="an unknown top-level field"),
]


@pytest.mark.parametrize("mutate", BROKEN_MACHINES)
def test_schema_rejects_a_broken_machine(mutate) -> None:
    """The schema is no rubber stamp: each of these breaks a rule Sinch or the runtime relies on."""
    machine = machine_of(REPO / "examples" / "multilingual.yaml")
    mutate(machine)
    assert schema_errors(machine)


# Every SVAML element and placeholder the compiler can produce, in one flow the examples do not
# cover: park, in-app user, SIP with every option, conference, collect, record with a finish key,
# voice keywords, file and SSML parts, explicit transcription locale.
KITCHEN_SINK = """\
ivrc: 1
flow: kitchen-sink
numbers: ["+46812345001", "+46812345002", "+46812345003"]
locales: [en-US, sv-SE]
timezone: Europe/Stockholm
start: route
prompts:
  hello:
    en-US: ["Hello {{ call.caller }}.", {file: welcome-01}]
    sv-SE: [{ssml: "<speak>Hej, {{ locale }}.</speak>"}, {audio: "https://media.example.com/a.mp3"}]
variables:
  note: {max_length: 20, default: none}
hours:
  office:
    weekly: {mon: ["09:00-12:00", "13:00-24:00"], sat: closed}
    holidays: ["12-24"]
on_error:
  say: {prompt: hello}
states:
  route:
    branch:
      - if: call.called == "+46812345001"
        goto: hold
      - if: call.called == "+46812345002"
        goto: app_user
      - if: is_open('office')
        goto: main_menu
      - else: bye
  hold:
    park:
      intro: "Welcome."
      hold: "Please hold."
      max_duration: 60
  app_user:
    transfer:
      user: alice
      headers: {X-Team: support}
  main_menu:
    say: {prompt: hello}
    menu:
      prompt: "Press 1, 2, 3, 4 or hash."
      options:
        1: {goto: sip, keywords: [sip]}
        2: {goto: conf, keywords: [conference]}
        3: {goto: pin, keywords: [pin]}
        4: {goto: message, keywords: [message]}
        "#": {goto: pstn, keywords: [phone], say: "Calling."}
      timeout: 10
      attempts: 2
      barge: false
      no_input: {say: "Nothing?", goto: pstn}
      invalid: {say: "Sorry."}
      exhausted: pstn
  sip:
    transfer:
      sip: desk@pbx.example.com
      caller_id: private
      max_duration: 60
      transport: tcp
      music_on_hold: ring
      headers: {X-A: b}
      record: {destination: "https://rec.example.com/x", transcribe: {locale: sv-SE}}
  conf:
    transfer: {conference: room-1, music_on_hold: music2}
  pin:
    set: {note: "{{ locale }}"}
    collect:
      prompt: "Enter your PIN."
      reprompt: "Again, please."
      into: pin
      min_digits: 4
      max_digits: 4
      pattern: "[0-9]{4}"
      barge: false
      next: bye
      no_input: pstn
      invalid: {say: "Four digits."}
  message:
    record:
      max_length: 30
      finish_key: "*"
      recording: {destination: "s3://bucket/messages/", credentials_env: REC_CREDS, format: mp3, transcribe: true}
      next: bye
  pstn:
    transfer: {number: "+46812345999", caller_id: "+46812345001", dial_timeout: 20, max_duration: 120}
  bye:
    set: {locale: sv-SE}
    say: "Goodbye, {{ note }}."
    hangup: true
"""

SVAML_ELEMENTS = {"runMenu", "connectPstn", "connectSip", "connectMxp", "connectConf", "park", "hangup", "continue",
                  "playFiles", "startRecording", "stopRecording"}
PLACEHOLDERS = {"$prompt", "$prompt_ids", "$locale", "$env"}


def _names_and_placeholders(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("name"), str) and node["name"] in SVAML_ELEMENTS:
            yield node["name"]
        if len(node) == 1 and next(iter(node)) in PLACEHOLDERS:
            yield next(iter(node))
        for value in node.values():
            yield from _names_and_placeholders(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names_and_placeholders(value)


def test_kitchen_sink_compiles_to_a_machine_that_matches_the_schema() -> None:
    result = compiler.compile_text(KITCHEN_SINK, "kitchen.yaml")
    assert result.diagnostics == []
    assert schema_errors(result.machine) == []
    assert result.machine["carry"] == ["called", "caller"]


def test_the_schema_describes_nothing_the_compiler_never_produces() -> None:
    """Between them the examples and the kitchen sink use every SVAML element and placeholder."""
    machines = [machine_of(p) for p in EXAMPLES] + [compiler.compile_text(KITCHEN_SINK, "kitchen.yaml").machine]
    seen = {name for machine in machines for name in _names_and_placeholders(machine)}
    assert seen == SVAML_ELEMENTS | PLACEHOLDERS
    with open(MACHINE_SCHEMA, encoding="utf-8") as fh:
        definitions = set(json.load(fh)["$defs"])
    assert SVAML_ELEMENTS <= definitions


def _repository_flows() -> list[Path]:
    found = []
    for folder in (REPO / "examples", REPO / "tests"):
        found.extend(p for p in folder.rglob("*") if p.is_file() and is_flow_file(p.name))
    # tests/flows/broken names each file after its code; IVR00x files do not even load (and some are bombs).
    return sorted(p for p in found if not p.name.startswith("IVR00"))


def test_every_flow_in_the_repository_that_compiles_matches_the_schema() -> None:
    """The broken-flow corpus holds flows with warnings only (in-app transfers, unreachable states...)."""
    checked = 0
    for path in _repository_flows():
        result = compiler.compile_file(str(path))
        if result.machine is None:
            continue
        checked += 1
        assert schema_errors(result.machine) == [], path.relative_to(REPO)
    assert checked >= len(EXAMPLES)


# ---------------------------------------------------------------------------------------------
# determinism and the version

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_compiling_twice_gives_identical_bytes(path: Path) -> None:
    first = compiler.compile_file(str(path))
    second = compiler.compile_file(str(path))
    assert dumps(first.machine) == dumps(second.machine)
    assert first.machine["version"] == second.machine["version"]
    assert re.fullmatch(r"[0-9a-f]{12}", first.machine["version"])
    elsewhere = compiler.compile_text(path.read_text(encoding="utf-8"), "somewhere/else.yaml")
    assert dumps(elsewhere.machine) == dumps(first.machine), "the file's name or place must not matter"


def test_another_interpreter_with_another_hash_seed_gives_identical_bytes() -> None:
    script = ("import sys, compiler\nfrom compiler.machine import dumps\n"
              "for p in sys.argv[1:]: sys.stdout.write(dumps(compiler.compile_file(p).machine))\n")
    here = "".join(_compiled(str(p)) for p in EXAMPLES)
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script, *map(str, EXAMPLES)], cwd=REPO, env=env,
                             capture_output=True, text=True, encoding="utf-8", check=True).stdout
        assert out == here, f"PYTHONHASHSEED={seed} changed the machine"


def _version(text: str) -> str:
    result = compiler.compile_text(text, "flow.yaml")
    assert result.ok, [f"{d.span} {d.code} {d.message}" for d in result.errors]
    return result.machine["version"]


@pytest.mark.parametrize("path, old, new", [
    ("support.yaml", "Welcome to Acme support.", "Welcome to Acme Support!"),
    ("multilingual.yaml", "Välkommen till Fjord Outdoor.", "Välkommen till Fjord Outdoor AB."),
    ("reminder.yaml", "We will try again later. Goodbye.", "We will call again later. Goodbye."),
    ("voicemail.yaml", "https://media.example.com/ivr/beep.mp3", "https://media.example.com/ivr/tone.mp3"),
], ids=["catalogue", "one-locale", "inline", "audio"])
def test_changing_a_prompt_changes_the_version(path: str, old: str, new: str) -> None:
    text = (REPO / "examples" / path).read_text(encoding="utf-8")
    assert text.count(old) == 1
    assert _version(text) != _version(text.replace(old, new))


def _with_comments_and_blank_lines(text: str) -> str:
    """Blank lines and whole-line comments before every top-level key: outside any block scalar."""
    out = []
    for line in text.splitlines(keepends=True):
        if re.match(r"[a-z_]+:", line):
            out.append("\n# a comment an author added\n\n")
        out.append(line)
    return "".join(out) + "# the end\n"


def _reindented(data: dict, flow_style: bool) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, indent=4, width=60,
                          default_flow_style=flow_style)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_layout_and_comments_do_not_change_the_version(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    version = _version(text)
    assert _version(_with_comments_and_blank_lines(text)) == version
    assert _version(text.replace("\n", "\r\n")) == version
    assert _version("\ufeff" + text) == version
    data = source_of(path)
    assert _version(_reindented(data, flow_style=False)) == version
    assert _version(_reindented(data, flow_style=True)) == version


# ---------------------------------------------------------------------------------------------
# what each state holds

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_state_has_its_kinds_fields_and_no_others(path: Path) -> None:
    machine, source = machine_of(path), source_of(path)
    assert list(machine["states"]) == list(source["states"]), "states keep the author's order"
    for name, state in machine["states"].items():
        kind = state["do"]
        written = next(k for k in KIND_FIELDS if k in source["states"][name])
        assert kind == written, name
        fields = set(state)
        assert KIND_FIELDS[kind] <= fields, (name, KIND_FIELDS[kind] - fields)
        assert fields <= KIND_FIELDS[kind] | COMMON_FIELDS | OPTIONAL_FIELDS.get(kind, set()), (name, fields)
        if kind in ("hangup", "transfer", "park"):
            action = state["action"]["name"]
            assert action == {"hangup": "hangup", "park": "park"}.get(kind, action)
        if kind == "transfer":
            assert state["action"]["name"] in ("connectPstn", "connectSip", "connectMxp", "connectConf", "connectStream")
            assert state["on_answer"] == {"name": "continue"}
        if kind == "collect":
            (menu,) = state["action"]["menus"]
            assert menu["maxDigits"] == state["max_digits"] and menu["options"] == []
        if kind == "record":
            assert state["instructions"][-1]["name"] == "startRecording"
            assert state["after"] == [{"name": "stopRecording"}]
            (menu,) = state["action"]["menus"]
            assert menu["timeoutMills"] == source["states"][name]["record"]["max_length"] * 1000
        if kind == "menu":
            written_keys = [str(k) for k in source["states"][name]["menu"]["options"]]
            assert list(state["options"]) == written_keys
            main = state["action"]["menus"][0]
            if any(len(k) > 1 for k in written_keys):  # keys like 10: a digit collection, matched by the engine
                assert main["id"] == "main" and main["options"] == [] and len(state["action"]["menus"]) == 1
                assert main["maxDigits"] == max(len(k) for k in written_keys)
            else:
                assert main["id"] == "main" and [o["dtmf"] for o in _authored(main["options"])] == written_keys
                # Every other key returns "invalid" by name (routable without cookies), unless Sinch repeats the menu.
                caught = {o["dtmf"] for o in main["options"]} - set(written_keys)
                assert caught == (set() if state.get("repeats_in_sinch") else set("0123456789#") - set(written_keys))
        if "set" in state:
            written_sets = source["states"][name]["set"]
            assert [(s["name"], s["value"]) for s in state["set"]] == list(written_sets.items())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_name_a_machine_uses_exists(path: Path) -> None:
    machine = machine_of(path)
    states, prompts = machine["states"], machine["prompts"]
    assert machine["start"] in states
    assert machine["error"]["say"] in prompts
    for name, state in states.items():
        for target in gotos(state):
            assert target in states, f"{name} -> {target}"
        for prompt in prompt_ids(state):
            assert prompt in prompts, f"{name} uses prompt {prompt}"
        for fused in state.get("fused", []):
            assert states[fused]["do"] == "menu"
    for prompt_id, by_locale in prompts.items():
        assert set(by_locale) <= set(machine["locales"]) | {"*"}, prompt_id
        if "*" not in by_locale:
            assert set(by_locale) == set(machine["locales"]), f"{prompt_id} lacks a locale"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_inline_texts_reach_the_machine_unchanged(path: Path) -> None:
    """A state's written `say` text is what its prompt id holds in the machine."""
    machine, source = machine_of(path), source_of(path)
    for name, spec in source["states"].items():
        if isinstance(spec.get("say"), str):
            templated = {"render": True} if "{{" in spec["say"] else {}
            assert machine["prompts"][machine["states"][name]["say"]] == {"*": [{"tts": spec["say"], **templated}]}, name
    for name, text in (source.get("prompts") or {}).items():
        if isinstance(text, str):
            assert machine["prompts"][name]["*"][0]["tts"] == text
    on_error = (source.get("on_error") or {}).get("say")
    if isinstance(on_error, str):
        # With `goto`, the flow's words lead on to its state; `say` is the apology if that fails too.
        said = machine["error"]["before"] if "goto" in source["on_error"] else machine["error"]["say"]
        assert machine["prompts"][said]["*"][0]["tts"] == on_error


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_run_menu_starts_at_a_main_menu_with_prompt_placeholders(path: Path) -> None:
    machine = machine_of(path)
    for name, state in machine["states"].items():
        for action in run_menus(state):
            ids = [m["id"] for m in action["menus"]]
            assert action["mainMenu"] == "main" and ids.count("main") == 1 and ids[0] == "main", name
            assert len(set(ids)) == len(ids), f"{name}: menu ids repeat: {ids}"
            assert action["locale"] == {"$locale": None}
            for menu in action["menus"]:
                assert isinstance(menu["timeoutMills"], int) and menu["timeoutMills"] >= 1000
                for option in menu["options"]:
                    assert isinstance(option["dtmf"], str) and len(option["dtmf"]) == 1
                if "mainPrompt" in menu:
                    assert set(menu["mainPrompt"]) == {"$prompt"}
                    assert menu["mainPrompt"]["$prompt"] in machine["prompts"]
            if state["do"] in ("menu", "collect"):
                assert "mainPrompt" in action["menus"][0], f"{name}: a menu with nothing to say"


def _returns(machine: dict) -> Iterator[tuple[str, str, str, str]]:
    """(state, menu id, dtmf, returned value) for every return(...) option of every runMenu."""
    for name, state in machine["states"].items():
        for action in run_menus(state):
            for menu in action["menus"]:
                for option in menu["options"]:
                    found = re.fullmatch(r"return\((.*)\)", option["action"])
                    if found:
                        yield name, menu["id"], option["dtmf"], found.group(1)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_return_values_name_flow_state_and_key(path: Path) -> None:
    machine = machine_of(path)
    flow = machine["flow"]
    seen = 0
    for name, menu_id, dtmf, value in _returns(machine):
        seen += 1
        returned_flow, returned_state, choice = value.split(".")
        assert returned_flow == flow
        owner = name if menu_id == "main" else state_of_menu(menu_id)[1]  # a fused menu is FLOW.STATE
        assert returned_state == owner, f"{name}/{menu_id}: {value}"
        target = machine["states"][owner]
        if target["do"] == "record":
            assert choice == "done"
        elif choice == "invalid":
            assert dtmf not in target["options"] and dtmf != "*"
        else:
            assert choice == KEY_NAMES.get(dtmf, dtmf)
            assert dtmf in target["options"]
    # A menu with keys like 10 collects digits: it returns none.
    assert seen or not any(s["do"] == "record" or s["do"] == "menu" and all(len(k) == 1 for k in s["options"])
                           for s in machine["states"].values())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_states_run_only_where_sinch_allows_their_elements(path: Path) -> None:
    machine = machine_of(path)
    for name, state in machine["states"].items():
        events = set(state.get("runs_in", []))
        assert events, f"{name} is never reached"
        action = state.get("action")
        if action is not None:
            assert events <= ACTIONS_ALLOWED[action["name"]], (name, action["name"], events)
        for instruction in state.get("instructions", []):
            assert events <= INSTRUCTIONS_ALLOWED[instruction["name"]], (name, instruction["name"])
        if state.get("say"):
            assert events <= INSTRUCTIONS_ALLOWED["playFiles"]
        if state.get("send_digits"):
            assert events <= INSTRUCTIONS_ALLOWED["sendDtmf"], name


@pytest.mark.parametrize("path", INBOUND, ids=lambda p: p.name)
def test_inbound_flows_start_in_the_ice(path: Path) -> None:
    machine = machine_of(path)
    assert machine["direction"] == "inbound" and "outbound" not in machine
    # The call starts in the ICE; a flow may come back to its first state later (order_status asks again).
    assert machine["states"][machine["start"]]["runs_in"][0] == "ICE"


def test_the_outbound_reminder_starts_in_the_ace() -> None:
    machine = machine_of(REPO / "examples" / "reminder.yaml")
    assert machine["direction"] == "outbound"
    assert machine["outbound"] == {"amd": True, "caller_id": "+46812345730"}
    assert machine["states"][machine["start"]]["runs_in"] == ["ACE"]
    assert all("ICE" not in s.get("runs_in", []) for s in machine["states"].values())


# ---------------------------------------------------------------------------------------------
# fused menus

def test_multilingual_main_menu_fuses_the_orders_menu() -> None:
    machine = machine_of(REPO / "examples" / "multilingual.yaml")
    main_menu = machine["states"]["main_menu"]
    assert "orders_menu" in main_menu["fused"]
    for action in run_menus(main_menu):
        menus = {m["id"]: m for m in action["menus"]}
        assert {"main", "multilingual.orders_menu"} <= set(menus)
        by_key = {o["dtmf"]: o["action"] for o in menus["main"]["options"]}
        assert by_key["1"] == "menu(multilingual.orders_menu)"  # no callback between the two menus
        assert by_key["2"] == "return(multilingual.main_menu.2)"
        orders = {o["dtmf"]: o["action"] for o in menus["multilingual.orders_menu"]["options"]}
        # Back to the main menu without a callback; after a failed try, by one (the menu starts over).
        assert orders["*"] == ("menu(main)" if action is main_menu["action"]
                               else "return(multilingual.orders_menu.star)")
        assert orders["1"] == "return(multilingual.orders_menu.1)"
        assert menus["multilingual.orders_menu"]["mainPrompt"] == {"$prompt": "orders_menu"}
    # The sub-menu keeps its own state, for callers who reach it another way (after `tracking`).
    orders_state = machine["states"]["orders_menu"]
    assert orders_state["do"] == "menu"
    assert orders_state["action"]["menus"][0]["mainPrompt"] == {"$prompt": "orders_menu"}


def test_a_menu_reached_after_a_prompt_is_not_fused() -> None:
    """support.yaml: option 2 says something first, so it must come back to the server."""
    machine = machine_of(REPO / "examples" / "support.yaml")
    state = machine["states"]["main_menu"]
    assert "fused" not in state
    assert [m["id"] for m in state["action"]["menus"]] == ["main"]


def _compile(text: str) -> dict:
    result = compiler.compile_text(text, "fused.yaml")
    assert result.ok, [f"{d.span} {d.code} {d.message}" for d in result.errors]
    return result.machine


TWO_MENUS = """\
ivrc: 1
flow: f
numbers: ["+46812345000"]
start: top
states:
  top:
{top_extra}    menu:
      prompt: "Press 1 for more, 2 to leave."
      options:
        1: {sub}
        2: bye
      no_input: bye
      invalid: bye
  {sub}:
    menu:
      prompt: "Press 1 to go back, 2 to hear this again, 3 to leave."
      options:
        1: top
        2: {sub}
        3: bye
      no_input: bye
      invalid: bye
  bye:
    hangup: true
"""


def _authored(options: list[dict]) -> list[dict]:
    """A menu's options as the author wrote them: without the keys that return "invalid"."""
    return [o for o in options if not o["action"].endswith(".invalid)")]


def test_two_plain_menus_fuse_both_ways() -> None:
    machine = _compile(TWO_MENUS.format(sub="more", top_extra=""))
    assert schema_errors(machine) == []
    top = {m["id"]: {o["dtmf"]: o["action"] for o in _authored(m["options"])}
           for m in machine["states"]["top"]["action"]["menus"]}
    assert top == {"main": {"1": "menu(f.more)", "2": "return(f.top.2)"},
                   "f.more": {"1": "menu(main)", "2": "menu(f.more)", "3": "return(f.more.3)"}}


def test_a_fused_state_called_main_gets_its_own_menu_id() -> None:
    """Sinch's root menu is `main`; a sub-menu whose state is called main must not be confused with it."""
    machine = _compile(TWO_MENUS.format(sub="main", top_extra=""))
    assert schema_errors(machine) == []
    menus = {m["id"]: {o["dtmf"]: o["action"] for o in _authored(m["options"])}
             for m in machine["states"]["top"]["action"]["menus"]}
    assert menus == {"main": {"1": "menu(f.main)", "2": "return(f.top.2)"},
                     "f.main": {"1": "menu(main)", "2": "menu(f.main)", "3": "return(f.main.3)"}}


def test_going_back_to_a_menu_with_its_own_say_replays_it() -> None:
    machine = _compile(TWO_MENUS.format(sub="more", top_extra='    say: "Welcome to the top menu."\n'))
    top = machine["states"]["top"]
    for menu in top["action"]["menus"]:
        for option in menu["options"]:
            assert option["action"] != "menu(main)", f"{menu['id']} key {option['dtmf']} skips top's say"


def test_going_back_after_a_failed_try_enters_the_menu_again_by_a_callback() -> None:
    """On a retry the root plays its reprompt with attempts used; going back to it is entering it afresh."""
    machine = _compile(TWO_MENUS.format(sub="more", top_extra=""))
    retry = {m["id"]: {o["dtmf"]: o["action"] for o in _authored(m["options"])}
             for m in machine["states"]["top"]["retry_action"]["menus"]}
    assert retry["f.more"]["1"] == "return(f.more.1)"  # back to top: a callback, so top starts over
    assert retry["main"]["1"] == "menu(f.more)"  # going deeper stays in Sinch


def test_a_state_called_on_error_keeps_its_own_prompt() -> None:
    machine = _compile("""\
ivrc: 1
flow: f
numbers: ["+46812345000"]
start: on_error
on_error:
  say: "Sorry, something broke."
states:
  on_error:
    say: "Welcome! This state is merely named on_error."
    hangup: true
""")
    said = machine["prompts"][machine["states"]["on_error"]["say"]]
    assert said == {"*": [{"tts": "Welcome! This state is merely named on_error."}]}
    assert machine["prompts"][machine["error"]["say"]] == {"*": [{"tts": "Sorry, something broke."}]}


def test_copy_of_machine_is_json_round_trippable() -> None:
    """The machine is plain JSON: what dumps writes, json.loads reads back equal."""
    for path in EXAMPLES:
        result = compiler.compile_file(str(path))
        assert json.loads(dumps(result.machine)) == copy.deepcopy(result.machine)
