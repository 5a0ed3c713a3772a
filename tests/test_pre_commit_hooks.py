"""The pre-commit hooks of this repository (``.pre-commit-hooks.yaml``; docs/ci.md), used from
another repository exactly as pre-commit does: ``pre-commit try-repo`` clones this repository
at its HEAD commit, builds a virtualenv, pip-installs govern into it and runs the three hooks
on a scratch git repository holding a small workspace.

That install is the slow part (about half a minute), so it is done once: one test, one
``PRE_COMMIT_HOME``, two ``try-repo --all-files`` runs (the second reuses the environment).
The hooks tested are those of the HEAD commit: uncommitted changes to the hooks file are not.
The mapping of changed files to runs is tested in-process in ``test_changed_paths.py``; the
manifest and the documented configuration are checked by pre-commit's own validators here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from delta_workspace import DeltaWorkspace, build_at
from git_repositories import GIT_ENV, GitRepo
from helpers import clean_env

REPO = Path(__file__).resolve().parent.parent
HOOKS = ("govern-verify", "govern-validate", "govern-check")
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["run_id"],
    "properties": {"run_id": {"type": "string"}},
}


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``pre-commit ARGS`` (this interpreter's), with its store in ``home``, no colour, and
    none of govern's variables from the developer's shell."""
    env = clean_env({**GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"})
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


def _hook_status(output: str, name: str) -> str:
    """``Passed``/``Failed``/… of the hook whose name starts with ``name`` in pre-commit's report."""
    match = re.search(rf"^{re.escape(name)}.*?\.+(Passed|Failed|Skipped|\(no files to check\)Skipped)$", output, re.MULTILINE)
    assert match, f"no status line for {name!r} in:\n{output}"
    return match.group(1)


def test_manifest_is_valid_for_pre_commit() -> None:
    """pre-commit's own validator accepts .pre-commit-hooks.yaml, which declares the three hooks
    as pre-commit expects them: language python, entry the govern console script."""
    import yaml

    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert tuple(hooks) == HOOKS
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].split()[0] == "govern"
    assert hooks["govern-verify"]["entry"] == "govern verify --changed" and hooks["govern-verify"]["pass_filenames"] is True
    assert hooks["govern-validate"]["entry"] == "govern validate --changed" and hooks["govern-validate"]["pass_filenames"] is True
    assert hooks["govern-check"]["entry"] == "govern check" and hooks["govern-check"]["pass_filenames"] is False


def test_try_repo_runs_the_three_hooks_and_fails_on_a_tampered_run(tmp_path: Path) -> None:
    """On a clean commit of a workspace (sealed runs, a registry with a schema, a delta-log
    build, the governance books) the three hooks pass; once a sealed run's file is changed,
    govern-verify fails (exit non-zero) naming the run and the file, and the others still pass."""
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    scratch = tmp_path / "scratch"
    workspace = DeltaWorkspace.create(
        scratch, {"run_registry": {"kind": "sealed", "artifact": "RUN_REGISTRY.jsonl", "schema": "schemas/run_registry.schema.json"}}
    )
    (workspace.root / "schemas" / "run_registry.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    first, second = "2024-01-02__030405__ingest", "2024-01-03__030405__ingest"
    workspace.run(first, {"RUN_REGISTRY.jsonl": '{"run_id": "a"}\n', "notes.txt": "first\n"})
    workspace.run(second, {"RUN_REGISTRY.jsonl": '{"run_id": "a"}\n{"run_id": "b"}\n', "notes.txt": "second\n"})
    workspace.build_ok(at=build_at(5))
    synced = workspace.govern("governance", "sync")  # the registry and OP-QA11 catalogued: the books agree
    assert synced.returncode == 0, synced.stdout + synced.stderr
    # govern's lock file and caches are not history (docs/ci.md): a committed lock file would
    # show as modified after every command that locks.
    (scratch / ".gitignore").write_text(".govern.lock\n.govern/\n", encoding="utf-8")
    repository = GitRepo(scratch)
    repository.commit("a govern workspace")
    home = tmp_path / "pre-commit-home"

    started = time.monotonic()
    clean = _pre_commit("try-repo", str(REPO), "--ref", head, "--all-files", cwd=scratch, home=home)
    install_and_run = time.monotonic() - started
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for hook in ("govern verify", "govern validate", "govern check"):
        assert _hook_status(clean.stdout, hook) == "Passed", clean.stdout
    assert not repository.git("status", "--porcelain"), "a hook left the work tree changed"

    (workspace.runs / first / "notes.txt").write_text("rewritten\n", encoding="utf-8")
    repository.git("add", "-A")
    tampered = _pre_commit("try-repo", str(REPO), "--ref", head, "--all-files", cwd=scratch, home=home)
    assert tampered.returncode != 0, tampered.stdout + tampered.stderr
    assert _hook_status(tampered.stdout, "govern verify") == "Failed", tampered.stdout
    assert f"FAILED  {first}" in tampered.stdout and "notes.txt" in tampered.stdout
    assert f"FAILED  {second}" not in tampered.stdout
    assert _hook_status(tampered.stdout, "govern validate") == "Passed", tampered.stdout
    assert _hook_status(tampered.stdout, "govern check") == "Passed", tampered.stdout
    # Measured, not asserted: the first run builds the hook's virtualenv (pip-installs govern).
    print(f"pre-commit try-repo: {install_and_run:.1f} s with the environment's install, {time.monotonic() - started - install_and_run:.1f} s after")
