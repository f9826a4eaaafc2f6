"""Every rule docs/language.md states is one `ivrc lint` enforces.

The test walks the page: each sentence that states a rule (it says "must", "cannot", "is an
error", "at most"...) is covered either by a RULE below, which names a flow breaking it and the
code lint must report, or by a NOT_LINT entry saying why it is not lint's to check (a run-time
behaviour, advice). A new rule in the docs without either fails here, as does a rule lint stops
enforcing.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivrc.compiler import check_text
from ivrc.compiler.project import check_paths

REPO = Path(__file__).resolve().parents[2]
LANGUAGE = REPO / "docs" / "language.md"
BROKEN = REPO / "tests" / "flows" / "broken"

# Words that make a sentence a rule an author must follow.
RULE_WORDS = re.compile(r"\b(?:must|cannot|is an error|are errors|at most|only one|may only|not allowed|"
                        r"exactly one|no more than)\b")

INBOUND = """\
ivrc: 1
flow: rules
numbers: ["+46812345680"]
start: welcome
"""


@dataclass(frozen=True)
class Rule:
    phrase: str  # words from docs/language.md, exactly as written there (whitespace aside)
    code: str  # what lint reports for a flow that breaks it
    flow: str  # a broken flow: a file in tests/flows/broken, or inline YAML text


RULES = [
    Rule("is never spoken and cannot be sent either, so lint reports it (IVR092)", "IVR092",
         "IVR092-ampersand-in-attribute.yaml"),
    Rule("`ivrc lint` refuses one whose constants must (IVR089)", "IVR089", "IVR089-template-bombs.yaml"),
    Rule("A key written twice in the same mapping is an error", "IVR002", "IVR002-duplicate-state.yaml"),
    Rule("A `%` written in the URL must begin a `%XX` escape (IVR149)", "IVR149", "IVR149-broken-escape.yaml"),
    Rule("Tags such as `!!python/object` are not allowed", "IVR007", "IVR007-python-tag.yaml"),
    Rule("a tab in the indentation is an error", "IVR001", "IVR001-tab-indentation.yaml"),
    Rule("starting with a letter, at most 32 characters", "IVR013",
         INBOUND.replace("flow: rules", "flow: " + "a" * 33) + "states:\n  welcome:\n    hangup: true\n"),
    Rule("A number may belong to only one flow.", "IVR100", "IVR100-number-conflict"),
    Rule("An outbound flow has `outbound` and no `numbers`.", "IVR016", "IVR016-outbound-with-numbers.yaml"),
    Rule("start with a letter, and have at most 48 characters", "IVR013",
         INBOUND.replace("welcome", "w" + "e" * 48) + "states:\n  w" + "e" * 48 + ":\n    hangup: true\n"),
    Rule("The root element must be `<speak>`", "IVR092", "IVR092-ssml-without-speak.yaml"),
    Rule("the XML must be well formed", "IVR092", "IVR092-malformed-ssml.yaml"),
    Rule("It cannot be one part of a list", "IVR010",
         INBOUND + "prompts:\n  hi: \"Hi.\"\nstates:\n  welcome:\n    say: [{prompt: hi}]\n    hangup: true\n"),
    Rule("a catalogue prompt cannot refer to another", "IVR010",
         INBOUND + "prompts:\n  hi: \"Hi.\"\n  hello: {prompt: hi}\nstates:\n  welcome:\n    say: {prompt: hello}\n"
                   "    hangup: true\n"),
    Rule("every catalogue prompt must have text for every locale in `locales`", "IVR090",
         "IVR090-missing-translation.yaml"),
    Rule("Text parts (plain text or `tts`) must not contain `;` or `]`", "IVR093", "IVR093-prompt-separator.yaml"),
    Rule("Each TTS part must be shorter than 600 characters", "IVR091", "IVR091-tts-too-long.yaml"),
    Rule("SSML must be a well-formed XML document with a `<speak>` root", "IVR092", "IVR092-malformed-ssml.yaml"),
    Rule("start with a letter, and have at most 32 characters", "IVR013",
         INBOUND + "variables:\n  " + "v" * 33 + ": {max_length: 4}\nstates:\n  welcome:\n    hangup: true\n"),
    Rule("These words are reserved and cannot name a variable", "IVR013", "IVR013-reserved-variable-name.yaml"),
    Rule("A range must end after it starts", "IVR121", "IVR121-ends-before-start.yaml"),
    Rule("the ranges of one day must not overlap", "IVR121", "IVR121-overlapping-ranges.yaml"),
    Rule("writing the same date in both `holidays` and `dates` is an error (IVR170)", "IVR170",
         "IVR170-holiday-with-hours.yaml"),
    Rule("the call must not be able to take the error path again (IVR171)", "IVR171", "IVR171-error-path-loops.yaml"),
    Rule("`ivrc lint` warns and says what the caller must do (IVR178)", "IVR178", "IVR178-menu-key-prefix.yaml"),
    Rule("so it cannot be an option of such a menu (IVR179)", "IVR179", "IVR179-hash-in-multikey-menu.yaml"),
    Rule("the `goto` state must be allowed in every Sinch answer the flow gives", "IVR060",
         "IVR060-error-state-transfer-outbound.yaml"),
    Rule("every state must be reachable from `start`", "IVR030", "IVR030-unreachable-state.yaml"),
    Rule("every state a flow names must exist", "IVR020", "IVR020-unknown-state.yaml"),
    Rule("every path must be able to end in a hang-up, a transfer or a park", "IVR031",
         "IVR031-no-way-to-end.yaml"),
    Rule("a loop must contain at least one state that waits for the caller", "IVR032",
         "IVR032-eventless-cycle.yaml"),
    Rule("not a declared or collected variable is an error that `ivrc lint` reports", "IVR081",
         "IVR081-undefined-name.yaml"),
    Rule("the value must be one of the flow's `locales`", "IVR072", "IVR072-invalid-locale-switch.yaml"),
    Rule("`ivrc lint` rejects one whose value it cannot tell in advance", "IVR072", "IVR072-templated-locale.yaml"),
    Rule("A constant longer than the variable's `max_length` is an error", "IVR073", "IVR073-value-too-long.yaml"),
    Rule("A word may lead to only one option", "IVR043", "IVR043-duplicate-keyword.yaml"),
    Rule("`min_digits` must not be larger than `max_digits`", "IVR044", "IVR044-min-above-max.yaml"),
    Rule("the pattern must be able to match some input of an allowed length that a caller can key", "IVR047",
         "IVR047-pattern-never-matches.yaml"),
    Rule("a pattern that needs `#`, or letters, is an error", "IVR047", "IVR047-pattern-never-matches.yaml"),
    Rule("Use exactly one of `number`, `sip`, `user`, `conference` or `stream`", "IVR014",
         INBOUND + "states:\n  welcome:\n    transfer: {number: \"+46812345671\", sip: desk@pbx.example.com}\n"),
    Rule("A flow cannot continue after a transfer.", "IVR015", "IVR015-next-after-transfer.yaml"),
    Rule("a park state must be reached from `start` through `say`, `set`, `next` and `branch` states only",
         "IVR060", "IVR060-park-after-menu.yaml"),
    Rule("Outbound flows cannot park at all.", "IVR060",
         "ivrc: 1\nflow: rules\noutbound: {caller_id: \"+46812345730\"}\nstart: welcome\n"
         "states:\n  welcome:\n    park: {hold: \"Please wait.\"}\n"),
    Rule("Prompt text cannot contain `;` or `]`.", "IVR093", "IVR093-prompt-separator.yaml"),
    Rule("The URL must be written out as `wss://host/path` (IVR150)", "IVR150", "IVR150-stream-not-wss.yaml"),
    Rule("It cannot be a template (IVR151)", "IVR151", "IVR151-stream-url-template.yaml"),
    Rule("A stream state must be reached from `start` through `say`, `set`, `next`, `branch` and `request` states "
         "only", "IVR060",
         INBOUND + "states:\n  welcome:\n    menu:\n      prompt: \"Press 1.\"\n      options: {1: bot}\n"
                   "      no_input: {say: \"Sorry.\"}\n      invalid: {say: \"Sorry.\"}\n"
                   "  bot:\n    transfer: {stream: \"wss://bot.example.com/calls\"}\n"),
    Rule("`keys` without `mode: detect`, and `detect` without `keys`, are errors (IVR152)", "IVR152",
         "IVR152-keypad-keys-without-detect.yaml"),
    Rule("A sequence longer than `max_digits`, or with `#` inside it, cannot be pressed (IVR153)", "IVR153",
         "IVR153-keypad-key-unreachable.yaml"),
]

# Sentences with rule words that are not lint's to enforce, and why.
NOT_LINT = {
    "should never be marked": "advice on what to report, not a rule lint can check",
    "An undeclared `collect:` variable cannot be reported": "`report:` is a key of declared variables only",
    "strings and lists hold at most 10,000 characters or items": "the run-time bounds; lint's part is IVR089",
    "one rendering takes at most 100,000 steps (loop iterations and calls) and produces at most 100,000 characters":
        "the run-time bounds; lint's part is IVR089",
    "A template that goes past a bound takes the error path": "what happens at run time",
    "checks the value before Sinch sees it: a `number` must be E.164": "the run-time check of a templated "
        "destination (tests/runtime/test_transfer_destinations.py); lint's part is IVR172-IVR175",
    "the value must be 1 to 64 letters, digits,": "the run-time check of a templated conference id "
        "(tests/flowtests/test_simulate_command.py)",
    "They cannot be forged": "the sealed state, at run time (tests/runtime/test_requests_and_sealed_state.py)",
    "is never entered from a menu result alone": "the sealed state, at run time",
    "Keep what must not travel at all": "advice on what to keep out of cookies",
    "In SSML parts, inserted values are escaped, so a value cannot break the markup":
        "what the runtime does to caller data, not a rule for authors",
    "a template can read them but they cannot change what the template does": "the sandbox, at run time",
    "that the whole input must match, or it counts as invalid": "the run-time check of keyed digits",
    "If callers must never be lost": "advice on where to transfer",
    "What Sinch cannot do, and what ivrc does instead": "a heading",
    "ivrc has no limit of its own on them": "a promise, tested in tests/runtime/test_long_walks.py",
    "A flow cannot mute a participant itself": "what Sinch's callback answers offer, advice on the way round",
}


def _plain(text: str) -> str:
    """The page as running text: code blocks and link targets dropped, whitespace collapsed."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"\s+", " ", text)


def _flow_results(flow: str):
    if "\n" in flow:
        return [check_text(textwrap.dedent(flow), "<rule>")]
    return check_paths([str(BROKEN / flow)])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.code}: {r.phrase[:50]}")
def test_each_documented_rule_is_enforced(rule: Rule) -> None:
    assert _plain(rule.phrase) in _plain(LANGUAGE.read_text(encoding="utf-8")), (
        f"docs/language.md no longer says {rule.phrase!r}; update the rule here with the docs")
    codes = {d.code for result in _flow_results(rule.flow) for d in result.diagnostics}
    assert rule.code in codes, f"breaking {rule.phrase!r} should give {rule.code}, got {sorted(codes)}"


def test_every_rule_in_the_docs_is_covered() -> None:
    page = _plain(LANGUAGE.read_text(encoding="utf-8"))
    covered: list[tuple[int, int]] = []
    for phrase in [r.phrase for r in RULES] + list(NOT_LINT):
        said = [m.start() for m in re.finditer(re.escape(_plain(phrase)), page)]
        assert said, f"docs/language.md no longer says {phrase!r}"
        covered += [(start, start + len(_plain(phrase))) for start in said]
    uncovered = []
    for match in RULE_WORDS.finditer(page):
        if not any(start <= match.start() < end for start, end in covered):
            uncovered.append(page[max(0, match.start() - 80): match.end() + 60])
    assert not uncovered, ("rules in docs/language.md that no test covers; add a Rule (a broken flow and its code) "
                           "or a NOT_LINT reason:\n" + "\n".join(f"  ...{u}..." for u in uncovered))
