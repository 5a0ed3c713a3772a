"""``govern verify --log``: a rewritten, truncated, reordered or pruned history is caught.

One history of three builds is made once; each test tampers with a fresh copy of it — and,
where the point is that the seal alone cannot help, re-seals the tampered build with
``govern seal --reseal`` so that only the chain checks (prefix against the earlier build's
seal, previous-build pointer, registry chains, canonical lines, recorded snapshots) remain.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from delta_workspace import LOG_NAME, DeltaWorkspace, build_at, build_id

REGISTRIES = {
    "alpha": {"kind": "sealed", "artifact": "ALPHA_v0_1.json"},
    "beta": {"kind": "sealed", "artifact": "beta"},
}
B1, B2, B3 = (build_id(build_at(day)) for day in (1, 2, 3))
A2 = "2024-01-02__000000__alpha_two"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> DeltaWorkspace:
    """Three builds: B1 appends alpha×2 + beta×1, B2 alpha + beta, B3 alpha (6 records)."""
    ws = DeltaWorkspace.create(tmp_path_factory.mktemp("history") / "ws", REGISTRIES)
    ws.run("2024-01-01__000000__alpha_one", {"ALPHA_v0_1.json": "1\n", "beta/x.txt": "x\n"})
    ws.run(A2, {"ALPHA_v0_1.json": "2\n"})
    ws.build_ok(at=build_at(1))
    ws.run("2024-01-03__000000__alpha_three", {"ALPHA_v0_1.json": "3\n", "beta/x.txt": "x2\n", "beta/y.txt": "y\n"})
    ws.build_ok(at=build_at(2))
    ws.run("2024-01-04__000000__alpha_four", {"ALPHA_v0_1.json": "4\n"})
    ws.build_ok(at=build_at(3))
    assert ws.builds() == [B1, B2, B3]
    assert [len(ws.records(b)) for b in (B1, B2, B3)] == [3, 5, 6]
    return ws


@pytest.fixture
def ws(history: DeltaWorkspace, tmp_path: Path) -> DeltaWorkspace:
    return history.copy(tmp_path / "ws")


def rewrite_log(ws: DeltaWorkspace, build: str, change: Callable[[list[bytes]], list[bytes]], *, reseal: bool = True) -> None:
    """Rewrite a build's log line by line (lines keep their newline), then re-seal the build
    so its seal is fine again — through the library, as a forger's own tool would: ``govern
    seal --reseal`` refuses a build (E_RESEAL_REFUSED)."""
    path = ws.runs / build / LOG_NAME
    path.write_bytes(b"".join(change(path.read_bytes().splitlines(keepends=True))))
    if reseal:
        ws.reseal(build)


def verify_log(ws: DeltaWorkspace) -> tuple[int, dict[str, list[tuple[str, str]]], list[dict]]:
    """Exit code, (code, where) of the problems per build, and the recorded-snapshot problems."""
    result = ws.govern("verify", "--log", "--json")
    log = result.json()["result"]["log"]
    per_build = {b["run_id"]: [(p["code"], p["where"]) for p in b["problems"]] for b in log["builds"]}
    return result.returncode, per_build, log["snapshot_problems"]


def canonical(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def test_an_intact_history_verifies(ws: DeltaWorkspace) -> None:
    text = ws.govern("verify", "--log")
    assert text.returncode == 0, text.stdout + text.stderr
    assert text.stdout.splitlines()[-1] == "delta log intact: 3 builds, 6 records"
    code, per_build, snapshots = verify_log(ws)
    assert code == 0 and per_build == {B1: [], B2: [], B3: []} and snapshots == []


def test_a_line_rewritten_mid_file_in_an_earlier_build_is_tampering(ws: DeltaWorkspace) -> None:
    def forge(lines: list[bytes]) -> list[bytes]:
        record = json.loads(lines[1])
        record["modified_paths"], record["counts"]["modified"] = [], 0  # "nothing changed": canonical, schema-valid
        return [lines[0], canonical(record), *lines[2:]]

    rewrite_log(ws, B1, forge)
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[B1] == []  # on its own the re-sealed build looks fine…
    assert ("E_LOG_TAMPERED", f"{B2}/{LOG_NAME}: line 2") in per_build[B2]  # …but B2 holds the original line 2
    assert ("E_LOG_TAMPERED", f"{B2}/run.json") in per_build[B2]  # and names B1's original seal
    text = ws.govern("verify", "--log")
    assert f"E_LOG_TAMPERED {B2}/{LOG_NAME}: line 2: does not begin with the previous build's log" in text.stdout


def test_a_log_edited_without_resealing_fails_its_seal(ws: DeltaWorkspace) -> None:
    rewrite_log(ws, B3, lambda lines: [*lines[:-1], lines[-1].replace(b'"4', b'"5')], reseal=False)
    code, per_build, _ = verify_log(ws)
    assert code == 1 and "E_DIGEST_MISMATCH" in {c for c, _ in per_build[B3]}


def test_records_reordered_within_a_registry_break_its_chain(ws: DeltaWorkspace) -> None:
    rewrite_log(ws, B1, lambda lines: [lines[1], lines[0], *lines[2:]])
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert ("E_LOG_INVALID", f"{B1}/{LOG_NAME}: line 1") in per_build[B1]
    assert ("E_LOG_TAMPERED", f"{B2}/{LOG_NAME}: line 1") in per_build[B2]


def test_records_reordered_across_registries_in_the_latest_build_are_caught(ws: DeltaWorkspace) -> None:
    # B2 appended alpha then beta; swapped, each registry's chain still links. Make B2 the
    # latest build so that no later prefix check can help.
    shutil.rmtree(ws.runs / B3)
    rewrite_log(ws, B2, lambda lines: [*lines[:3], lines[4], lines[3]])
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[B2] == [("E_LOG_INVALID", f"{B2}/{LOG_NAME}: line 5")]


def test_a_later_log_truncated_into_the_earlier_one_is_caught(ws: DeltaWorkspace) -> None:
    rewrite_log(ws, B3, lambda lines: lines[:2])
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert ("E_LOG_TAMPERED", f"{B3}/{LOG_NAME}: line 3") in per_build[B3]


def test_a_latest_log_cut_back_to_its_predecessor_is_caught(ws: DeltaWorkspace) -> None:
    rewrite_log(ws, B3, lambda lines: lines[:5])  # still begins with B2's log: only the count can tell
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[B3] == [("E_LOG_TAMPERED", f"{B3}/run.json")]


def test_a_deleted_middle_build_breaks_the_previous_build_pointer(ws: DeltaWorkspace) -> None:
    shutil.rmtree(ws.runs / B2)
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[B3][0] == ("E_LOG_TAMPERED", f"{B3}/run.json")
    # B3's log still begins with B1's, so B2's records now look appended by B3.
    assert ("E_LOG_INVALID", f"{B3}/{LOG_NAME}: line 4") in per_build[B3]
    text = ws.govern("verify", "--log")
    assert "names previous build {'manifest_sha256': " in text.stdout and f"'run_id': '{B2}'" in text.stdout


def test_a_recorded_snapshot_resealed_is_rewritten_history(ws: DeltaWorkspace) -> None:
    (ws.runs / A2 / "ALPHA_v0_1.json").write_text("two, rewritten\n")
    # govern refuses (E_RESEAL_REFUSED, tests/test_history_recovery.py); a forger's own tool does not.
    assert ws.govern("seal", "--reseal", str(ws.runs / A2)).returncode == 1
    ws.reseal(A2)
    code, per_build, snapshots = verify_log(ws)
    assert code == 1
    assert per_build == {B1: [], B2: [], B3: []}
    assert [(p["code"], p["where"]) for p in snapshots] == [("E_HISTORY_CONFLICT", f"alpha @ {A2}")]


def test_a_non_canonical_line_is_invalid(ws: DeltaWorkspace) -> None:
    rewrite_log(ws, B3, lambda lines: [*lines[:-1], lines[-1].replace(b'","', b'", "', 1)])
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[B3] == [("E_LOG_INVALID", f"{B3}/{LOG_NAME}: line 6")]
    text = ws.govern("verify", "--log")
    assert "not canonical JSON" in text.stdout


def test_a_torn_tail_is_reported_as_torn(ws: DeltaWorkspace) -> None:
    rewrite_log(ws, B3, lambda lines: [*lines[:-1], lines[-1][:-1]])
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert ("E_LOG_TORN", f"{B3}/{LOG_NAME}: line 6") in per_build[B3]
    # A build never appends to a torn log.
    ws.run("2024-01-05__000000__alpha_five", {"ALPHA_v0_1.json": "5\n"})
    build = ws.build(at=build_at(4))
    assert build.returncode == 1 and "govern: error: E_LOG_TORN:" in build.stderr
    assert ws.builds() == [B1, B2, B3]


def test_a_canonical_but_schema_invalid_line_is_invalid(ws: DeltaWorkspace) -> None:
    """A forged line that is canonical JSON and keeps every chain link, but breaks the record
    schema (a negative count), is caught by the schema check alone."""

    def forge(lines: list[bytes]) -> list[bytes]:
        record = json.loads(lines[-1])
        record["counts"]["added"] = -1
        return [*lines[:-1], canonical(record)]

    rewrite_log(ws, B3, forge)
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[B3] == [("E_LOG_INVALID", f"{B3}/{LOG_NAME}: line 6")]
    detail = ws.govern("verify", "--log").stdout
    assert "schema: $.counts.added" in detail


def test_a_log_that_goes_back_to_an_older_record_version_is_invalid(tmp_path: Path) -> None:
    """A build refuses to write v0.1 records after v0.2 ones; a forged build that does is
    caught by verify --log, in the build that appended the older line (each line alone is
    valid against its own version's schema)."""
    ws = DeltaWorkspace.create(tmp_path / "ws", REGISTRIES)
    config = ws.root / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[workspace]\n", '[workspace]\nrecord_version = "0.2"\n', 1), encoding="utf-8")
    ws.run("2024-01-01__000000__alpha_one", {"ALPHA_v0_1.json": "1\n"})
    ws.build_ok(at=build_at(1))
    ws.run(A2, {"ALPHA_v0_1.json": "2\n"})
    ws.build_ok(at=build_at(2))
    assert ws.govern("verify", "--log").returncode == 0

    def as_v0_1(lines: list[bytes]) -> list[bytes]:
        # A valid v0.1 line: the version stated, and no renamed_paths (which v0.1 never has).
        record = json.loads(lines[-1])
        record["delta_version"] = "0.1"
        del record["renamed_paths"]
        return [*lines[:-1], canonical(record)]

    rewrite_log(ws, build_id(build_at(2)), as_v0_1)
    code, per_build, _ = verify_log(ws)
    assert code == 1
    assert per_build[build_id(build_at(2))] == [("E_LOG_INVALID", f"{build_id(build_at(2))}/{LOG_NAME}: line 2")]
    assert per_build[build_id(build_at(1))] == []
