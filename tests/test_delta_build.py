"""``govern delta build`` and ``govern delta show`` against docs/delta-log.md ("Records", "The build"), through the console script.

Each test lays out sealed runs in a temporary workspace, runs the installed ``govern`` in a
subprocess and checks the exit code, the one-line error on stderr and the files written (or,
for refusals and dry runs, that nothing was). Every record read back is validated against the
delta-log JSON Schema (``delta_workspace.parse_log``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from delta_workspace import (
    LOG_NAME,
    DeltaWorkspace,
    assert_refused,
    assert_schema_valid,
    build_at,
    build_id,
    epoch,
    parse_log,
    sha256_hex,
    transitions,
)

ALPHA = "ALPHA_REGISTRY_v0_1.json"
BETA = "beta_dir"
REGISTRIES = {
    "alpha": {"kind": "sealed", "artifact": ALPHA},
    "beta": {"kind": "sealed", "artifact": BETA},
}

BETA_ONE = "2024-01-01__000000__beta_one"
ALPHA_ONE = "2024-01-02__000000__alpha_one"
BOTH = "2024-01-03__000000__both"
ALPHA_TWO = "2024-01-04__000000__alpha_two"
UNRELATED = "2024-01-05__000000__unrelated"
BETA_THREE = "2024-01-06__000000__beta_three"


def lay_out_history(ws: DeltaWorkspace) -> None:
    """Three snapshots of each registry, interleaved, with one unchanged transition each.

    beta's first snapshot predates alpha's, so "ordered by registry id, then snapshot order"
    is not the same as run order. Siblings that merely share a name prefix with an artifact
    (``beta_dir_extra/``, ``ALPHA….bak``) are not part of it.
    """
    ws.run(BETA_ONE, {f"{BETA}/a.txt": "a1\n", f"{BETA}/sub/b.txt": "b1\n", "beta_dir_extra/x.txt": "x\n", "notes.md": "n\n"})
    ws.run(ALPHA_ONE, {ALPHA: '{"v": 1}\n'})
    ws.run(BOTH, {ALPHA: '{"v": 1}\n', f"{BETA}/a.txt": "a2\n", f"{BETA}/c.txt": "c\n", "notes.md": "other\n"})
    ws.run(ALPHA_TWO, {ALPHA: '{"v": 2}\n', ALPHA + ".bak": '{"v": 1}\n'})
    ws.run(UNRELATED, {"other.txt": "not a snapshot of anything\n"})
    ws.run(BETA_THREE, {f"{BETA}/a.txt": "a2\n", f"{BETA}/c.txt": "c\n", "beta_dir_extra/y.txt": "y\n"})


@pytest.fixture
def ws(tmp_path: Path) -> DeltaWorkspace:
    workspace = DeltaWorkspace.create(tmp_path / "ws", REGISTRIES)
    lay_out_history(workspace)
    return workspace


def ref(ws: DeltaWorkspace, run_id: str, relpath: str) -> dict:
    return {"run_id": run_id, "run_root": ".codex/RUNS", "relpath": relpath, "manifest_sha256": ws.root_sha256(run_id)}


def record(registry_id, from_ref, to_ref, at, added=(), removed=(), modified=()) -> dict:
    """The record docs/delta-log.md ("Records") prescribes for a manifest_diff transition."""
    return {
        "delta_version": "0.1",
        "registry_id": registry_id,
        "from_ref": from_ref,
        "to_ref": to_ref,
        "delta_basis": "manifest_diff",
        "added_paths": list(added),
        "removed_paths": list(removed),
        "modified_paths": list(modified),
        "counts": {"added": len(added), "removed": len(removed), "modified": len(modified)},
        "created_utc": at,
        "derivation_run_id": build_id(at),
    }


def build_files(ws: DeltaWorkspace, build: str) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((ws.runs / build).iterdir())}


# --------------------------------------------------------------------------- records


def test_n_snapshots_give_n_records_bootstrap_then_transitions(ws: DeltaWorkspace) -> None:
    at = build_at(1)
    result = ws.build_ok(at=at)
    assert ws.builds() == [build_id(at)]
    a1, a2, a3 = (ref(ws, run, ALPHA) for run in (ALPHA_ONE, BOTH, ALPHA_TWO))
    b1, b2, b3 = (ref(ws, run, BETA) for run in (BETA_ONE, BOTH, BETA_THREE))
    assert ws.records() == [
        record("alpha", None, a1, at, added=[ALPHA]),
        record("alpha", a1, a2, at),  # nothing changed: empty lists, zero counts
        record("alpha", a2, a3, at, modified=[ALPHA]),
        record("beta", None, b1, at, added=[f"{BETA}/a.txt", f"{BETA}/sub/b.txt"]),
        record("beta", b1, b2, at, added=[f"{BETA}/c.txt"], removed=[f"{BETA}/sub/b.txt"], modified=[f"{BETA}/a.txt"]),
        record("beta", b2, b3, at),
    ]
    summary = {line.split()[0]: line.split(None, 1)[1] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert summary == {"alpha": "3 records  (+1 bootstrap, +2 transitions)", "beta": "3 records  (+1 bootstrap, +2 transitions)"}
    assert "registries: 2 covered, 0 skipped, 0 excluded by design" in result.stdout


def test_build_run_is_a_sealed_op_qa11_run(ws: DeltaWorkspace) -> None:
    at = build_at(1)
    result = ws.build_ok("--json", at=at)
    summary = result.json()["result"]
    build = build_id(at)
    assert summary["run_id"] == build and summary["records_appended"] == 6 and summary["records_total"] == 6
    assert summary["root_sha256"] == ws.root_sha256(build)
    by_id = {r["registry_id"]: r for r in summary["registries"]}
    assert by_id["alpha"]["appended"] == {"bootstrap": 1, "transitions": 2, "unknown": 0}
    assert sorted(build_files(ws, build)) == ["MANIFEST.sha256", LOG_NAME, "checkpoint", "manifest.json", "run.json"]
    envelope = ws.envelope()
    assert envelope["op_id"] == "OP-QA11" and envelope["run_id"] == build and envelope["created_utc"] == at
    assert envelope["inputs"]["previous_build"] is None
    assert envelope["outputs"]["records_appended"] == 6
    # Verifiable with coreutils alone.
    check = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=ws.runs / build, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert ws.govern("verify", "--all", "--log").returncode == 0


# --------------------------------------------------------------------------- determinism, idempotence


def test_same_inputs_and_clock_give_identical_bytes(tmp_path: Path) -> None:
    at = build_at(1)
    first = DeltaWorkspace.create(tmp_path / "one" / "ws", REGISTRIES)
    lay_out_history(first)
    second = first.copy(tmp_path / "elsewhere" / "deeper" / "ws")
    third = first.copy(tmp_path / "third" / "ws")
    roots = []
    for workspace in (first, second):
        roots.append(workspace.build_ok("--json", at=at).json()["result"]["root_sha256"])
    result = third.build("--json", env={"SOURCE_DATE_EPOCH": epoch(at)})  # the clock from the environment
    assert result.returncode == 0, result.stderr
    roots.append(result.json()["result"]["root_sha256"])
    build = build_id(at)
    files = [build_files(workspace, build) for workspace in (first, second, third)]
    assert files[0] == files[1] == files[2]
    assert roots[0] == roots[1] == roots[2] == sha256_hex(files[0]["manifest.json"])


def test_nothing_new_is_up_to_date_and_creates_no_run(ws: DeltaWorkspace) -> None:
    ws.build_ok(at=build_at(1))
    before = ws.photograph()
    later = ws.build_ok(at=build_at(2))
    assert later.stdout.startswith(f"up to date: nothing new since {build_id(build_at(1))}; no run created")
    # A fixed SOURCE_DATE_EPOCH (the same clock again) is just as idempotent.
    same = ws.build("--json", env={"SOURCE_DATE_EPOCH": epoch(build_at(1))})
    assert same.returncode == 0, same.stderr
    summary = same.json()["result"]
    assert summary["up_to_date"] is True and summary["run_id"] is None and summary["records_appended"] == 0
    assert ws.photograph() == before
    assert ws.builds() == [build_id(build_at(1))]


def test_incremental_append_keeps_the_old_log_as_an_exact_prefix(ws: DeltaWorkspace) -> None:
    first, second = build_at(1), build_at(2)
    ws.build_ok(at=first)
    old_log = ws.log_bytes()
    old_last_alpha = ws.records()[2]["to_ref"]
    # Runs examined by the first build are not read again: breaking an old unrelated run's
    # seal does not stop the next build (that is `govern verify --all`'s job).
    (ws.runs / UNRELATED / "MANIFEST.sha256").write_text("0" * 64 + "  manifest.json\n")
    alpha_three = "2024-01-07__000000__alpha_three"
    ws.run(alpha_three, {ALPHA: '{"v": 3}\n'})
    ws.build_ok(at=second)
    assert ws.builds() == [build_id(first), build_id(second)]
    new_log = ws.log_bytes()
    assert new_log.startswith(old_log) and len(new_log) > len(old_log)
    records = ws.records()
    assert [r["derivation_run_id"] for r in records] == [build_id(first)] * 6 + [build_id(second)]
    assert records[6] == record("alpha", old_last_alpha, ref(ws, alpha_three, ALPHA), second, modified=[ALPHA])
    envelope = ws.envelope()
    assert envelope["inputs"]["previous_build"] == {"run_id": build_id(first), "manifest_sha256": ws.root_sha256(build_id(first))}
    assert envelope["outputs"]["records_appended"] == 1 and envelope["outputs"]["records_total"] == 7
    assert alpha_three in envelope["inputs"]["state"]["runs_examined"]


def test_dry_run_writes_nothing_and_shows_what_it_would_append(ws: DeltaWorkspace) -> None:
    at = build_at(1)
    before = ws.photograph_all()  # the lock file included: a dry run touches nothing at all
    result = ws.build("--dry-run", "--json", at=at)
    assert result.returncode == 0, result.stderr
    assert ws.photograph_all() == before
    summary = result.json()["result"]
    assert summary["dry_run"] is True and summary["run_id"] is None and summary["root_sha256"] is None
    would = summary["would_append"]
    assert len(would) == 6
    assert_schema_valid(would)
    # The real build at the same clock appends exactly those records, byte for byte.
    ws.build_ok(at=at)
    canonical = b"".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for r in would)
    assert ws.log_bytes() == canonical
    # Once a lock file exists (and holds the last builder's pid) a dry run still changes nothing.
    ws.run("2024-01-08__000000__alpha_four", {ALPHA: '{"v": 4}\n'})
    before = ws.photograph_all()
    text = ws.build("--dry-run", at=build_at(2))
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"{build_id(build_at(2))}: would append 1 record; the log would hold 7")
    assert ws.photograph_all() == before


def test_registry_option_builds_one_registry_and_a_full_build_catches_up(ws: DeltaWorkspace) -> None:
    ws.build_ok("--registry", "alpha", at=build_at(1))
    assert [r["registry_id"] for r in ws.records()] == ["alpha"] * 3
    alpha_three, beta_four = "2024-01-07__000000__alpha_three", "2024-01-08__000000__beta_four"
    ws.run(alpha_three, {ALPHA: '{"v": 3}\n'})
    ws.run(beta_four, {f"{BETA}/a.txt": "a4\n"})
    result = ws.build_ok("--registry", "beta", "--json", at=build_at(2))
    assert [o["status"] for o in result.json()["result"]["registries"]] == ["not_selected", "covered"]
    assert [r["registry_id"] for r in ws.records()] == ["alpha"] * 3 + ["beta"] * 4
    ws.build_ok(at=build_at(3))  # alpha_three was examined for beta only: alpha's backlog holds it
    records = ws.records()
    assert transitions(records, "alpha") == [(None, ALPHA_ONE), (ALPHA_ONE, BOTH), (BOTH, ALPHA_TWO), (ALPHA_TWO, alpha_three)]
    assert transitions(records, "beta") == [(None, BETA_ONE), (BETA_ONE, BOTH), (BOTH, BETA_THREE), (BETA_THREE, beta_four)]
    assert len(records) == 8
    assert ws.build_ok(at=build_at(4)).stdout.startswith("up to date")
    assert ws.govern("verify", "--log").returncode == 0


def test_unknown_registry_option_is_a_usage_error(ws: DeltaWorkspace) -> None:
    result = ws.build("--registry", "gamma", at=build_at(1))
    assert_refused(result, "E_REGISTRY_UNKNOWN", "gamma", "alpha, beta", exit_code=2)
    assert ws.builds() == []


# --------------------------------------------------------------------------- tamper


def test_payload_edited_after_sealing_stops_the_build_naming_run_and_file(ws: DeltaWorkspace) -> None:
    """Issue 11 point 4: a sealed run whose artifact was edited afterwards was recorded as
    sealed truth (basis manifest_diff). A build hashes the artifact files of every snapshot it
    is about to record: a mismatch stops it, naming the run and the file, nothing written."""
    (ws.runs / BOTH / ALPHA).write_text('{"v": 9}\n')  # same size: only the digest can tell
    before = ws.photograph()
    result = ws.build(at=build_at(1))
    assert_refused(result, "E_SNAPSHOT_UNVERIFIED", f"alpha @ {BOTH}", ALPHA, "E_DIGEST_MISMATCH", "--allow-unknown")
    assert ws.photograph() == before and ws.builds() == []
    dry = ws.build("--dry-run", at=build_at(1))
    assert_refused(dry, "E_SNAPSHOT_UNVERIFIED", f"alpha @ {BOTH}", ALPHA)


def test_a_payload_file_missing_under_a_folder_artifact_stops_the_build(ws: DeltaWorkspace) -> None:
    (ws.runs / BOTH / BETA / "c.txt").unlink()
    before = ws.photograph()
    assert_refused(ws.build(at=build_at(1)), "E_SNAPSHOT_UNVERIFIED", f"beta @ {BOTH}", f"{BETA}/c.txt", "E_FILE_MISSING")
    assert ws.photograph() == before


def test_an_edited_payload_is_recorded_unknown_with_the_reason_under_allow_unknown(ws: DeltaWorkspace) -> None:
    (ws.runs / BOTH / ALPHA).write_text('{"v": 9}\n')
    result = ws.build_ok("--allow-unknown", "--json", at=build_at(1))
    by_id = {r["registry_id"]: r for r in result.json()["result"]["registries"]}
    assert by_id["alpha"]["appended"] == {"bootstrap": 1, "transitions": 2, "unknown": 2}
    assert by_id["beta"]["appended"]["unknown"] == 0  # the same run's beta_dir was not touched
    alpha = [r for r in ws.records() if r["registry_id"] == "alpha"]
    assert [r["delta_basis"] for r in alpha] == ["manifest_diff", "unknown", "unknown"]
    assert alpha[1]["unknown_reason"].startswith(f"to snapshot {BOTH}: payload differs from its seal: {ALPHA}: E_DIGEST_MISMATCH")
    assert alpha[2]["unknown_reason"].startswith(f"from snapshot {BOTH}: payload differs from its seal: {ALPHA}")
    # 6 records; the two whose snapshot failed the payload check are not counted as hashed
    assert ws.envelope()["outputs"]["payloads_hashed"] == 5
    assert ws.govern("verify", "--log").returncode == 0


def test_files_outside_the_artifact_and_recorded_snapshots_are_not_hashed_by_a_build(ws: DeltaWorkspace) -> None:
    """Only the artifact's files of new snapshots are hashed: a run's other files are
    ``govern verify``'s business, and a recorded snapshot is held to its recorded manifest
    hash (the build stays incremental)."""
    (ws.runs / BOTH / "notes.md").write_text("edited, but no registry's artifact\n")
    ws.build_ok(at=build_at(1))
    assert ws.envelope()["outputs"]["payloads_hashed"] == 6
    (ws.runs / ALPHA_TWO / ALPHA).write_text('{"v": 8}\n')  # recorded already: not re-hashed
    ws.run("2024-01-07__000000__alpha_three", {ALPHA: '{"v": 3}\n'})
    ws.build_ok(at=build_at(2))
    assert ws.envelope()["outputs"]["payloads_hashed"] == 1
    verify = ws.govern("verify", "--all")
    assert verify.returncode == 1 and "E_DIGEST_MISMATCH" in verify.stdout


def edit_manifest_without_repinning(ws: DeltaWorkspace, run_id: str) -> None:
    path = ws.runs / run_id / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b'"bytes": ', b'"bytes":  ', 1))


def test_manifest_edited_without_repinning_stops_the_build(ws: DeltaWorkspace) -> None:
    edit_manifest_without_repinning(ws, BOTH)
    before = ws.photograph()
    result = ws.build(at=build_at(1))
    assert_refused(result, "E_SNAPSHOT_UNVERIFIED", BOTH, "E_SEAL_MISMATCH", "--allow-unknown")
    assert ws.photograph() == before and ws.builds() == []


def test_allow_unknown_records_a_broken_snapshot_and_the_transition_from_it(ws: DeltaWorkspace) -> None:
    edit_manifest_without_repinning(ws, BOTH)
    result = ws.build_ok("--allow-unknown", "--json", at=build_at(1))
    by_id = {r["registry_id"]: r for r in result.json()["result"]["registries"]}
    assert by_id["alpha"]["appended"] == {"bootstrap": 1, "transitions": 2, "unknown": 2}
    records = ws.records()
    alpha = [r for r in records if r["registry_id"] == "alpha"]
    assert [r["delta_basis"] for r in alpha] == ["manifest_diff", "unknown", "unknown"]
    to_broken, from_broken = alpha[1], alpha[2]
    for unknown in (to_broken, from_broken):
        assert unknown["counts"] == {"added": None, "removed": None, "modified": None}
        assert unknown["added_paths"] == unknown["removed_paths"] == unknown["modified_paths"] == []
    assert to_broken["unknown_reason"].startswith(f"to snapshot {BOTH}: seal does not verify")
    assert from_broken["unknown_reason"].startswith(f"from snapshot {BOTH}: seal does not verify")
    assert "unknown_reason" not in alpha[0]
    # the broken snapshot is pinned by the hash of the manifest as found
    assert to_broken["to_ref"]["manifest_sha256"] == sha256_hex((ws.runs / BOTH / "manifest.json").read_bytes())
    assert [r["delta_basis"] for r in records if r["registry_id"] == "beta"] == ["manifest_diff", "unknown", "unknown"]


def test_the_next_build_from_a_broken_last_snapshot_is_unknown_too(tmp_path: Path) -> None:
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": REGISTRIES["alpha"]})
    ws.run(ALPHA_ONE, {ALPHA: "1\n"})
    ws.run(ALPHA_TWO, {ALPHA: "2\n"})
    edit_manifest_without_repinning(ws, ALPHA_TWO)
    ws.build_ok("--allow-unknown", at=build_at(1))
    later = "2024-01-09__000000__alpha_later"
    ws.run(later, {ALPHA: "3\n"})
    ws.build_ok(at=build_at(2))  # no --allow-unknown needed: the broken one is already history
    last = ws.records()[-1]
    assert (last["from_ref"]["run_id"], last["to_ref"]["run_id"]) == (ALPHA_TWO, later)
    assert last["delta_basis"] == "unknown" and last["counts"]["added"] is None
    assert last["unknown_reason"].startswith(f"from snapshot {ALPHA_TWO}")
    assert ws.govern("verify", "--log").returncode == 0


# --------------------------------------------------------------------------- unsealed folders


def test_unsealed_folder_is_not_a_snapshot_and_is_listed(ws: DeltaWorkspace) -> None:
    in_progress = "2024-01-09__000000__alpha_in_progress"
    ws.run(in_progress, {ALPHA: '{"v": "half"}\n'}, seal=False)
    result = ws.build_ok(at=build_at(1))
    assert f"govern: warning: {in_progress}: unsealed" in result.stderr
    assert in_progress not in ws.log_bytes().decode()
    assert len(ws.records()) == 6
    # Once the run is finished and sealed, the next build records it.
    ws.reseal(in_progress)
    ws.build_ok(at=build_at(2))
    assert transitions(ws.records(), "alpha")[-1] == (ALPHA_TWO, in_progress)


def test_allow_unknown_takes_an_unsealed_folder_as_a_legacy_snapshot(ws: DeltaWorkspace) -> None:
    legacy = "2024-01-09__000000__alpha_legacy"
    ws.run(legacy, {ALPHA: '{"v": "legacy"}\n'}, seal=False)
    result = ws.build("--allow-unknown", "--json", at=build_at(1))
    assert result.returncode == 0, result.stderr
    assert result.json()["result"]["unsealed_runs"] == [] and result.json()["warnings"] == []  # taken, not "not yet"
    records = ws.records()  # schema-checked: a null manifest_sha256 must be allowed here
    legacy_record = records[3]
    assert legacy_record["to_ref"] == {"run_id": legacy, "run_root": ".codex/RUNS", "relpath": ALPHA, "manifest_sha256": None}
    assert legacy_record["delta_basis"] == "unknown"
    assert legacy_record["counts"] == {"added": None, "removed": None, "modified": None}
    assert "no seal" in legacy_record["unknown_reason"]
    assert ws.govern("verify", "--log").returncode == 0


def test_a_legacy_snapshot_sealed_after_it_was_recorded_stays_unknown_and_history_goes_on(ws: DeltaWorkspace) -> None:
    """Sealing a recorded legacy folder rewrites nothing (no seal was recorded), so the log is
    not stuck; but the seal cannot say what the folder held back then, so the next transition
    from it is unknown, never a diff against evidence added after the fact."""
    legacy = "2024-01-09__000000__alpha_legacy"
    ws.run(legacy, {ALPHA: '{"v": "legacy"}\n'}, seal=False)
    assert ws.build("--allow-unknown", at=build_at(1)).returncode == 0
    assert ws.govern("seal", str(ws.runs / legacy)).returncode == 0
    ws.run("2024-01-10__000000__alpha_after", {ALPHA: '{"v": "after"}\n'})
    result = ws.build(at=build_at(2))
    assert result.returncode == 0, result.stderr
    transition = ws.records()[-1]
    assert (transition["from_ref"]["run_id"], transition["to_ref"]["run_id"]) == (legacy, "2024-01-10__000000__alpha_after")
    assert transition["from_ref"]["manifest_sha256"] is None
    assert transition["delta_basis"] == "unknown"
    assert "recorded as an unsealed legacy snapshot" in transition["unknown_reason"]
    verified = ws.govern("verify", "--log")
    assert verified.returncode == 0, verified.stdout


# --------------------------------------------------------------------------- history conflicts


def test_a_recorded_snapshot_resealed_with_new_content_is_a_conflict(ws: DeltaWorkspace) -> None:
    ws.build_ok(at=build_at(1))
    (ws.runs / ALPHA_TWO / ALPHA).write_text('{"v": "rewritten"}\n')
    ws.reseal(ALPHA_TWO)
    ws.run("2024-01-09__000000__alpha_new", {ALPHA: "new\n"})
    before = ws.photograph()
    result = ws.build(at=build_at(2))
    assert_refused(result, "E_HISTORY_CONFLICT", "alpha", ALPHA_TWO, "changed since it was recorded")
    assert ws.photograph() == before


def test_a_backdated_snapshot_is_reported_late_and_never_inserted(ws: DeltaWorkspace) -> None:
    """Backdated history is never inserted behind the operator's back; it is reported as late
    (tests/test_history_recovery.py covers accepting it, and that it blocks nothing)."""
    ws.build_ok(at=build_at(1))
    backdated = "2024-01-03__120000__alpha_backdated"
    ws.run(backdated, {ALPHA: "late but dated early\n"})
    before = ws.photograph()
    result = ws.build(at=build_at(2))
    assert result.returncode == 0, result.stderr
    assert f"govern: warning: {backdated}: late snapshot of alpha" in result.stderr
    assert ws.photograph() == before


def test_a_build_clock_not_after_the_latest_build_is_refused(ws: DeltaWorkspace) -> None:
    ws.build_ok(at=build_at(5))
    ws.run("2024-01-09__000000__alpha_new", {ALPHA: "new\n"})
    before = ws.photograph()
    earlier = ws.build(at=build_at(4))
    assert_refused(earlier, "E_HISTORY_CONFLICT", build_at(4), build_id(build_at(5)))
    same = ws.build(at=build_at(5))
    assert_refused(same, "E_RUN_EXISTS", build_id(build_at(5)))
    assert ws.photograph() == before
    assert ws.build_ok(at=build_at(6)).stdout.startswith(f"{build_id(build_at(6))}: appended 1 record; the log holds 7")


def test_an_existing_entry_with_the_builds_name_is_never_overwritten(ws: DeltaWorkspace) -> None:
    squatter = ws.runs / build_id(build_at(1))
    squatter.write_bytes(b"not a run, but the name is taken\n")
    result = ws.build(at=build_at(1))
    assert_refused(result, "E_RUN_EXISTS", build_id(build_at(1)))
    assert squatter.read_bytes() == b"not a run, but the name is taken\n"
    assert not [p for p in ws.runs.iterdir() if p.name.startswith(".govern-tmp-")]


def test_an_earlier_recorded_snapshot_resealed_is_caught_by_verify_log(ws: DeltaWorkspace) -> None:
    """A build re-checks only each registry's last recorded snapshot (its cost follows the
    new work); `govern verify --log` re-checks every recorded snapshot."""
    ws.build_ok(at=build_at(1))
    (ws.runs / ALPHA_ONE / ALPHA).write_text("rewritten\n")
    ws.reseal(ALPHA_ONE)
    verify = ws.govern("verify", "--log")
    assert verify.returncode == 1
    assert f"E_HISTORY_CONFLICT alpha @ {ALPHA_ONE}" in verify.stdout


def test_a_build_never_continues_a_log_that_differs_from_its_seal(ws: DeltaWorkspace) -> None:
    ws.build_ok(at=build_at(1))
    log = ws.runs / build_id(build_at(1)) / LOG_NAME
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-1]))  # a line dropped, not re-sealed
    ws.run("2024-01-09__000000__alpha_new", {ALPHA: "new\n"})
    before = ws.photograph()
    result = ws.build(at=build_at(2))
    assert_refused(result, "E_LOG_TAMPERED", build_id(build_at(1)), "differs from its sealed hash")
    assert ws.photograph() == before


def test_a_stale_staging_folder_is_cleared_by_a_build_not_by_a_dry_run(ws: DeltaWorkspace) -> None:
    stale = ws.runs / f".govern-tmp-{build_id(build_at(1))}"
    stale.mkdir(parents=True)
    (stale / LOG_NAME).write_bytes(b'{"half a line')
    assert ws.build("--dry-run", at=build_at(1)).returncode == 0
    assert stale.is_dir()
    result = ws.build_ok(at=build_at(1))
    assert f"govern: warning: removed {stale.name}: staging folder left by an interrupted build" in result.stderr
    assert not stale.exists() and ws.builds() == [build_id(build_at(1))]
    assert len(ws.records()) == 6


# --------------------------------------------------------------------------- active pointers


def test_snapshots_after_the_active_pointer_are_pending_until_it_moves(tmp_path: Path) -> None:
    ws = DeltaWorkspace.create(tmp_path / "ws", REGISTRIES, active_pointers={"alpha": ALPHA_ONE})
    lay_out_history(ws)
    result = ws.build_ok("--json", at=build_at(1))
    alpha = {r["registry_id"]: r for r in result.json()["result"]["registries"]}["alpha"]
    assert alpha["pending"] == [BOTH, ALPHA_TWO]
    assert transitions(ws.records(), "alpha") == [(None, ALPHA_ONE)]
    assert len(transitions(ws.records(), "beta")) == 3  # no pointer: every snapshot
    assert ws.build_ok(at=build_at(2)).stdout.startswith("up to date")  # the pointer did not move
    ws.set_pointers({"alpha": BOTH})
    text = ws.build_ok(at=build_at(3))
    assert "1 pending behind the active pointer" in text.stdout
    assert transitions(ws.records(), "alpha") == [(None, ALPHA_ONE), (ALPHA_ONE, BOTH)]
    ws.set_pointers({"alpha": ALPHA_TWO})
    ws.build_ok(at=build_at(4))
    assert transitions(ws.records(), "alpha") == [(None, ALPHA_ONE), (ALPHA_ONE, BOTH), (BOTH, ALPHA_TWO)]
    assert [r["derivation_run_id"] for r in ws.records() if r["registry_id"] == "alpha"] == [
        build_id(build_at(1)),
        build_id(build_at(3)),
        build_id(build_at(4)),
    ]
    assert ws.govern("verify", "--log").returncode == 0


# --------------------------------------------------------------------------- kinds


def test_excluded_kinds_are_reported_with_their_reason(tmp_path: Path) -> None:
    registries = dict(REGISTRIES)
    registries["db"] = {"kind": "external", "reason": "Lives in Postgres"}
    registries["packs"] = {"kind": "collection"}
    registries["dashboard"] = {"kind": "presentation"}
    ws = DeltaWorkspace.create(tmp_path / "ws", registries)
    lay_out_history(ws)
    result = ws.build_ok(at=build_at(1))
    assert "registries: 2 covered, 0 skipped, 3 excluded by design" in result.stdout
    lines = result.stdout.splitlines()
    assert any(line.split() == ["db", "excluded", "by", "design:", "Lives", "in", "Postgres"] for line in lines)
    assert any("packs" in line and "excluded by design: Collection registry — no single sealed snapshot" in line for line in lines)
    assert any("dashboard" in line and "excluded by design: Presentation-only — no meaningful delta semantics" in line for line in lines)
    assert {r["registry_id"] for r in ws.records()} == {"alpha", "beta"}
    summary = ws.build("--json", at=build_at(2)).json()["result"]
    excluded = {r["registry_id"]: r["reason"] for r in summary["registries"] if r["status"] == "excluded"}
    assert excluded == {
        "dashboard": "Presentation-only — no meaningful delta semantics",
        "db": "Lives in Postgres",
        "packs": "Collection registry — no single sealed snapshot",
    }


def test_a_kind_no_plugin_claims_is_a_configuration_error(tmp_path: Path) -> None:
    ws = DeltaWorkspace.create(tmp_path / "ws", {**REGISTRIES, "mystery": {"kind": "quantum", "artifact": "Q.json"}})
    lay_out_history(ws)
    result = ws.build(at=build_at(1))
    assert_refused(result, "E_CONFIG_UNKNOWN_KIND", "mystery", "quantum", "bagit, collection, external, git, ocfl_object, presentation, sealed", exit_code=2)
    assert ws.builds() == []


# --------------------------------------------------------------------------- delta show


def test_delta_show_by_registry_and_by_path(ws: DeltaWorkspace) -> None:
    ws.run("2024-01-09__000000__beta_four", {f"{BETA}/c.txt": "c\n"})
    ws.build_ok(at=build_at(1))
    beta = ws.govern("delta", "show", "--registry", "beta", "--json")
    assert beta.returncode == 0, beta.stderr
    shown = beta.json()["result"]["records"]
    assert shown == [r for r in ws.records() if r["registry_id"] == "beta"] and len(shown) == 4
    history = ws.govern("delta", "show", "--path", f"{BETA}/a.txt")
    assert history.returncode == 0, history.stderr
    lines = [line for line in history.stdout.splitlines() if line]
    assert lines[1:-1] == [
        f"beta: (bootstrap) → {BETA_ONE}  [manifest_diff]  2 added, 0 removed, 0 modified; 1 under {BETA}/a.txt",
        f"A\t{BETA}/a.txt",
        f"beta: {BETA_ONE} → {BOTH}  [manifest_diff]  1 added, 1 removed, 1 modified; 1 under {BETA}/a.txt",
        f"M\t{BETA}/a.txt",
        f"beta: {BETA_THREE} → 2024-01-09__000000__beta_four  [manifest_diff]  0 added, 1 removed, 0 modified; 1 under {BETA}/a.txt",
        f"D\t{BETA}/a.txt",
    ]
    assert lines[-1] == "3 transitions shown"
    untouched = ws.govern("delta", "show", "--path", "beta_dir_extra/x.txt", "--json")
    assert untouched.json()["result"]["records"] == []
    folder = ws.govern("delta", "show", "--path", BETA, "--json")
    folder_records = folder.json()["result"]["records"]
    assert folder_records == [r for r in ws.records() if r["registry_id"] == "beta" and any(
        p == BETA or p.startswith(BETA + "/") for key in ("added_paths", "removed_paths", "modified_paths") for p in r[key]
    )]
    assert len(folder_records) >= 3
    bootstrap = folder_records[0]
    assert bootstrap["from_ref"] is None
    folder_text = [line for line in ws.govern("delta", "show", "--path", BETA).stdout.splitlines() if line]
    assert folder_text[1].startswith(f"beta: (bootstrap) → {bootstrap['to_ref']['run_id']}  [manifest_diff]  ")
    assert folder_text[2 : 2 + len(bootstrap["added_paths"])] == [f"A\t{p}" for p in bootstrap["added_paths"]]


def test_delta_show_without_a_log_says_so_and_succeeds(ws: DeltaWorkspace) -> None:
    """Issue 11 point 10: no build yet is not tampering — "no delta log yet", exit 0."""
    result = ws.govern("delta", "show")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.startswith("no delta log yet under ")
    as_json = ws.govern("delta", "show", "--json")
    assert as_json.returncode == 0 and as_json.json()["result"]["build"] is None
    assert as_json.json()["result"]["transitions"] == [] and as_json.json()["error"] is None


def test_delta_show_names_a_tail_torn_after_sealing_as_torn(ws: DeltaWorkspace) -> None:
    """Half a line appended after sealing (an interrupted in-place append) is a torn tail —
    repairable — not tampering."""
    ws.build_ok(at=build_at(1))
    log = ws.runs / build_id(build_at(1)) / LOG_NAME
    log.write_bytes(log.read_bytes() + b'{"delta_version":"0.1","regis')
    result = ws.govern("delta", "show")
    assert_refused(result, "E_LOG_TORN", build_id(build_at(1)), "repair --log")


def test_every_record_in_the_log_round_trips_through_the_schema(ws: DeltaWorkspace) -> None:
    """The helper validates every record it reads; this pins that it really rejects bad ones."""
    ws.build_ok(at=build_at(1))
    good = ws.records()[0]
    bad = dict(good, counts={"added": None, "removed": 0, "modified": 0})  # a known basis with an unknown count
    with pytest.raises(AssertionError, match="not schema-valid"):
        assert_schema_valid([bad])
    with pytest.raises(AssertionError, match="not schema-valid"):
        parse_log(json.dumps(dict(good, delta_basis="unknown")).encode() + b"\n")  # unknown without a reason
    # A null manifest_sha256 (an unsealed legacy folder) is allowed only where the basis is unknown.
    unsealed_ref = dict(good["to_ref"], manifest_sha256=None)
    with pytest.raises(AssertionError, match="not schema-valid"):
        assert_schema_valid([dict(good, to_ref=unsealed_ref)])
    counts = {"added": None, "removed": None, "modified": None}
    assert_schema_valid([dict(good, to_ref=unsealed_ref, delta_basis="unknown", added_paths=[], counts=counts, unknown_reason="no seal")])
