"""What every ivrc command shares: exit codes, the usage error, the version, colour on terminals."""
from __future__ import annotations

import os

from ivrc.compiler.errors import IvrcError
from ivrc.runtime.signing import KEY_ENV, SECRET_ENV

__all__ = ["KEY_ENV", "SECRET_ENV", "OK", "PROBLEMS", "FAILED", "UsageError", "version", "color"]


# Exit codes, as ruff and yamllint use them.
OK, PROBLEMS, FAILED = 0, 1, 2


class UsageError(IvrcError):
    """The command line asks for something that cannot be done; the message says what and why."""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("ivrc")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


COLOR_CHOICES = ("auto", "always", "never")


def color(stream, choice: str = "auto") -> bool:
    """Whether to colour what goes to stream: --color always/never decides; otherwise NO_COLOR
    (no-color.org) and FORCE_COLOR (force-color.org) count only when set to something non-empty,
    NO_COLOR first, and then colour only on a terminal that is not TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def add_color_option(parser) -> None:
    parser.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                        help="colour the output: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
                             "always or never (default auto)")
