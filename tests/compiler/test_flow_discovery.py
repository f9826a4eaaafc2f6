"""Which YAML files are flows: in a folder, only those with the top-level `ivrc:` key."""
from __future__ import annotations

import shutil
from pathlib import Path

from ivrctest import EXAMPLES

from ivrc.compiler.project import declares_flow, find_flows


def _folder(tmp_path: Path) -> Path:
    shutil.copy2(EXAMPLES / "support.yaml", tmp_path / "support.yaml")
    shutil.copy2(EXAMPLES / "support.test.yaml", tmp_path / "support.test.yaml")
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    (tmp_path / "notes.yml").write_text("# ivrc: 1 in a comment is not the key\ntitle: notes\n  ivrc: indented\n")
    return tmp_path


def test_a_flow_is_a_yaml_file_with_the_ivrc_key_at_the_top(tmp_path: Path) -> None:
    cases = {"block.yaml": "flow: x\nivrc: 1\n", "quoted.yaml": '"ivrc": 1\n', "inline.yaml": "{ivrc: 1, flow: x}\n",
             "bom.yaml": "\ufeffivrc: 1\n", "nested.yaml": "a:\n  ivrc: 1\n", "comment.yaml": "# ivrc: 1\n",
             "other.yaml": "ivrcx: 1\n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert {n for n in cases if declares_flow(str(tmp_path / n))} == {"block.yaml", "quoted.yaml", "inline.yaml",
                                                                       "bom.yaml"}


def test_a_folder_yields_only_flows_and_says_what_it_skipped(tmp_path: Path) -> None:
    found = find_flows([str(_folder(tmp_path))])
    assert [Path(f).name for f in found.flows] == ["support.yaml"]
    assert {Path(f).name: why for f, why in found.skipped} == {
        "compose.yaml": "not a flow (no top-level `ivrc:` key)",
        "notes.yml": "not a flow (no top-level `ivrc:` key)",
        "support.test.yaml": "a flow test (NAME.test.yaml), not a flow"}


def test_lint_on_a_folder_passes_over_other_yaml_and_verbose_says_so(tmp_path: Path, ivrc) -> None:
    folder = _folder(tmp_path)
    quiet = ivrc("lint", folder)
    assert (quiet.code, quiet.out, quiet.err) == (0, "All checks passed (1 file).\n", "")
    loud = ivrc("lint", "--verbose", folder)
    assert loud.code == 0
    assert f"skipped {folder / 'compose.yaml'}: not a flow (no top-level `ivrc:` key)" in loud.err.splitlines()


def test_a_file_named_directly_is_linted_unless_only_flows(tmp_path: Path, ivrc) -> None:
    compose = _folder(tmp_path) / "compose.yaml"
    named = ivrc("lint", "--format", "concise", compose)
    assert named.code == 1 and "error[IVR" in named.out
    hook = ivrc("lint", "--only-flows", "-v", compose)
    assert (hook.code, hook.out) == (0, "")
    assert "No flows to check." in hook.err and "skipped" in hook.err


def test_flow_tests_on_a_folder_with_other_yaml_run(tmp_path: Path, ivrc) -> None:
    folder = _folder(tmp_path)
    run = ivrc("test", "--verbose", folder)
    assert run.code == 0, run.out + run.err
    assert "10 passed, 0 failed" in run.out
    assert f"skipped {folder / 'notes.yml'}: not a flow (no top-level `ivrc:` key)" in run.err.splitlines()
