"""A flow changed while calls are in progress: those calls finish on their version, new calls get the new one.

The server is stopped, a prompt in the flow is changed, and the server is started again with
the same --machines-dir (a deploy). The state cookie pins each call to the version it started
on, and the machines folder still holds that version.
"""
from __future__ import annotations

import copy
import shutil

import httpx
from relykit import ACCOUNT_PIN, ENV, EXAMPLES, TUESDAY_10, Switchboard, backend_fetch, compile_flow, fixed, library_of

from ivrc.runtime.emulation.emulator import Call, EngineTransport
from ivrc.runtime.engine.step import Engine

OLD_MENU = "To block a lost or stolen card, press 1."
NEW_MENU = "New menu! To block a lost or stolen card, press 1."


def _version(call: Call) -> str:
    return call.cookies["ivrc"].split("|")[1]


def test_calls_in_progress_finish_on_their_version_after_a_reload(launch, tmp_path) -> None:
    flows, machines = tmp_path / "flows", tmp_path / "machines"
    flows.mkdir()
    shutil.copy(EXAMPLES / "account_pin.yaml", flows / "account_pin.yaml")
    old = launch([flows], machines)
    board = Switchboard([old.callback])
    in_progress = Call(board, called=ACCOUNT_PIN).start().press("123456#")  # next: the PIN, then the menu
    old_version = _version(in_progress)
    old.stop()

    source = (flows / "account_pin.yaml").read_text()
    assert OLD_MENU in source
    (flows / "account_pin.yaml").write_text(source.replace(OLD_MENU, NEW_MENU))
    new = launch([flows], machines)
    board.point_at([new.callback])
    [listing] = httpx.get(new.base + "/flows").json()["flows"]
    assert listing["version"] != old_version and old_version in listing["older_versions"]

    in_progress.press("1234#")
    assert in_progress.heard()[-1].startswith(OLD_MENU) and _version(in_progress) == old_version
    fresh = Call(board, called=ACCOUNT_PIN).start().press("123456#").press("1234#")
    assert fresh.heard()[-1].startswith(NEW_MENU) and _version(fresh) == listing["version"]
    in_progress.press("1")
    fresh.press("1")
    for call in (in_progress, fresh):
        assert call.transferred["target"] == "+46812345701"
        call.hangup()
    board.close()


def test_a_rolling_deploy_mixes_old_and_new_replicas(tmp_path) -> None:
    """While replicas are replaced one by one, a call may go back and forth between versions.

    A replica that lacks the call's version carries on with its current version when that has the
    call's state (logged as a warning), and otherwise takes the error path: never a 5xx, never a
    silent wrong turn. New replicas that share --machines-dir know every older version.
    """
    source = (EXAMPLES / "account_pin.yaml").read_text()
    old_machine = compile_flow(source)
    new_machine = compile_flow(source.replace(OLD_MENU, NEW_MENU))
    renamed = compile_flow(source.replace("personal_menu", "card_menu"))  # the state the call is in is gone
    clock = fixed(TUESDAY_10)

    old_replica = Engine(library_of(old_machine), clock=clock, env=ENV, backend=backend_fetch)
    new_replica = Engine(library_of(copy.deepcopy(old_machine)), clock=clock, env=ENV, backend=backend_fetch)
    new_replica.library.add(new_machine)  # new replica: the new version current, the old one from the folder

    class Alternate:
        def __init__(self, *engines: Engine) -> None:
            self.transports = [EngineTransport(e) for e in engines]
            self.turn = 0

        def send(self, body):
            transport = self.transports[self.turn % len(self.transports)]
            self.turn += 1
            return transport.send(body)

    started_new = Call(Alternate(new_replica, old_replica), called=ACCOUNT_PIN).start()  # ICE on the new version
    started_new.press("123456#")  # PIE on the old replica: it lacks the new version, the state exists: goes on
    started_new.press("1234#").press("1")
    assert started_new.transferred["target"] == "+46812345701"

    gone = Engine(library_of(renamed), clock=clock, env=ENV, backend=backend_fetch)
    call = Call(EngineTransport(new_replica), called=ACCOUNT_PIN).start().press("123456#").press("1234#")
    call.transport = EngineTransport(gone)
    call.press("1")  # the state 'personal_menu' is not in the only version this replica has
    assert call.heard()[-1] == "Sorry, we are having technical problems. Please call again later."
    assert call.ended


def test_a_broken_file_in_the_machines_folder_costs_only_that_version(tmp_path, caplog, monkeypatch) -> None:
    """Regression: a saved machine of the wrong shape (another ivrc release, a hand edit) raised out of
    load_saved and stopped `ivrc serve` from starting, on every replica sharing the folder."""
    import json

    from ivrc.runtime.server.startup import ServeOptions, build_library

    monkeypatch.setenv("BANK_API_TOKEN", "demo-bank-token")  # the example's requests need it to start

    machines = tmp_path / "machines"
    machines.mkdir()
    good = compile_flow((EXAMPLES / "account_pin.yaml").read_text().replace(OLD_MENU, NEW_MENU))
    (machines / f"account-pin@{good['version']}.json").write_text(json.dumps(good))
    broken = {
        "account-pin@00000000000a.json": {"flow": "account-pin", "version": "00000000000a", "prompts": [], "states": []},
        "account-pin@00000000000b.json": {"flow": "account-pin", "version": "00000000000b", "states": {},
                                          "prompts": {"p": {"*": [{"tts": "{{ unclosed", "render": True}]}}},
        "account-pin@00000000000c.json": ["not", "a", "machine"],
    }
    for name, content in broken.items():
        (machines / name).write_text(json.dumps(content))
    (machines / "account-pin@00000000000d.json").write_text('{"flow": "account-pin", "vers')  # cut short
    library = build_library(ServeOptions(paths=[str(EXAMPLES / "account_pin.yaml")], machines_dir=str(machines)))
    versions = {version for flow, version in library.versions}
    assert good["version"] in versions and not versions & {"00000000000a", "00000000000b", "00000000000c"}
    assert caplog.text.count("ignoring saved machine") == 4
