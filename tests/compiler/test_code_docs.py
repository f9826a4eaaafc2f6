"""Every diagnostic code is documented and demonstrated, and the docs that tell users how to run
ivrc in CI (the codes page, docs/ci.md, the pre-commit hooks, the example workflow) match ivrc."""
from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
import yaml

from ivrc.cli import build_parser
from ivrc.compiler.codes import CODES, GROUPS, markdown

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "flows" / "broken"
CODES_PAGE = REPO / "docs" / "codes.md"
CI_PAGE = REPO / "docs" / "ci.md"
HOOKS = REPO / ".pre-commit-hooks.yaml"
WORKFLOW = REPO / ".github" / "workflows" / "ivrc-example.yml"

# Codes whose example cannot be loaded by yaml.safe_load, because that is the mistake it shows.
UNPARSEABLE_EXAMPLES = {
    "IVR001": "the example is not valid YAML: an unquoted * starts an alias",
    "IVR003": "the example holds two YAML documents, and safe_load reads one",
    "IVR007": "the example has a list as a mapping key, which safe_load rejects too",
}

# Codes whose broken input cannot be a committed file; test_broken_flows.py writes it (GENERATED).
GENERATED_ELSEWHERE = {
    "IVR005": "a file over 1 MiB would bloat the repository",
    "IVR006": "bytes that are not UTF-8 cannot carry an `# expect:` header",
}


def test_codes_are_unique_and_well_formed() -> None:
    codes = [c for _, group in GROUPS for c in group]
    assert len({c.code for c in codes}) == len(codes), "a code is registered twice"
    assert len({c.name for c in codes}) == len(codes), "a name is used by two codes"
    for c in codes:
        assert re.fullmatch(r"IVR\d{3}", c.code), c.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.name), f"{c.code}: '{c.name}' is not kebab-case"
        assert c.severity in ("error", "warning"), c.code
    assert [c.code for c in codes] == list(CODES)


@pytest.mark.parametrize("code", CODES.values(), ids=lambda c: c.code)
def test_every_code_is_documented(code) -> None:
    for field in ("summary", "why", "fix", "example", "fixed"):
        assert getattr(code, field).strip(), f"{code.code} has no {field}"
    assert code.example != code.fixed, f"{code.code}: the fixed excerpt is the same as the example"
    for field in ("example", "fixed"):
        lines = getattr(code, field).splitlines()
        assert 2 <= len(lines) <= 10, f"{code.code}: the {field} excerpt has {len(lines)} lines; keep it 2-10"


@pytest.mark.parametrize("code", CODES.values(), ids=lambda c: c.code)
def test_examples_are_yaml(code) -> None:
    """Excerpts are YAML an author could paste, except where broken YAML is the point."""
    yaml.safe_load(code.fixed)
    if code.code in UNPARSEABLE_EXAMPLES:
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(code.example)
    else:
        yaml.safe_load(code.example)


def test_codes_page_is_up_to_date() -> None:
    assert CODES_PAGE.read_text(encoding="utf-8") == markdown(), "run ivrc codes --markdown > docs/codes.md"


def test_codes_page_has_a_heading_per_code() -> None:
    headings = re.findall(r"^## (IVR\d{3}) (\S+)$", markdown(), re.M)
    assert headings == [(c.code, c.name) for c in CODES.values()]


def test_every_code_has_a_broken_flow() -> None:
    """A broken example per code, named after it (the file or, for checks across files, the folder)."""
    names = [p.name for p in BROKEN.iterdir()]
    missing = [code for code in CODES if code not in GENERATED_ELSEWHERE
               and not any(name.startswith(code) for name in names)]
    assert not missing, ("no file or folder in tests/flows/broken/ is named after " + ", ".join(missing)
                         + "; add one like IVR020-unknown-state.yaml")
    committed = [code for code in GENERATED_ELSEWHERE if any(name.startswith(code) for name in names)]
    assert not committed, f"{committed} now have committed broken flows; drop them from GENERATED_ELSEWHERE"


# pre-commit hooks

def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _hooks() -> dict[str, dict]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return {hook["id"]: hook for hook in hooks}


def test_precommit_hooks_run_real_subcommands() -> None:
    hooks = _hooks()
    assert set(hooks) == {"ivrc-lint", "ivrc-test"}
    subcommands = _subcommands()
    for hook in hooks.values():
        assert {"id", "name", "entry", "language"} <= set(hook), hook["id"]
        assert hook["language"] == "python"  # pre-commit installs this repository and runs its `ivrc`
        program, subcommand, *options = shlex.split(hook["entry"])
        assert program == "ivrc" and subcommand in subcommands, hook["entry"]
        argv = [subcommand, *options, *hook.get("args", [])]
        if hook.get("pass_filenames", True):
            argv.append("flows/pizza.yaml")
        build_parser().parse_args(argv)  # the options exist (argparse exits on an unknown one)


def test_precommit_hooks_pick_the_right_files() -> None:
    hooks = _hooks()
    lint, test = hooks["ivrc-lint"], hooks["ivrc-test"]

    def linted(path: str) -> bool:
        return bool(re.search(lint["files"], path)) and not re.search(lint["exclude"], path)

    assert linted("flows/pizza.yaml") and linted("support.yml")
    for path in ("flows/pizza.test.yaml", "flows/pizza.test.yml", ".pre-commit-config.yaml",
                 ".github/workflows/ci.yml", "README.md"):
        assert not linted(path), path
    assert lint["pass_filenames"] is True and lint.get("require_serial") is True
    assert test["pass_filenames"] is False and test["always_run"] is False
    assert re.search(test["files"], "flows/pizza.test.yaml") and re.search(test["files"], "flows/pizza.yaml")


# docs/ci.md and the example workflow

def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)


def _ivrc_commands() -> list[tuple[str, str]]:
    """Every `ivrc ...` command shown in docs/ci.md and run by the example workflow."""
    text = CI_PAGE.read_text(encoding="utf-8")
    lines = [(f"docs/ci.md ({language})", line) for language in ("sh", "console")
             for block in _blocks(text, language) for line in block.splitlines()]
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    lines += [(WORKFLOW.name, step["run"]) for job in workflow["jobs"].values()
              for step in job["steps"] if "run" in step]
    found = []
    for where, line in lines:
        line = line.strip().removeprefix("$ ")
        if line.startswith("ivrc "):
            found.append((where, line))
    return found


@pytest.mark.parametrize("where, line", _ivrc_commands())
def test_documented_commands_parse(where: str, line: str) -> None:
    words = shlex.split(line, comments=True)
    for stop in ("|", "||", ">", "&&"):
        if stop in words:
            words = words[:words.index(stop)]
    assert words[0] == "ivrc"
    try:
        build_parser().parse_args(words[1:])
    except SystemExit:
        pytest.fail(f"{where}: `{line}` is not a valid ivrc command line")


def test_workflow_in_the_docs_is_the_example_workflow() -> None:
    """docs/ci.md shows the example workflow without its comments; both say the same."""
    (shown,) = [b for b in _blocks(CI_PAGE.read_text(encoding="utf-8"), "yaml") if b.startswith("name: ivrc")]
    example = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert example.pop("name").startswith("ivrc (example")
    documented = yaml.safe_load(shown)
    documented.pop("name")
    assert documented == example


def test_example_workflow_says_it_is_an_example() -> None:
    first = WORKFLOW.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# EXAMPLE"), first


def test_precommit_config_in_the_docs_names_the_hooks() -> None:
    ids = set(_hooks())
    configs = [yaml.safe_load(b) for b in _blocks(CI_PAGE.read_text(encoding="utf-8"), "yaml") if b.startswith("repos:")]
    assert configs
    for config in configs:
        (repo,) = config["repos"]
        assert {"repo", "rev", "hooks"} == set(repo)
        assert {hook["id"] for hook in repo["hooks"]} <= ids
