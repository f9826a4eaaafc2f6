"""Compiles a checked flow into the machine: JSON-serialisable, deterministic, versioned by content hash."""
from __future__ import annotations

import hashlib
import json
from typing import Any, overload

from . import cookies, ir, svaml
from .checks.cookies import budget, carried_call_fields, variable_bounds
from .compiled import FORMAT, release
from .graph import visits
from .ssmltext import speak_ampersands

DEFAULT_ERROR_TEXT = "We are sorry, something went wrong. Please call again later. Goodbye."
KEY_NAMES = {"#": "hash", "*": "star"}
INVALID = "invalid"  # the choice a menu returns for a key that is no option (see _run_menu)
# Keys every SDK accepts in an option (Java checks [0-9#w]); `*` only where the author wrote it.
CATCH_ALL_KEYS = "0123456789#"
# At most this many menus in one runMenu: a long chain of navigation menus would otherwise put
# every later menu into every earlier answer. Beyond it, navigation takes a callback.
MAX_FUSED_MENUS = 8


def key_name(key: str) -> str:
    """Menu keys as they appear in return values: digits as they are, # and * spelt out."""
    return KEY_NAMES.get(key, key)


def return_value(flow_id: str, state: str, choice: str) -> str:
    """What a menu option returns in its PIE: enough to find flow, state and choice without cookies."""
    return f"{flow_id}.{state}.{choice}"


class _Builder:
    def __init__(self, flow: ir.Flow) -> None:
        self.flow = flow
        self.prompts: dict[str, dict[str, list[dict]]] = {}

    # prompts

    def _parts(self, parts: tuple[ir.Part, ...]) -> list[dict]:
        out = []
        for part in parts:
            source = part.text.source
            if part.kind == "ssml":
                source = speak_ampersands(source, part.text.is_template)
            item: dict[str, Any] = {part.kind: source}
            if part.kind in ("tts", "ssml") and part.text.is_template:
                item["render"] = True
            out.append(item)
        return out

    @overload
    def prompt(self, prompt: ir.Prompt, fallback_id: str) -> str: ...
    @overload
    def prompt(self, prompt: ir.Prompt | None, fallback_id: str) -> str | None: ...
    def prompt(self, prompt: ir.Prompt | None, fallback_id: str) -> str | None:
        """Registers a prompt and returns its id; catalogue prompts keep their names."""
        if prompt is None:
            return None
        if prompt.ref is not None:
            return prompt.ref
        prompt_id = fallback_id
        self.prompts[prompt_id] = {loc or "*": self._parts(parts) for loc, parts in prompt.by_locale}
        return prompt_id

    # states

    def state(self, state: ir.State, runs_in: list[str]) -> dict[str, Any]:
        base = f"{state.name}"
        out: dict[str, Any] = {"do": state.kind}
        if runs_in:
            out["runs_in"] = runs_in
        if state.sets:
            out["set"] = [{"name": a.name, "value": a.value.source, **({"render": True} if a.value.is_template else {})}
                          for a in state.sets]
        say = self.prompt(state.say, f"{base}.say")
        if say is not None:
            out["say"] = say
        if state.send_digits is not None:
            out["send_digits"] = state.send_digits
        action = state.action
        if isinstance(action, ir.Next):
            out["next"] = action.goto.target
        elif isinstance(action, ir.Branch):
            out["cases"] = [{"if": c.condition.source, "goto": c.goto.target} if c.condition else {"goto": c.goto.target}
                            for c in action.cases]
        elif isinstance(action, ir.Hangup):
            out["action"] = svaml.hangup()
        elif isinstance(action, ir.Menu):
            out.update(self.menu(state, action))
        elif isinstance(action, ir.Collect):
            out.update(self.collect(state, action))
        elif isinstance(action, ir.Record):
            out.update(self.record(state, action))
        elif isinstance(action, ir.Transfer):
            instructions = [svaml.start_recording(action.record)] if action.record is not None else []
            if instructions:
                out["instructions"] = instructions
            out["action"] = svaml.transfer(action)
            # Sinch sends an ACE when the other side answers; the call is bridged, so we let it go on.
            out["on_answer"] = svaml.cont()
            if action.kind == "conference" and action.keypad is not None and action.keypad.mode == "detect":
                out["keys"] = {k.keys: k.goto.target for k in action.keypad.keys}
            if action.on_invalid is not None:
                out["on_invalid"] = action.on_invalid.target
        elif isinstance(action, ir.Park):
            intro = self.prompt(action.intro, f"{base}.park.intro")
            hold = self.prompt(action.hold, f"{base}.park.hold")
            out["action"] = svaml.park(intro, hold, action.max_duration)
        elif isinstance(action, ir.Request):
            out.update(_request(action))
        elif isinstance(action, ir.Repeat):
            out.update({"times": action.times, "goto": action.goto.target if action.goto else state.name,
                        "then": action.then.target})
        return out

    def _handler(self, handler: ir.Handler | None, base: str) -> dict | None:
        if handler is None:
            return None
        out: dict[str, Any] = {}
        say = self.prompt(handler.say, f"{base}.say")
        if say is not None:
            out["say"] = say
        if handler.goto is not None:
            out["goto"] = handler.goto.target
        return out

    def _retry_fields(self, state: ir.State, action: ir.Menu | ir.Collect, kind: str) -> dict[str, Any]:
        base = f"{state.name}.{kind}"
        out: dict[str, Any] = {"attempts": action.attempts}
        for name in ("no_input", "invalid"):
            handler = self._handler(getattr(action, name), f"{base}.{name}")
            if handler is not None:
                out[name] = handler
        if action.exhausted is not None:
            out["exhausted"] = action.exhausted.target
        return out

    def menu(self, state: ir.State, menu: ir.Menu) -> dict[str, Any]:
        prompt_id = self.prompt(menu.prompt, f"{state.name}.menu.prompt")
        reprompt_id = self.prompt(menu.reprompt, f"{state.name}.menu.reprompt") or prompt_id
        group = self.fused_group(state)
        options: dict[str, Any] = {}
        keywords: dict[str, str] = {}
        for option in menu.options:
            entry: dict[str, Any] = {"goto": option.goto.target}
            say = self.prompt(option.say, f"{state.name}.menu.options.{key_name(option.key)}.say")
            if say is not None:
                entry["say"] = say
            options[option.key] = entry
            for word in option.keywords:
                keywords[word.strip().casefold()] = option.key
        out: dict[str, Any] = {
            "action": self._run_menu(state, group, prompt_id),
            "retry_action": self._run_menu(state, group, reprompt_id, retry=True),
            "options": options,
        }
        if keywords:
            out["keywords"] = keywords
        if len(group) > 1:
            out["fused"] = group[1:]
        out.update(self._retry_fields(state, menu, "menu"))
        if self.sinch_repeat(state, menu) is not None:
            out["repeats_in_sinch"] = True  # a no-input or invalid PIE means the attempts are used up
        return out

    def fused_group(self, root: ir.State) -> list[str]:
        """The root menu and the menus reachable from it by navigation alone, fused into one runMenu.

        Sinch moves between menus of one runMenu without a callback (`menu(id)`), so a caller
        browsing nested menus costs no round trips. A target joins only if nothing would be lost:
        no prompt on the way, no `set`/`say` of its own, the same barge and voice settings.
        """
        group = [root.name]
        root_menu: ir.Menu = root.action  # type: ignore[assignment]
        if multi_key(root_menu):
            return group  # a digit collection behind the scenes: no menu(id) moves
        for name in group:
            member: ir.Menu = self.flow.state_map[name].action  # type: ignore[assignment]
            for option in member.options:
                target = self.flow.state(option.goto.target)
                if (len(group) >= MAX_FUSED_MENUS or target is None or target.name in group or option.say is not None or target.sets
                        or target.say is not None or not isinstance(target.action, ir.Menu) or multi_key(target.action)
                        or target.action.barge != root_menu.barge or _voice(target.action) != _voice(root_menu)):
                    continue
                group.append(target.name)
        return group

    def _run_menu(self, root: ir.State, group: list[str], root_prompt: str | None, retry: bool = False) -> dict:
        root_menu: ir.Menu = root.action  # type: ignore[assignment]
        if multi_key(root_menu):
            # Sinch's menu options take one key each; keys like 10 are collected as digits and
            # matched by the engine, with the same timeout, retries and handlers.
            longest = max(len(option.key) for option in root_menu.options)
            menu = svaml.menu(svaml.MENU_MAIN, svaml.prompt(root_prompt) if root_prompt else None, root_menu.timeout,
                              [], longest)
            return svaml.run_menu([menu], root_menu.barge, _voice(root_menu))
        menus = []
        for name in group:
            member: ir.Menu = self.flow.state_map[name].action  # type: ignore[assignment]
            options = []
            for option in member.options:
                target = option.goto.target
                # Going back to the root by menu() would skip the root's own say/set, and on a retry
                # would play its reprompt with the attempts already used: entering it again is a
                # callback, as the flow says (fresh prompt, fresh attempts).
                back_by_callback = target == root.name and (root.say is not None or root.sets or retry)
                if option.say is None and target in group and not back_by_callback:
                    action = svaml.goto_menu(svaml.menu_id(target, root.name, self.flow.id))
                else:
                    action = svaml.give_back(return_value(self.flow.id, name, key_name(option.key)))
                options.append(svaml.option(option.key, action))
            prompt_id = root_prompt if name == root.name else self.prompt(member.prompt, f"{name}.menu.prompt")
            repeat = self.sinch_repeat(self.flow.state_map[name], member)
            if not repeat:
                # A key that is no option comes back as a return value naming flow and state, not as
                # Sinch's bare `invalidinput`, so it is routed even when Sinch echoes no cookies. (A
                # menu Sinch repeats needs Sinch to see the key as invalid.)
                taken = {option.key for option in member.options}
                invalid = svaml.give_back(return_value(self.flow.id, name, INVALID))
                options += [svaml.option(key, invalid) for key in CATCH_ALL_KEYS if key not in taken]
            menus.append(svaml.menu(svaml.menu_id(name, root.name, self.flow.id), svaml.prompt(prompt_id) if prompt_id else None,
                                    member.timeout, options, repeats=member.attempts - 1 if repeat else 0,
                                    repeat_prompt=svaml.prompts(repeat) if repeat else None))
        return svaml.run_menu(menus, root_menu.barge, _voice(root_menu))

    def sinch_repeat(self, state: ir.State, menu: ir.Menu) -> list[str] | None:
        """The prompts Sinch replays on each retry, when Sinch's own repeats say what the author wrote.

        Sinch replays one `repeatPrompt` on no input and on a key that is no option alike, and sends
        a PIE only when its `repeats` are used up (reference section 3, runMenu). That is this menu
        exactly when both kinds of retry sound the same and go nowhere else: no `no_input` and no
        `invalid`, or the same `{say: ...}` for both. Spoken answers are judged by the server (a
        word that is no keyword), so menus with keywords keep their retries here. None: not so.
        """
        no_input, invalid = menu.no_input, menu.invalid
        if menu.attempts < 2 or _voice(menu) or no_input != invalid or multi_key(menu):
            return None  # (a menu of several-key options is a digit collection: the engine retries it)
        if no_input is not None and (no_input.goto is not None or no_input.say is None):
            return None
        base = f"{state.name}.menu"
        reprompt = self.prompt(menu.reprompt, f"{base}.reprompt") or self.prompt(menu.prompt, f"{base}.prompt")
        say = self.prompt(no_input.say, f"{base}.no_input.say") if no_input is not None else None
        return [say, reprompt] if say is not None else [reprompt]

    def collect(self, state: ir.State, collect: ir.Collect) -> dict[str, Any]:
        prompt_id = self.prompt(collect.prompt, f"{state.name}.collect.prompt")
        reprompt_id = self.prompt(collect.reprompt, f"{state.name}.collect.reprompt") or prompt_id

        def action(p: str | None) -> dict:
            menu = svaml.menu(svaml.MENU_MAIN, svaml.prompt(p) if p else None, collect.timeout, [], collect.max_digits)
            return svaml.run_menu([menu], collect.barge, False)

        out: dict[str, Any] = {
            "action": action(prompt_id),
            "retry_action": action(reprompt_id),
            "into": collect.into,
            "min_digits": collect.min_digits,
            "max_digits": collect.max_digits,
        }
        if collect.pattern is not None:
            out["pattern"] = collect.pattern
        out["next"] = collect.next.target
        out.update(self._retry_fields(state, collect, "collect"))
        return out

    def record(self, state: ir.State, record: ir.Record) -> dict[str, Any]:
        instructions = []
        prompt_id = self.prompt(record.prompt, f"{state.name}.record.prompt")
        if prompt_id is not None:
            instructions.append(svaml.play(prompt_id))
        instructions.append(svaml.start_recording(record.recording))
        # A silent menu waits for the finish key; its timeout is the longest message allowed.
        finish = svaml.option(record.finish_key, svaml.give_back(return_value(self.flow.id, state.name, "done")))
        menu = svaml.menu(svaml.MENU_MAIN, None, record.max_length, [finish])
        return {
            "instructions": instructions,
            "action": svaml.run_menu([menu], True, False),
            "after": [svaml.stop_recording()],
            "next": record.next.target,
        }


def _request(r: ir.Request) -> dict[str, Any]:
    out: dict[str, Any] = {"method": r.method, "url": r.url.source}
    if r.query:
        out["query"] = {name: text.source for name, text in r.query}
    headers = {h.name: h.value.source for h in r.headers if h.value is not None}
    if headers:
        out["headers"] = headers
    secrets = {h.name: {"env": h.env, "prefix": h.prefix} for h in r.headers if h.env is not None}
    if secrets:
        out["secret_headers"] = secrets
    if r.body is not None:
        out["body"] = json_of(r.body)
    out["timeout"] = r.timeout
    if r.save:
        out["save"] = {s.variable: s.field for s in r.save}
    out["next"] = r.next.target
    if r.on_status:
        out["on_status"] = {e.status: e.goto.target for e in r.on_status}
    if r.on_failure is not None:
        out["on_failure"] = r.on_failure.target
    return out


def json_of(value: Any) -> Any:
    """A request body (or any part of one) as the author wrote it: templates as their source."""
    if isinstance(value, ir.Text):
        return value.source
    if isinstance(value, ir.JsonObject):
        return {k: json_of(v) for k, v in value.items}
    if isinstance(value, ir.JsonArray):
        return [json_of(v) for v in value.items]
    return value


def _after_request(flow: ir.Flow) -> list[str]:
    """States a call reaches only by way of a request (a PIN check, say): a callback for one of them
    must carry the call's sealed state, never just a menu's return value."""
    from .graph import edges

    starts = [e.target for s in flow.states if isinstance(s.action, ir.Request) for e in edges(s) if e.target]
    seen: set[str] = set()
    work = [t for t in starts if t in flow.state_map]
    while work:
        name = work.pop()
        if name in seen:
            continue
        seen.add(name)
        work.extend(e.target for e in edges(flow.state_map[name]) if e.target in flow.state_map)
    # A state the start reaches without any request is not protected by one.
    free = _reachable_avoiding(flow, {s.name for s in flow.states if isinstance(s.action, ir.Request)})
    return sorted(seen - free)


def _reachable_avoiding(flow: ir.Flow, avoid: set[str]) -> set[str]:
    from .graph import edges, error_target

    start = flow.start.target
    if start not in flow.state_map or start in avoid:
        return set()
    seen = {start}
    failed = error_target(flow)
    if failed is not None and failed not in avoid:
        seen.add(failed)  # the error path reaches it without a request
    work = list(seen)
    while work:
        for edge in edges(flow.state_map[work.pop()]):
            target = edge.target
            if target in flow.state_map and target not in seen and target not in avoid:
                seen.add(target)
                work.append(target)
    return seen


def _variable(flow: ir.Flow, name: str, bound: int) -> dict[str, Any]:
    declared = flow.variable_map.get(name)
    out: dict[str, Any] = {"max_length": bound, "default": declared.default if declared else ""}
    if declared is not None and declared.report:
        out["report"] = True
    return out


def multi_key(menu: ir.Menu) -> bool:
    """A menu with an option of several keys (10): compiled to a digit collection."""
    return any(len(option.key) > 1 for option in menu.options)


def _voice(menu: ir.Menu) -> bool:
    return any(option.keywords for option in menu.options)


def _schedule(s: ir.Schedule) -> dict[str, Any]:
    return {
        "timezone": s.timezone,
        "weekly": {day: [list(r) for r in ranges] for day, ranges in s.weekly if ranges},
        "holidays": list(s.holidays),
        **({"dates": {date: [list(r) for r in ranges] for date, ranges in s.dates}} if s.dates else {}),
    }


def canonical(machine: dict[str, Any]) -> bytes:
    return json.dumps(machine, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build(flow: ir.Flow) -> dict[str, Any]:
    builder = _Builder(flow)
    runs_in: dict[str, list[str]] = {}
    for (name, event) in visits(flow):
        runs_in.setdefault(name, []).append(event)
    states = {s.name: builder.state(s, sorted(runs_in.get(s.name, []))) for s in flow.states}
    # Ids with a dot cannot clash with catalogue names, which have none.
    flow_says = builder.prompt(flow.on_error, "ivrc.on_error") if flow.on_error else None
    error: dict[str, str] = {"say": "ivrc.error"}
    if flow.on_error_goto is not None:
        # The flow's words lead on to its state; if that state fails too, the call ends with the apology.
        error.update({"goto": flow.on_error_goto.target, **({"before": flow_says} if flow_says else {})})
    elif flow_says is not None:
        error["say"] = flow_says
    if error["say"] == "ivrc.error":
        builder.prompts["ivrc.error"] = {"*": [{"tts": DEFAULT_ERROR_TEXT}]}
    # Catalogue prompts are registered last so that inline ids never shadow them.
    for name, prompt in flow.prompts:
        builder.prompt(prompt, name)
    per_state = budget(flow)
    machine: dict[str, Any] = {
        "machine": FORMAT,
        "flow": flow.id,
        "version": "",
        "description": flow.description,
        "direction": "outbound" if flow.outbound else "inbound",
        "numbers": list(flow.numbers),
        "locale": flow.locale,
        "locales": list(flow.locales),
        "timezone": flow.timezone,
        "start": flow.start.target,
        "error": error,
        "variables": {name: _variable(flow, name, bound) for name, bound in sorted(variable_bounds(flow).items())},
        "hours": {s.name: _schedule(s) for s in flow.schedules},
        "prompts": dict(sorted(builder.prompts.items())),
        "states": states,
        "cookies": {"limit": cookies.LIMIT, "max_bytes": max((t for t, _ in per_state.values()), default=0)},
    }
    machine["carry"] = carried_call_fields(flow)
    behind = _after_request(flow)
    if behind:
        machine["after_request"] = behind
    if flow.outbound is not None:
        machine["outbound"] = {"amd": flow.outbound.amd, **({"caller_id": flow.outbound.caller_id} if flow.outbound.caller_id else {})}
    if flow.events is not None:
        machine["events"] = {"url": flow.events.url, "secret_env": flow.events.secret_env}
    machine["version"] = hashlib.sha256(canonical(machine)).hexdigest()[: cookies.VERSION_LENGTH]
    # After the hash: the same flow compiled by two releases keeps its version (calls in progress
    # go on), while a served artifact can still be matched to the release that compiled it.
    machine["ivrc"] = release()
    return machine


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def dumps(machine: dict[str, Any]) -> str:
    """The machine as written to disk: stable order, and each prompt and state on a line of its own,
    so a diff of two versions shows which ones changed (and the C encoder writes it quickly)."""
    lines = ["{"]
    items = list(machine.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, dict) and value and key in ("prompts", "states", "hours", "variables"):
            lines.append(f"  {_COMPACT(key)}: {{")
            entries = list(value.items())
            for j, (name, entry) in enumerate(entries):
                lines.append(f"    {_COMPACT(name)}: {_COMPACT(entry)}{',' if j < len(entries) - 1 else ''}")
            lines.append(f"  }}{comma}")
        else:
            lines.append(f"  {_COMPACT(key)}: {_COMPACT(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
