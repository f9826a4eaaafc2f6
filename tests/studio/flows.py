"""Flows written for the studio's tests: a big one generated on the fly."""
from __future__ import annotations


def big_flow(states: int = 200) -> str:
    """A lint-clean flow of `states` states: menus that go forward, back to the top, and end in transfers."""
    lines = ["ivrc: 1", "flow: big", 'numbers: ["+46812345999"]', "locale: en-US", "timezone: Europe/Stockholm",
             "start: m0", "states:"]
    menus = states - 2
    for i in range(menus):
        forward = f"m{i + 1}" if i + 1 < menus else "agent"
        jump = f"m{i + 2}" if i + 2 < menus else "bye"
        lines += [f"  m{i}:", "    menu:", f'      prompt: "Menu {i}. Press 1 to go on, 2 to skip, 0 for an agent."',
                  "      options:", f"        1: {forward}", f"        2: {jump}", "        0: agent",
                  *([f"        9: m{i // 2}"] if i else []),
                  '      no_input: {say: "Sorry."}', '      invalid: {say: "Not an option."}', "      exhausted: bye"]
    lines += ["  agent:", '    transfer: {number: "+46812345998"}', "  bye:", '    say: "Goodbye."', "    hangup: true"]
    return "\n".join(lines) + "\n"
