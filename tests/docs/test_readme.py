"""The README's examples, run as a newcomer would run them, with their output compared.

Each ```console block's `$ .venv/bin/ivrc ...` command runs through the installed `ivrc`
(python -m ivrc), and its output must be what the README shows; a line `...` stands for lines
left out, and timings may differ. The Mermaid diagram must be `ivrc graph` of the tour's
snippet, and the scripted `ivrc call` must work against a server started as `make serve` does.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ivrctest import KEY, REPO, SECRET, serve_env, start_serve

README = (REPO / "README.md").read_text(encoding="utf-8")
TOUR = README[README.index("## A tour"):]
SNIPPET = re.search(r"```yaml\n(.*?)```", TOUR, re.S)[1]
CONSOLE = re.findall(r"```console\n(.*?)```", README, re.S)
TIMING = re.compile(r" in \d+\.\d+s$")


def _ivrc(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS")}
    return subprocess.run([sys.executable, "-m", "ivrc", *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _command(block: str) -> tuple[list[str], list[str]]:
    first, *shown = block.rstrip("\n").split("\n")
    assert first.startswith("$ .venv/bin/ivrc "), first
    return first[len("$ .venv/bin/ivrc "):].split(), shown


def _matches(shown: list[str], actual: list[str]) -> bool:
    """The shown lines in order, `...` standing for any run of lines left out, timings aside."""
    shown = [TIMING.sub(" in TIME", line) for line in shown]
    actual = [TIMING.sub(" in TIME", line) for line in actual]
    segments: list[list[str]] = [[]]
    for line in shown:
        if line == "...":
            segments.append([])
        else:
            segments[-1].append(line)
    if actual[:len(segments[0])] != segments[0] or (len(segments) > 1 and segments[-1] and
                                                     actual[len(actual) - len(segments[-1]):] != segments[-1]):
        return False
    at = len(segments[0])
    for segment in segments[1:]:
        while at <= len(actual) - len(segment) and actual[at:at + len(segment)] != segment:
            at += 1
        if at > len(actual) - len(segment):
            return False
        at += len(segment)
    return len(segments) > 1 or at == len(actual)


def test_every_console_block_is_checked() -> None:
    commands = [_command(block)[0][0] for block in CONSOLE]
    assert commands == ["lint", "simulate", "test"]


def test_lint_of_the_snippet_with_a_misspelling(tmp_path: Path) -> None:
    argv, shown = _command(next(b for b in CONSOLE if b.startswith("$ .venv/bin/ivrc lint")))
    branch = SNIPPET.index("branch:")
    broken = SNIPPET[:branch] + SNIPPET[branch:].replace("goto: main_menu", "goto: main_mneu", 1)
    (tmp_path / "support.yaml").write_text(broken, encoding="utf-8")
    run = _ivrc(argv, tmp_path)
    assert run.returncode == 1
    assert run.stdout.rstrip("\n").split("\n") == shown


@pytest.mark.parametrize("name", ["simulate", "test"])
def test_commands_on_the_examples(name: str) -> None:
    argv, shown = _command(next(b for b in CONSOLE if b.startswith(f"$ .venv/bin/ivrc {name}")))
    run = _ivrc(argv, REPO)
    assert run.returncode == 0, run.stderr
    actual = run.stdout.rstrip("\n").split("\n")
    assert _matches(shown, actual), "README shows:\n" + "\n".join(shown) + "\n\nivrc prints:\n" + run.stdout


def test_the_diagram_is_the_snippets(tmp_path: Path) -> None:
    (tmp_path / "support.yaml").write_text(SNIPPET, encoding="utf-8")
    run = _ivrc(["graph", "support.yaml"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "```mermaid\n" + run.stdout + "```" in README


def test_the_snippet_lints_clean(tmp_path: Path) -> None:
    (tmp_path / "support.yaml").write_text(SNIPPET, encoding="utf-8")
    assert _ivrc(["lint", "support.yaml"], tmp_path).returncode == 0


def test_the_scripted_call_works_next_to_make_serve(tmp_path: Path) -> None:
    """The README's export line and `ivrc call`, in a shell, against a server with make serve's credentials."""
    block = re.search(r"```sh\n(export SINCH_APPLICATION_KEY=[0-9A-F].*?)```", README, re.S)[1]
    export, call = block.strip().split("\n")
    assert f"SINCH_APPLICATION_KEY={KEY} " in export and f"SINCH_APPLICATION_SECRET={SECRET}" in export
    assert "--press 1" in call
    server = start_serve(tmp_path)
    try:
        script = export + "\n" + call.replace(".venv/bin/ivrc", f"{sys.executable} -m ivrc").replace(
            "http://127.0.0.1:8080", server.base).split("#", 1)[0].rstrip()
        env = serve_env(SINCH_APPLICATION_KEY=None, SINCH_APPLICATION_SECRET=None)
        run = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    assert "presses 1" in run.stdout
