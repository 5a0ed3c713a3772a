"""Faults at the three moments of issue 13 point 5 not covered by tests/test_object_storage.py
(which fails a build's listing, GETs and puts): a put that fails mid-publish, a failed put of
a build's head object, and GETs that fail under ``verify --all``. Each ends in one clean
E_STORE_UNREACHABLE line (exit 2), leaves nothing committed or sealed, and a re-run completes.

The failures come from :class:`faulty_store.FaultyStore` around the real S3 store of a
SeaweedFS prefix (the S3 backend's own error once obstore's retries are spent).
"""

from __future__ import annotations

import json

import pytest

from commit_race import ARTIFACT, heads_in, race_clock, snapshot_files, snapshot_id
from faulty_store import FaultyStore, serve_through
from govern.log.commit import PUT_ATTEMPTS
from govern.store.backend import KeyNotFound
from helpers import RUN_ID
from publish_crash import payload, run_objects
from s3_workspace import S3Workspace

REGISTRIES = {"alpha": {"kind": "sealed", "artifact": ARTIFACT}}



def _one_clean_error(result) -> str:
    """The command failed with exit 2 and one E_STORE_UNREACHABLE line, no traceback; the line."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("govern: error: E_STORE_UNREACHABLE: s3://faulty/runs: "), result.stderr
    return lines[0]


def _held(store, expected: dict[str, bytes]) -> set[str]:
    held = set()
    for name, data in expected.items():
        try:
            held.update([name] if store.get(f"{RUN_ID}/{name}") == data else [])
        except KeyNotFound:
            pass
    return held


@pytest.mark.parametrize("fault", ["timeout", "500", "503"])
def test_a_put_failing_mid_publish_seals_nothing_and_a_rerun_completes(tmp_path, seaweedfs, monkeypatch, fault):
    """``govern publish`` whose 5th object's put fails after the client's retries: one
    E_STORE_UNREACHABLE line naming the key, exit 2; no seal in the bucket (the run is not
    visible as sealed); the re-run uploads exactly what is missing and seals it."""
    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, REGISTRIES)
    run_dir = ws.sealed_run(RUN_ID, payload(12, 2_000))
    expected = run_objects(run_dir)
    failing = f"{RUN_ID}/data/04.bin"
    faulty = FaultyStore(ws.store, {"put_file": fault, "put": fault}, keys=lambda key: key == failing)
    with monkeypatch.context() as patched:
        serve_through(patched, faulty)
        failed = ws.govern("publish", str(run_dir))
    assert failing in _one_clean_error(failed)
    assert faulty.failed == [failing]
    assert ws.store.stat(f"{RUN_ID}/MANIFEST.sha256") is None  # nothing sealed is visible
    held = _held(ws.store, expected)
    assert failing not in held and "MANIFEST.sha256" not in held
    verified = ws.govern("--json", "verify", "--all")
    assert verified.returncode == 0 and json.loads(verified.stdout)["result"]["unsealed"] == 1, verified.stdout + verified.stderr

    again = ws.govern("--json", "publish", str(run_dir))
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)["result"]
    assert (result["uploaded"], result["skipped"]) == (len(expected) - len(held), len(held))
    assert _held(ws.store, expected) == expected.keys()
    verified = ws.govern("--json", "verify", "--all")
    assert verified.returncode == 0 and json.loads(verified.stdout)["result"]["ok"] == 1, verified.stdout + verified.stderr


@pytest.mark.parametrize("fault", ["timeout", "500", "503"])
def test_a_failed_head_put_commits_nothing_and_a_rerun_completes(tmp_path, seaweedfs, monkeypatch, fault):
    """A build whose head put (``_log/<seq>.json``, the commit) fails after the client's
    retries: one E_STORE_UNREACHABLE line naming the head, exit 2; no head at that sequence
    number, its build run taken back (nothing of it in the bucket), the log as it was; the
    next build commits at that sequence number and ``verify --log`` passes."""
    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, REGISTRIES)
    ws.publish(snapshot_id(0), snapshot_files(0))
    assert ws.govern("delta", "build", "--at", race_clock(1)).returncode == 0
    ws.publish(snapshot_id(1), snapshot_files(1))
    before = {key: ws.store.get(key) for key, _ in ws.store.list()}
    head = f"_log/{2:020d}.json"
    faulty = FaultyStore(ws.store, {"put": fault}, keys=lambda key: key == head)
    with monkeypatch.context() as patched:
        serve_through(patched, faulty)
        failed = ws.govern("delta", "build", "--at", race_clock(2))
    assert head in _one_clean_error(failed)
    assert faulty.failed == [head] * PUT_ATTEMPTS  # tried again after looking for a lost answer
    assert {key: ws.store.get(key) for key, _ in ws.store.list()} == before  # nothing committed, nothing left
    assert ws.govern("verify", "--log").returncode == 0

    again = ws.govern("delta", "build", "--at", race_clock(3))
    assert again.returncode == 0, again.stderr
    heads = heads_in(ws.store)
    assert [(h["seq"], h["run_id"]) for h in heads[2:]] == [(2, "2024-03-01__000300__registry_delta_log_build")]
    assert [r["to_ref"]["run_id"] for r in ws.log_records(heads[2]["run_id"])] == [snapshot_id(0), snapshot_id(1)]
    verified = ws.govern("verify", "--all", "--log", "--strict")
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize("fault", ["timeout", "500", "503"])
def test_failing_gets_under_verify_all_are_one_clean_error(tmp_path, seaweedfs, monkeypatch, fault):
    """``verify --all`` streams every object in threads: GETs of one run's payload that fail
    after the client's retries give one E_STORE_UNREACHABLE line (however many threads hit
    it), exit 2 — never a run reported as tampered, never a traceback. The same command
    passes once the store answers."""
    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, REGISTRIES)
    for n in range(3):
        ws.publish(snapshot_id(n), {**snapshot_files(n), **payload(6, 1_000)})
    broken = snapshot_id(1)
    faulty = FaultyStore(ws.store, {"get": fault}, keys=lambda key: key.startswith(f"{broken}/data/"))
    with monkeypatch.context() as patched:
        serve_through(patched, faulty)
        failed = ws.govern("verify", "--all")
    assert broken in _one_clean_error(failed)
    assert "FAILED" not in failed.stdout and faulty.failed
    verified = ws.govern("--json", "verify", "--all")
    assert verified.returncode == 0 and json.loads(verified.stdout)["result"]["ok"] == 3, verified.stdout + verified.stderr
