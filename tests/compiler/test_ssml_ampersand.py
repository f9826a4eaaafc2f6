"""A plain `&` in SSML is accepted and spoken as "and"; `&amp;` is not escaped twice; other entities stay errors."""
from __future__ import annotations

import json
from pathlib import Path

from ivrc.compiler import check_text, compile_text
from ivrc.compiler.ssmltext import speak_ampersands

HEAD = 'ivrc: 1\nflow: f\nnumbers: ["+46812345670"]\nstart: s\nstates:\n  s:\n'


def flow(*ssml: str) -> str:
    parts = "".join(f"      - ssml: {json.dumps(text)}\n" for text in ssml)
    return HEAD + "    say:\n" + parts + "    hangup: true\n"


def codes(text: str) -> list[str]:
    return [d.code for d in check_text(text).diagnostics]


def compiled_ssml(text: str) -> list[str]:
    machine = compile_text(text).machine
    assert machine is not None
    return [part["ssml"] for parts in machine["prompts"].values() for part in parts["*"] if "ssml" in part]


def test_a_plain_ampersand_lints_clean_and_is_spoken_as_and() -> None:
    text = flow("<speak>Tom & Jerry</speak>", '<speak><sub alias="R and D">R&D</sub></speak>')
    assert codes(text) == []
    assert compiled_ssml(text) == ["<speak>Tom and Jerry</speak>", '<speak><sub alias="R and D">R and D</sub></speak>']


def test_an_entity_written_out_is_not_escaped_twice() -> None:
    text = flow("<speak>Tom &amp; Jerry</speak>")
    assert codes(text) == []  # its ';' would cut the prompt, so ivrc speaks it as the plain '&'
    assert compiled_ssml(text) == ["<speak>Tom and Jerry</speak>"]


def test_other_entities_are_still_reported() -> None:
    assert codes(flow("<speak>a &lt; b</speak>")) == ["IVR093"]
    assert "IVR092" in codes(flow("<speak&>a</speak>"))


def test_ampersands_inside_template_tags_are_left_to_the_template() -> None:
    source = "<speak>{{ 'x' if a & b else 'y' }} & {# R&D #} me</speak>"
    assert speak_ampersands(source, is_template=True) == "<speak>{{ 'x' if a & b else 'y' }} and {# R&D #} me</speak>"


def test_a_caller_hears_and_in_a_templated_prompt(ivrc, tmp_path: Path) -> None:
    path = tmp_path / "amp.yaml"
    path.write_text(flow("<speak>Tom & Jerry, {{ call.caller }} &amp; me</speak>"))
    run = ivrc("simulate", str(path), "--caller", "+46700000009")
    assert run.code == 0, run.err
    assert "  🔊 Tom and Jerry, +46700000009 and me" in run.out.splitlines()


def test_an_ampersand_in_a_tag_is_left_as_it_is_and_reported_never_turned_into_and() -> None:
    source = '<speak><audio src="https://m.example.com/a.mp3?x=1&y=2"/> Tom & Jerry<!-- Q&A --></speak>'
    assert speak_ampersands(source, is_template=False) == (
        '<speak><audio src="https://m.example.com/a.mp3?x=1&y=2"/> Tom and Jerry<!-- Q&A --></speak>')
