"""Generated flows of any size for the benchmarks: menus, prompts, digit collection and branches in a chain."""
from __future__ import annotations


def generated_flow(states: int) -> str:
    """A valid flow of about `states` states (a multiple of 5), every state reachable, every path ending.

    Written compactly, as an author of a large flow would (flow style, anchors for the repeated
    handlers), so that 10,000 states fit within the loader's 1 MiB limit.
    """
    groups = max(1, states // 5)
    lines = ["ivrc: 1", f"flow: generated-{states}", 'numbers: ["+15550009999"]', "locale: en-US",
             "start: m0", "prompts:",
             '  code: "Enter your code, then press hash."',
             "states:",
             '  bye: {say: "Goodbye.", hangup: true}']
    first = True
    for i in range(groups):
        nxt = f"m{i + 1}" if i + 1 < groups else "bye"
        silence = "&n {say: \"Sorry, I did not hear you.\"}" if first else "*n"
        wrong = "&i {say: \"Sorry, that is not valid.\"}" if first else "*i"
        first = False
        lines += [
            f'  m{i}: {{menu: {{prompt: "Menu {i}. Press 1 for a code, 2 to go on.", options: {{1: s{i}, 2: {nxt}}}, '
            f"no_input: {silence}, invalid: {wrong}, exhausted: bye}}}}",
            f'  s{i}: {{say: "Step {i}.", next: c{i}}}',
            f"  c{i}: {{collect: {{prompt: {{prompt: code}}, into: code, max_digits: 6, no_input: *n, invalid: *i, "
            f"next: b{i}, exhausted: bye}}}}",
            f'  b{i}: {{branch: [{{if: code == "1234", goto: {nxt}}}, {{else: e{i}}}]}}',
            f'  e{i}: {{say: "Unknown code {{{{ code }}}}.", next: {nxt}}}',
        ]
    return "\n".join(lines) + "\n"
