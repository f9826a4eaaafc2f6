"""CI compiles once and deploys the artifact: `ivrc serve` and `ivrc test` take machines from `ivrc compile -o`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ivrctest import EXAMPLES, KEY, SECRET, start_serve

from ivrc.compiler.errors import MachineError
from ivrc.compiler.project import compile_paths


@pytest.fixture
def support_json(ivrc, tmp_path: Path) -> Path:
    target = tmp_path / "support.json"
    run = ivrc("compile", EXAMPLES / "support.yaml", "-o", target)
    assert run.code == 0, run.err
    return target


def _rewrite(path: Path, change) -> Path:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def test_a_compiled_machine_is_served_as_its_flow_is(support_json: Path) -> None:
    (from_json,) = compile_paths([str(support_json)])
    (from_yaml,) = compile_paths([str(EXAMPLES / "support.yaml")])
    assert from_json.version == from_yaml.version
    assert from_json.states.keys() == from_yaml.states.keys()


def test_a_machine_from_another_release_is_refused(ivrc, support_json: Path) -> None:
    _rewrite(support_json, lambda d: d.update(ivrc="0.0.1"))
    run = ivrc("serve", support_json, "--port", "1")
    assert run.code == 2
    assert "compiled by ivrc 0.0.1" in run.err and "Compile the flow again" in run.err
    assert "Traceback" not in run.err


def test_a_machine_that_fails_the_machine_schema_is_refused(ivrc, support_json: Path) -> None:
    _rewrite(support_json, lambda d: d.pop("states"))
    run = ivrc("serve", support_json, "--port", "1")
    assert run.code == 2 and "not a machine this ivrc can run" in run.err and "'states'" in run.err


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.update(start="nowhere"), "the start leads to 'nowhere'"),
    (lambda d: next(s for s in d["states"].values() if "next" in s).update(next="nowhere"), "leads to 'nowhere'"),
])
def test_a_machine_whose_transitions_name_no_state_is_refused_before_any_call(ivrc, support_json: Path, edit,
                                                                              words: str) -> None:
    _rewrite(support_json, edit)
    run = ivrc("simulate", support_json)
    assert run.code == 2 and "the compiled machine is malformed" in run.err and words in run.err


def test_a_file_that_is_not_json_is_refused(ivrc, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    run = ivrc("serve", broken, "--port", "1")
    assert run.code == 2 and "broken.json: not JSON" in run.err


def test_a_machine_and_its_source_together_are_refused(support_json: Path) -> None:
    with pytest.raises(MachineError, match="flow 'support' is also given by .*support.yaml"):
        compile_paths([str(EXAMPLES / "support.yaml"), str(support_json)])


def test_a_folder_of_machines_skips_other_json(support_json: Path) -> None:
    (support_json.parent / "package.json").write_text('{"name": "not-a-machine"}')
    assert [m.flow for m in compile_paths([str(support_json.parent)])] == ["support"]


def test_flow_tests_run_against_a_compiled_machine(ivrc, support_json: Path) -> None:
    scenarios = (EXAMPLES / "support.test.yaml").read_text()
    assert "flow: support.yaml" in scenarios
    (support_json.parent / "support.test.yaml").write_text(scenarios.replace("flow: support.yaml", "flow: support.json"))
    run = ivrc("test", support_json.parent / "support.test.yaml")
    assert run.code == 0, run.out + run.err
    assert " 0 failed" in run.out


@pytest.mark.slow
def test_a_real_server_answers_calls_from_a_compiled_machine(support_json: Path, tmp_path: Path) -> None:
    from ivrc.runtime.emulation.emulator import Call, HttpTransport

    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(support_json, served / "support.json")
    server = start_serve(tmp_path, served)
    try:
        (machine,) = compile_paths([str(served)])
        transport = HttpTransport(server.callback, KEY, SECRET)
        call = Call(transport, called=machine.numbers[0], key=KEY).start()
        assert ("hear", "Welcome to Acme support.") in [(line.kind, line.text) for line in call.lines]
        transport.close()
    finally:
        server.stop()
    assert "support" in server.stderr.read_text()


def test_a_machine_whose_request_uses_plain_http_off_loopback_is_refused(tmp_path: Path) -> None:
    import ivrc

    result = ivrc.compile_file(str(EXAMPLES / "order_status.yaml"))
    document = json.loads(json.dumps(result.machine))
    document["states"]["look_up"]["url"] = "http://orders.example.com/v1/orders/{{ order }}"
    with pytest.raises(MachineError, match="plain http to http://orders.example.com"):
        from ivrc.compiler.compiled import Machine

        Machine.load(document)
