"""Installing ivrc adds one import name, `ivrc`; its pytest plugin is harmless in other projects until switched on."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the environment's setuptools builds it, so the test needs no download.
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("ivrc-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_installs_only_the_ivrc_import_name(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"ivrc"}


def test_the_wheel_holds_every_room_and_the_schemas(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in ("ivrc/compiler/pipeline.py", "ivrc/compiler/compiled.py", "ivrc/runtime/engine/step.py",
                   "ivrc/runtime/server/app.py", "ivrc/runtime/emulation/emulator.py", "ivrc/runtime/sinch/api.py",
                   "ivrc/schemas/flow.schema.json", "ivrc/schemas/machine.schema.json",
                   "ivrc/runtime/studio/static/index.html", "ivrc/runtime/studio/static/studio.js"):
        assert module in names, module


def test_the_wheel_registers_the_plugin_and_the_command_under_ivrc(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "ivrc = ivrc.runtime.emulation.pytest_plugin" in text
    assert "ivrc = ivrc.cli:main" in text


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_pytest_runs_in_a_project_with_its_own_runtime_package(tmp_path: Path) -> None:
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "__init__.py").write_text("WHO = 'theirs'\n")
    (tmp_path / "test_theirs.py").write_text("import runtime\n\ndef test_theirs():\n    assert runtime.WHO == 'theirs'\n")
    done = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_ivrc_lint_runs_beside_someone_elses_schemas_package(tmp_path: Path) -> None:
    for name in ("schemas", "compiler"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('not ivrc')\n")
    done = _run(["-m", "ivrc", "lint", str(REPO / "examples" / "support.yaml")], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All checks passed" in done.stdout


def test_the_pytest_plugin_imports_nothing_heavy_until_switched_on(tmp_path: Path) -> None:
    probe = ("import sys, ivrc.runtime.emulation.pytest_plugin\n"
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'yaml', 'starlette', 'httpx',"
             " 'jsonschema') or m.startswith(('ivrc.compiler', 'ivrc.runtime.engine', 'ivrc.runtime.server')))\n"
             "print(heavy)\n")
    done = _run(["-c", probe], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
