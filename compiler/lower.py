"""Lowers a schema-valid flow document into the IR, filling in the language's defaults.

Each object of schemas/flow.schema.json is read by one function that receives it as its first
parameter that is not a name or a path (tests/compiler/test_schema_sync.py relies on this).
"""
from __future__ import annotations

from typing import Any

from . import ir
from .hours import DAYS
from .loader import Document

DEFAULT_LOCALE = "en-US"


def lower(doc: Document) -> ir.Flow:
    return _flow(doc.data, doc.file)


def _flow(data: dict[str, Any], file: str) -> ir.Flow:
    locales = tuple(data.get("locales") or ())
    locale = data.get("locale") or (locales[0] if locales else DEFAULT_LOCALE)
    if not locales:
        locales = (locale,)
    timezone = data.get("timezone", "UTC")
    outbound = data.get("outbound")
    return ir.Flow(
        id=data["flow"],
        description=data.get("description", ""),
        start=ir.Ref(data["start"], ("start",)),
        states=tuple(_state(name, spec, ("states", name)) for name, spec in data["states"].items()),
        locale=locale,
        locales=locales,
        timezone=timezone,
        numbers=tuple(data.get("numbers") or ()),
        outbound=None if outbound is None else _outbound(outbound),
        events=None if data.get("events") is None else _events(data["events"]),
        prompts=tuple((name, _prompt(value, ("prompts", name))) for name, value in (data.get("prompts") or {}).items()),
        variables=tuple(_variable(name, spec, ("variables", name)) for name, spec in (data.get("variables") or {}).items()),
        schedules=tuple(_schedule(name, spec, timezone, ("hours", name))
                        for name, spec in (data.get("hours") or {}).items()),
        on_error=_opt_prompt((data.get("on_error") or {}).get("say"), ("on_error", "say")),
        on_error_goto=ir.Ref(data["on_error"]["goto"], ("on_error", "goto")) if "goto" in (data.get("on_error") or {})
        else None,
        file=file,
    )


def _outbound(spec: dict) -> ir.Outbound:
    return ir.Outbound(bool(spec.get("amd", False)), spec.get("caller_id"))


def _events(spec: dict) -> ir.EventsOut:
    secret = spec.get("secret")
    return ir.EventsOut(spec["url"], ir.EventsOut.secret_env if secret is None else _events_secret(secret), ("events",))


def _events_secret(secret: dict) -> str:
    return secret["env"]


def _variable(name: str, spec: dict, path: tuple) -> ir.Variable:
    return ir.Variable(name, spec["max_length"], spec.get("default", ""), spec.get("report", False), path)


def _prompt(value: Any, path: tuple) -> ir.Prompt:
    if isinstance(value, dict) and "prompt" in value:
        return ir.Prompt(ref=value["prompt"], path=path)
    if isinstance(value, dict) and not ({"tts", "ssml", "audio", "file"} & set(value)):
        return ir.Prompt(tuple((loc, _parts(parts, path + (loc,))) for loc, parts in value.items()), path=path)
    return ir.Prompt(((None, _parts(value, path)),), path=path)


def _opt_prompt(value: Any, path: tuple) -> ir.Prompt | None:
    return None if value is None else _prompt(value, path)


def _parts(value: Any, path: tuple) -> tuple[ir.Part, ...]:
    if isinstance(value, list):
        return tuple(_part(item, path + (i,)) for i, item in enumerate(value))
    return (_part(value, path),)


def _part(value: Any, path: tuple) -> ir.Part:
    if isinstance(value, str):
        return ir.Part("tts", ir.Text(value, path))
    (kind, text), = value.items()
    return ir.Part(kind, ir.Text(text, path + (kind,)))


def _ref(value: str | None, path: tuple) -> ir.Ref | None:
    return None if value is None else ir.Ref(value, path)


def _handler(value: Any, path: tuple) -> ir.Handler | None:
    if value is None:
        return None
    if isinstance(value, str):
        return ir.Handler(goto=ir.Ref(value, path))
    return ir.Handler(say=_opt_prompt(value.get("say"), path + ("say",)), goto=_ref(value.get("goto"), path + ("goto",)))


def _option(key: str, value: Any, path: tuple) -> ir.Option:
    if isinstance(value, str):
        return ir.Option(key, ir.Ref(value, path), path=path)
    return ir.Option(key, ir.Ref(value["goto"], path + ("goto",)), _opt_prompt(value.get("say"), path + ("say",)),
                     tuple(value.get("keywords") or ()), path=path)


def _recording(value: dict, path: tuple) -> ir.Recording:
    return ir.Recording(value["destination"], value.get("credentials_env"), value.get("format", "mp3"),
                        _transcription(value.get("transcribe", False)), path)


def _transcription(value: bool | dict) -> str | None:
    """None: no transcript; "": in the call's locale, decided at run time; else that locale."""
    if value is True:
        return ""
    if isinstance(value, dict):
        return value.get("locale", "")
    return None


def _waiting_for_input(spec: dict, path: tuple) -> dict[str, Any]:
    """What menus and digit collection share: prompts, timing, attempts and the exits on failure."""
    return {
        "prompt": _prompt(spec["prompt"], path + ("prompt",)),
        "reprompt": _opt_prompt(spec.get("reprompt"), path + ("reprompt",)),
        "timeout": spec.get("timeout", 5),
        "attempts": spec.get("attempts", 3),
        "barge": spec.get("barge", True),
        "no_input": _handler(spec.get("no_input"), path + ("no_input",)),
        "invalid": _handler(spec.get("invalid"), path + ("invalid",)),
        "exhausted": _ref(spec.get("exhausted"), path + ("exhausted",)),
    }


def _menu(spec: dict, path: tuple) -> ir.Menu:
    return ir.Menu(options=tuple(_option(k, v, path + ("options", k)) for k, v in spec["options"].items()),
                   **_waiting_for_input(spec, path))


def _collect(spec: dict, path: tuple) -> ir.Collect:
    return ir.Collect(
        into=spec["into"],
        max_digits=spec["max_digits"],
        next=ir.Ref(spec["next"], path + ("next",)),
        min_digits=spec.get("min_digits", 1),
        pattern=spec.get("pattern"),
        path=path,
        **_waiting_for_input(spec, path),
    )


def _transfer(spec: dict, path: tuple) -> ir.Transfer:
    kind = next(k for k in ("number", "sip", "user", "conference", "stream") if k in spec)
    record = spec.get("record")
    streaming = spec.get("streaming")
    keypad = spec.get("keypad")
    return ir.Transfer(
        kind=kind,
        target=spec[kind],
        caller_id=spec.get("caller_id"),
        dial_timeout=spec.get("dial_timeout"),
        max_duration=spec.get("max_duration"),
        transport=spec.get("transport"),
        music_on_hold=spec.get("music_on_hold"),
        headers=tuple((k, ir.Text(v, path + ("headers", k))) for k, v in (spec.get("headers") or {}).items()),
        record=None if record is None else _recording(record, path + ("record",)),
        streaming=None if streaming is None else _streaming(streaming),
        digits_on_answer=spec.get("digits_on_answer"),
        ringback=spec.get("ringback"),
        suppress_callbacks=spec.get("suppress_callbacks"),
        keypad=None if keypad is None else _keypad(keypad, path + ("keypad",)),
        path=path,
        destination=ir.Text(spec[kind], path + (kind,)) if kind in ("number", "sip", "conference") and "{{" in spec[kind] else None,
        on_invalid=ir.Ref(spec["on_invalid"], path + ("on_invalid",)) if "on_invalid" in spec else None,
    )


def _streaming(spec: dict) -> ir.Streaming:
    return ir.Streaming(spec.get("version"), spec.get("sample_rate"))


def _keypad(spec: dict, path: tuple) -> ir.Keypad:
    keys = tuple(ir.KeypadKey(str(k), ir.Ref(v, path + ("keys", k)), path + ("keys", k))
                 for k, v in (spec.get("keys") or {}).items())
    return ir.Keypad(spec.get("mode", "ignore"), spec.get("max_digits"), spec.get("timeout", 3), keys, path)


def _action(spec: dict, path: tuple) -> ir.Action:
    if "next" in spec:
        return ir.Next(ir.Ref(spec["next"], path + ("next",)))
    if "hangup" in spec:
        return ir.Hangup()
    if "menu" in spec:
        return _menu(spec["menu"], path + ("menu",))
    if "collect" in spec:
        return _collect(spec["collect"], path + ("collect",))
    if "record" in spec:
        return _record(spec["record"], path + ("record",))
    if "transfer" in spec:
        return _transfer(spec["transfer"], path + ("transfer",))
    if "park" in spec:
        return _park(spec["park"], path + ("park",))
    if "request" in spec:
        return _request(spec["request"], path + ("request",))
    if "repeat" in spec:
        return _repeat(spec["repeat"], path + ("repeat",))
    return ir.Branch(tuple(_case(case, path + ("branch", i)) for i, case in enumerate(spec["branch"])))


def _repeat(spec: dict, path: tuple) -> ir.Repeat:
    goto = ir.Ref(spec["goto"], path + ("goto",)) if "goto" in spec else None
    return ir.Repeat(spec["times"], ir.Ref(spec["then"], path + ("then",)), goto, path)


def _record(spec: dict, path: tuple) -> ir.Record:
    return ir.Record(spec["max_length"], _recording(spec["recording"], path + ("recording",)),
                     ir.Ref(spec["next"], path + ("next",)), _opt_prompt(spec.get("prompt"), path + ("prompt",)),
                     spec.get("finish_key", "#"))


def _park(spec: dict, path: tuple) -> ir.Park:
    return ir.Park(_prompt(spec["hold"], path + ("hold",)), _opt_prompt(spec.get("intro"), path + ("intro",)),
                   spec.get("max_duration"))


def _request(spec: dict, path: tuple) -> ir.Request:
    return ir.Request(
        url=ir.Text(spec["url"], path + ("url",)),
        next=ir.Ref(spec["next"], path + ("next",)),
        method=spec.get("method", "GET"),
        query=tuple((k, ir.Text(v, path + ("query", k))) for k, v in (spec.get("query") or {}).items()),
        headers=tuple(_header(k, v, path + ("headers", k)) for k, v in (spec.get("headers") or {}).items()),
        body=_json(spec["body"], path + ("body",)) if "body" in spec else None,
        timeout=spec.get("timeout", 2),
        save=tuple(ir.Save(k, v, path + ("save", k)) for k, v in (spec.get("save") or {}).items()),
        on_status=tuple(ir.StatusExit(str(k), ir.Ref(v, path + ("on_status", k)))
                        for k, v in (spec.get("on_status") or {}).items()),
        on_failure=_ref(spec.get("on_failure"), path + ("on_failure",)),
        path=path,
    )


def _header(name: str, value: Any, path: tuple) -> ir.Header:
    if isinstance(value, str):
        return ir.Header(name, ir.Text(value, path), path=path)
    return ir.Header(name, env=value["env"], prefix=value.get("prefix", ""), path=path)


def _json(value: Any, path: tuple) -> Any:
    """A request body: strings become templates, objects and lists keep their order."""
    if isinstance(value, str):
        return ir.Text(value, path)
    if isinstance(value, dict):
        return ir.JsonObject(tuple((k, _json(v, path + (k,))) for k, v in value.items()))
    if isinstance(value, list):
        return ir.JsonArray(tuple(_json(v, path + (i,)) for i, v in enumerate(value)))
    return value


def _case(spec: dict, path: tuple) -> ir.Case:
    if "else" in spec:
        return ir.Case(ir.Ref(spec["else"], path + ("else",)))
    return ir.Case(ir.Ref(spec["goto"], path + ("goto",)), ir.Text(spec["if"], path + ("if",)))


def _state(name: str, spec: dict, path: tuple) -> ir.State:
    sets = tuple(ir.Assignment(k, ir.Text(v, path + ("set", k)), path + ("set", k))
                 for k, v in (spec.get("set") or {}).items())
    return ir.State(name, _action(spec, path), sets, _opt_prompt(spec.get("say"), path + ("say",)),
                    spec.get("send_digits"), path)


def _schedule(name: str, spec: dict, flow_tz: str, path: tuple) -> ir.Schedule:
    weekly = tuple((day, _ranges(spec["weekly"].get(day, "closed"))) for day in DAYS)
    dates = tuple((date, _ranges(hours)) for date, hours in (spec.get("dates") or {}).items())
    return ir.Schedule(name, spec.get("timezone", flow_tz), weekly, tuple(spec.get("holidays") or ()), path, dates)


def _ranges(hours: str | list[str]) -> tuple[tuple[str, str], ...]:
    return () if hours == "closed" else tuple((r[:5], r[6:]) for r in hours)
