"""Issue 14 point 1: every delta-log build seals its Merkle tree (``outputs.log_tree``) and its
checkpoint, signed with ``--key`` / ``GOVERN_SIGNING_KEY`` or unsigned (and said so); the next
build extends the sealed tree with the new records only (docs/delta-log.md, docs/transparency.md).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from delta_workspace import LOG_NAME, DeltaWorkspace, assert_refused, build_at, build_id
from govern.format import merkle
from govern.format.checkpoint import parse_checkpoint
from govern.format.merkle import CompactRange, root_of_records
from govern.format.note import open_note
from govern.format.note_keys import parse_verifier_key
from govern.testing import invoke_cli
from helpers import run_govern, seal_in_process

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from demo import copy_reference_workspace  # noqa: E402

#: The seed's clock (scripts/demo.py).
SEED_CLOCK = "2026-02-04T09:00:00Z"
SEED_BUILD = "2026-02-04__090000__registry_delta_log_build"
DEFAULT_ORIGIN = "govern/.codex/RUNS/REGISTRY_DELTA_LOG_v0_1.jsonl"


def _keygen(tmp_path: Path, name: str = "audit.example/govern") -> tuple[Path, str]:
    key = tmp_path / f"{name.replace('/', '_')}.key"
    made = run_govern("log", "keygen", name, "--out", key)
    assert made.returncode == 0, made.stderr
    return key, made.stdout.strip()


def _reference(root: Path) -> Path:
    root.mkdir(parents=True)
    copy_reference_workspace(root)
    return root


def _lines(log: bytes) -> list[bytes]:
    return log.split(b"\n")[:-1]


def test_a_signed_build_of_the_reference_workspace_verifies_with_the_printed_key(tmp_path: Path):
    key, verifier_key = _keygen(tmp_path)
    workspace = _reference(tmp_path / "ws")
    built = run_govern("-C", workspace, "delta", "build", "--at", SEED_CLOCK, "--key", key)
    assert built.returncode == 0, built.stderr
    run = workspace / ".codex" / "RUNS" / SEED_BUILD
    log = (run / LOG_NAME).read_bytes()
    assert len(_lines(log)) == 24  # the seed's reproduction is unchanged

    note = open_note((run / "checkpoint").read_bytes(), [parse_verifier_key(verifier_key)])
    checkpoint = parse_checkpoint(note.text)
    assert (checkpoint.origin, checkpoint.size) == (DEFAULT_ORIGIN, 24)
    assert checkpoint.root_hash == root_of_records(_lines(log))
    envelope = json.loads((run / "run.json").read_bytes())
    assert envelope["outputs"]["log_tree"] == CompactRange.of(map(merkle.leaf_hash, _lines(log))).to_json()
    manifest_paths = [entry["path"] for entry in json.loads((run / "manifest.json").read_bytes())["files"]]
    assert "checkpoint" in manifest_paths  # sealed with the build
    assert f"checkpoint {DEFAULT_ORIGIN} size 24 root " in built.stdout and "signed by audit.example/govern" in built.stdout
    verified = run_govern("-C", workspace, "verify", "--all", "--log")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_signing_key_may_come_from_govern_signing_key_and_json_says_who_signed(tmp_path: Path):
    key, _ = _keygen(tmp_path)
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    ws.run("2024-01-01__000000__a", {"A.json": "1\n"})
    built = ws.govern("--json", "delta", "build", "--at", build_at(1), env={"GOVERN_SIGNING_KEY": str(key)})
    assert built.returncode == 0, built.stderr
    checkpoint = built.json()["result"]["checkpoint"]
    assert checkpoint["signed_by"] == ["audit.example/govern"] and checkpoint["size"] == 1
    assert checkpoint["origin"] == DEFAULT_ORIGIN
    assert checkpoint["root"] == merkle._b64(root_of_records(_lines(ws.log_bytes())))


def test_without_a_key_the_checkpoint_is_the_text_alone_and_the_build_says_unsigned(tmp_path: Path):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    ws.run("2024-01-01__000000__a", {"A.json": "1\n"})
    built = ws.build_ok(at=build_at(1))
    assert "unsigned (no --key, no GOVERN_SIGNING_KEY)" in built.stdout
    stored = (ws.runs / build_id(build_at(1)) / "checkpoint").read_bytes()
    assert stored == parse_checkpoint(stored).text()  # no signature lines: the checkpoint text alone
    again = ws.govern("--json", "delta", "build", "--at", build_at(2))
    assert again.json()["result"]["up_to_date"] and again.json()["result"]["checkpoint"] is None


def test_same_key_and_clock_give_the_same_bytes(tmp_path: Path):
    key, _ = _keygen(tmp_path)
    roots = []
    for name in ("one", "two"):
        workspace = _reference(tmp_path / name)
        built = run_govern("-C", workspace, "--json", "delta", "build", "--at", SEED_CLOCK, "--key", key)
        assert built.returncode == 0, built.stderr
        run = workspace / ".codex" / "RUNS" / SEED_BUILD
        roots.append(((run / "checkpoint").read_bytes(), (run / "run.json").read_bytes(), built.json()["result"]["root_sha256"]))
    assert roots[0] == roots[1]


def _counting_sha256(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Count every hash the Merkle module computes; return the first byte of each input (0x00: a leaf)."""
    seen: list[bytes] = []

    def counted(data: bytes = b"") -> Any:
        seen.append(data[:1])
        return hashlib.sha256(data)

    monkeypatch.setattr(merkle, "_sha256", counted)
    return seen


def _snapshots(ws: DeltaWorkspace, first: int, count: int) -> None:
    for number in range(first, first + count):
        ws.run(f"2024-01-01__{number:06d}__a", {"A.json": f"{number}\n"})


@pytest.mark.parametrize("history", [5, 200])
def test_a_build_hashes_only_the_new_records_whatever_the_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, history: int):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    _snapshots(ws, 0, history)
    assert invoke_cli("-C", ws.root, "delta", "build", "--at", build_at(1)).returncode == 0
    _snapshots(ws, history, 3)
    seen = _counting_sha256(monkeypatch)
    built = invoke_cli("-C", ws.root, "delta", "build", "--at", build_at(2))
    assert built.returncode == 0, built.stderr
    assert seen.count(b"\x00") == 3  # the three new leaves; no old record hashed again
    # Interior hashes: merging three leaves into the edge and folding the root, O(log n).
    assert seen.count(b"\x01") <= 3 + 2 * history.bit_length()
    log = ws.log_bytes()
    assert ws.envelope()["outputs"]["log_tree"] == CompactRange.of(map(merkle.leaf_hash, _lines(log))).to_json()


def _make_older(ws: DeltaWorkspace, build: str, edit) -> None:
    """Rewrite a build's run.json as ``edit`` says, drop its checkpoint, re-seal it, and drop the
    head chain: the state of a workspace made before builds kept their tree (or a rewrite)."""
    run = ws.runs / build
    envelope = json.loads((run / "run.json").read_bytes())
    edit(envelope, run)
    (run / "run.json").write_text(json.dumps(envelope, indent=2, sort_keys=True) + "\n")
    for name in ("MANIFEST.sha256", "manifest.json"):
        (run / name).unlink()
    seal_in_process(run, at="2024-03-01T00:00:00Z")
    shutil.rmtree(ws.runs / "_log")


def test_a_build_before_log_tree_existed_is_extended_by_computing_its_tree_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    _snapshots(ws, 0, 4)
    ws.build_ok(at=build_at(1))

    def older(envelope: dict, run: Path) -> None:
        del envelope["outputs"]["log_tree"]
        (run / "checkpoint").unlink()

    _make_older(ws, build_id(build_at(1)), older)
    _snapshots(ws, 4, 2)
    seen = _counting_sha256(monkeypatch)
    built = invoke_cli("-C", ws.root, "delta", "build", "--at", build_at(2))
    assert built.returncode == 0, built.stderr
    assert seen.count(b"\x00") == 6  # the old log once (4), then the new records (2)
    log = ws.log_bytes()
    assert ws.envelope()["outputs"]["log_tree"]["size"] == 6
    stored = parse_checkpoint((ws.runs / build_id(build_at(2)) / "checkpoint").read_bytes())
    assert stored.root_hash == root_of_records(_lines(log))


def test_a_stored_tree_that_contradicts_its_checkpoint_stops_the_build(tmp_path: Path):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    _snapshots(ws, 0, 4)
    ws.build_ok(at=build_at(1))
    forged = CompactRange.of([hashlib.sha256(b"forged").digest()] * 4).to_json()

    def rewritten(envelope: dict, run: Path) -> None:
        envelope["outputs"]["log_tree"] = forged

    _make_older(ws, build_id(build_at(1)), rewritten)
    _snapshots(ws, 4, 1)
    before = ws.photograph()
    result = ws.build(at=build_at(2))
    assert_refused(result, "E_LOG_TAMPERED", build_id(build_at(1)), "does not match its sealed tree")
    assert ws.photograph() == before


def test_log_origin_is_configurable_strictly_validated_and_cannot_change(tmp_path: Path):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    ws.run("2024-01-01__000000__a", {"A.json": "1\n"})
    config = ws.root / "registry_config.toml"
    original = config.read_text()
    config.write_text(original.replace("[workspace]\n", '[workspace]\nlog_origin = "example.com/team log"\n'))
    bad = ws.build(at=build_at(1))
    assert_refused(bad, "E_CONFIG_INVALID", "workspace.log_origin", exit_code=2)
    config.write_text(original.replace("[workspace]\n", '[workspace]\nlog_origin = "example.com/team/govern"\n'))
    ws.build_ok(at=build_at(1))
    stored = parse_checkpoint((ws.runs / build_id(build_at(1)) / "checkpoint").read_bytes())
    assert stored.origin == "example.com/team/govern"
    config.write_text(original.replace("[workspace]\n", '[workspace]\nlog_origin = "example.com/other"\n'))
    ws.run("2024-01-02__000000__a", {"A.json": "2\n"})
    changed = ws.build(at=build_at(2))
    assert_refused(changed, "E_CONFIG_INVALID", "a log's origin cannot change", exit_code=2)


def test_a_log_keeps_its_default_origin_when_its_runs_root_moves(tmp_path: Path):
    """Without log_origin the first checkpoint's origin names the runs root as configured then;
    a runs root moved (renamed here; copied to s3:// alike) keeps the log's identity: the next
    build inherits the origin instead of refusing a changed one, and checkpoints handed out
    before the move still verify."""
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    ws.run("2024-01-01__000000__a", {"A.json": "1\n"})
    ws.build_ok(at=build_at(1))
    first = parse_checkpoint((ws.runs / build_id(build_at(1)) / "checkpoint").read_bytes())
    assert first.origin == DEFAULT_ORIGIN
    (ws.root / ".codex" / "RUNS").rename(ws.root / "moved-runs")
    config = ws.root / "registry_config.toml"
    config.write_text(config.read_text().replace('runs_root = ".codex/RUNS"', 'runs_root = "moved-runs"'))
    ws.runs = ws.root / "moved-runs"
    ws.run("2024-01-02__000000__a", {"A.json": "2\n"})
    built = invoke_cli("-C", ws.root, "delta", "build", "--at", build_at(2))
    assert built.returncode == 0, built.stderr
    second = parse_checkpoint((ws.runs / build_id(build_at(2)) / "checkpoint").read_bytes())
    assert (second.origin, second.size) == (DEFAULT_ORIGIN, 2)
    verified = invoke_cli("-C", ws.root, "verify", "--log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
