"""The errors a user can fix: one hierarchy, so the command line reports these and treats anything else as a bug.

Problems inside a flow are diagnostics (data, never exceptions); these are for what stops a
command from running at all: a path that is not there, flows with errors, a compiled machine that
cannot be run, a server that must not start, a call that cannot be placed.
"""
from __future__ import annotations


class IvrcError(Exception):
    """Something the user asked for cannot be done; the message says what, where and how to fix it."""


class PathError(IvrcError):
    """A file or folder named on the command line is missing, unreadable or holds no flows."""


class FlowErrors(IvrcError):
    """Flows have errors; the message holds their diagnostics as `ivrc lint` prints them."""


class MachineError(IvrcError):
    """A compiled machine cannot be run by this ivrc (another version, malformed, or a clash)."""
