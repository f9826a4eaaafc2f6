"""One callback, one step: pick the transition, walk to the next wait state, answer with SVAML.

Pure: knows nothing of HTTP. Every failure inside a step becomes the flow's error path (an
apology and hang-up), so a caller never hears dead air because of us.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import traceback
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Generator, Mapping

from ivrc.compiler import cookies as layout
from ivrc.compiler import svaml
from ivrc.compiler.compiled import (
    Assignment,
    Branch,
    Collect,
    Input,
    Menu,
    Next,
    Record,
    Repeat,
    Request,
    State,
    Transfer,
)
from ivrc.compiler.machine import DEFAULT_ERROR_TEXT, KEY_NAMES

from .callstate import Call, Pin, cookie_instructions, fit, read_pin, read_variables, total_bytes
from .events import Callback, MenuResult
from .library import Library, Loaded
from .masking import mask_numbers
from .render import Clock, Context, StepError, system_clock
from .requests import REQUEST_BUDGET, BadPath, Made, Outgoing, Reply, build
from .requests import outcome as request_outcome
from .reuse import Svaml, Walked
from .sealing import Sealer

# A step is a generator: it yields each HTTP request a request state makes and is sent the reply,
# so the engine stays free of I/O while the server sends requests asynchronously.
Walk = Generator[Outgoing, Reply, "Answer"]
Fetch = Callable[[Outgoing], Reply]
AsyncFetch = Callable[[Outgoing], Awaitable[Reply]]

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
    # What the business hears about this callback (call ended, recording ready), or None: sent
    # by the server after the answer, never part of it (runtime/server/events_out.py).
    report: dict[str, Any] | None = None
    requests: list[Made] = field(default_factory=list)  # requests made in this step, for the log line


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
                 metrics: Any = None, backend: Fetch | None = None, sealer: Sealer | None = None,
                 request_budget: float = REQUEST_BUDGET) -> None:
        self.library = library
        self.clock = clock
        self.env = os.environ if env is None else env
        self.metrics = metrics
        # How step() gets replies for request states; the server uses step_async with its HTTP client.
        self.backend = backend
        self.request_budget = request_budget  # seconds of requests per callback, as `ivrc serve --request-budget`
        self.sealer = sealer or Sealer()

    # entry

    def step(self, cb: Callback) -> Answer:
        """One callback, with request states answered by `backend` (a failure when there is none)."""
        try:
            return self._drive(self._run(cb))
        except Exception as err:  # a bug must still give the caller an answer
            return self._bug(cb, err)

    def _drive(self, walk: Walk) -> Answer:
        """Runs a walk to its answer, each request answered by `backend` within the callback's budget."""
        spent = 0.0
        try:
            outgoing = next(walk)
            while True:
                reply = self._within_budget(outgoing, spent)
                spent += reply.seconds
                outgoing = walk.send(reply)
        except StopIteration as done:
            return done.value

    def _within_budget(self, outgoing: Outgoing, spent: float) -> Reply:
        """What the server's backend does with the time one callback has (server/backend.py), for
        emulated replies that say how long they took: a request is cut short at what is left."""
        left = self.request_budget - spent
        if left <= 0:
            return Reply(error="budget")
        reply = self._fetch(dataclasses.replace(outgoing, timeout=min(outgoing.timeout, left)) if left < outgoing.timeout
                            else outgoing)
        if reply.error == "timeout" and left < outgoing.timeout:
            return Reply(error="budget", seconds=left)
        return reply

    async def step_async(self, cb: Callback, fetch: AsyncFetch) -> Answer:
        """One callback, with request states answered by `fetch` without blocking other calls."""
        walk = self._run(cb)
        try:
            outgoing = next(walk)
            while True:
                outgoing = walk.send(await fetch(outgoing))
        except StopIteration as done:
            return done.value
        except Exception as err:
            return self._bug(cb, err)

    def _fetch(self, outgoing: Outgoing) -> Reply:
        if self.backend is None:
            return Reply(error="no-backend")
        return self.backend(outgoing)

    def _bug(self, cb: Callback, err: Exception) -> Answer:
        # Not log.exception: the traceback's messages may quote call data, so it is masked first.
        log.error("step failed for callid %s\n%s", cb.callid,
                  mask_numbers("".join(traceback.format_exception(err)).rstrip()))
        return self._error_path(cb, None, None, StepError("bug", f"{type(err).__name__}: {err}"))

    def _run(self, cb: Callback) -> Walk:
        cb = self._unsealed(cb)
        if cb.event == "ice":
            return (yield from self._ice(cb))
        if cb.event == "ace":
            return (yield from self._ace(cb))
        if cb.event == "pie":
            return (yield from self._pie(cb))
        if cb.event == "dice":
            return self._dice(cb)
        return self._notify(cb)

    def _unsealed(self, cb: Callback) -> Callback:
        """The callback with only the cookies its seal vouches for: forged or stale state is no state."""
        received = cb.cookies
        if not any(layout.is_owned(key) for key in received) or self.sealer.verify(cb.callid, received):
            return cb  # every cookie is trusted: `received` stays None, meaning "the same as cookies"
        log.warning("callid %s: the call's cookies carry no valid seal; its state is not trusted", cb.callid)
        if self.metrics is not None:
            self.metrics.rejected_requests.inc(reason="unsealed-state")
        foreign = {k: v for k, v in received.items() if not layout.is_owned(k)}
        return dataclasses.replace(cb, cookies=foreign, received=received)

    def enter(self, loaded: Loaded, call: Call, state: str, event: str = "ICE", callid: str = "",
              held: Mapping[str, str] | None = None) -> Answer:
        """The answer that walks `call` into `state` in a reply to `event`, as a callback would.

        For operators' tools (`ivrc calls unpark`): raises StepError instead of taking the error
        path, so the tool can say what is wrong rather than hang up a caller. Request states on
        the way get replies from `backend`. `held`: cookies Sinch may hold that the tool cannot
        read; the answer overwrites each (as it does untrusted ones), so its seal covers them all."""
        cb = Callback(event.lower(), callid, received=dict(held) if held is not None else None)
        return self._drive(self._walk(loaded, call, cb, event.upper(), state, []))

    # events

    def _ice(self, cb: Callback) -> Walk:
        loaded = self.library.for_number(cb.called)
        if loaded is None:
            return self._error_path(cb, None, None, StepError("routing", "no flow answers this number"))
        if not loaded.machine.inbound:
            return self._error_path(cb, loaded, None, StepError("routing", "an outbound flow cannot answer a call"))
        call = self._new_call(loaded, cb)
        return (yield from self._guarded(cb, loaded, call,
                                         lambda: self._walk(loaded, call, cb, "ICE", loaded.machine.start, [])))

    def _ace(self, cb: Callback) -> Walk:
        pin = read_pin(cb.cookies)
        if pin is not None:
            loaded = self._machine_for(pin.flow, pin.version, pin.state)
            state = loaded.machine.states.get(pin.state) if loaded else None
            if isinstance(state, Transfer) and loaded is not None:
                # The transferred leg answered: the call is bridged and goes on without us.
                return Answer({"instructions": [], "action": state.on_answer}, "transfer-answered",
                              loaded.flow, loaded.version, pin.state)
        flow, variables, ours = _read_custom(cb.custom)
        loaded = self.library.current.get(flow) if flow else None
        if loaded is None or loaded.machine.inbound:
            if not ours:
                # Nothing says this ACE is ours to steer (a text-to-speech callout's own `custom`, say):
                # let the call go on untouched.
                return Answer({"instructions": [], "action": svaml.cont()}, "ace-ignored")
            return self._error_path(cb, loaded, None, StepError("routing", f"no outbound flow named {flow!r}"))
        call = self._new_call(loaded, cb)
        call.amd = (cb.amd.status if cb.amd and cb.amd.status else "notsure")[: layout.AMD_MAX]

        def run() -> Walk:
            declared = loaded.machine.variables
            for name, value in variables.items():
                spec = declared.get(name)
                if spec is None:
                    raise StepError("custom", f"the callout sets '{name}', which the flow does not declare")
                if not isinstance(value, str) or not _fits(value, spec.max_length):
                    raise StepError("custom", f"the callout's value for '{name}' is not text of at most "
                                              f"{spec.max_length} bytes")
                call.set(name, value)
            return (yield from self._walk(loaded, call, cb, "ACE", loaded.machine.start, []))

        return (yield from self._guarded(cb, loaded, call, run))

    def _pie(self, cb: Callback) -> Walk:
        result = cb.menu_result or MenuResult(None, None, None, None)
        pin = read_pin(cb.cookies)
        returned = Returned.parse(result.value) if result.type == "return" else None
        menu_flow, menu_state = svaml.state_of_menu(result.menu_id) if result.menu_id else (None, None)
        loaded = self._machine_for(pin.flow, pin.version, pin.state) if pin else None
        # Without the call's cookies, a return value or a sub-menu's id still names flow and state.
        if loaded is None and returned is not None:
            loaded = self.library.current.get(returned.flow)
        if loaded is None and menu_flow is not None:
            loaded = self.library.current.get(menu_flow)
        if loaded is None and result.type == "hangup":
            # The caller has gone: nothing to route, and no one to apologise to.
            return Answer({"instructions": [], "action": svaml.hangup()}, "caller-hung-up")
        if loaded is None:
            return self._error_path(cb, None, None, StepError("cookie", "no usable call state in the cookies or the menu result"))
        states = loaded.machine.states
        # The menu that answered: a return value names it; a fused sub-menu's id is its state name.
        waiting = pin.state if pin else None
        member: str | None
        if returned is not None and returned.flow == loaded.flow and returned.state in states:
            member = returned.state
        elif menu_state in states and menu_flow in (None, loaded.flow):
            member = menu_state
        else:
            member = waiting
        call = self._resume(loaded, cb, pin, member)
        if member is None or member not in states:
            return (yield from self._recover(cb, loaded, call, StepError("cookie", f"unknown state {member!r}")))
        if member in loaded.machine.after_request and not _pinned_to(states, pin, member):
            # Only the call's sealed state may put it past a request (a PIN check): a menu result
            # alone could be forged by anyone holding the Sinch secret.
            return (yield from self._recover(cb, loaded, call, StepError(
                "cookie", f"state '{member}' comes after a request and the callback carries no sealed state for it")))
        if result.type == "hangup":
            return Answer({"instructions": [], "action": svaml.hangup()}, "caller-hung-up", loaded.flow, loaded.version, member)
        if result.type == "error":
            return (yield from self._recover(cb, loaded, call, StepError("sinch", "Sinch reported a menu error")))
        state = states[member]
        handler = self._input_handlers.get(type(state))
        if handler is None:
            return (yield from self._recover(cb, loaded, call, StepError("cookie", f"state '{member}' does not take input")))
        return (yield from self._guarded(cb, loaded, call,
                                         lambda: handler(self, loaded, call, cb, state, result, returned)))

    def _dice(self, cb: Callback) -> Answer:
        reason = cb.dice_reason or "unknown"
        if self.metrics is not None:
            # A metric label must come from a bounded set; the log line keeps Sinch's own word.
            self.metrics.calls_ended.inc(reason=reason if reason in DICE_REASONS else "other")
        flow, version, state = self._where(read_pin(cb.cookies))
        duration = cb.raw.get("duration")
        report = {"type": "call.ended", "callid": cb.callid, "flow": flow, "version": version, "state": state,
                  "result": cb.dice_result, "reason": reason,
                  "duration": duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
                  "variables": self._reportable(flow, version, cb)}
        return Answer(None, f"ended:{reason}", flow, version, state, details={"result": cb.dice_result},
                      report=report if flow is not None else None)

    def _notify(self, cb: Callback) -> Answer:
        details: dict[str, Any] = {"type": cb.notify_type}
        if cb.notify_destination:
            details["destination"] = cb.notify_destination  # logged only: we never fetch it
        flow, version, state = self._where(read_pin(cb.cookies))
        report = None
        if flow is not None and cb.notify_type in ("recording_finished", "transcription_finished",
                                                   "recording_available", "transcription_available"):
            kind = "transcript.ready" if cb.notify_type.startswith("transcription") else "recording.ready"
            report = {"type": kind, "callid": cb.callid, "flow": flow, "version": version, "state": state,
                      "notification": cb.notify_type, "destination": cb.notify_destination}
        return Answer(None, f"notify:{cb.notify_type or 'unknown'}", flow, version, state, details=details,
                      report=report)

    def _reportable(self, flow: str | None, version: str | None, cb: Callback) -> dict[str, str]:
        """The variables the flow marks `report: true`, as the call's cookies hold them at its end."""
        loaded = self.library.version(flow, version) if flow and version else None
        if loaded is None:
            return {}
        values = read_variables(loaded.machine, cb.cookies)
        return {name: values[name] for name, spec in loaded.machine.variables.items() if spec.report}

    def _where(self, pin: Pin | None) -> tuple[str | None, str | None, str | None]:
        """Flow, version and state for logs and metric labels: only names this server knows, never raw cookie text."""
        if pin is None:
            return None, None, None
        loaded = self.library.version(pin.flow, pin.version) or self.library.current.get(pin.flow)
        if loaded is None or pin.state not in loaded.machine.states:
            return None, None, None
        return loaded.flow, loaded.version, pin.state

    # input handling

    def _menu_input(self, loaded: Loaded, call: Call, cb: Callback, state: Menu, result: MenuResult,
                    returned: Returned | None) -> Walk:
        key = None
        if returned is not None and returned.state == state.name:
            key = _KEYS_BY_NAME.get(returned.choice, returned.choice)
        elif result.value and result.type in ("sequence", "return") or result.input_method == "voice":
            # A menu with keys like 10 is a digit collection: its digits come as a sequence, maybe ending in #.
            spoken = (result.value or "").strip().casefold()
            spoken = spoken.rstrip("#") if result.type == "sequence" else spoken
            key = state.keywords.get(spoken) or (spoken if spoken in state.options else None)
        if result.type == "timeout":
            return (yield from self._retry(loaded, call, cb, state, "no_input"))
        option = state.options.get(key) if key is not None else None
        if option is None:
            return (yield from self._retry(loaded, call, cb, state, "invalid"))
        instructions = [self._play(loaded, call, cb, option.say)] if option.say is not None else []
        return (yield from self._walk(loaded, call, cb, "PIE", option.goto, instructions))

    def _digits_input(self, loaded: Loaded, call: Call, cb: Callback, state: Collect, result: MenuResult,
                      returned: Returned | None) -> Walk:
        if result.type == "timeout":
            return (yield from self._retry(loaded, call, cb, state, "no_input"))
        digits = (result.value or "").strip().rstrip("#")
        valid = (result.type == "sequence" and _DIGITS.fullmatch(digits) is not None
                 and state.min_digits <= len(digits) <= state.max_digits
                 and (state.pattern is None or state.pattern.fullmatch(digits)))
        if not valid:
            return (yield from self._retry(loaded, call, cb, state, "invalid"))
        call.set(state.into, digits)
        return (yield from self._walk(loaded, call, cb, "PIE", state.next, []))

    def _recorded(self, loaded: Loaded, call: Call, cb: Callback, state: Record, result: MenuResult,
                  returned: Returned | None) -> Walk:
        if result.type == "invalidinput":
            # A stray key is not the finish key: keep recording and keep waiting for it.
            ctx = self._context(loaded, call, cb)
            return self._answer(loaded, call, cb, "PIE", [], ctx.fill_static(state.action), "record-continues")
        # The finish key, or the time limit: either way the message is complete.
        return (yield from self._walk(loaded, call, cb, "PIE", state.next, list(state.after)))

    def _conference_keys(self, loaded: Loaded, call: Call, cb: Callback, state: Transfer, result: MenuResult,
                         returned: Returned | None) -> Walk:
        """Keys a participant pressed in a conference with keypad detection (Sinch sends them in a PIE)."""
        if not state.listens:
            raise StepError("cookie", f"state '{state.name}' does not take input")
        pressed = (result.value or "").strip() if result.type == "sequence" else ""
        target = state.key_target(pressed) if pressed else None
        if target is None:
            # Keys that lead nowhere (or none before the timeout): the participant stays in the conference.
            return self._answer(loaded, call, cb, "PIE", [], svaml.cont(), "keypad-ignored")
        return (yield from self._walk(loaded, call, cb, "PIE", target, []))

    # The states a PIE carries input for, and who reads it: one line per kind that takes input.
    _input_handlers: dict[type[State], Any] = {Menu: _menu_input, Collect: _digits_input, Record: _recorded,
                                               Transfer: _conference_keys}

    def _retry(self, loaded: Loaded, call: Call, cb: Callback, state: Input, which: str) -> Walk:
        if self.metrics is not None:
            self.metrics.menu_results.inc(flow=loaded.flow, state=state.name, result=which)
        handler = state.no_input if which == "no_input" else state.invalid
        instructions = [self._play(loaded, call, cb, handler.say)] if handler.say is not None else []
        if handler.goto is not None:
            return (yield from self._walk(loaded, call, cb, "PIE", handler.goto, instructions))
        # When Sinch replayed the menu itself, its PIE comes only after the last attempt.
        if call.attempt + 1 < state.attempts and not (isinstance(state, Menu) and state.repeats_in_sinch):
            call.state, call.attempt = state.name, call.attempt + 1
            ctx = self._context(loaded, call, cb)
            return self._answer(loaded, call, cb, "PIE", instructions, ctx.fill_static(state.retry_action),
                                f"{state.kind}-retry")
        if state.exhausted is not None:
            return (yield from self._walk(loaded, call, cb, "PIE", state.exhausted, instructions))
        raise StepError("exhausted", f"attempts used up in '{state.name}' with no exhausted state")

    # walking

    def _walk(self, loaded: Loaded, call: Call, cb: Callback, event: str, name: str, instructions: list) -> Walk:
        start = (name, call.locale)
        walked = loaded.templates.walks.get(start)
        if walked is not None:  # this walk visits only fixed states: the same for every call (reuse.py)
            for name in walked.path:  # the call enters each state as on the walk (flow-test coverage sees it)
                call.state, call.attempt = name, 0
            instructions.extend(walked.instructions)
            return self._answer(loaded, call, cb, event, instructions, walked.action, walked.kind)
        states = loaded.machine.states
        ctx = self._context(loaded, call, cb)
        first = len(instructions)  # what the walk adds comes after what the caller's input added
        fixed = True  # whether every state so far gives every call the same instructions
        path = []
        # The compiler rejects loops that never wait, except through a repeat's counted `again`: so a
        # walk visits each state at most once per run of each repeat, and Sinch documents no limit
        # on instructions in one answer.
        for _ in range(loaded.machine.walk_limit):
            state = states.get(name)
            if state is None:
                raise StepError("machine", f"state '{name}' is not in the machine")
            call.state, call.attempt = name, 0
            path.append(name)
            for assignment in state.sets:
                self._assign(loaded, call, ctx, assignment)
            if state.say is not None:
                instructions.append(ctx.play(state.say))
            fixed = fixed and not state.sets and (state.say is None or ctx.plays_fixed(state.say))
            if state.send_digits is not None:
                instructions.append(svaml.send_dtmf(state.send_digits))
            if isinstance(state, Next):
                name = state.next
            elif isinstance(state, Branch):
                name = next(c.goto for c in state.cases if c.condition is None or ctx.test(c.condition))
            elif isinstance(state, Repeat):
                name = _count(call, state)
            elif isinstance(state, Request):
                try:
                    outgoing = build(state, ctx, self.env)
                except BadPath:  # never sent: the call's data cannot name a resource here
                    reply = Reply(error="bad-path")
                else:
                    reply = yield outgoing
                target, saved, made = request_outcome(state, reply, loaded.machine)
                call.requests.append(made)
                if self.metrics is not None:
                    self.metrics.requests.inc(flow=loaded.flow, state=state.name, outcome=made.outcome)
                    self.metrics.request_seconds.observe(made.duration_ms / 1000)
                if target is None:
                    raise StepError("request", f"request '{state.name}' failed ({made.error or made.status}) "
                                               "and it has no on_failure")
                for variable, value in saved.items():
                    call.set(variable, value)
                name = target
            else:
                try:
                    action = ctx.fill_static(state.action)
                except StepError as err:
                    # A number held in a variable that is not a number: the transfer's on_invalid, if any.
                    if err.kind != "destination" or not isinstance(state, Transfer) or state.on_invalid is None:
                        raise
                    log.info("callid %s: %s; going on in '%s'", cb.callid, mask_numbers(str(err)), state.on_invalid)
                    fixed = False  # another call's destination may be valid
                    name = state.on_invalid
                    continue
                skeleton = state.instructions or _NO_INSTRUCTIONS
                instructions.extend(ctx.fill_static(skeleton))
                if fixed and ctx.is_fixed(state.action) and ctx.is_fixed(skeleton):
                    loaded.templates.walks[start] = Walked(tuple(path), state.kind, tuple(instructions[first:]), action)
                return self._answer(loaded, call, cb, event, instructions, action, state.kind)
            # Of the states walked through, only a plain `next` is the same for every call: every other
            # kind (a branch, a repeat's count, a request, and any kind added later) decides per call.
            fixed = fixed and isinstance(state, Next)
        raise StepError("loop", f"more than {loaded.machine.walk_limit} states without waiting for the caller")

    def _assign(self, loaded: Loaded, call: Call, ctx: Context, assignment: Assignment) -> None:
        name = assignment.name
        value = ctx.render("plain", assignment.value) if assignment.render else assignment.value
        if name == "locale":
            if value not in loaded.machine.locales:
                raise StepError("variable", f"locale {value!r} is not one of the flow's locales")
            call.locale = ctx.locale = value
            return
        spec = loaded.machine.variables.get(name)
        if spec is None:
            raise StepError("machine", f"variable '{name}' is not declared")
        fitted = fit(value, spec.max_length)
        if fitted != value:
            log.info("variable '%s' cut to %d bytes (it holds %d)", name, len(fitted.encode()), spec.max_length)
        call.set(name, fitted)

    def _answer(self, loaded: Loaded, call: Call, cb: Callback, event: str, instructions: list, action: dict,
                outcome: str) -> Answer:
        allowed = svaml.ACTIONS_ALLOWED.get(action.get("name", ""), frozenset())
        if event not in allowed:
            raise StepError("platform", f"{action.get('name')} is not allowed in an answer to {event}")
        pairs = cookie_instructions(call, cb.cookies)
        pairs += _carried(loaded, cb, call)
        if cb.received is None:
            held = cb.cookies  # every cookie Sinch holds is trusted: none to overwrite
        else:
            held = cb.received
            written = {k for k, _ in pairs}
            # Cookies Sinch holds that were not trusted are overwritten, so the seal covers only our state.
            pairs += [(k, _reset_value(loaded, k)) for k in sorted(held) if layout.is_owned(k) and k not in written
                      and k != layout.MAC_KEY and k not in cb.cookies]
        after = dict(held)
        after.update(pairs)
        seal = self.sealer.seal(cb.callid, after)
        pairs.append((layout.MAC_KEY, seal))
        after[layout.MAC_KEY] = seal  # now every cookie Sinch will hold after this answer
        size = total_bytes(after, ())
        if size > layout.LIMIT:
            raise StepError("cookies", f"the call's cookies would be {size} bytes (Sinch keeps {layout.LIMIT})")
        head = [svaml.set_cookie(k, v) for k, v in pairs]
        # Prompts and key tones need the call's audio: the caller's leg is answered before them.
        if event == "ICE" and (action["name"] in ("runMenu", "park")
                               or any(i.get("name") in ("playFiles", "sendDtmf") for i in instructions)):
            head.insert(0, svaml.answer())  # start the call's audio now, before the prompts
        answer = Svaml(instructions=head + instructions, action=action)
        answer.fixed = loaded.templates.fixed
        return Answer(answer, outcome, loaded.flow, loaded.version, call.state, requests=call.requests)

    # helpers

    def _guarded(self, cb: Callback, loaded: Loaded, call: Call, run: Callable[[], Walk]) -> Walk:
        try:
            return (yield from run())
        except StepError as err:
            return (yield from self._recover(cb, loaded, call, err))

    def _recover(self, cb: Callback, loaded: Loaded, call: Call, err: StepError) -> Walk:
        """The error path of a call in a flow: on to the flow's `on_error` state when it names one,
        else an apology and a hang-up. If that state fails too, the apology: never a second round."""
        goto = loaded.machine.error_goto
        if goto is None:
            return self._error_path(cb, loaded, call, err)
        cause = mask_numbers(str(err))
        try:
            before = loaded.machine.error_before
            instructions = [self._play(loaded, call, cb, before)] if before is not None else []
            answer = yield from self._walk(loaded, call, cb, cb.event.upper(), goto, instructions)
        except StepError as again:
            return self._error_path(cb, loaded, call, StepError(again.kind, f"{again} (on the error path, after {cause})"))
        log.warning("callid %s: %s (%s); the flow goes on in '%s'", cb.callid, cause, err.kind, goto)
        if self.metrics is not None:
            self.metrics.errors.inc(flow=loaded.flow, kind=err.kind)
        answer.outcome, answer.error = "on-error", f"{err.kind}: {cause}"
        return answer

    def _new_call(self, loaded: Loaded, cb: Callback) -> Call:
        machine = loaded.machine
        return Call(machine.flow, machine.version, machine.start, 0, machine.locale, read_variables(machine, {}))

    def _resume(self, loaded: Loaded, cb: Callback, pin, member: str | None) -> Call:
        machine = loaded.machine
        locale = pin.locale if pin and pin.locale in machine.locales else machine.locale
        # A fused sub-menu answered: its attempts start afresh.
        attempt = pin.attempt if pin and pin.state == member else 0
        call = Call(machine.flow, machine.version, member or machine.start, attempt, locale,
                    read_variables(machine, cb.cookies))
        amd = cb.cookies.get(layout.AMD_KEY)
        call.amd = amd if amd and len(amd) <= layout.AMD_MAX else None
        return call

    def _machine_for(self, flow: str, version: str, state: str) -> Loaded | None:
        """The version the call started on; if this server lacks it, the current one if it has the state."""
        loaded = self.library.version(flow, version)
        if loaded is None:
            current = self.library.current.get(flow)
            if current is not None and state in current.machine.states:
                log.warning("version %s of flow %s is not loaded; continuing on %s", version, flow, current.version)
                return current
        return loaded

    def _context(self, loaded: Loaded, call: Call, cb: Callback) -> Context:
        carried = loaded.machine.carry
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
                locale = call.locale if call else loaded.machine.locale
                variables = call.variables if call else read_variables(loaded.machine, {})
                ctx = Context(loaded.machine, loaded.templates, {"callid": cb.callid, "caller": "", "called": "",
                                                                 "custom": "", "amd": ""}, variables, locale,
                              self.clock(), self.env)
                instructions.append(ctx.fill(svaml.play(loaded.machine.error_say)))
            except StepError:
                instructions = []
        if not instructions:
            instructions.append({"name": "say", "text": DEFAULT_ERROR_TEXT, "locale": "en-US"})
        if event == "ICE":
            instructions.insert(0, svaml.answer())
        # The state may be the unknown name a cookie carried; report only states the machine has.
        state = call.state if call and loaded and call.state in loaded.machine.states else None
        return Answer({"instructions": instructions, "action": svaml.hangup()}, "error",
                      loaded.flow if loaded else None, loaded.version if loaded else None,
                      state, error=f"{err.kind}: {cause}", requests=call.requests if call else [])


def _fits(value: str, max_length: int) -> bool:
    """Whether `value` is text of at most max_length bytes of UTF-8 (a lone surrogate, which JSON lets through, is not)."""
    try:
        return len(value.encode()) <= max_length
    except UnicodeEncodeError:
        return False


def _count(call: Call, state: Repeat) -> str:
    """One more run of a repeat state: where it goes on. The count starts afresh after `then`."""
    key = layout.counter(state.name)
    raw = call.variables.get(key, "")
    runs = (int(raw) if raw.isdigit() and len(raw) == 1 else 0) + 1  # an untrusted count is no count
    if runs < state.times:
        call.set(key, str(runs))
        return state.goto
    call.set(key, "")
    return state.then


def _pinned_to(states: Mapping[str, State], pin: Pin | None, member: str) -> bool:
    """Whether the sealed state names `member`, or the menu whose runMenu holds it as a fused sub-menu."""
    if pin is None or pin.state not in states:
        return False
    waiting = states[pin.state]
    return pin.state == member or (isinstance(waiting, Menu) and member in waiting.fused)


def _reset_value(loaded: Loaded, key: str) -> str:
    """What an untrusted ivrc cookie is overwritten with: a variable's default, else empty."""
    if key.startswith(layout.VAR_PREFIX):
        spec = loaded.machine.variables.get(key[len(layout.VAR_PREFIX):])
        return spec.default if spec is not None else ""
    return ""


def _carried(loaded: Loaded, cb: Callback, call: Call) -> list[tuple[str, str]]:
    """On the first callback, keep the call data later callbacks lack but the flow's templates use."""
    pairs = []
    for field_name in loaded.machine.carry:
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
            variables = data.get("vars")
            if not isinstance(variables, dict):
                variables = {}
            return data["flow"], variables, True
        return None, {}, False
    return text, {}, False


