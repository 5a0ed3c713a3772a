"""A runs root that does not exist is refused, never read as an empty history (issue 11, point 2).

The scenario of the issue: ``runs_root = ".codex/RUN"`` (a typo for ``.codex/RUNS``) made
``verify --all`` say "0 verified", ``verify --log`` "intact: 0 builds" and ``delta build``
"up to date", all exit 0 — and the lock file was created in the typo'd folder. Every command
that loads the workspace now refuses it (exit 2, E_RUNS_ROOT_MISSING, one line naming the
configured value, the resolved path and the key) and creates nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import DEFAULT_AT, RUN_ID, make_run, run_govern, seal_in_process, tree_state

TYPO = ".codex/RUN"


@pytest.fixture
def typo_workspace(workspace: Path, runs_root: Path) -> Path:
    """A workspace whose history is real (a sealed run with a registry artifact, and a build)
    but whose config points the runs root at a folder that does not exist."""
    config = workspace / "registry_config.toml"
    text = config.read_text(encoding="utf-8") + '\n[registries.run_registry]\nkind = "sealed"\nartifact = "R.jsonl"\n'
    config.write_text(text, encoding="utf-8")
    seal_in_process(make_run(runs_root, RUN_ID, {"R.jsonl": b"{}\n"}))
    assert run_govern("-C", workspace, "delta", "build", "--at", DEFAULT_AT).returncode == 0
    config.write_text(text.replace('runs_root = ".codex/RUNS"', f'runs_root = "{TYPO}"'), encoding="utf-8")
    return workspace


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--all"],
        ["verify", "--log"],
        ["verify", RUN_ID],
        ["delta", "build", "--at", DEFAULT_AT],
        ["delta", "build", "--dry-run", "--at", DEFAULT_AT],
        ["delta", "show"],
        ["registry", "list"],
        ["registry", "show", "run_registry"],
        ["report", "validation"],
        ["report", "completion"],
        ["governance", "check"],
        ["governance", "sync", "--at", DEFAULT_AT],
        ["validate"],
        ["repair", "--log"],
    ],
    ids=lambda args: " ".join(args[:3]),
)
def test_every_command_refuses_a_runs_root_that_does_not_exist_and_creates_nothing(typo_workspace: Path, args: list[str]):
    before = tree_state(typo_workspace)
    result = run_govern("-C", typo_workspace, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr_lines == [
        f"govern: error: E_RUNS_ROOT_MISSING: {typo_workspace / 'registry_config.toml'}: workspace.runs_root = '{TYPO}': "
        f"{typo_workspace / TYPO} does not exist; fix workspace.runs_root, or create the folder if the value is right"
    ]
    assert not (typo_workspace / TYPO).exists()
    assert tree_state(typo_workspace) == before


def test_json_mode_carries_the_code(typo_workspace: Path):
    result = run_govern("-C", typo_workspace, "--json", "verify", "--all", "--log")
    assert result.returncode == 2
    error = result.json()["error"]
    assert error["code"] == "E_RUNS_ROOT_MISSING" and TYPO in error["message"]


def test_a_runs_root_that_is_a_file_is_not_a_directory(typo_workspace: Path):
    (typo_workspace / TYPO).write_bytes(b"")
    result = run_govern("-C", typo_workspace, "verify", "--all")
    assert result.returncode == 2
    assert result.stderr_lines == [
        f"govern: error: E_NOT_A_DIRECTORY: {typo_workspace / 'registry_config.toml'}: workspace.runs_root = '{TYPO}': "
        f"{typo_workspace / TYPO} is not a directory"
    ]


def test_commands_that_never_touch_the_runs_root_still_work(typo_workspace: Path, tmp_path: Path):
    # `plugins list`, `seal RUN_DIR` and `verify RUN_DIR` by path work on the folder given
    # (or on nothing of the workspace); `validate FILE` reads the file and the config's schemas.
    real_run = typo_workspace / ".codex/RUNS" / RUN_ID
    elsewhere = make_run(tmp_path / "elsewhere", "2024-05-06__070809__other", {"x.txt": b"x\n"})
    assert run_govern("-C", typo_workspace, "plugins", "list").returncode == 0
    assert run_govern("-C", typo_workspace, "seal", elsewhere, "--at", DEFAULT_AT).returncode == 0
    assert run_govern("-C", typo_workspace, "verify", real_run).returncode == 0
    log = next((typo_workspace / ".codex/RUNS").glob("*__registry_delta_log_build")) / "REGISTRY_DELTA_LOG_v0_1.jsonl"
    validated = run_govern("-C", typo_workspace, "validate", log)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert not (typo_workspace / TYPO).exists()


def test_init_still_creates_the_runs_root(tmp_path: Path):
    assert run_govern("init", tmp_path / "fresh").returncode == 0
    assert (tmp_path / "fresh" / ".codex/RUNS").is_dir()
    assert run_govern("-C", tmp_path / "fresh", "verify", "--all").returncode == 0
