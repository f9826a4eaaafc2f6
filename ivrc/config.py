"""Settings per repository: [tool.ivrc] in pyproject.toml, or .ivrc.toml, found from the current folder up."""
from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field

from .common import UsageError

FILES = (".ivrc.toml", "pyproject.toml")  # in one folder, .ivrc.toml wins, as ruff's ruff.toml does
LINT_FORMATS = ("text", "concise", "json", "github", "sarif", "junit")

# setting -> (what it holds, in the words of an error message)
SETTINGS = {
    "paths": "a list of files or folders",
    "flows": "a list of glob patterns",
    "select": "a list of codes, prefixes or names",
    "ignore": "a list of codes, prefixes or names",
    "strict": "true or false",
    "output-format": "one of " + ", ".join(LINT_FORMATS),
}


@dataclass
class Config:
    """What the settings file says; paths and globs are relative to its folder (base)."""

    file: str | None = None
    base: str = "."
    paths: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    strict: bool = False
    output_format: str | None = None

    def resolve(self, path: str) -> str:
        """A configured path as the commands see it: relative to the current folder when inside it."""
        full = os.path.normpath(os.path.join(self.base, path))
        relative = os.path.relpath(full)
        return full if relative.startswith("..") else relative


def find(start: str | None = None) -> str | None:
    """The settings file that applies in start (the current folder): the nearest one up the tree."""
    folder = os.path.abspath(start or os.getcwd())
    while True:
        for name in FILES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and (name != "pyproject.toml" or _has_section(candidate)):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _read(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{path}: not valid TOML: {err}") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot be read: {err.strerror}") from None


def _has_section(pyproject: str) -> bool:
    try:
        with open(pyproject, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return False  # someone else's broken pyproject.toml is not ours to report
    return isinstance(data.get("tool"), dict) and "ivrc" in data["tool"]


def load(path: str | None) -> Config:
    """Reads and checks a settings file; None gives the defaults. Every mistake is a UsageError naming it."""
    if path is None:
        return Config()
    data = _read(path)
    where = path
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("ivrc", {})
        where = f"{path}: [tool.ivrc]"
    if not isinstance(data, dict):
        raise UsageError(f"{where} must be a table of settings")
    for key in data:
        if key not in SETTINGS:
            close = difflib.get_close_matches(key, SETTINGS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (settings: {', '.join(SETTINGS)})"
            raise UsageError(f"{where}: unknown setting '{key}'{hint}")
    config = Config(file=path, base=os.path.dirname(os.path.abspath(path)))
    for key in ("paths", "flows", "select", "ignore"):
        if key in data:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise UsageError(f"{where}: '{key}' must be {SETTINGS[key]}, not {value!r}")
            setattr(config, key, list(value))
    if "strict" in data:
        if not isinstance(data["strict"], bool):
            raise UsageError(f"{where}: 'strict' must be true or false, not {data['strict']!r}")
        config.strict = data["strict"]
    if "output-format" in data:
        if data["output-format"] not in LINT_FORMATS:
            raise UsageError(f"{where}: 'output-format' must be {SETTINGS['output-format']}, "
                             f"not {data['output-format']!r}")
        config.output_format = data["output-format"]
    return config
