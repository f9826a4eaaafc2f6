"""The SVAML that takes a parked call off hold into a named state of its flow (`ivrc calls unpark`)."""
from __future__ import annotations

import difflib
import os
from typing import Any, Callable, Mapping

from ivrc.compiler import cookies as layout
from ivrc.compiler.compiled import Machine
from ivrc.compiler.errors import IvrcError
from ivrc.runtime.engine.callstate import Call, read_variables
from ivrc.runtime.engine.library import Library, Loaded
from ivrc.runtime.engine.render import Clock, StepError, system_clock
from ivrc.runtime.engine.sealing import Sealer
from ivrc.runtime.engine.step import Engine

# The actions Sinch's current SDK models accept in `PATCH /calling/v1/calls/id/{callId}`: Node's
# `ManagedCallSvamlAction` (`ManagedCallSvamlRequestBody`) and Java's `SvamlActionPatch`
# (`CallUpdateRequest`). Any instruction is accepted with them.
PATCH_ACTIONS = ("hangup", "continue", "park")


class UnparkProblem(IvrcError):
    """The call cannot be resumed in that state; the message says why."""


def pick_flow(machines: list[Machine], *, flow_id: str | None = None,
              called: Callable[[], str | None] | None = None) -> Machine:
    """The parked call's flow: by id, the only one, or (as for an incoming call) the one claiming its number.

    `called` is asked only when needed: it reads the number the call dialled from Sinch.
    """
    if flow_id is not None:
        for machine in machines:
            if machine.flow == flow_id:
                return machine
        raise UnparkProblem(f"no flow '{flow_id}' (found: {', '.join(m.flow for m in machines)})")
    if len(machines) == 1:
        return machines[0]
    if called is None:
        raise UnparkProblem("there are several flows; choose one with --flow-id")
    number = (called() or "").strip()
    number = "+" + number if number and not number.startswith("+") else number  # Sinch may drop the +
    for machine in machines:
        if number in machine.numbers:
            return machine
    raise UnparkProblem(f"no flow claims {number or 'the number the call dialled'}; choose one with --flow-id")


def unpark_svaml(machine: Machine, state: str, *, variables: Mapping[str, str] | None = None,
                 locale: str | None = None, call_id: str = "unpark", clock: Clock = system_clock,
                 env: Mapping[str, str] | None = None, sealer: Sealer | None = None,
                 legacy_2020_actions: bool = False) -> dict[str, Any]:
    """What the runtime would answer on entering `state`, as the answer to the call's postponed ICE.

    Sinch's 2020 calling-API docs: unparking means sending the SVAML you would have answered
    the ICE with, had it not been postponed. So the state is walked exactly as the engine
    walks it (pass-through states included) and checked against the ICE allowed-in table.
    The answer sets the state cookie, so the call's later PIEs reach the same flow version.

    The call's cookies cannot be read over the REST API: templates see the flow's defaults,
    overridden by `variables`, in `locale` (default: the flow's locale).

    Sinch's current models accept only the actions in PATCH_ACTIONS there, so a state that
    answers with another action (a menu, a transfer) is refused, unless `legacy_2020_actions`
    asks for the 2020 behaviour.
    """
    states = machine.states
    if state not in states:
        near = difflib.get_close_matches(state, list(states), n=1)
        raise UnparkProblem(f"flow '{machine.flow}' has no state '{state}'"
                            + (f"; did you mean '{near[0]}'?" if near else ""))
    locale = locale or machine.locale
    if locale not in machine.locales:
        raise UnparkProblem(f"locale {locale!r} is not one of the flow's locales ({', '.join(machine.locales)})")
    library = Library()
    loaded = library.add(machine)
    # Sealed with the server's key, so the PIEs that follow are trusted by the server.
    engine = Engine(library, clock=clock, env=os.environ if env is None else env, sealer=sealer,
                    backend=_no_requests(state))
    call = Call(machine.flow, machine.version, state, 0, locale, read_variables(machine, {}))
    for name, value in (variables or {}).items():
        spec = machine.variables.get(name)
        if spec is None:
            raise UnparkProblem(f"flow '{machine.flow}' declares no variable '{name}'")
        if len(value.encode()) > spec.max_length:
            raise UnparkProblem(f"the value for '{name}' is longer than its max_length ({spec.max_length} bytes)")
        call.set(name, value)
    try:
        answer = engine.enter(loaded, call, state, "ICE", call_id, held=_cookies_it_may_hold(machine))
    except StepError as err:
        raise UnparkProblem(f"state '{state}' cannot be entered now: {err}") from None
    svaml = answer.svaml or {}
    action = svaml["action"]["name"]
    if action not in PATCH_ACTIONS and not legacy_2020_actions:
        raise UnparkProblem(
            f"state '{state}' answers with {action}, and Sinch's current API takes only "
            f"{', '.join(PATCH_ACTIONS)} when a call is changed (PATCH /calling/v1/calls/id/CALLID); "
            f"resume the call in a state that plays its prompts and hangs up or parks again "
            f"({_patchable(engine, loaded, call, machine)}), or send the 2020-style answer with "
            f"--legacy-2020-actions if your account still accepts it")
    # park already answered the call (it played prompts); answering it again is not needed.
    instructions = [i for i in svaml.get("instructions", []) if i.get("name") != "answer"]
    return {"instructions": instructions, "action": svaml["action"]}


def _no_requests(target: str) -> Callable[[Any], Any]:
    """Requests on the way are the server's to make (with its secrets and budget), not this tool's:
    a walk that reaches one is refused, rather than sent down its failure path unseen."""
    def refuse(outgoing: Any) -> Any:
        raise UnparkProblem(f"state '{target}' leads through the request state '{outgoing.state}', and unpark "
                            "makes no requests (only the server does, with its secrets): resume the call in a "
                            "state after the request, or in one that parks it again so the server takes it on")
    return refuse


def _cookies_it_may_hold(machine: Machine) -> dict[str, str]:
    """Every ivrc cookie a call of this flow may have left with Sinch before the park.

    They cannot be read over the REST API, and the seal covers every ivrc cookie Sinch echoes: the
    answer sets each of them (to the flow's defaults and the --var values), so the next callback
    finds a seal that matches what Sinch holds."""
    keys = [layout.STATE_KEY, layout.AMD_KEY, *layout.CALL_KEYS.values()]
    keys += [layout.var_key(name) for name in machine.variables]
    keys += [layout.var_key(layout.counter(name)) for name, state in machine.states.items() if state.kind == "repeat"]
    return {key: "" for key in keys}


def _patchable(engine: Engine, loaded: Loaded, call: Call, machine: Machine) -> str:
    """The states a call can be resumed in under the current API, for the refusal's help."""
    names = []
    for name in sorted(machine.states):
        try:
            answer = engine.enter(loaded, Call(call.flow, call.version, name, 0, call.locale, dict(call.variables)),
                                  name, "ICE", "unpark")
        except (StepError, UnparkProblem):  # a state it cannot enter, or one through a request
            continue
        if (answer.svaml or {}).get("action", {}).get("name") in PATCH_ACTIONS:
            names.append(name)
    return "states that do: " + ", ".join(names) if names else "this flow has none"
