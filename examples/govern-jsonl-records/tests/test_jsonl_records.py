"""Tests of the jsonl_records plugin, written with govern's helpers for plugin authors
(enabled in ../conftest.py: ``pytest_plugins = ["govern.testing"]``)."""

from __future__ import annotations

import json

import pytest

from govern.testing import ScratchWorkspace
from govern_jsonl_records import plugin
from govern_jsonl_records.records import keyed_records, record_changes

ARTIFACT = "RUNS.jsonl"
BUILD_AT = "2024-03-01T00:00:00Z"
#: Only this plugin, whether or not its distribution is installed too.
ONLY_THIS = {"GOVERN_LOAD_PLUGINS": ""}


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


@pytest.fixture
def workspace(govern_workspace: ScratchWorkspace) -> ScratchWorkspace:
    govern_workspace.add_registry("runs", kind="jsonl_records", artifact=ARTIFACT, options={"key": "run_id"})
    return govern_workspace


def build(workspace: ScratchWorkspace, *args: str):
    result = workspace.cli("delta", "build", "--at", BUILD_AT, *args, plugins={"jsonl_records": plugin}, env=ONLY_THIS)
    assert result.returncode == 0, result.stderr
    return result


# ---------------------------------------------------------------------------- the record diff


def test_records_are_keyed_and_compared_as_canonical_json():
    before = keyed_records(b'{"run_id": "a", "n": 1, "m": 2}\n{"run_id": 7, "n": 1}\n', "run_id")
    after = keyed_records(b'{"m": 2, "n": 1, "run_id": "a"}\n{"run_id": 7, "n": 1.0}\n{"run_id": "b"}\n', "run_id")
    assert before is not None and after is not None
    changes = record_changes(before, after)
    assert changes.added == {"b"}
    assert changes.removed == set()
    assert changes.modified == {"7"}  # 1 -> 1.0 is a change; re-ordered fields are not
    assert changes.paths("R.jsonl") == (["R.jsonl#b"], [], ["R.jsonl#7"])


@pytest.mark.parametrize(
    "data",
    [
        b"not json\n",
        b'{"run_id": "a"}\n{"run_id": "a"}\n',  # two records with one key
        b'{"other": 1}\n',  # no key
        b'{"run_id": true}\n',  # not a string or an integer
        b'{"run_id": null}\n',
        b"[1, 2]\n",  # not an object
        b'{"run_id": "a"}',  # torn last line
        b'{"run_id": "a"}\n\n',  # blank line
        b'{"run_id": 7}\n{"run_id": "7"}\n',  # 7 and "7" are one key
    ],
)
def test_anything_ambiguous_is_not_keyed_jsonl(data: bytes):
    assert keyed_records(data, "run_id") is None


def test_an_empty_artifact_has_no_records():
    assert keyed_records(b"", "run_id") == {}


# ---------------------------------------------------------------------------- the host


def test_the_kind_is_declared_with_its_required_keys(govern_host):
    host = govern_host(plugin)
    kind = host.registry_kinds()["jsonl_records"]
    assert kind.requires == ("artifact", "options.key")
    assert not kind.excluded


def test_its_delta_basis_runs_before_the_builtin_manifest_diff(govern_host):
    host = govern_host(("jsonl_records", plugin))
    order = [impl.plugin_name for impl in reversed(host.pm.hook.govern_delta_basis.get_hookimpls())]
    assert order.index("jsonl_records") < order.index("manifest_diff")


# ---------------------------------------------------------------------------- through the CLI


def test_a_build_records_changed_records_by_key(workspace: ScratchWorkspace):
    workspace.run("2024-01-01__000000__first", {ARTIFACT: jsonl({"run_id": "r1", "ok": True}, {"run_id": "r2", "ok": True})})
    workspace.run("2024-01-02__000000__second", {ARTIFACT: jsonl({"run_id": "r1", "ok": False}, {"run_id": "r3", "ok": True})})
    build(workspace)
    bootstrap, transition = workspace.log_records()
    assert bootstrap["delta_basis"] == "manifest_diff"
    assert bootstrap["added_paths"] == [ARTIFACT, f"{ARTIFACT}#r1", f"{ARTIFACT}#r2"]
    assert bootstrap["counts"] == {"added": 3, "removed": 0, "modified": 0}
    assert transition["added_paths"] == [f"{ARTIFACT}#r3"]
    assert transition["removed_paths"] == [f"{ARTIFACT}#r2"]
    assert transition["modified_paths"] == [ARTIFACT, f"{ARTIFACT}#r1"]
    # govern's own checks accept the log: canonical, schema-valid, chained.
    verified = workspace.cli("verify", "--log", plugins={"jsonl_records": plugin}, env=ONLY_THIS)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_delta_show_follows_one_record(workspace: ScratchWorkspace):
    workspace.run("2024-01-01__000000__first", {ARTIFACT: jsonl({"run_id": "r1", "v": 1})})
    workspace.run("2024-01-02__000000__second", {ARTIFACT: jsonl({"run_id": "r1", "v": 2}, {"run_id": "r2", "v": 1})})
    build(workspace)
    shown = workspace.cli("--json", "delta", "show", "--path", f"{ARTIFACT}#r1", plugins={"jsonl_records": plugin}, env=ONLY_THIS)
    assert shown.returncode == 0, shown.stderr
    records = shown.json()["result"]["records"]
    assert [r["to_ref"]["run_id"] for r in records] == ["2024-01-01__000000__first", "2024-01-02__000000__second"]


def test_an_artifact_that_is_not_jsonl_gets_the_plain_manifest_diff(workspace: ScratchWorkspace):
    workspace.run("2024-01-01__000000__first", {ARTIFACT: "this is not JSON\n"})
    workspace.run("2024-01-02__000000__second", {ARTIFACT: jsonl({"run_id": "r1"})})
    build(workspace)
    bootstrap, transition = workspace.log_records()
    assert bootstrap["added_paths"] == [ARTIFACT]
    assert transition["modified_paths"] == [ARTIFACT]  # one side is not keyed: files only
    assert transition["added_paths"] == []


def test_an_unsealed_snapshot_is_unknown_not_guessed(workspace: ScratchWorkspace):
    workspace.run("2024-01-01__000000__first", {ARTIFACT: jsonl({"run_id": "r1"})})
    workspace.run("2024-01-02__000000__legacy", {ARTIFACT: jsonl({"run_id": "r2"})}, seal=False)
    build(workspace, "--allow-unknown")
    bootstrap, transition = workspace.log_records()
    assert bootstrap["delta_basis"] == "manifest_diff"
    assert transition["delta_basis"] == "unknown"
    assert transition["counts"] == {"added": None, "removed": None, "modified": None}


def test_a_registry_without_a_key_field_is_a_configuration_error(govern_workspace: ScratchWorkspace):
    govern_workspace.add_registry("runs", kind="jsonl_records", artifact=ARTIFACT)
    result = govern_workspace.cli("registry", "list", plugins={"jsonl_records": plugin}, env=ONLY_THIS)
    assert result.returncode == 2
    assert "E_CONFIG_INVALID" in result.stderr and "registries.runs.options.key" in result.stderr


def test_registry_list_shows_the_kind_covered(workspace: ScratchWorkspace):
    workspace.run("2024-01-01__000000__first", {ARTIFACT: jsonl({"run_id": "r1"})})
    result = workspace.cli("--json", "registry", "list", plugins={"jsonl_records": plugin}, env=ONLY_THIS)
    assert result.returncode == 0, result.stderr
    (runs,) = result.json()["result"]["registries"]
    assert (runs["kind"], runs["status"], runs["snapshots"]) == ("jsonl_records", "covered", 1)
