"""The studio's place in the dependency direction: it uses the compiler, engine and emulator; nothing uses it."""
from __future__ import annotations

import ast
from pathlib import Path

from ivrc.runtime.server import callevents
from ivrc.runtime.studio import live

REPO = Path(__file__).resolve().parents[2]


def imports(folder: str) -> dict[str, set[str]]:
    """Every module a folder's files import, by file, relative imports spelt out in full."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # from .x or from ..x: relative to the file's package under `ivrc`
                    package = ["ivrc", *path.parent.relative_to(REPO).parts]
                    base = package[:len(package) - (node.level - 1)]
                    names.add(".".join(base + ([node.module] if node.module else [])))
                else:
                    names.add(node.module or "")
        found[str(path.relative_to(REPO))] = names
    return found


def test_no_other_room_imports_the_studio() -> None:
    for folder in ("compiler", "runtime/engine", "runtime/server", "runtime/emulation", "runtime/sinch"):
        for file, names in imports(folder).items():
            assert not any("studio" in name for name in names), f"{file} imports the studio"


def test_the_studio_uses_only_the_compiler_engine_and_emulator() -> None:
    allowed = ("ivrc.compiler", "ivrc.runtime.engine", "ivrc.runtime.emulation", "ivrc.runtime.studio")
    for file, names in imports("runtime/studio").items():
        ours = {name for name in names if name.startswith("ivrc")}
        assert all(name.startswith(allowed) for name in ours), f"{file} imports {sorted(ours)}"


def test_studio_and_server_read_the_same_token_variable() -> None:
    assert live.TOKEN_ENV == callevents.TOKEN_ENV
