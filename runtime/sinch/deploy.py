"""`ivrc deploy`: what pointing a Sinch application at a server would change (the plan), and making the change."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from ivrc.compiler.compiled import Machine
from ivrc.compiler.errors import IvrcError
from ivrc.runtime.server.app import CALLBACK_PATH


class DeployProblem(IvrcError):
    """The deploy cannot go ahead as asked; the message says why."""


def callback_url(public_url: str) -> str:
    """The callback URL for a server's public URL: PUBLIC_URL/sinch/callback unless it already has a path."""
    parts = urlsplit(public_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeployProblem(f"--url {public_url!r} should be the server's public URL, like https://ivr.example.com")
    if parts.query or parts.fragment:
        # Whether Sinch signs the query string is not documented (reference section 6.1).
        raise DeployProblem("the callback URL must not have a query string or fragment: Sinch's signature "
                            "covers the path, and whether it covers a query is not documented")
    path = parts.path if parts.path not in ("", "/") else CALLBACK_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class NumberStep:
    """One number a flow claims, and what the deploy does about it."""

    number: str
    flow: str
    action: str  # assign | keep | problem
    detail: str = ""


@dataclass
class Plan:
    application_key: str
    callback_now: dict[str, str]
    callback_new: str
    numbers: list[NumberStep] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)  # assigned to the application; no flow claims them
    warnings: list[str] = field(default_factory=list)

    @property
    def sets_callback(self) -> bool:
        return self.callback_now.get("primary") != self.callback_new

    @property
    def to_assign(self) -> list[str]:
        return [step.number for step in self.numbers if step.action == "assign"]

    @property
    def problems(self) -> list[NumberStep]:
        return [step for step in self.numbers if step.action == "problem"]

    @property
    def changes(self) -> int:
        return int(self.sets_callback) + len(self.to_assign)

    def text(self) -> str:
        now = self.callback_now.get("primary")
        lines = [f"Sinch application {self.application_key}", "", "Callback URL:"]
        if self.sets_callback:
            lines += [f"  now  {now or '(none)'}", f"  new  {self.callback_new}"]
        else:
            lines.append(f"  {self.callback_new} (already set)")
        if self.callback_now.get("fallback"):
            lines.append(f"  fallback {self.callback_now['fallback']} (kept)")
        lines += ["", "Numbers the flows claim:"]
        marks = {"assign": "+ assign", "keep": "= keep  ", "problem": "! cannot"}
        for step in self.numbers:
            lines.append(f"  {marks[step.action]} {step.number} (flow {step.flow})"
                         + (f": {step.detail}" if step.detail else ""))
        if not self.numbers:
            lines.append("  (none: the flows claim no numbers)")
        for number in self.unclaimed:
            lines.append(f"  note: {number} is assigned to this application but no flow claims it; left as it is")
        lines.append("")
        lines += [f"warning: {w}" for w in self.warnings]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s): nothing will be changed until they are fixed.")
        elif self.changes:
            lines.append(f"{self.changes} change(s): " + ", ".join(
                (["set the callback URL"] if self.sets_callback else [])
                + ([f"assign {len(self.to_assign)} number(s)"] if self.to_assign else [])) + ".")
        else:
            lines.append("Nothing to change: the application already points at this server with these numbers.")
        return "\n".join(lines) + "\n"


def claimed_numbers(machines: Iterable[Machine]) -> dict[str, str]:
    """Number -> flow id, for every number an inbound flow claims (the linter has ruled out duplicates)."""
    return {number: m.flow for m in machines for number in m.numbers}


def make_plan(api: Any, public_url: str, claimed: dict[str, str]) -> Plan:
    """Reads the application's callback URLs and the account's numbers, and compares them with the flows."""
    new = callback_url(public_url)
    key = api.application_key
    plan = Plan(key, api.callback_urls(), new)
    if urlsplit(new).scheme != "https":
        plan.warnings.append(f"{new} is plain HTTP: callbacks (and the callers' numbers in them) would cross the "
                             "internet unencrypted; put TLS in front of ivrc serve")
    owned = {entry["number"]: entry for entry in api.numbers()}
    for number, flow in sorted(claimed.items()):
        entry = owned.get(number)
        if entry is None:
            plan.numbers.append(NumberStep(number, flow, "problem", "not a number of this Sinch account"))
            continue
        capability = entry.get("capability")
        holder = entry.get("applicationkey")
        if capability and str(capability).lower() != "voice":
            plan.numbers.append(NumberStep(number, flow, "problem", f"its capability is {capability}, not voice"))
        elif holder and holder.lower() == key.lower():
            plan.numbers.append(NumberStep(number, flow, "keep", "already assigned"))
        elif holder:
            plan.numbers.append(NumberStep(number, flow, "problem", f"assigned to another application ({holder}); "
                                           "un-assign it there first: ivrc never takes numbers from other applications"))
        else:
            plan.numbers.append(NumberStep(number, flow, "assign"))
    plan.unclaimed = sorted(n for n, e in owned.items()
                            if n not in claimed and str(e.get("applicationkey") or "").lower() == key.lower())
    return plan


def apply(api: Any, plan: Plan, report: Callable[[str], None] = lambda step: None) -> list[str]:
    """Makes the plan's changes, callback URL first (so assigned numbers never reach an old server).

    `report` hears of each step as soon as it is done, so a failure part-way leaves a record.
    """
    if plan.problems:
        raise DeployProblem("the plan has problems; nothing was changed")
    done: list[str] = []

    def step(text: str) -> None:
        done.append(text)
        report(text)

    if plan.sets_callback:
        api.set_callback_urls(plan.callback_new, plan.callback_now.get("fallback"))
        step(f"set the callback URL to {plan.callback_new}")
    if plan.to_assign:
        api.assign_numbers(plan.to_assign)
        step(f"assigned {', '.join(plan.to_assign)} to the application")
    return done
