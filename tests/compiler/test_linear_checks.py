"""Checking a flow costs time linear in its size, whatever the file holds (lint runs on untrusted pull requests)."""
from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivrc.compiler import diagnostics
from ivrc.compiler.checks.prompts import _replace_tags
from ivrc.compiler.pipeline import check_text

REPO = Path(__file__).resolve().parents[2]
HEAD = 'ivrc: 1\nflow: attack\nnumbers: ["+15550009999"]\nlocale: en-US\nstart: a\n'
# What the old regex meant; kept here as the specification of _replace_tags.
TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


@given(st.text(alphabet="{}%#ab \n", max_size=60))
def test_tags_are_replaced_as_the_regex_would(text: str) -> None:
    assert _replace_tags(text, "x") == TAGS.sub("x", text)


@pytest.mark.slow
def test_a_megabyte_of_unclosed_template_tags_lints_in_bounded_time(tmp_path: Path) -> None:
    # A prompt of repeated '{{' made the tag regex rescan to the end from every opener:
    # 89 s at 80k characters, hours at 1 MiB. Linear, it takes about a second.
    flow = tmp_path / "attack.yaml"
    flow.write_text(HEAD + "states:\n  a:\n    say: '" + "{{" * 500_000 + "'\n    hangup: true\n")
    try:
        done = subprocess.run([sys.executable, "-m", "ivrc", "lint", str(flow)], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("ivrc lint did not finish a 1 MiB flow within 120 s")
    assert done.returncode == 1 and "IVR080" in done.stdout, done.stdout + done.stderr


def test_did_you_mean_work_is_bounded_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # 5,000 states each naming an unknown state: every misspelt name was compared with every
    # known name (25 million comparisons; 54 s for 128 KiB). Count the comparisons instead of timing them.
    compared = [0]
    real = difflib.get_close_matches

    def counting(word, possibilities, *args, **kwargs):
        compared[0] += len(possibilities)
        if compared[0] > 10 * diagnostics.SUGGESTION_BUDGET:
            raise AssertionError(f"over {compared[0]} names compared for one file")
        return real(word, possibilities, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    states = "".join(f"  s{i}: {{say: x, next: nowhere{i}}}\n" for i in range(5000))
    result = check_text(HEAD + "states:\n  a: {say: x, hangup: true}\n" + states)
    assert {d.code for d in result.diagnostics} >= {"IVR020"}
    assert compared[0] <= diagnostics.SUGGESTION_BUDGET


def test_a_small_flow_still_gets_its_suggestion() -> None:
    result = check_text(HEAD + "states:\n  a: {say: x, next: goodby}\n  goodbye: {say: bye, hangup: true}\n")
    assert any("did you mean 'goodbye'" in (d.message + (d.help or "")) for d in result.diagnostics)


def test_a_condition_too_deep_to_walk_is_a_diagnostic_not_a_crash() -> None:
    # 13,000 `or`s parse into a tree too deep to walk recursively; found by bench/adversarial_lint.py.
    flow = HEAD + ("states:\n  a:\n    branch: [{if: '" + "a or " * 13_000 + "a', goto: b}, {else: b}]\n"
                   "  b: {say: x, hangup: true}\n")
    assert [d.code for d in check_text(flow).diagnostics] == ["IVR080"]
