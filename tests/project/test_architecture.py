"""The rooms of the code and the direction of their imports, as docs/architecture.md draws them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {"ivrc": "ivrc", "compiler": "ivrc.compiler", "runtime": "ivrc.runtime", "schemas": "ivrc.schemas"}

# Which room may import which (besides itself). The compiler knows nothing of running calls; the
# engine nothing of HTTP; the server nothing of emulation; the Sinch client nothing of the test stack.
ALLOWED = {
    "ivrc.schemas": set(),
    "ivrc.compiler": {"ivrc.schemas"},
    "ivrc.runtime.digests": set(),
    "ivrc.runtime.signing": {"ivrc.runtime.digests"},
    "ivrc.runtime.engine": {"ivrc.compiler", "ivrc.schemas", "ivrc.runtime.digests"},
    "ivrc.runtime.server": {"ivrc.compiler", "ivrc.schemas", "ivrc.runtime.engine", "ivrc.runtime.signing", "ivrc.runtime.digests"},
    "ivrc.runtime.sinch": {"ivrc.compiler", "ivrc.schemas", "ivrc.runtime.engine", "ivrc.runtime.signing", "ivrc.runtime.digests",
                           "ivrc.runtime.server"},
    "ivrc.runtime.emulation": {"ivrc.compiler", "ivrc.schemas", "ivrc.runtime.engine", "ivrc.runtime.signing", "ivrc.runtime.digests",
                               "ivrc.runtime.server"},
    "ivrc.runtime.studio": {"ivrc.compiler", "ivrc.schemas", "ivrc.runtime.engine", "ivrc.runtime.signing", "ivrc.runtime.digests",
                            "ivrc.runtime.server", "ivrc.runtime.emulation"},
}
ROOMS = sorted(ALLOWED, key=len, reverse=True)


def room(module: str) -> str | None:
    return next((r for r in ROOMS if module == r or module.startswith(r + ".")), None)


def modules() -> list[tuple[str, Path]]:
    found = []
    for folder, package in FOLDERS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found.append((name, path))
    return found


def imports(name: str, path: Path) -> set[str]:
    """Every module this one imports, at the top or inside a function, with relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def test_every_runtime_and_compiler_module_lives_in_a_room() -> None:
    homeless = [name for name, _ in modules()
                if name.startswith(("ivrc.runtime.", "ivrc.compiler", "ivrc.schemas")) and room(name) is None]
    assert homeless == []


@pytest.mark.parametrize(("name", "path"), [m for m in modules() if room(m[0]) is not None], ids=lambda v: str(v))
def test_imports_follow_the_dependency_direction(name: str, path: Path) -> None:
    mine = room(name)
    wrong = sorted({imported for imported in imports(name, path)
                    if (other := room(imported)) is not None and other != mine and other not in ALLOWED[mine]})
    assert wrong == [], f"{name} ({mine}) may not import {wrong}"


def test_no_module_imports_the_top_level_folders_by_their_repository_names() -> None:
    wrong = sorted(f"{name}: {imported}" for name, path in modules() for imported in imports(name, path)
                   if imported.split(".")[0] in ("compiler", "runtime", "schemas"))
    assert wrong == []


def test_the_check_itself_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "step.py"
    sample.write_text("def f():\n    from ivrc.runtime.emulation import emulator\n    from ..server import app\n")
    found = imports("ivrc.runtime.engine.step", sample)
    assert {"ivrc.runtime.emulation.emulator", "ivrc.runtime.server.app"} <= found
