"""The ``collection`` registry kind (issue 15, point 2; point 3: presentation stays excluded).

A collection that selects its members (``pattern`` / ``op_id``, optional ``marker``) is covered:
its snapshots are sealed collection index runs, its delta records members added and removed as
``members/<run id>``, and a member re-sealed between two indexes is rewritten history. One that
selects none stays excluded exactly as in the seed. Real files in temporary directories; the
CLI in-process through :func:`govern.cli.main` unless the console script's contract is the point.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from delta_workspace import DeltaWorkspace
from helpers import run_govern

REPO = Path(__file__).resolve().parent.parent
MEMBERS = "*__eval_*"
INDEX = "collection/index.jsonl"


def _workspace(root: Path, registries: dict[str, dict[str, Any]], *, record_version: str = "0.2") -> DeltaWorkspace:
    """A workspace configuring ``registries`` with ``[workspace] record_version``."""
    workspace = DeltaWorkspace.create(root, registries)
    config_path = root / "registry_config.toml"
    import tomllib

    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    config["workspace"]["record_version"] = record_version
    config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return workspace


@pytest.fixture
def evals(tmp_path: Path) -> DeltaWorkspace:
    """A workspace whose collection ``evals`` selects the runs named ``*__eval_*``, beside an
    unconfigured collection ``legacy``; two members and a non-member are sealed."""
    workspace = _workspace(
        tmp_path / "ws",
        {
            "evals": {"kind": "collection", "pattern": MEMBERS},
            "legacy": {"kind": "collection", "artifact": "LEGACY.json", "reason": "Collection registry — individual per-run seals"},
        },
    )
    workspace.run("2024-01-01__000000__eval_a", {"result.json": '{"score": 1}\n'})
    workspace.run("2024-01-02__000000__eval_b", {"result.json": '{"score": 2}\n'})
    workspace.run("2024-01-02__000000__ingest", {"data.csv": "a\n"})
    return workspace


def govern(workspace: DeltaWorkspace, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``govern -C ROOT ARGS…`` in this process: (exit code, stdout, stderr)."""
    from govern.cli import main

    capsys.readouterr()
    code = main(["-C", str(workspace.root), *args], environ={"PATH": "/usr/bin:/bin"})
    out, err = capsys.readouterr()
    return code, out, err


def build(workspace: DeltaWorkspace, at: str, *args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """``delta build --snapshot-collections --at AT --json`` that must succeed; its JSON result."""
    code, out, err = govern(workspace, "--json", "delta", "build", "--snapshot-collections", "--at", at, *args, capsys=capsys)
    assert code == 0, out + err
    return json.loads(out)["result"]


def records(workspace: DeltaWorkspace, registry_id: str = "evals") -> list[dict[str, Any]]:
    """The latest build's records of one registry."""
    lines = workspace.log_bytes().splitlines()
    return [r for r in map(json.loads, lines) if r["registry_id"] == registry_id]


def index_runs(workspace: DeltaWorkspace, registry_id: str = "evals") -> list[str]:
    """The collection index runs of a registry, oldest first."""
    return sorted(p.name for p in workspace.runs.iterdir() if p.name.endswith(f"__{registry_id}"))


def index_members(workspace: DeltaWorkspace, run_id: str) -> list[dict[str, Any]]:
    """The lines of an index run's collection/index.jsonl."""
    return [json.loads(line) for line in (workspace.runs / run_id / INDEX).read_bytes().splitlines()]


# ----------------------------------------------------------------------------- the seed stays


def test_the_reference_config_reproduces_the_seed_with_both_collections_excluded(tmp_path: Path) -> None:
    """The reference workspace as written: 8 covered, 4 excluded (two collections among them,
    with the seed's reasons), 24 records — through the real console script."""
    root = tmp_path / "reference"
    shutil.copytree(REPO / ".codex", root / ".codex")
    shutil.copytree(REPO / "governance", root / "governance")
    shutil.copy(REPO / "registry_config.toml", root / "registry_config.toml")
    result = run_govern("-C", root, "--json", "delta", "build", "--at", "2026-02-04T00:00:00Z")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)["result"]
    assert (data["covered"], data["excluded"], data["skipped"], data["records_total"]) == (8, 4, 0, 24)
    excluded = {o["registry_id"]: o["reason"] for o in data["registries"] if o["status"] == "excluded"}
    assert excluded == {
        "threshold_registry_db": "External database — cannot compute manifest diffs from repo evidence",
        "validation_range_results": "Collection registry — no single sealed snapshot",
        "evidence_pack_registry": "Collection registry — individual per-run seals",
        "system_health_report": "Presentation-only — no active pointer, no meaningful delta semantics",
    }
    listing = run_govern("-C", root, "registry", "list")
    assert listing.returncode == 0, listing.stderr
    lines = {line.split()[0]: line for line in listing.stdout.splitlines() if line.startswith("  ")}
    assert "excluded by design: Presentation-only — no active pointer" in lines["system_health_report"]
    assert "excluded by design: Collection registry — no single sealed snapshot" in lines["validation_range_results"]
    report = run_govern("-C", root, "report", "completion")
    assert report.returncode == 0, report.stderr
    rows = [line for line in report.stdout.splitlines() if line.startswith("| system_health_report ")]
    assert rows and "Presentation-only — no active pointer, no meaningful delta semantics" in rows[0]
    rows = [line for line in report.stdout.splitlines() if line.startswith("| evidence_pack_registry ")]
    assert rows and "Collection registry — individual per-run seals" in rows[0]


def test_the_books_count_a_collection_as_sealed_only_once_it_selects_members(evals: DeltaWorkspace) -> None:
    from govern.config.workspace import load_workspace
    from govern.governance.registries import configured_entries
    from govern.host.manager import PluginHost

    host = PluginHost()
    host.load_plugins(entry_points=[])
    entries = {e.registry_id: e.sealed for e in configured_entries(load_workspace(explicit=evals.root), host)}
    assert entries == {"evals": True, "legacy": False}


# ----------------------------------------------------------------------------- index runs


def test_an_index_lists_the_sealed_members_sorted_and_is_deterministic(evals: DeltaWorkspace, tmp_path: Path) -> None:
    from govern.config.workspace import load_workspace
    from govern.host.manager import PluginHost
    from govern.log.registry_snapshots import take_snapshot
    from govern.runtime.clock import parse_utc

    twin = evals.copy(tmp_path / "twin")
    taken = []
    for workspace in (evals, twin):
        host = PluginHost()
        host.load_plugins(entry_points=[])
        loaded = load_workspace(explicit=workspace.root)
        taken.append(take_snapshot(loaded, host, loaded.registry("evals"), parse_utc("2024-02-01T00:00:00Z"), op_id="OP-QA12"))
    assert taken[0] == taken[1]  # same members + clock -> same ROOT_SHA256
    assert taken[0].run_id == "2024-02-01__000000__evals"
    run = evals.runs / taken[0].run_id
    assert (run / INDEX).read_bytes() == (twin.runs / taken[1].run_id / INDEX).read_bytes()
    assert index_members(evals, taken[0].run_id) == [
        {"files": 2, "manifest_sha256": evals.root_sha256("2024-01-01__000000__eval_a"), "run_id": "2024-01-01__000000__eval_a"},
        {"files": 2, "manifest_sha256": evals.root_sha256("2024-01-02__000000__eval_b"), "run_id": "2024-01-02__000000__eval_b"},
    ]
    envelope = json.loads((run / "run.json").read_bytes())
    assert envelope["op_id"] == "OP-QA12"
    assert envelope["params"] == {"registry_id": "evals", "selection": {"marker": None, "op_id": None, "pattern": MEMBERS}}
    assert not [p for p in evals.runs.iterdir() if p.name.startswith(".govern-tmp-")]


def test_a_member_sealed_after_an_index_appears_in_the_next_index_only(evals: DeltaWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    late = "2024-01-03__000000__eval_c"
    evals.run(late, {"result.json": '{"score": 3}\n'}, seal=False)  # still being written
    first = build(evals, "2024-03-01T00:00:00Z", capsys=capsys)
    assert [s["run_id"] for s in first["collection_snapshots"]] == ["2024-03-01__000000__evals"]
    assert late not in {m["run_id"] for m in index_members(evals, "2024-03-01__000000__evals")}
    _seal(evals, late)
    build(evals, "2024-03-02T00:00:00Z", capsys=capsys)
    assert index_runs(evals) == ["2024-03-01__000000__evals", "2024-03-02__000000__evals"]
    assert late in {m["run_id"] for m in index_members(evals, "2024-03-02__000000__evals")}
    bootstrap, transition = records(evals)
    assert bootstrap["added_paths"] == ["members/2024-01-01__000000__eval_a", "members/2024-01-02__000000__eval_b"]
    assert bootstrap["delta_basis"] == "member_diff" and bootstrap["to_ref"]["relpath"] == "collection"
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == ([f"members/{late}"], [], [])
    assert transition["counts"] == {"added": 1, "removed": 0, "modified": 0}
    # Members are runs, not files: member_diff finds no renames.
    assert bootstrap["renamed_paths"] == transition["renamed_paths"] == []


def _seal(workspace: DeltaWorkspace, run_id: str) -> None:
    from helpers import seal_in_process

    seal_in_process(workspace.runs / run_id, at="2024-01-31T00:00:00Z")


def test_an_unchanged_collection_makes_no_new_index(evals: DeltaWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    build(evals, "2024-03-01T00:00:00Z", capsys=capsys)
    again = build(evals, "2024-03-02T00:00:00Z", capsys=capsys)
    assert again["collection_snapshots"] == [] and again["up_to_date"]
    assert index_runs(evals) == ["2024-03-01__000000__evals"]


def test_a_removed_member_is_recorded_as_removed(evals: DeltaWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    build(evals, "2024-03-01T00:00:00Z", capsys=capsys)
    shutil.rmtree(evals.runs / "2024-01-01__000000__eval_a")
    evals.run("2024-03-01__120000__eval_d", {"result.json": "{}\n"})
    build(evals, "2024-03-02T00:00:00Z", capsys=capsys)
    transition = records(evals)[-1]
    assert transition["added_paths"] == ["members/2024-03-01__120000__eval_d"]
    assert transition["removed_paths"] == ["members/2024-01-01__000000__eval_a"]


def test_a_member_resealed_between_indexes_is_a_history_conflict(evals: DeltaWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    build(evals, "2024-03-01T00:00:00Z", capsys=capsys)
    member = evals.runs / "2024-01-02__000000__eval_b"
    (member / "result.json").write_text('{"score": 99}\n', encoding="utf-8")
    before = evals.root_sha256(member.name)
    after = evals.reseal(member.name)
    code, out, err = govern(evals, "delta", "build", "--snapshot-collections", "--at", "2024-03-02T00:00:00Z", capsys=capsys)
    assert code == 1, out + err
    assert err.startswith("govern: error: ") and "E_HISTORY_CONFLICT" in err and len(err.strip().splitlines()) == 1
    assert member.name in err and before in err and after in err
    assert len(evals.builds()) == 1  # no build written (the new index itself is a sealed snapshot, kept)
    code, out, err = govern(evals, "--json", "delta", "build", "--allow-unknown", "--at", "2024-03-03T00:00:00Z", capsys=capsys)
    assert code == 0, out + err
    transition = records(evals)[-1]
    assert transition["delta_basis"] == "unknown" and transition["counts"] == {"added": None, "removed": None, "modified": None}
    assert f"member run {member.name} was re-sealed" in transition["unknown_reason"]


def test_op_id_and_marker_select_members(tmp_path: Path) -> None:
    from helpers import seal_in_process

    workspace = _workspace(tmp_path / "ws", {"packs": {"kind": "collection", "op_id": "OP-EV01", "marker": "EVIDENCE_PACK"}})
    for run_id, op_id, files in [
        ("2024-01-01__000000__pack_one", "OP-EV01", {"EVIDENCE_PACK/a.txt": b"a\n"}),
        ("2024-01-02__000000__pack_two", "OP-EV02", {"EVIDENCE_PACK/b.txt": b"b\n"}),  # another op
        ("2024-01-03__000000__pack_three", "OP-EV01", {"notes.txt": b"no marker\n"}),  # no marker
    ]:
        from helpers import make_run

        seal_in_process(make_run(workspace.runs, run_id, files), op_id=op_id, at="2024-01-31T00:00:00Z")
    from govern.config.workspace import load_workspace
    from govern.host.manager import PluginHost
    from govern.log.registry_snapshots import take_snapshot
    from govern.runtime.clock import parse_utc

    host = PluginHost()
    host.load_plugins(entry_points=[])
    loaded = load_workspace(explicit=workspace.root)
    taken = take_snapshot(loaded, host, loaded.registry("packs"), parse_utc("2024-02-01T00:00:00Z"))
    assert [m["run_id"] for m in index_members(workspace, taken.run_id)] == ["2024-01-01__000000__pack_one"]


def test_snapshot_refuses_an_unconfigured_collection_and_other_kinds(evals: DeltaWorkspace) -> None:
    from govern.config.workspace import load_workspace
    from govern.errors import GovernError
    from govern.host.manager import PluginHost
    from govern.log.registry_snapshots import take_snapshot
    from govern.runtime.clock import parse_utc

    host = PluginHost()
    host.load_plugins(entry_points=[])
    loaded = load_workspace(explicit=evals.root)
    with pytest.raises(GovernError) as refused:
        take_snapshot(loaded, host, loaded.registry("legacy"), parse_utc("2024-02-01T00:00:00Z"))
    assert refused.value.code == "E_USAGE" and "registries.legacy selects no member runs" in refused.value.message
    assert index_runs(evals, "legacy") == []


def test_record_version_0_1_names_the_setting_to_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = _workspace(tmp_path / "ws", {"evals": {"kind": "collection", "pattern": MEMBERS}}, record_version="0.1")
    workspace.run("2024-01-01__000000__eval_a", {"result.json": "{}\n"})
    code, out, err = govern(workspace, "delta", "build", "--snapshot-collections", "--at", "2024-03-01T00:00:00Z", capsys=capsys)
    assert code == 2 and "E_RECORD_INVALID" in err and 'record_version = "0.2"' in err and "member_diff" in err
    assert workspace.builds() == []


# ----------------------------------------------------------------------------- bad config


@pytest.mark.parametrize(
    ("table", "key", "says"),
    [
        ({"kind": "collection", "pattern": ""}, "pattern", "is empty"),
        ({"kind": "collection", "pattern": "2024-[01*"}, "pattern", "unbalanced"),
        ({"kind": "collection", "pattern": "runs/*"}, "pattern", "only the characters"),
        ({"kind": "collection", "op_id": " "}, "op_id", "is empty"),
        ({"kind": "collection", "marker": "EVIDENCE_PACK"}, "marker", "set one of them"),
        ({"kind": "collection", "pattern": "*", "marker": "../x"}, "marker", ".."),
        ({"kind": "sealed", "artifact": "A.json", "pattern": "*"}, "pattern", "not a key of kind 'sealed' (kind collection uses it)"),
        ({"kind": "sealed", "artifact": "A.json", "marker": "EVIDENCE_PACK"}, "marker", "not a key of kind 'sealed' (kind collection uses it)"),
    ],
)
def test_bad_member_selection_is_one_line_config_error(tmp_path: Path, table: dict[str, Any], key: str, says: str) -> None:
    workspace = _workspace(tmp_path / "ws", {"evals": table})
    result = run_govern("-C", workspace.root, "registry", "list")
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and line.startswith("govern: error: ") and "Traceback" not in line
    assert f"registries.evals.{key}" in line and says in line and "E_CONFIG_INVALID" in line


def test_registry_add_keeps_the_reason_of_an_unconfigured_collection_without_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = _workspace(tmp_path / "ws", {})
    code, out, err = govern(workspace, "registry", "add", "packs", "--kind", "collection", "--reason", "Per-run seals", capsys=capsys)
    assert code == 0, out + err
    assert "never used" not in out + err
    code, out, err = govern(workspace, "registry", "list", capsys=capsys)
    assert "excluded by design: Per-run seals" in out


def test_registry_add_selects_collection_members_and_covers_it(evals: DeltaWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    """``registry add --pattern/--op-id/--marker`` writes the member selection: the collection is covered."""
    code, out, err = govern(evals, "registry", "add", "packs", "--kind", "collection", "--pattern", "*__eval_*", "--marker", "result.json", capsys=capsys)
    assert code == 0, out + err
    table = tomllib.loads((evals.root / "registry_config.toml").read_text(encoding="utf-8"))["registries"]["packs"]
    assert table == {"kind": "collection", "pattern": "*__eval_*", "marker": "result.json"}
    code, out, err = govern(evals, "--json", "registry", "show", "packs", capsys=capsys)
    assert code == 0, out + err
    assert json.loads(out)["result"]["status"] == "covered"


def test_registry_add_refuses_member_selection_on_another_kind(evals: DeltaWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    before = (evals.root / "registry_config.toml").read_bytes()
    code, out, err = govern(evals, "registry", "add", "packs", "--kind", "sealed", "--artifact", "A.json", "--op-id", "OP-QA07", capsys=capsys)
    assert code == 2 and "registries.packs.op_id" in err and "E_CONFIG_INVALID" in err
    assert (evals.root / "registry_config.toml").read_bytes() == before
