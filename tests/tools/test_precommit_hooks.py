"""The hooks in .pre-commit-hooks.yaml, run by the real `pre-commit try-repo` on a scratch repository.

The scratch repository holds what a team's repository does: a flow, its flow tests, and YAML
that is not a flow (a compose file, pre-commit's own settings, a GitHub workflow). Both hooks
must pass there out of the box, and the lint hook must still fail on a broken flow.

pre-commit installs ivrc into its own environment from a copy of this working tree (so the test
sees uncommitted changes, and needs no Git history), which takes some seconds.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ivrctest import EXAMPLES, REPO

# What `pip install .` needs to build ivrc, and the hooks file.
PROJECT_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
PROJECT_FOLDERS = ("ivrc", "compiler", "runtime", "schemas")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=ivrc tests", "-c", "user.email=tests@example.invalid",
                    "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True)


def _hooks_repo(folder: Path) -> Path:
    folder.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, folder / name)
    for name in PROJECT_FOLDERS:
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "ivrc")
    return folder


def _team_repo(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy2(EXAMPLES / "support.yaml", folder / "support.yaml")
    shutil.copy2(EXAMPLES / "support.test.yaml", folder / "support.test.yaml")
    (folder / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n")
    (folder / ".pre-commit-config.yaml").write_text("repos: []\n")
    (folder / ".github" / "workflows").mkdir(parents=True)
    (folder / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (folder / "config").mkdir()
    (folder / "config" / "settings.yml").write_text("retries: 3\nregions: [eu, us]\n")
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "flows")
    return folder


# pre-commit builds an environment and runs each hook in a fresh repository: about 15 s, so `make test-slow`
# (and CI) runs these, and `make test` stays near three minutes.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("precommit")
    return _hooks_repo(base / "hooks"), _team_repo(base / "team"), base / "pre-commit-home"


def _try_repo(hooks: Path, team: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)
    # pre-commit comes with the test extras (`pip install -e '.[test]'`); missing, this fails loudly.
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "--all-files", "--verbose"],
                          cwd=team, env=env, capture_output=True, text=True, timeout=600)


def _status(output: str, hook: str) -> str:
    for line in output.splitlines():
        if line.startswith(hook + "...") or line.startswith(hook + " ."):
            return line.rsplit(".", 1)[-1].strip()
    raise AssertionError(f"pre-commit printed no line for the hook {hook!r}:\n{output}")


def test_both_hooks_pass_in_a_repository_with_yaml_that_is_not_a_flow(repos) -> None:
    hooks, team, home = repos
    run = _try_repo(hooks, team, home)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _status(run.stdout, "ivrc lint") == "Passed"
    assert _status(run.stdout, "ivrc test") == "Passed"
    assert "10 passed, 0 failed" in run.stdout  # the flow tests really ran


def test_the_lint_hook_still_fails_on_a_broken_flow(repos) -> None:
    hooks, team, home = repos
    broken = team / "broken.yaml"
    broken.write_text((EXAMPLES / "support.yaml").read_text().replace("next: check_hours", "next: check_hour"))
    _git(team, "add", "broken.yaml")
    try:
        run = _try_repo(hooks, team, home)
    finally:
        _git(team, "rm", "-q", "-f", "broken.yaml")
    assert run.returncode == 1, run.stdout + run.stderr
    assert _status(run.stdout, "ivrc lint") == "Failed"
    assert "broken.yaml:" in run.stdout and "error[IVR020]" in run.stdout
