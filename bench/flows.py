"""Generated flows of any size for the benchmarks: menus, prompts, digit collection and branches in a chain."""
from __future__ import annotations


def generated_flow(states: int) -> str:
    """A valid flow of about `states` states (a multiple of 5), every state reachable, every path ending."""
    groups = max(1, states // 5)
    lines = ["ivrc: 1", f"flow: generated-{states}", 'numbers: ["+15550009999"]', "locale: en-US",
             "start: m0", "states:"]
    for i in range(groups):
        nxt = f"m{i + 1}" if i + 1 < groups else "bye"
        lines += [
            f"  m{i}:",
            "    menu:",
            f'      prompt: "Menu {i}. Press 1 to enter a code, 2 to go on."',
            f"      options: {{1: s{i}, 2: {nxt}}}",
            '      no_input: {say: "Sorry, I did not hear you."}',
            '      invalid: {say: "Sorry, that is not an option."}',
            "      exhausted: bye",
            f"  s{i}:",
            f'    say: "Step {i}."',
            f"    next: c{i}",
            f"  c{i}:",
            "    collect:",
            '      prompt: "Enter your code, then press hash."',
            "      into: code",
            "      max_digits: 6",
            '      no_input: {say: "Sorry, I did not hear you."}',
            '      invalid: {say: "That code is not valid."}',
            f"      next: b{i}",
            "      exhausted: bye",
            f"  b{i}:",
            "    branch:",
            '      - if: code == "1234"',
            f"        goto: {nxt}",
            f"      - else: e{i}",
            f"  e{i}:",
            '    say: "Unknown code {{ code }}."',
            f"    next: {nxt}",
        ]
    lines += ["  bye:", '    say: "Goodbye."', "    hangup: true"]
    return "\n".join(lines) + "\n"
