"""Issue 16, the build side of registries kept outside the runs root (OCFL, BagIt, git):
source versions become records with ``source_ref``s, a rewritten recorded version is a history
conflict, a version that does not validate stops the build (or is ``unknown`` under
``--allow-unknown``), and ``verify --log``, ``validate`` and ``delta show`` read them.

Exercised through the tiny ``folder_versions`` kind of ``tests/source_kind.py``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govern.format.models import SourceVersion, source_listing
from govern.log.source_records import source_delta
from source_kind import BROKEN, KIND, FolderVersions, SourceWorkspace

AT = ["--at", "2024-06-01T00:00:00Z"]
LATER = ["--at", "2024-06-02T00:00:00Z"]
PLUGINS = {"folder_versions": FolderVersions()}


def write_version(ws: SourceWorkspace, name: str, files: dict[str, str]) -> Path:
    folder = ws.root / "versions" / name
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def ws(tmp_path: Path) -> SourceWorkspace:
    """Three versions: v1 {a, b}, v2 (a modified, c added), v3 (b removed)."""
    workspace = SourceWorkspace.create(tmp_path / "ws", {"archive": {"kind": KIND, "path": "versions"}})
    write_version(workspace, "v1", {"a.txt": "one", "b.txt": "two"})
    write_version(workspace, "v2", {"a.txt": "ONE", "b.txt": "two", "d/c.txt": "three"})
    write_version(workspace, "v3", {"a.txt": "ONE", "d/c.txt": "three"})
    return workspace


def cli(ws: SourceWorkspace, *args: str):
    return ws.cli(*args, plugins=PLUGINS)


def listing_sha256_by_coreutils(folder: Path) -> str:
    """The version's listing as ``sha256sum`` writes it, sorted by path bytes (an independent oracle)."""
    paths = sorted((p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()), key=lambda p: p.encode())
    out = subprocess.run(["sha256sum", "--", *paths], cwd=folder, check=True, capture_output=True).stdout
    return hashlib.sha256(out).hexdigest()


def test_versions_become_records_with_source_refs_and_manifest_diffs(ws: SourceWorkspace):
    built = cli(ws, "delta", "build", *AT)
    assert built.returncode == 0, built.stdout + built.stderr
    records = ws.log_records()
    assert [(r["to_ref"]["version"], r["delta_basis"], r["added_paths"], r["removed_paths"], r["modified_paths"]) for r in records] == [
        ("v1", "manifest_diff", ["a.txt", "b.txt"], [], []),
        ("v2", "manifest_diff", ["d/c.txt"], [], ["a.txt"]),
        ("v3", "manifest_diff", [], ["b.txt"], []),
    ]
    first, second, _ = records
    assert first["from_ref"] is None and first["delta_version"] == "0.2"
    assert second["from_ref"] == first["to_ref"]
    assert set(first["to_ref"]) == {"source", "location", "version", "pin", "manifest_sha256"}
    assert first["to_ref"]["source"] == KIND and first["to_ref"]["location"] == "versions"
    assert first["to_ref"]["manifest_sha256"] == listing_sha256_by_coreutils(ws.root / "versions" / "v1")
    # Nothing new: up to date, no run; a new version: one record linked to the last.
    assert "up to date" in cli(ws, "delta", "build", *LATER).stdout
    write_version(ws, "v4", {"a.txt": "ONE"})
    again = cli(ws, "delta", "build", *LATER)
    assert again.returncode == 0, again.stderr
    records = ws.log_records()
    assert len(records) == 4 and records[3]["from_ref"] == records[2]["to_ref"] and records[3]["removed_paths"] == ["d/c.txt"]
    assert cli(ws, "verify", "--log").returncode == 0
    validated = cli(ws, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_delta_show_names_the_version_and_location(ws: SourceWorkspace):
    assert cli(ws, "delta", "build", *AT).returncode == 0
    shown = cli(ws, "delta", "show", "--registry", "archive")
    assert shown.returncode == 0, shown.stderr
    assert "archive: versions@v1 → versions@v2" in shown.stdout
    transitions = cli(ws, "--json", "delta", "show").json()["result"]["transitions"]
    assert [(t["from_version"], t["to_version"], t["to_run_id"]) for t in transitions] == [
        (None, "versions@v1", None),
        ("versions@v1", "versions@v2", None),
        ("versions@v2", "versions@v3", None),
    ]


def test_a_rewritten_last_recorded_version_is_a_history_conflict_and_nothing_is_written(ws: SourceWorkspace):
    assert cli(ws, "delta", "build", *AT).returncode == 0
    builds = sorted(p.name for p in ws.runs_root.iterdir())
    (ws.root / "versions" / "v3" / "a.txt").write_text("rewritten", encoding="utf-8")
    write_version(ws, "v4", {"a.txt": "x"})
    built = cli(ws, "delta", "build", *LATER)
    assert built.returncode == 1
    assert "E_HISTORY_CONFLICT" in built.stderr and "archive" in built.stderr and "v3" in built.stderr
    assert sorted(p.name for p in ws.runs_root.iterdir()) == builds
    verified = cli(ws, "verify", "--log")
    assert verified.returncode == 1 and "E_HISTORY_CONFLICT" in verified.stdout + verified.stderr


def test_a_removed_recorded_version_is_a_history_conflict(ws: SourceWorkspace):
    assert cli(ws, "delta", "build", *AT).returncode == 0
    shutil.rmtree(ws.root / "versions" / "v3")
    built = cli(ws, "delta", "build", *LATER)
    assert built.returncode == 1 and "E_HISTORY_CONFLICT" in built.stderr and "v3" in built.stderr


def test_verify_log_rechecks_every_recorded_version_not_only_the_last(ws: SourceWorkspace):
    assert cli(ws, "delta", "build", *AT).returncode == 0
    (ws.root / "versions" / "v1" / "b.txt").write_text("rewritten", encoding="utf-8")
    verified = cli(ws, "verify", "--log")
    assert verified.returncode == 1
    out = verified.stdout + verified.stderr
    assert "E_HISTORY_CONFLICT" in out and "archive @ versions@v1" in out


def test_a_version_that_does_not_validate_stops_the_build(ws: SourceWorkspace):
    (ws.root / "versions" / "v2" / BROKEN).write_text("E040 bad inventory", encoding="utf-8")
    built = cli(ws, "delta", "build", *AT)
    assert built.returncode == 1
    assert "E_SNAPSHOT_UNVERIFIED" in built.stderr and "archive @ versions@v2" in built.stderr and "E040 bad inventory" in built.stderr
    assert ws.latest_build() is None


def test_allow_unknown_records_transitions_touching_a_broken_version_as_unknown(ws: SourceWorkspace):
    (ws.root / "versions" / "v2" / BROKEN).write_text("E040 bad inventory", encoding="utf-8")
    built = cli(ws, "delta", "build", "--allow-unknown", *AT)
    assert built.returncode == 0, built.stderr
    records = ws.log_records()
    assert [(r["to_ref"]["version"], r["delta_basis"], r["counts"]["added"]) for r in records] == [
        ("v1", "manifest_diff", 2),
        ("v2", "unknown", None),
        ("v3", "unknown", None),
    ]
    assert "E040 bad inventory" in records[1]["unknown_reason"] and "from version v2" in records[2]["unknown_reason"]
    assert cli(ws, "verify", "--log").returncode == 0
    assert cli(ws, "validate").returncode == 0


def test_a_source_kind_needs_record_version_0_2(tmp_path: Path):
    class OldRecords(SourceWorkspace):
        record_version = "0.1"

    ws = OldRecords.create(tmp_path / "ws", {"archive": {"kind": KIND, "path": "versions"}})
    write_version(ws, "v1", {"a.txt": "one"})
    built = cli(ws, "delta", "build", *AT)
    assert built.returncode == 2
    assert "E_RECORD_INVALID" in built.stderr and "archive" in built.stderr and 'record_version = "0.2"' in built.stderr
    assert ws.latest_build() is None


def test_registry_list_shows_a_source_registry_covered_with_its_last_recorded_version(ws: SourceWorkspace):
    assert cli(ws, "delta", "build", *AT).returncode == 0
    listed = cli(ws, "registry", "list")
    assert listed.returncode == 0, listed.stderr
    assert "archive" in listed.stdout and "covered: versions kept where they are" in listed.stdout
    assert "last recorded versions@v3 (3 records)" in listed.stdout
    (registry,) = cli(ws, "--json", "registry", "list").json()["result"]["registries"]
    assert registry["status"] == "covered" and registry["last_recorded"]["version"] == "v3"


def test_the_reports_rebuild_a_source_registry_identically_and_ignore_versions_added_since(ws: SourceWorkspace):
    assert cli(ws, "delta", "build", *AT).returncode == 0
    write_version(ws, "v4", {"a.txt": "later"})  # not in the latest build: the rebuild must not take it
    report = cli(ws, "--json", "report", "validation")
    checks = {check["name"]: check for check in report.json()["result"]["context"]["checks"]}
    assert checks["determinism"]["status"] == "passed", checks["determinism"]
    assert checks["payloads at record time"]["status"] != "failed", checks["payloads at record time"]


# ------------------------------------------------------------------------------ properties

_paths = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8)
_states = st.dictionaries(_paths, st.sampled_from(["a" * 64, "b" * 64, "c" * 64]), max_size=12)


@given(_states, _states)
def test_a_source_delta_is_the_plain_set_difference_of_two_states(before: dict[str, str], after: dict[str, str]):
    found = source_delta(SourceVersion("v1", "x", "sha256:" + "0" * 64, before), SourceVersion("v2", "x", "sha256:" + "0" * 64, after))
    # Renames (a removed and an added path with one digest) are the same rule as for sealed runs.
    assert all(before[old] == after[new] for old, new in found.renamed)
    delta = found.without_renames()
    assert delta.added == tuple(sorted(after.keys() - before.keys()))
    assert delta.removed == tuple(sorted(before.keys() - after.keys()))
    assert delta.modified == tuple(sorted(p for p in after.keys() & before.keys() if after[p] != before[p]))


#: Any code point, lone surrogates (what surrogateescape makes of undecodable bytes) often.
_any_char = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr), st.integers(0xE000, 0x10FFFF).map(chr))


@given(st.lists(st.text(_any_char, max_size=6), max_size=20, unique=True))
def test_code_point_order_is_utf8_byte_order_surrogates_included(paths: list[str]):
    """The fast rule source_listing sorts by (str order) equals its stated rule (UTF-8 bytes)."""
    assert sorted(paths) == sorted(paths, key=lambda p: p.encode("utf-8", "surrogatepass"))


@given(_states)
def test_a_listing_is_sorted_by_utf8_bytes_one_sha256sum_line_per_path(state: dict[str, str]):
    lines = source_listing(state).decode("utf-8").split("\n")
    assert lines == [f"{state[p]}  {p}" for p in sorted(state, key=lambda p: p.encode("utf-8"))] + [""]
