"""Answers made from reused parts (runtime/engine/reuse.py) are the bytes of answers made afresh.

Two servers (or engines) answer the same callbacks: one keeps its walks and written parts from
call to call, the other forgets them before every callback, so each of its answers is walked and
written from nothing. Their answers must be identical to the byte, and each must be what the json
module writes for it: here for the examples' recorded conversations (twice over, so the second
round is served from what the first kept); tests/reliability/test_answer_reuse_generated.py does
the same for generated flows and callers.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from callkit import (
    ENV,
    KEY,
    SECRET,
    TUESDAY_10,
    Phone,
    TestClient,
    cookies_set,
    example_machines,
    library_of,
    signed_headers,
    spoken,
)
from test_recorded_answers import CONVERSATIONS, STATE_KEY, _inbound

from ivrc.compiler import compile_text
from ivrc.runtime.emulation.emulator import CallFailed
from ivrc.runtime.engine.library import Library
from ivrc.runtime.engine.render import Templates
from ivrc.runtime.engine.step import Engine
from ivrc.runtime.server.app import CALLBACK_PATH, Settings, create_app
from ivrc.runtime.server.fastjson import answer_bytes
from ivrc.runtime.signing import Credentials

_JSON = json.JSONEncoder(separators=(",", ":")).encode


def forget(library: Library) -> None:
    """Every answer cache of every loaded machine emptied: only the compiled templates are kept."""
    for loaded in [*library.versions.values(), *library.current.values()]:
        loaded.templates = Templates(texts=loaded.templates.texts, conditions=loaded.templates.conditions)


def as_json(svaml: Any) -> bytes:
    """What the json module writes for an answer: the encoder the reused parts must agree with."""
    return _JSON(json.loads(json.dumps(svaml))).encode()


class TwoServers:
    """The emulator's transport: every callback to a server that reuses parts and to one that never does."""

    def __init__(self, reusing: TestClient, afresh: TestClient, afresh_library: Library, clock: list) -> None:
        self.reusing, self.afresh, self.afresh_library, self.clock = reusing, afresh, afresh_library, clock
        self.answers = 0

    @property
    def moment(self):
        return self.clock[0]

    def send(self, body: dict[str, Any]) -> tuple[int, Any]:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = signed_headers(raw, self.moment)
        reused = self.reusing.post(CALLBACK_PATH, content=raw, headers=headers)
        forget(self.afresh_library)
        fresh = self.afresh.post(CALLBACK_PATH, content=raw, headers=headers)
        assert (reused.status_code, reused.content) == (fresh.status_code, fresh.content), body
        if reused.content:
            assert reused.content == as_json(reused.json())
            self.answers += 1
        return reused.status_code, (reused.json() if reused.content else None)


# Besides the recorded ones: the same menus walked in each language, one call after another, so a
# walk kept for one language is asked for in the next.
IN_EACH_LANGUAGE = {f"multilingual-{language}-{keys}": (TUESDAY_10, _inbound("+46812345710", language, *keys))
                    for language in "123" for keys in ("11", "12", "2", "3", "9")}


def test_the_examples_conversations_are_answered_alike_with_and_without_reuse() -> None:
    conversations = {**CONVERSATIONS, **IN_EACH_LANGUAGE}
    clock = [TUESDAY_10]

    def server(library: Library) -> TestClient:
        settings = Settings(credentials=Credentials(KEY, SECRET), clock=lambda: clock[0], env=ENV,
                            state_keys=(STATE_KEY,))  # requests reach the session's example backend (tests/conftest.py)
        return TestClient(create_app(library, settings), raise_server_exceptions=True)

    afresh_library = library_of(*example_machines())
    with server(library_of(*example_machines())) as reusing, server(afresh_library) as afresh:
        transport = TwoServers(reusing, afresh, afresh_library, clock)
        for round_ in range(2):  # the second round is answered from what the first one kept
            for name, (moment, run) in sorted(conversations.items()):
                clock[0] = moment
                try:
                    run(transport, f"reuse-{round_}-{name}")  # type: ignore[arg-type]
                except CallFailed:
                    pass  # a conversation that ends early is compared as far as it went
        assert transport.answers >= 4 * len(conversations)  # an answer before the DiCE, at least, in each round
        assert reusing.app.state.engine.library.current["multilingual"].templates.walks  # reuse took place


KEPT = """\
ivrc: 1
flow: kept
numbers: ["+46812345690"]
locale: {locale}
start: hello
states:
  hello:
    say: {greeting}
    next: menu
  menu:
    menu:
      prompt: Press 1.
      options:
        "1": bye
  bye:
    say: Goodbye.
    hangup: true
"""


def kept_flow(greeting: str = "Welcome.", locale: str = "en-US") -> dict:
    result = compile_text(KEPT.format(greeting=greeting, locale=locale), "kept.yaml")
    assert result.ok and result.machine is not None
    return result.machine


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])
def test_a_walk_of_fixed_states_is_kept_per_start_state_and_locale(locale: str, sinch_body) -> None:
    engine = Engine(library_of(kept_flow(locale=locale)))
    phone = Phone(engine, sinch_body)
    for _ in range(2):
        assert phone.ice("+46812345690").outcome == "menu"
    walked = engine.library.current["kept"].templates.walks[("hello", locale)]
    assert (walked.path, walked.kind, walked.action["name"]) == (("hello", "menu"), "menu", "runMenu")


def test_a_reloaded_flow_is_answered_from_its_own_walks_and_a_call_on_the_old_version_from_the_old(
        sinch_body) -> None:
    library = library_of(kept_flow("Welcome."))
    phone = Phone(Engine(library), sinch_body)
    before = phone.ice("+46812345690")
    assert spoken(before)[0] == "Welcome."
    library.add(kept_flow("Hello again."))  # as `ivrc serve --reload` adds an edited flow
    after = phone.ice("+46812345690")
    assert spoken(after)[0] == "Hello again."
    assert answer_bytes(after.svaml) == as_json(after.svaml)
    # A call that began on the old version goes on there: its goodbye comes from the old walks.
    ended = phone.pie(cookies_set(before), "return", "kept.menu.1")
    assert (ended.version, spoken(ended)) == (before.version, ["Goodbye."])
    assert after.version != before.version


def test_engines_with_environments_of_their_own_never_share_a_value_read_from_one(sinch_body) -> None:
    """Flow-test scenarios each give their engine an environment, and share the library (and so what its
    machine versions keep): the voicemail's recording credentials are read from each engine's own."""
    library = library_of(*[m for m in example_machines() if m["flow"] == "voicemail"])
    for credentials in ("AKIAONE:one:eu-north-1", "AKIATWO:two:eu-north-1", "AKIAONE:one:eu-north-1"):
        engine = Engine(library, env={"VOICEMAIL_S3_CREDENTIALS": credentials})
        answer = Phone(engine, sinch_body).ice("+46812345690")
        record = next(i for i in answer.svaml["instructions"] if i["name"] == "startRecording")
        assert record["options"]["credentials"] == credentials
