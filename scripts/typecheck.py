"""Runs mypy over ivrc as it is installed: compiler/, runtime/ and schemas/ seen as ivrc.compiler, ivrc.runtime, ivrc.schemas.

The repository keeps those folders at the top (pyproject.toml maps them under `ivrc`); mypy has no
such mapping, so this lays out a temporary tree of links and checks the package `ivrc` there.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ivrc-typecheck-") as folder:
        package = Path(folder) / "ivrc"
        package.mkdir()
        for module in (REPO / "ivrc").glob("*.py"):
            (package / module.name).symlink_to(module)
        for name in ("compiler", "runtime", "schemas"):
            (package / name).symlink_to(REPO / name, target_is_directory=True)
        done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
                               "-p", "ivrc"], cwd=folder, env={**os.environ, "MYPYPATH": folder})
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
