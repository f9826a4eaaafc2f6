"""Checks a loaded flow against schemas/flow.schema.json and says what is wrong in the author's terms."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid flow: it is slow to import
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from .diagnostics import Diagnostic, did_you_mean
from .loader import Document

# State keys that end a state; exactly one must be present.
STATE_ACTIONS = ("next", "hangup", "menu", "collect", "record", "transfer", "park", "branch", "request", "repeat")
_FINAL_ACTIONS = ("transfer", "park", "hangup")

# Keys authors reach for that the language deliberately lacks, and why.
_KNOWN_MISTAKES: dict[tuple[str, str], tuple[str, str]] = {
    ("transfer", "amd"): ("IVR062", "answering-machine detection works only on an outbound flow's first leg; "
                                    "use `outbound: {amd: true}` at the top of an outbound flow"),
    ("transfer", "next"): ("IVR015", "Sinch does not call back when a transferred call ends or is not answered, "
                                     "so a flow cannot go on after a transfer"),
    ("transfer", "on_no_answer"): ("IVR015", "Sinch does not call back when a transferred call is not answered, "
                                             "so a flow cannot go on after a transfer"),
    ("transfer", "on_busy"): ("IVR015", "Sinch does not call back when a transferred call is busy, "
                                        "so a flow cannot go on after a transfer"),
}


@lru_cache(maxsize=1)
def flow_schema() -> dict:
    from ivrc.schemas import load_schema

    return load_schema("flow.schema.json")


@lru_cache(maxsize=1)
def _validator() -> "Draft202012Validator":
    from jsonschema import Draft202012Validator

    return Draft202012Validator(flow_schema())


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "null": "nothing"}


def where(path: tuple) -> str:
    """Names a place in a flow the way its author thinks of it."""
    if not path:
        return "the flow"
    if len(path) == 2 and path[0] in ("states", "prompts", "hours", "variables"):
        kind = {"states": "state", "prompts": "prompt", "hours": "schedule", "variables": "variable"}[path[0]]
        return f"{kind} '{path[1]}'"
    last = path[-1]
    if isinstance(last, int):
        return f"item {last + 1} of '{path[-2]}'" if len(path) > 1 else f"item {last + 1}"
    return f"'{last}'"


class _Translator:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def translate(self, error: ValidationError) -> Iterator[Diagnostic]:
        path = tuple(error.absolute_path)
        if "propertyNames" in error.schema_path:
            yield self._bad_key(error, path)
            return
        handler = getattr(self, "_" + str(error.validator), None)
        if handler is not None:
            yield from handler(error, path)
        else:
            yield self._invalid(error, path)

    # one handler per JSON Schema keyword that can fail

    def _additionalProperties(self, error: ValidationError, path: tuple) -> Iterator[Diagnostic]:
        allowed = set(error.schema.get("properties", {}))
        parent = path[-1] if path else ""
        for key in error.instance:
            if key in allowed:
                continue
            span = self.doc.span(path + (key,), key=True)
            mistake = _KNOWN_MISTAKES.get((str(parent), key))
            if mistake:
                code, why = mistake
                yield Diagnostic(code, f"'{key}' is not available in {parent}: {why}", span)
                continue
            yield Diagnostic("IVR010", f"unknown key '{key}' in {where(path)}", span,
                             help=self._comma_split(path, key, error.instance) or did_you_mean(key, allowed, "keys"))

    def _comma_split(self, path: tuple, key: str, instance: Any) -> str | None:
        """`{say: Sorry, I did not hear you}`: in braces a comma ends the value, and the rest becomes a key."""
        if not isinstance(instance, dict) or instance.get(key) is not None or " " not in key.strip():
            return None
        start = self.doc.span(path)
        lines = self.doc.text.splitlines()
        if not 0 < start.line <= len(lines) or lines[start.line - 1][start.column - 1:start.column] != "{":
            return None  # only a mapping written in braces splits at commas
        keys = list(instance)
        before = keys[keys.index(key) - 1] if keys.index(key) > 0 else None
        if before is None or not isinstance(instance[before], str):
            return None
        return (f"inside {{ }} a comma separates entries, so YAML ended {before}'s text at the comma and read "
                f"'{key}' as a key: put the text in quotes: {before}: \"{instance[before]}, {key}\"")

    def _required(self, error: ValidationError, path: tuple) -> Iterator[Diagnostic]:
        missing = [k for k in error.validator_value if k not in error.instance]
        for key in missing:
            yield Diagnostic("IVR011", f"{where(path)} is missing the required key '{key}'",
                             self.doc.span(path, key=True), help=_describe_property(error.schema, key))

    def _type(self, error: ValidationError, path: tuple) -> Iterator[Diagnostic]:
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        want = " or ".join(_TYPE_WORDS.get(n, n) for n in names)
        found = error.instance
        help_ = error.schema.get("x-ivrc-expected")
        if "boolean" in names and isinstance(found, str) and found.lower() in ("yes", "no", "on", "off", "y", "n"):
            help_ = "write true or false; ivrc reads yes/no/on/off as text (YAML 1.2)"
        elif "string" in names and isinstance(found, (int, float)) and not isinstance(found, bool):
            help_ = f"put the value in quotes: \"{_source_text(self.doc, path)}\""
        yield Diagnostic("IVR012", f"{where(path)} should be {want}, not {_type_name(found)}",
                         self.doc.span(path), help=help_)

    def _oneOf(self, error: ValidationError, path: tuple) -> Iterator[Diagnostic]:
        alternatives = error.validator_value
        if all(set(alt) == {"required"} for alt in alternatives):
            yield from self._exactly_one(error, path, [alt["required"][0] for alt in alternatives])
            return
        branch = _best_branch(error)
        if branch is not None:
            for sub in branch:
                yield from self.translate(sub)
            return
        expected = _expected(error.schema) or "one of the forms described in the language reference"
        if isinstance(error.instance, dict):
            known = _known_keys(error)
            unknown = [k for k in error.instance if k not in known]
            if known and unknown:
                for key in unknown:
                    yield Diagnostic("IVR010", f"unknown key '{key}' in {where(path)}",
                                     self.doc.span(path + (key,), key=True),
                                     help=self._comma_split(path, key, error.instance)
                                     or did_you_mean(key, known, "keys") or f"expected {expected}")
                return
        yield Diagnostic("IVR012", f"{where(path)} should be {expected}, not {_type_name(error.instance)}",
                         self.doc.span(path), help=None)

    _anyOf = _oneOf

    def _exactly_one(self, error: ValidationError, path: tuple, keys: list[str]) -> Iterator[Diagnostic]:
        present = [k for k in keys if isinstance(error.instance, dict) and k in error.instance]
        what = where(path)
        if not present and path and path[-1] == "transfer":
            # Inside a transfer the missing piece is a destination; `next` or `hangup` would be errors there.
            yield Diagnostic("IVR014", f"{what} has no destination: it needs one of " + ", ".join(keys),
                             self.doc.span(path, key=True),
                             help="add one of number: \"+14155550100\", sip: desk@pbx.example.com, user: USER_ID, "
                                  "conference: ROOM or stream: wss://bot.example.com/calls")
            return
        if not present:
            yield Diagnostic("IVR014", f"{what} does nothing: it needs one of " + ", ".join(keys),
                             self.doc.span(path, key=True),
                             help="add `next: STATE` to go on, or `hangup: true` to end the call")
            return
        finals = [k for k in present if k in _FINAL_ACTIONS]
        if finals and ("next" in present or len(finals) < len(present)):
            final = finals[0]
            other = next(k for k in present if k != final)
            why = {"hangup": "the call is over after a hang-up",
                   "park": "a parked call waits until it is resumed, without calling back",
                   "transfer": "Sinch does not call back when a transferred call ends or is not answered"}[final]
            yield Diagnostic(
                "IVR015", f"{what} has both '{final}' and '{other}': a flow cannot go on after a {final}",
                self.doc.span(path + (other,), key=True),
                help=f"{why}, so nothing can follow; put anything the caller should hear first in `say`")
            return
        yield Diagnostic("IVR014", f"{what} has {', '.join(present[:-1])} and {present[-1]}; a state does exactly one of them",
                         self.doc.span(path + (present[1],), key=True),
                         help="split it into two states and link them with `next`")

    def _bad_key(self, error: ValidationError, path: tuple) -> Diagnostic:
        key = error.instance
        span = self.doc.span(path + (key,), key=True)
        schema = error.schema
        expected = _expected(schema) or "a valid name"
        code = schema.get("x-ivrc-code", "IVR013")
        if error.validator == "not":
            return Diagnostic("IVR013", f"'{key}' is a reserved word and cannot name a variable", span,
                              help="choose another name")
        return Diagnostic(code, f"'{key}' in {where(path)} is not valid: expected {expected}", span)

    def _invalid(self, error: ValidationError, path: tuple) -> Diagnostic:
        schema = error.schema
        code = schema.get("x-ivrc-code", "IVR013")
        value = error.instance
        shown = _as_yaml(value) if not isinstance(value, (dict, list)) else _type_name(value)
        expected = _expected(schema)
        if error.validator == "enum":
            expected = "one of " + ", ".join(_as_yaml(v) if isinstance(v, bool) or v is None else str(v)
                                             for v in error.validator_value)
        elif error.validator == "const":
            expected = expected or _as_yaml(error.validator_value)
        elif error.validator in ("minimum", "maximum"):
            lo, hi = schema.get("minimum"), schema.get("maximum")
            expected = expected or (f"a number from {lo} to {hi}" if lo is not None and hi is not None
                                    else f"at least {lo}" if lo is not None else f"at most {hi}")
        elif error.validator == "minItems":
            return Diagnostic(code, f"{where(path)} needs at least {error.validator_value} item(s)", self.doc.span(path))
        elif error.validator == "minProperties":
            return Diagnostic(code, f"{where(path)} needs at least {error.validator_value} entry", self.doc.span(path))
        elif error.validator == "maxItems":
            return Diagnostic(code, f"{where(path)} may have at most {error.validator_value} items", self.doc.span(path))
        elif error.validator == "uniqueItems":
            return Diagnostic(code, f"{where(path)} lists the same value twice", self.doc.span(path))
        elif error.validator in ("minLength", "maxLength"):
            expected = expected or f"text of {error.validator_value} character(s) at {'least' if error.validator == 'minLength' else 'most'}"
        message = f"{shown} is not valid for {where(path)}"
        if expected:
            message += f": expected {expected}"
        return Diagnostic(code, message, self.doc.span(path), help=_number_help(code, path, value))


def _as_yaml(value: Any) -> str:
    """A scalar as the flow's author writes it: true, false and null in YAML's words, text quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)


def _number_help(code: str, path: tuple, value: Any) -> str | None:
    """For a phone number that is not E.164: the likely fix, and `private` where a transfer allows it."""
    if code != "IVR050":
        return None
    text = str(value).strip()
    digits = "".join(c for c in text if c.isdigit())
    fixes = []
    if digits and len(digits) <= 15 and not text.startswith("0"):
        fixes.append(f"did you mean \"+{digits}\"?")
    elif text.startswith("0"):
        fixes.append("write the country code instead of the leading 0, e.g. +46 for Sweden")
    if path and path[-1] == "caller_id" and "transfer" in path:
        fixes.append(("or, " if fixes else "") + "to hide the caller's number, write `caller_id: private`")
    return " ".join(fixes) or None


def _expected(schema: dict) -> str | None:
    return schema.get("x-ivrc-expected")


def _describe_property(schema: dict, key: str) -> str | None:
    prop = schema.get("properties", {}).get(key, {})
    return prop.get("description")


def _source_text(doc: Document, path: tuple) -> str:
    scalar = doc.scalars.get(path)
    if scalar is None:
        return str(doc.get(path))
    return doc.text[scalar.start:scalar.end]


def _best_branch(error: ValidationError) -> list[ValidationError] | None:
    """For a failed oneOf, the errors of the alternative the author most likely meant."""
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    here = len(error.absolute_path)
    candidates = []
    for index, subs in by_branch.items():
        shallow = [s for s in subs if len(s.absolute_path) == here]
        # A branch that fails on the value's own type or shape was not what the author meant.
        if any(s.validator in ("type", "const", "required") for s in shallow):
            continue
        bad_names = {s.instance for s in shallow if "propertyNames" in s.schema_path}
        if bad_names and isinstance(error.instance, dict) and len(bad_names) >= len(error.instance):
            continue
        if any(s.validator in ("oneOf", "anyOf") and _best_branch(s) is None for s in shallow):
            continue
        if any(s.validator == "additionalProperties" and _unknown_ratio(s) >= 1.0 for s in shallow):
            continue
        depth = max(len(s.absolute_path) for s in subs)
        candidates.append((-depth, len(subs), index, subs))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[:3])
    return candidates[0][3]


def _known_keys(error: ValidationError) -> set[str]:
    """Every key any alternative of a failed oneOf accepts, for a did-you-mean."""
    keys: set[str] = set()
    for sub in error.context or ():
        if sub.validator == "additionalProperties":
            keys.update(sub.schema.get("properties", {}))
        keys.update(_known_keys(sub))
    return keys


def _unknown_ratio(error: ValidationError) -> float:
    allowed = set(error.schema.get("properties", {}))
    keys = list(error.instance) if isinstance(error.instance, dict) else []
    if not keys:
        return 0.0
    return sum(1 for k in keys if k not in allowed) / len(keys)


@lru_cache(maxsize=1)
def _fast():
    from .fastschema import compile_validator

    return compile_validator(flow_schema())


def check_schema(doc: Document) -> list[Diagnostic]:
    """All schema findings for a document, deduplicated and in file order."""
    if _fast()(doc.data):
        return []  # the common case; jsonschema's detailed search is only needed to explain errors
    translator = _Translator(doc)
    seen: set[tuple] = set()
    found: list[Diagnostic] = []
    from .loader import MAX_DIAGNOSTICS

    for error in _validator().iter_errors(doc.data):
        for diagnostic in translator.translate(error):
            key = (diagnostic.code, diagnostic.span, diagnostic.message)
            if key not in seen:
                seen.add(key)
                found.append(diagnostic)
            if len(found) >= MAX_DIAGNOSTICS:
                return sorted(found, key=Diagnostic.sort_key)
    return sorted(found, key=Diagnostic.sort_key)
