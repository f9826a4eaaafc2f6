"""Request states: URLs whose host is written out, https, a failure path, timeouts that fit Sinch's deadline."""
from __future__ import annotations

import re
from typing import Iterator

from .. import ir, request_url
from ..diagnostics import Diagnostic, Related, did_you_mean
from ..graph import SAME, edges
from ..loader import Document

# Every request made in one callback shares this budget (the server's default, `--request-budget`),
# which keeps the whole answer inside Sinch's 5-second deadline for ICE.
CALLBACK_BUDGET = 3.0
# Header names whose values are credentials: written in the flow file they would leak.
_SECRET_HEADERS = ("authorization", "api-key", "apikey", "token", "secret", "password")


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    requests = [s for s in flow.states if isinstance(s.action, ir.Request)]
    for state in requests:
        request: ir.Request = state.action  # type: ignore[assignment]
        yield from _url(request, doc)
        yield from _saves(flow, request, doc)
        yield from _headers(request, doc)
        if request.timeout > CALLBACK_BUDGET:
            yield Diagnostic("IVR143", f"a {request.timeout:g} s timeout cannot fit in the {CALLBACK_BUDGET:g} s every "
                                       "callback has for its requests", doc.span(request.path + ("timeout",)),
                             help=f"use at most {CALLBACK_BUDGET:g} s; Sinch hangs up on an answer that comes later "
                                  "than 5 s")
        if request.on_failure is None and flow.on_error_goto is None:  # else the author chose where failures go
            yield Diagnostic("IVR142", f"request '{state.name}' has no on_failure: when the backend fails, the call "
                                       "takes the flow's error path (an apology and a hang-up)",
                             doc.span(state.path + ("request",), key=True),
                             help="add `on_failure: STATE`, e.g. a state that says the service is busy and offers "
                                  "an agent")
    yield from _budget(flow, requests, doc)


_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _url(request: ir.Request, doc: Document) -> Iterator[Diagnostic]:
    span = doc.span(request.url.path)
    try:
        url = request_url.parse(request.url.source)
    except request_url.UrlProblem as problem:
        yield Diagnostic("IVR140", f"request URL {request.url.source!r}: {problem}", span,
                         help="the server contacts only the hosts written in its flows, so a template may "
                              "fill in the path and query but never the host")
        return
    source = request.url.source
    for broken in _BROKEN_ESCAPE.finditer(source):
        if source.rfind("{{", 0, broken.start()) > source.rfind("}}", 0, broken.start()):
            continue  # inside an expression: `{{ a % 2 }}` is arithmetic, and the value is encoded
        yield Diagnostic("IVR149", f"'{source[broken.start():broken.start() + 3]}' in the request URL does not "
                                   "begin a %XX escape", doc.locate(request.url.path, 1, column=broken.start() + 1),
                         help="write %25 for a percent sign; a value filled in beside it could complete the "
                              "escape and change the path")
        break
    if url.scheme == "http" and not url.loopback:
        yield Diagnostic("IVR141", f"{url.origin} is plain http: the caller's data would cross the network "
                                   "unencrypted", span,
                         help=f"use https://{url.host}; http is allowed only for loopback hosts (localhost, 127.0.0.1)")


def _saves(flow: ir.Flow, request: ir.Request, doc: Document) -> Iterator[Diagnostic]:
    declared = flow.variable_map
    for save in request.save:
        if save.variable not in declared:
            yield Diagnostic("IVR145", f"'{save.variable}' is not a declared variable, so the answer's "
                                       f"{save.field!r} has nowhere to go", doc.span(save.path, key=True),
                             help=did_you_mean(save.variable, declared, "variables")
                             or f"declare it: variables: {{{save.variable}: {{max_length: 32}}}}")
        if any(part == "" for part in save.field.split(".")):
            yield Diagnostic("IVR145", f"{save.field!r} is not a field path like account.holder.name or items.0.id",
                             doc.span(save.path))


# Headers the server writes for every request: the URL's host, and the body's framing.
SET_BY_SERVER = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _headers(request: ir.Request, doc: Document) -> Iterator[Diagnostic]:
    for header in request.headers:
        if header.name.lower() in SET_BY_SERVER:
            yield Diagnostic("IVR148", f"header {header.name!r} is set by the server, not by the flow",
                             doc.span(header.path, key=True),
                             help="remove it: the server sends Host for the URL's host and frames the body itself")
            continue
        if header.value is None:
            continue
        looks_secret = any(marker in header.name.lower() for marker in _SECRET_HEADERS)
        if looks_secret and not header.value.is_template:
            yield Diagnostic("IVR146", f"header {header.name!r} holds a credential written in the flow file",
                             doc.span(header.path),
                             help=f"read it from the server's environment: {header.name}: "
                                  "{env: BACKEND_TOKEN, prefix: \"Bearer \"}")


def _budget(flow: ir.Flow, requests: list[ir.State], doc: Document) -> Iterator[Diagnostic]:
    """Requests one after another in one callback share its budget: warn where they can outlast it."""
    longest: dict[str, float] = {}

    def worst(name: str, seen: frozenset[str]) -> float:
        if name in longest:
            return longest[name]
        state = flow.state_map.get(name)
        if state is None or name in seen:  # unknown states and loops are reported elsewhere
            return 0.0
        own = state.action.timeout if isinstance(state.action, ir.Request) else 0.0
        after = max((worst(e.target, seen | {name}) for e in edges(state) if e.event == SAME and e.target),
                    default=0.0)
        longest[name] = own + after
        return longest[name]

    for state in requests:
        total = worst(state.name, frozenset())
        request: ir.Request = state.action  # type: ignore[assignment]
        if total > CALLBACK_BUDGET and total > request.timeout:
            yield Diagnostic("IVR144", f"requests made one after another from '{state.name}' can take {total:g} s, "
                                       f"more than the {CALLBACK_BUDGET:g} s budget of one callback",
                             doc.span(state.path + ("request",), key=True),
                             help="later requests would be cut short and take their failure path; shorten the "
                                  "timeouts, or wait for the caller (a menu) between the requests",
                             related=(Related(doc.span(request.path + ("timeout",)), "this request's timeout"),))
