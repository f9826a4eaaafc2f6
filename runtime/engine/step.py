"""One callback, one step: pick the transition, walk to the next wait state, answer with SVAML.

Pure: knows nothing of HTTP. Every failure inside a step becomes the flow's error path (an
apology and hang-up), so a caller never hears dead air because of us.
"""
from __future__ import annotations

import json
import logging
import os
import re
import traceback
from dataclasses import dataclass, field
from typing import Any, Mapping

from ivrc.compiler import cookies as layout
from ivrc.compiler import svaml
from ivrc.compiler.machine import DEFAULT_ERROR_TEXT, KEY_NAMES

from .callstate import Call, Pin, cookie_instructions, read_pin, read_variables, total_bytes
from .events import Callback, MenuResult
from .library import Library, Loaded
from .masking import mask_numbers
from .render import Clock, Context, StepError, system_clock

log = logging.getLogger("ivrc.engine")

_NO_INSTRUCTIONS: list = []  # one shared object: fill_static caches by identity
_KEYS_BY_NAME = {name: key for key, name in KEY_NAMES.items()}
_DIGITS = re.compile(r"[0-9*]*")
# DiCE reasons Sinch is known to send (reference section 5.5), lower-cased; others count as "other".
DICE_REASONS = frozenset({
    "n/a", "timeout", "callerhangup", "calleehangup", "blocked", "managerhangup", "nocreditpartner",
    "generalerror", "cancel", "usernotfound", "callbackerror", "established", "otherpeeranswered",
    "clientnetwork", "congestion", "invalidsvamlaction", "busy", "noanswer", "unknown",
})


@dataclass
class Answer:
    """What to send back (None: an empty 200), and what to log about it."""

    svaml: dict[str, Any] | None
    outcome: str
    flow: str | None = None
    version: str | None = None
    state: str | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Returned:
    """A menu's return value: flow.state.choice."""

    flow: str
    state: str
    choice: str

    @classmethod
    def parse(cls, value: str | None) -> "Returned | None":
        if not value:
            return None
        parts = value.split(".")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)


class Engine:
    def __init__(self, library: Library, clock: Clock = system_clock, env: Mapping[str, str] | None = None,
                 metrics: Any = None) -> None:
        self.library = library
        self.clock = clock
        self.env = os.environ if env is None else env
        self.metrics = metrics

    # entry

    def step(self, cb: Callback) -> Answer:
        handler = {"ice": self._ice, "ace": self._ace, "pie": self._pie, "dice": self._dice,
                   "notify": self._notify}[cb.event]
        try:
            return handler(cb)
        except Exception as err:  # a bug must still give the caller an answer
            # Not log.exception: the traceback's messages may quote call data, so it is masked first.
            log.error("step failed for callid %s\n%s", cb.callid,
                      mask_numbers("".join(traceback.format_exception(err)).rstrip()))
            return self._error_path(cb, None, None, StepError("bug", f"{type(err).__name__}: {err}"))

    def enter(self, loaded: Loaded, call: Call, state: str, event: str = "ICE", callid: str = "") -> Answer:
        """The answer that walks `call` into `state` in a reply to `event`, as a callback would.

        For operators' tools (`ivrc calls unpark`): raises StepError instead of taking the error
        path, so the tool can say what is wrong rather than hang up a caller."""
        return self._walk(loaded, call, Callback(event.lower(), callid), event.upper(), state, [])

    # events

    def _ice(self, cb: Callback) -> Answer:
        loaded = self.library.for_number(cb.called)
        if loaded is None:
            return self._error_path(cb, None, None, StepError("routing", "no flow answers this number"))
        if loaded.machine["direction"] != "inbound":
            return self._error_path(cb, loaded, None, StepError("routing", "an outbound flow cannot answer a call"))
        call = self._new_call(loaded, cb)
        return self._guarded(cb, loaded, call, lambda: self._walk(loaded, call, cb, "ICE", loaded.machine["start"], []))

    def _ace(self, cb: Callback) -> Answer:
        pin = read_pin(cb.cookies)
        if pin is not None:
            loaded = self._machine_for(pin.flow, pin.version, pin.state)
            state = loaded.machine["states"].get(pin.state) if loaded else None
            if state is not None and state["do"] == "transfer":
                # The transferred leg answered: the call is bridged and goes on without us.
                return Answer({"instructions": [], "action": state["on_answer"]}, "transfer-answered",
                              loaded.flow, loaded.version, pin.state)
        flow, variables, ours = _read_custom(cb.custom)
        loaded = self.library.current.get(flow) if flow else None
        if loaded is None or loaded.machine["direction"] != "outbound":
            if not ours:
                # Nothing says this ACE is ours to steer (a text-to-speech callout's own `custom`, say):
                # let the call go on untouched.
                return Answer({"instructions": [], "action": svaml.cont()}, "ace-ignored")
            return self._error_path(cb, loaded, None, StepError("routing", f"no outbound flow named {flow!r}"))
        call = self._new_call(loaded, cb)
        call.amd = (cb.amd.status if cb.amd and cb.amd.status else "notsure")[: layout.AMD_MAX]

        def run() -> Answer:
            declared = loaded.machine["variables"]
            for name, value in variables.items():
                spec = declared.get(name)
                if spec is None:
                    raise StepError("custom", f"the callout sets '{name}', which the flow does not declare")
                if not isinstance(value, str) or len(value.encode()) > spec["max_length"]:
                    raise StepError("custom", f"the callout's value for '{name}' is not text of at most "
                                              f"{spec['max_length']} bytes")
                call.set(name, value)
            return self._walk(loaded, call, cb, "ACE", loaded.machine["start"], [])

        return self._guarded(cb, loaded, call, run)

    def _pie(self, cb: Callback) -> Answer:
        result = cb.menu_result or MenuResult(None, None, None, None)
        pin = read_pin(cb.cookies)
        returned = Returned.parse(result.value) if result.type == "return" else None
        loaded = self._machine_for(pin.flow, pin.version, pin.state) if pin else None
        if loaded is None and returned is not None:
            loaded = self.library.current.get(returned.flow)
        if loaded is None:
            return self._error_path(cb, None, None, StepError("cookie", "no usable call state in the cookies or the menu result"))
        states = loaded.machine["states"]
        # The menu that answered: a return value names it; a fused sub-menu's id is its state name.
        waiting = pin.state if pin else None
        if returned is not None and returned.flow == loaded.flow and returned.state in states:
            member = returned.state
        elif result.menu_id and svaml.state_of_menu(result.menu_id) in states:
            member = svaml.state_of_menu(result.menu_id)
        else:
            member = waiting
        call = self._resume(loaded, cb, pin, member)
        if member is None or member not in states:
            return self._error_path(cb, loaded, call, StepError("cookie", f"unknown state {member!r}"))
        if result.type == "hangup":
            return Answer({"instructions": [], "action": svaml.hangup()}, "caller-hung-up", loaded.flow, loaded.version, member)
        if result.type == "error":
            return self._error_path(cb, loaded, call, StepError("sinch", "Sinch reported a menu error"))
        state = states[member]
        handlers = {"menu": self._menu_input, "collect": self._digits_input, "record": self._recorded}
        handler = handlers.get(state["do"])
        if handler is None:
            return self._error_path(cb, loaded, call, StepError("cookie", f"state '{member}' does not take input"))
        return self._guarded(cb, loaded, call, lambda: handler(loaded, call, cb, member, state, result, returned))

    def _dice(self, cb: Callback) -> Answer:
        reason = cb.dice_reason or "unknown"
        if self.metrics is not None:
            # A metric label must come from a bounded set; the log line keeps Sinch's own word.
            self.metrics.calls_ended.inc(reason=reason if reason in DICE_REASONS else "other")
        return Answer(None, f"ended:{reason}", *self._where(read_pin(cb.cookies)), details={"result": cb.dice_result})

    def _notify(self, cb: Callback) -> Answer:
        details: dict[str, Any] = {"type": cb.notify_type}
        if cb.notify_destination:
            details["destination"] = cb.notify_destination  # logged only: we never fetch it
        return Answer(None, f"notify:{cb.notify_type or 'unknown'}", *self._where(read_pin(cb.cookies)),
                      details=details)

    def _where(self, pin: Pin | None) -> tuple[str | None, str | None, str | None]:
        """Flow, version and state for logs and metric labels: only names this server knows, never raw cookie text."""
        if pin is None:
            return None, None, None
        loaded = self.library.version(pin.flow, pin.version) or self.library.current.get(pin.flow)
        if loaded is None or pin.state not in loaded.machine["states"]:
            return None, None, None
        return loaded.flow, loaded.version, pin.state

    # input handling

    def _menu_input(self, loaded: Loaded, call: Call, cb: Callback, name: str, state: dict, result: MenuResult,
                    returned: Returned | None) -> Answer:
        key = None
        if returned is not None and returned.state == name:
            key = _KEYS_BY_NAME.get(returned.choice, returned.choice)
        elif result.value and result.type in ("sequence", "return") or result.input_method == "voice":
            spoken = (result.value or "").strip().casefold()
            key = state.get("keywords", {}).get(spoken) or (spoken if spoken in state["options"] else None)
        if result.type == "timeout":
            return self._retry(loaded, call, cb, name, state, "no_input")
        option = state["options"].get(key) if key is not None else None
        if option is None:
            return self._retry(loaded, call, cb, name, state, "invalid")
        instructions = [self._play(loaded, call, cb, option["say"])] if "say" in option else []
        return self._walk(loaded, call, cb, "PIE", option["goto"], instructions)

    def _digits_input(self, loaded: Loaded, call: Call, cb: Callback, name: str, state: dict, result: MenuResult,
                      returned: Returned | None) -> Answer:
        if result.type == "timeout":
            return self._retry(loaded, call, cb, name, state, "no_input")
        digits = (result.value or "").strip().rstrip("#")
        valid = (result.type == "sequence" and _DIGITS.fullmatch(digits) is not None
                 and state["min_digits"] <= len(digits) <= state["max_digits"]
                 and ("pattern" not in state or re.fullmatch(state["pattern"], digits) is not None))
        if not valid:
            return self._retry(loaded, call, cb, name, state, "invalid")
        call.set(state["into"], digits)
        return self._walk(loaded, call, cb, "PIE", state["next"], [])

    def _recorded(self, loaded: Loaded, call: Call, cb: Callback, name: str, state: dict, result: MenuResult,
                  returned: Returned | None) -> Answer:
        if result.type == "invalidinput":
            # A stray key is not the finish key: keep recording and keep waiting for it.
            ctx = self._context(loaded, call, cb)
            return self._answer(loaded, call, cb, "PIE", [], ctx.fill_static(state["action"]), "record-continues")
        # The finish key, or the time limit: either way the message is complete.
        return self._walk(loaded, call, cb, "PIE", state["next"], list(state["after"]))

    def _retry(self, loaded: Loaded, call: Call, cb: Callback, name: str, state: dict, which: str) -> Answer:
        if self.metrics is not None:
            self.metrics.menu_results.inc(flow=loaded.flow, state=name, result=which)
        handler = state.get(which, {})
        instructions = [self._play(loaded, call, cb, handler["say"])] if "say" in handler else []
        if "goto" in handler:
            return self._walk(loaded, call, cb, "PIE", handler["goto"], instructions)
        if call.attempt + 1 < state["attempts"]:
            call.state, call.attempt = name, call.attempt + 1
            ctx = self._context(loaded, call, cb)
            return self._answer(loaded, call, cb, "PIE", instructions, ctx.fill_static(state["retry_action"]),
                                f"{state['do']}-retry")
        if "exhausted" in state:
            return self._walk(loaded, call, cb, "PIE", state["exhausted"], instructions)
        raise StepError("exhausted", f"attempts used up in '{name}' with no exhausted state")

    # walking

    def _walk(self, loaded: Loaded, call: Call, cb: Callback, event: str, name: str, instructions: list) -> Answer:
        states = loaded.machine["states"]
        ctx = self._context(loaded, call, cb)
        # The compiler rejects loops that never wait, so a walk visits each state at most once: the
        # number of states bounds it, and Sinch documents no limit on instructions in one answer.
        for _ in range(len(states)):
            state = states.get(name)
            if state is None:
                raise StepError("machine", f"state '{name}' is not in the machine")
            call.state, call.attempt = name, 0
            for assignment in state.get("set", ()):
                self._assign(loaded, call, ctx, assignment)
            if "say" in state:
                instructions.append(ctx.play(state["say"]))
            kind = state["do"]
            if kind == "next":
                name = state["next"]
            elif kind == "branch":
                name = next(c["goto"] for c in state["cases"] if "if" not in c or ctx.test(c["if"]))
            else:
                instructions.extend(ctx.fill_static(state.get("instructions", _NO_INSTRUCTIONS)))
                return self._answer(loaded, call, cb, event, instructions, ctx.fill_static(state["action"]), kind)
        raise StepError("loop", f"more than {len(states)} states without waiting for the caller")

    def _assign(self, loaded: Loaded, call: Call, ctx: Context, assignment: dict) -> None:
        name = assignment["name"]
        value = ctx.render("plain", assignment["value"]) if assignment.get("render") else assignment["value"]
        if name == "locale":
            if value not in loaded.machine["locales"]:
                raise StepError("variable", f"locale {value!r} is not one of the flow's locales")
            call.locale = ctx.locale = value
            return
        spec = loaded.machine["variables"].get(name)
        if spec is None:
            raise StepError("machine", f"variable '{name}' is not declared")
        if len(value.encode()) > spec["max_length"]:
            raise StepError("variable", f"'{name}' would be {len(value.encode())} bytes; it holds {spec['max_length']}")
        call.set(name, value)

    def _answer(self, loaded: Loaded, call: Call, cb: Callback, event: str, instructions: list, action: dict,
                outcome: str) -> Answer:
        allowed = svaml.ACTIONS_ALLOWED.get(action.get("name", ""), frozenset())
        if event not in allowed:
            raise StepError("platform", f"{action.get('name')} is not allowed in an answer to {event}")
        pairs = cookie_instructions(call, cb.cookies)
        pairs += _carried(loaded, cb, call)
        size = total_bytes(cb.cookies, pairs)
        if size > layout.LIMIT:
            raise StepError("cookies", f"the call's cookies would be {size} bytes (Sinch keeps {layout.LIMIT})")
        head = [svaml.set_cookie(k, v) for k, v in pairs]
        plays = any(i.get("name") == "playFiles" for i in instructions) or action["name"] in ("runMenu", "park")
        if event == "ICE" and plays:
            head.insert(0, svaml.answer())  # start the call's audio now, before the prompts
        return Answer({"instructions": head + instructions, "action": action}, outcome, loaded.flow, loaded.version,
                      call.state)

    # helpers

    def _guarded(self, cb: Callback, loaded: Loaded, call: Call, run) -> Answer:
        try:
            return run()
        except StepError as err:
            return self._error_path(cb, loaded, call, err)

    def _new_call(self, loaded: Loaded, cb: Callback) -> Call:
        machine = loaded.machine
        return Call(machine["flow"], machine["version"], machine["start"], 0, machine["locale"],
                    read_variables(machine, {}))

    def _resume(self, loaded: Loaded, cb: Callback, pin, member: str | None) -> Call:
        machine = loaded.machine
        locale = pin.locale if pin and pin.locale in machine["locales"] else machine["locale"]
        # A fused sub-menu answered: its attempts start afresh.
        attempt = pin.attempt if pin and pin.state == member else 0
        call = Call(machine["flow"], machine["version"], member or machine["start"], attempt, locale,
                    read_variables(machine, cb.cookies))
        amd = cb.cookies.get(layout.AMD_KEY)
        call.amd = amd if amd and len(amd) <= layout.AMD_MAX else None
        return call

    def _machine_for(self, flow: str, version: str, state: str) -> Loaded | None:
        """The version the call started on; if this server lacks it, the current one if it has the state."""
        loaded = self.library.version(flow, version)
        if loaded is None:
            current = self.library.current.get(flow)
            if current is not None and state in current.machine["states"]:
                log.warning("version %s of flow %s is not loaded; continuing on %s", version, flow, current.version)
                return current
        return loaded

    def _context(self, loaded: Loaded, call: Call, cb: Callback) -> Context:
        carried = loaded.machine.get("carry", ())
        info = {"callid": cb.callid, "custom": cb.custom or "", "amd": call.amd or "",
                "caller": cb.caller or (cb.cookies.get(layout.CALL_KEYS["caller"], "") if "caller" in carried else ""),
                "called": cb.called or (cb.cookies.get(layout.CALL_KEYS["called"], "") if "called" in carried else "")}
        return Context(loaded.machine, loaded.templates, info, call.variables, call.locale, self.clock(), self.env)

    def _play(self, loaded: Loaded, call: Call, cb: Callback, prompt_id: str) -> dict:
        return self._context(loaded, call, cb).play(prompt_id)

    def _error_path(self, cb: Callback, loaded: Loaded | None, call: Call | None, err: StepError) -> Answer:
        """An apology and a hang-up, in the flow's words if it has them. Always valid SVAML."""
        # A template error can quote the value it failed on, e.g. a lookup keyed by the caller's number.
        cause = mask_numbers(str(err))
        log.warning("callid %s: %s (%s)", cb.callid, cause, err.kind)
        if self.metrics is not None:
            self.metrics.errors.inc(flow=loaded.flow if loaded else "", kind=err.kind)
        event = cb.event.upper()
        instructions: list[dict] = []
        if loaded is not None:
            try:
                locale = call.locale if call else loaded.machine["locale"]
                variables = call.variables if call else read_variables(loaded.machine, {})
                ctx = Context(loaded.machine, loaded.templates, {"callid": cb.callid, "caller": "", "called": "",
                                                                 "custom": "", "amd": ""}, variables, locale,
                              self.clock(), self.env)
                instructions.append(ctx.fill(svaml.play(loaded.machine["error"]["say"])))
            except StepError:
                instructions = []
        if not instructions:
            instructions.append({"name": "say", "text": DEFAULT_ERROR_TEXT, "locale": "en-US"})
        if event == "ICE":
            instructions.insert(0, svaml.answer())
        # The state may be the unknown name a cookie carried; report only states the machine has.
        state = call.state if call and loaded and call.state in loaded.machine["states"] else None
        return Answer({"instructions": instructions, "action": svaml.hangup()}, "error",
                      loaded.flow if loaded else None, loaded.version if loaded else None,
                      state, error=f"{err.kind}: {cause}")


def _carried(loaded: Loaded, cb: Callback, call: Call) -> list[tuple[str, str]]:
    """On the first callback, keep the call data later callbacks lack but the flow's templates use."""
    pairs = []
    for field_name in loaded.machine.get("carry", ()):
        value = {"caller": cb.caller, "called": cb.called}[field_name]
        key = layout.CALL_KEYS[field_name]
        if value and key not in cb.cookies:
            pairs.append((key, _clip_utf8(value, layout.CALL_FIELD_MAX)))
    return pairs


def _clip_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of text as UTF-8: the compiler's cookie bound counts bytes, and a caller id
    (a SIP display name, say) need not be ASCII. A character cut in half, or a lone surrogate, is dropped."""
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def _read_custom(custom: str | None) -> tuple[str | None, dict[str, Any], bool]:
    """A callout's `custom`: JSON {"flow": ID, "vars": {...}} as `ivrc callout flow` writes it, or a flow id.

    Returns the flow, its variables, and whether the value is certainly meant for ivrc (the JSON
    form): a plain text may be another callout's own `custom` that happens to name nothing."""
    if not custom:
        return None, {}, False
    text = custom.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            return None, {}, False
        if isinstance(data, dict) and isinstance(data.get("flow"), str):
            variables = data.get("vars") if isinstance(data.get("vars"), dict) else {}
            return data["flow"], variables, True
        return None, {}, False
    return text, {}, False
