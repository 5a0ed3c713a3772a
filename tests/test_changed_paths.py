"""``verify --changed`` and ``validate --changed`` (issue 17, CI integration): the files of a
commit, as pre-commit passes them (relative to the repository's root), mapped to the runs and
registry artifacts that hold them; docs/ci.md.

In-process and fast: the mapping itself (which runs a set of paths selects) as a pure function
and as a hypothesis property, then the commands over a real workspace in a temporary folder.
The pre-commit hooks themselves, installed by pre-commit from this repository, are exercised in
``test_pre_commit_hooks.py``.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delta_workspace import DeltaWorkspace
from govern.runs.changed_paths import changed_runs
from helpers import run_govern

RUN_A = "2024-01-02__030405__alpha"
RUN_B = "2024-01-03__030405__beta"
RUN_C = "2024-01-04__030405__gamma"
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["run_id"],
    "properties": {"run_id": {"type": "string"}},
}


# --- the mapping ---------------------------------------------------------------------------------


def test_paths_select_the_runs_holding_them_and_nothing_else(tmp_path: Path) -> None:
    """Relative paths are read from the current directory (the repository's root for a hook);
    paths outside the runs root, or in it but in no run folder, are listed as outside; a file
    deleted in the commit still names its run (nothing is read)."""
    runs_root = tmp_path / "ws" / ".codex" / "RUNS"
    (runs_root / RUN_A / "data").mkdir(parents=True)
    (runs_root / RUN_A / "data" / "x.csv").write_bytes(b"x\n")
    given_paths = [
        f"ws/.codex/RUNS/{RUN_A}/data/x.csv",
        f"ws/.codex/RUNS/{RUN_A}/run.json",
        f"ws/.codex/RUNS/{RUN_B}/gone.txt",  # deleted: its run folder need not exist either
        f"./ws/.codex/RUNS/{RUN_A}/./data/../data/x.csv",  # the same file, spelt otherwise
        "README.md",
        "ws/registry_config.toml",
        "ws/.codex/RUNS/.govern.lock",
        "ws/.codex/RUNS/not_a_run/file.txt",
        "../elsewhere.txt",
    ]
    found = changed_runs(given_paths, runs_root, cwd=tmp_path)
    assert found.runs == ((RUN_A, ("data/x.csv", "run.json")), (RUN_B, ("gone.txt",)))
    assert found.outside == (
        "README.md",
        "ws/registry_config.toml",
        "ws/.codex/RUNS/.govern.lock",
        "ws/.codex/RUNS/not_a_run/file.txt",
        "../elsewhere.txt",
    )


def test_absolute_paths_symlinked_folders_and_the_run_folder_itself(tmp_path: Path) -> None:
    """An absolute path, a path through a symlinked folder and a run folder named alone all
    select their run; a symlink planted in a run names that run (it is not followed out)."""
    runs_root = tmp_path / "RUNS"
    (runs_root / RUN_A).mkdir(parents=True)
    (tmp_path / "link").symlink_to(runs_root)
    (runs_root / RUN_A / "escape").symlink_to(tmp_path)
    found = changed_runs(
        [runs_root / RUN_A / "a.txt", f"link/{RUN_A}/b.txt", f"RUNS/{RUN_C}", f"RUNS/{RUN_A}/escape"],
        runs_root,
        cwd=tmp_path,
    )
    assert found.runs == ((RUN_A, ("a.txt", "b.txt", "escape")), (RUN_C, ()))
    assert found.outside == ()


def test_names_are_matched_in_nfc_as_manifests_write_them(tmp_path: Path) -> None:
    """A name passed decomposed (NFD, as some file systems give it) matches the manifest's NFC."""
    decomposed = unicodedata.normalize("NFD", "déjà.txt")
    found = changed_runs([f"{RUN_A}/{decomposed}"], tmp_path, cwd=tmp_path)
    assert found.runs == ((RUN_A, (unicodedata.normalize("NFC", "déjà.txt"),)),)


_SEGMENT = st.text(alphabet="abcxyz019_-.", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))
_RUN_IDS = st.sampled_from([RUN_A, RUN_B, RUN_C])


@settings(max_examples=60, deadline=None)
@given(
    inside=st.lists(st.tuples(_RUN_IDS, st.lists(_SEGMENT, min_size=1, max_size=3)), max_size=8),
    outside=st.lists(st.lists(_SEGMENT, min_size=1, max_size=3), max_size=5),
)
def test_each_path_selects_exactly_its_run(tmp_path_factory: pytest.TempPathFactory, inside, outside) -> None:
    """Property: every path under ``RUNS/<run id>/`` selects that run with its inside path;
    every path under a sibling folder of the runs root selects nothing."""
    root = tmp_path_factory.mktemp("changed")
    runs_root = root / "RUNS"
    paths = [f"RUNS/{run_id}/{'/'.join(parts)}" for run_id, parts in inside]
    others = [f"other/{'/'.join(parts)}" for parts in outside]
    found = changed_runs(paths + others, runs_root, cwd=root)
    expected: dict[str, set[str]] = {}
    for run_id, parts in inside:
        expected.setdefault(run_id, set()).add("/".join(parts))
    assert found.runs == tuple((run_id, tuple(sorted(expected[run_id]))) for run_id in sorted(expected))
    assert found.outside == tuple(others)


# --- the commands --------------------------------------------------------------------------------


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, DeltaWorkspace]:
    """A repository folder holding a workspace in ``ws/`` (as a git repository would), with
    three sealed runs of a registry with a schema: alpha and beta valid, gamma's artifact
    invalid."""
    repo = tmp_path / "repo"
    workspace = DeltaWorkspace.create(
        repo / "ws",
        {"run_registry": {"kind": "sealed", "artifact": "RUN_REGISTRY.jsonl", "schema": "schemas/run_registry.schema.json"}},
    )
    (workspace.root / "schemas" / "run_registry.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    for run_id, record in ((RUN_A, {"run_id": "a"}), (RUN_B, {"run_id": "b"}), (RUN_C, {"run_id": 3})):
        workspace.run(run_id, {"RUN_REGISTRY.jsonl": json.dumps(record) + "\n", "notes/readme.txt": f"{run_id}\n"})
    return repo, workspace


def _in_run(run_id: str, path: str) -> str:
    """A run's file as pre-commit passes it: relative to the repository's root."""
    return f"ws/.codex/RUNS/{run_id}/{path}"


def test_verify_changed_checks_only_the_runs_holding_the_changed_files(repository) -> None:
    """A tampered run no changed file is in is not verified (the hook checks the commit, not
    the history); once a changed file is in it, it fails, named; paths in no run are ignored."""
    repo, workspace = repository
    (workspace.runs / RUN_C / "notes" / "readme.txt").write_text("tampered\n", encoding="utf-8")
    clean = run_govern("-C", "ws", "verify", "--changed", _in_run(RUN_A, "notes/readme.txt"), "README.md", "ws/registry_config.toml", cwd=repo)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert RUN_A in clean.stdout and RUN_C not in clean.stdout and RUN_B not in clean.stdout
    assert "1 run: 1 ok, 0 failed" in clean.stdout

    tampered = run_govern("verify", "--changed", "-C", "ws", _in_run(RUN_A, "run.json"), _in_run(RUN_C, "notes/readme.txt"), cwd=repo)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert f"FAILED  {RUN_C}" in tampered.stdout and "E_SIZE_MISMATCH" in tampered.stdout
    assert "2 runs: 1 ok, 1 failed" in tampered.stdout


def test_verify_changed_json_lists_the_runs_verified(repository) -> None:
    """--json: the runs verified are exactly those holding a changed file."""
    repo, _workspace = repository
    result = run_govern("--json", "-C", "ws", "verify", "--changed", _in_run(RUN_B, "RUN_REGISTRY.jsonl"), _in_run(RUN_A, "x"), cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert [run["run_id"] for run in document["result"]["runs"]] == [RUN_A, RUN_B]


def test_verify_changed_with_no_file_in_a_run_passes_with_nothing_checked(repository) -> None:
    """A commit that touches no run: nothing to verify is a pass (exit 0), not a usage error."""
    repo, _workspace = repository
    result = run_govern("-C", "ws", "verify", "--changed", "README.md", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 runs: 0 ok, 0 failed" in result.stdout


def test_verify_changed_unsealed_and_deleted_runs_are_warnings(repository) -> None:
    """A run being committed without its seal is listed as unsealed, as --all does; a run
    folder deleted whole (pre-commit never passes it; a person may) is a warning naming it."""
    repo, workspace = repository
    workspace.run("2024-01-05__030405__draft", {"notes.txt": "wip\n"}, seal=False)
    result = run_govern(
        "-C", "ws", "verify", "--changed", _in_run("2024-01-05__030405__draft", "notes.txt"), _in_run("2024-01-06__030405__gone", "x"), cwd=repo
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2024-01-05__030405__draft: unsealed" in result.stderr
    assert "2024-01-06__030405__gone: no such run folder" in result.stderr
    assert "1 run: 0 ok, 0 failed, 1 unsealed (not checked)" in result.stdout


def test_changed_without_a_workspace_names_the_hook_argument(tmp_path: Path) -> None:
    """From a repository root with the workspace in a sub-folder and no -C: one error line
    naming the missing config and how a hook names the workspace (exit 2)."""
    for command in ("verify", "validate"):
        result = run_govern(command, "--changed", "ws/.codex/RUNS/x", cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("govern: error: E_WORKSPACE_NOT_FOUND: no registry_config.toml in")
        assert "args: [-C, path/to/workspace]" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_changed_refuses_all_and_schema(repository) -> None:
    """--changed selects its own runs: with --all (verify) or --schema (validate) it is a usage error."""
    repo, _workspace = repository
    result = run_govern("-C", "ws", "verify", "--changed", "--all", "x", cwd=repo)
    assert result.returncode == 2 and "E_USAGE: --changed" in result.stderr and "not with --all" in result.stderr
    result = run_govern("-C", "ws", "validate", "--changed", "--schema", "s.json", "x", cwd=repo)
    assert result.returncode == 2 and "E_USAGE: --changed" in result.stderr and "not with --schema" in result.stderr


def test_changed_refuses_a_runs_root_on_object_storage(repository) -> None:
    """A runs root on s3:// has no run folders for a commit's files to be in: E_USAGE, said so."""
    repo, workspace = repository
    config = workspace.root / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('runs_root = ".codex/RUNS"', 'runs_root = "s3://bucket/RUNS"'), encoding="utf-8")
    result = run_govern("-C", "ws", "verify", "--changed", "x", cwd=repo)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "E_USAGE" in result.stderr and "--changed" in result.stderr and "s3://bucket/RUNS" in result.stderr


def test_validate_changed_validates_the_changed_artifacts_only(repository) -> None:
    """Of the changed files, those that are a registry's artifact in a run are validated against
    its schema; an invalid artifact not among them is not read; one among them fails, named."""
    repo, _workspace = repository
    valid = run_govern("-C", "ws", "validate", "--changed", _in_run(RUN_A, "RUN_REGISTRY.jsonl"), _in_run(RUN_C, "notes/readme.txt"), "README.md", cwd=repo)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert f"OK       .codex/RUNS/{RUN_A}/RUN_REGISTRY.jsonl  1 record  registry run_registry" in valid.stdout
    assert "1 file checked: 1 valid, 0 invalid" in valid.stdout

    invalid = run_govern("-C", "ws", "validate", "--changed", _in_run(RUN_B, "RUN_REGISTRY.jsonl"), _in_run(RUN_C, "RUN_REGISTRY.jsonl"), cwd=repo)
    assert invalid.returncode == 1, invalid.stdout + invalid.stderr
    assert f"INVALID  .codex/RUNS/{RUN_C}/RUN_REGISTRY.jsonl" in invalid.stdout
    assert "2 files checked: 1 valid, 1 invalid" in invalid.stdout


def test_validate_changed_folder_artifact_and_deleted_file(tmp_path: Path) -> None:
    """A document under a folder artifact is validated; a file deleted in the commit (no longer
    there) and a non-document under the folder are passed over."""
    workspace = DeltaWorkspace.create(
        tmp_path / "ws", {"tables": {"kind": "sealed", "artifact": "tables", "schema": "schemas/row.schema.json"}}
    )
    (workspace.root / "schemas" / "row.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    workspace.run(RUN_A, {"tables/a.json": '{"run_id": 1}\n', "tables/b.json": '{"run_id": "b"}\n', "tables/c.txt": "not json\n"})
    runs = os.path.join(".codex", "RUNS", RUN_A)
    result = run_govern(
        "validate", "--changed", f"{runs}/tables/a.json", f"{runs}/tables/c.txt", f"{runs}/tables/deleted.json", cwd=workspace.root
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"INVALID  .codex/RUNS/{RUN_A}/tables/a.json" in result.stdout
    assert "1 file checked: 0 valid, 1 invalid" in result.stdout
