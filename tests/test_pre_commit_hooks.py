"""The pre-commit hooks of this repository (``.pre-commit-hooks.yaml``; docs/ci.md), used from
another repository exactly as pre-commit does: ``pre-commit try-repo`` clones this repository
at its HEAD commit, builds a virtualenv, pip-installs govern into it and runs the three hooks
on a scratch git repository holding a small workspace; then the ``.pre-commit-config.yaml``
docs/ci.md shows runs them on a repository keeping the workspace in a sub-folder.

Building a hook environment is the slow part (about half a minute each), so it is all one
test. The hooks tested are those of the HEAD commit: uncommitted changes to the hooks file are
not. The mapping of changed files to runs is tested in-process in ``test_changed_paths.py``;
the manifest is checked by pre-commit's own validator here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import yaml  # PyYAML: a dependency of pre-commit, in the test extra

from ci_workspace import FIRST, SECOND, ci_workspace
from git_repositories import GIT_ENV, GitRepo
from helpers import clean_env

REPO = Path(__file__).resolve().parent.parent
HOOKS = ("govern-verify", "govern-validate", "govern-check")


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``pre-commit ARGS`` (this interpreter's), with its store in ``home``, no colour, and
    none of govern's variables from the developer's shell."""
    # pip need not compile the hook environment's bytecode ahead (seconds per environment): the
    # hooks run govern a few times, and Python compiles what it imports.
    env = clean_env({**GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


def _hook_status(output: str, name: str) -> str:
    """``Passed``/``Failed``/… of the hook whose name starts with ``name`` in pre-commit's report."""
    match = re.search(rf"^{re.escape(name)}.*?\.+(Passed|Failed|Skipped|\(no files to check\)Skipped)$", output, re.MULTILINE)
    assert match, f"no status line for {name!r} in:\n{output}"
    return match.group(1)


def test_manifest_is_valid_for_pre_commit() -> None:
    """pre-commit's own validator accepts .pre-commit-hooks.yaml, which declares the three hooks
    as pre-commit expects them: language python, entry the govern console script."""
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert tuple(hooks) == HOOKS
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].split()[0] == "govern"
    assert hooks["govern-verify"]["entry"] == "govern verify --changed" and hooks["govern-verify"]["pass_filenames"] is True
    assert hooks["govern-validate"]["entry"] == "govern validate --changed" and hooks["govern-validate"]["pass_filenames"] is True
    assert hooks["govern-check"]["entry"] == "govern check" and hooks["govern-check"]["pass_filenames"] is False


def _repository(path: Path) -> GitRepo:
    """A git repository at ``path`` with everything in it committed, govern's lock file and
    cache ignored (docs/ci.md: a committed lock file shows as modified after every command
    that locks)."""
    (path / ".gitignore").write_text(".govern.lock\n.govern/\n", encoding="utf-8")
    repository = GitRepo(path)
    repository.commit("a govern workspace")
    return repository


def test_hooks_from_this_repository_pass_a_clean_commit_and_stop_a_tampered_run(tmp_path: Path) -> None:
    """``pre-commit try-repo`` of this repository (its HEAD commit) on a scratch repository
    whose root is a workspace: the three hooks pass on a clean commit and leave the work tree
    as it was. Then the configuration docs/ci.md shows (``repo``, ``rev``, hooks with ``args:
    [-C, pipeline]``), on a repository keeping the same workspace in ``pipeline/``: it passes
    clean, and once a sealed run's file is changed govern-verify fails (exit non-zero) naming
    the run and the file, while the other two still pass.

    Two hook environments are built (try-repo's store is a temporary folder of its own; the
    configuration's is ``PRE_COMMIT_HOME``, reused by its second run); the time is printed."""
    from test_ci_docs import documented_pre_commit_config

    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    source = ci_workspace(tmp_path / "source")
    at_root = source.copy(tmp_path / "at-root")
    repository = _repository(at_root.root)
    home = tmp_path / "pre-commit-home"

    started = time.monotonic()
    # --verbose: the hooks' output also when they pass, to see that the runs were checked.
    clean = _pre_commit("try-repo", str(REPO), "--ref", head, "--all-files", "--verbose", cwd=at_root.root, home=home)
    try_repo_time = time.monotonic() - started
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for hook in ("govern verify", "govern validate", "govern check"):
        assert _hook_status(clean.stdout, hook) == "Passed", clean.stdout
    assert f"OK      {FIRST}" in clean.stdout and "3 runs: 3 ok, 0 failed" in clean.stdout
    assert f"OK       .codex/RUNS/{FIRST}/RUN_REGISTRY.jsonl" in clean.stdout
    assert not repository.git("status", "--porcelain"), "a hook left the work tree changed"

    nested = tmp_path / "nested"
    in_pipeline = source.copy(nested / "pipeline")
    (nested / "src").mkdir()
    (nested / "src" / "job.py").write_text("print('a pipeline')\n", encoding="utf-8")
    config = documented_pre_commit_config()
    config["repos"][0].update(repo=str(REPO), rev=head)
    (nested / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    nested_repository = _repository(nested)
    started = time.monotonic()
    nested_clean = _pre_commit("run", "--all-files", cwd=nested, home=home)
    config_time = time.monotonic() - started
    assert nested_clean.returncode == 0, nested_clean.stdout + nested_clean.stderr
    for hook in ("govern verify", "govern validate", "govern check"):
        assert _hook_status(nested_clean.stdout, hook) == "Passed", nested_clean.stdout

    (in_pipeline.runs / FIRST / "notes.txt").write_text("rewritten\n", encoding="utf-8")
    nested_repository.git("add", "-A")
    started = time.monotonic()
    tampered = _pre_commit("run", cwd=nested, home=home)  # the staged files, as on `git commit`
    rerun_time = time.monotonic() - started
    assert tampered.returncode != 0, tampered.stdout + tampered.stderr
    assert _hook_status(tampered.stdout, "govern verify") == "Failed", tampered.stdout
    assert f"FAILED  {FIRST}" in tampered.stdout and "notes.txt" in tampered.stdout
    assert SECOND not in tampered.stdout  # only the run the commit changes is verified
    assert _hook_status(tampered.stdout, "govern check") == "Passed", tampered.stdout
    # Measured, not asserted: each first run builds a hook virtualenv (pip-installs govern).
    print(f"\npre-commit: try-repo {try_repo_time:.1f} s, run with the documented config {config_time:.1f} s (a second environment), again {rerun_time:.1f} s")
