"""A yes/no validator compiled from the flow schema, so valid flows skip jsonschema's slower error search.

It supports exactly the JSON Schema keywords schemas/flow.schema.json uses, with jsonschema's
semantics (e.g. true is not 1, 5.0 is an integer). A keyword it does not know makes compile()
fail loudly, so the schema cannot grow a rule this validator silently ignores.
"""
from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

ANNOTATIONS = {"$schema", "$id", "title", "description", "$comment", "$defs", "default", "examples"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


class _Compiler:
    def __init__(self, root: dict) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        if pointer not in self.refs:
            if not pointer.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {pointer}")
            self.refs[pointer] = lambda v: False  # placeholder while compiling recursive refs
            compiled = self.compile(self.root["$defs"][pointer[len("#/$defs/"):]])
            self.refs[pointer] = compiled
        target = pointer
        return lambda v: self.refs[target](v)

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        checks: list[Check] = []
        for key, value in schema.items():
            if key in ANNOTATIONS or key.startswith("x-"):
                continue
            checks.append(self.keyword(key, value, schema))
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(check(v) for check in checks)

    def keyword(self, key: str, value: Any, schema: dict) -> Check:
        if key == "$ref":
            return self.ref(value)
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            tests = [_TYPES[n] for n in names]
            return lambda v: any(t(v) for t in tests)
        if key == "const":
            return lambda v: equal(v, value)
        if key == "enum":
            return lambda v: any(equal(v, option) for option in value)
        if key == "pattern":
            regex = re.compile(value)
            return lambda v: not isinstance(v, str) or regex.search(v) is not None
        if key in ("minimum", "maximum"):
            if key == "minimum":
                return lambda v: not _is_number(v) or v >= value
            return lambda v: not _is_number(v) or v <= value
        if key in ("minLength", "maxLength"):
            if key == "minLength":
                return lambda v: not isinstance(v, str) or len(v) >= value
            return lambda v: not isinstance(v, str) or len(v) <= value
        if key in ("minItems", "maxItems"):
            if key == "minItems":
                return lambda v: not isinstance(v, list) or len(v) >= value
            return lambda v: not isinstance(v, list) or len(v) <= value
        if key == "uniqueItems":
            if not value:
                return lambda v: True
            return lambda v: not isinstance(v, list) or all(
                not equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))
        if key == "minProperties":
            return lambda v: not isinstance(v, dict) or len(v) >= value
        if key == "required":
            return lambda v: not isinstance(v, dict) or all(name in v for name in value)
        if key == "items":
            item = self.compile(value)
            return lambda v: not isinstance(v, list) or all(item(x) for x in v)
        if key == "properties":
            props = {name: self.compile(sub) for name, sub in value.items()}
            return lambda v: not isinstance(v, dict) or all(props[k](x) for k, x in v.items() if k in props)
        if key == "additionalProperties":
            known = set(schema.get("properties", {}))
            extra = self.compile(value)
            return lambda v: not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
        if key == "propertyNames":
            name_check = self.compile(value)
            return lambda v: not isinstance(v, dict) or all(name_check(k) for k in v)
        if key == "oneOf":
            options = [self.compile(sub) for sub in value]
            return lambda v: sum(1 for option in options if option(v)) == 1
        if key == "anyOf":
            options = [self.compile(sub) for sub in value]
            return lambda v: any(option(v) for option in options)
        if key == "allOf":
            options = [self.compile(sub) for sub in value]
            return lambda v: all(option(v) for option in options)
        if key == "not":
            inner = self.compile(value)
            return lambda v: not inner(v)
        raise ValueError(f"fastschema does not support the keyword {key!r}; extend it or drop the keyword")


def compile_validator(schema: dict) -> Check:
    """A function telling whether a value is valid under the schema (no error details)."""
    return _Compiler(schema).compile(schema)
