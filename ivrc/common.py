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


def color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
