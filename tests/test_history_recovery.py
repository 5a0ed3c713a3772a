"""Issue 11, points 5, 6 and 8: history that cannot be rewritten on advice, deleted runs that
do not go unnoticed, and a log that never gets stuck for good — through the console script.

* point 5: ``govern seal --reseal`` of a recorded snapshot or of a build is refused, naming the
  build that recorded it; ``E_ALREADY_SEALED`` points to ``govern verify`` first (the swap
  without an unsealed state is proved by ``tests/test_crash_safety.py``);
* point 6: ``govern verify --all`` fails when a recorded run was deleted (or re-sealed);
* point 8: a late run blocks no build and stays reported until ``--accept-late``; a lost
  snapshot stops the build naming every registry and run, until ``--acknowledge-missing``;
  ``--strict`` turns unsealed or late runs into exit 1.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from delta_workspace import DeltaWorkspace, assert_refused, build_at, build_id, transitions

ALPHA = "ALPHA_REGISTRY_v0_1.json"
BETA = "beta_dir"
REGISTRIES = {
    "alpha": {"kind": "sealed", "artifact": ALPHA},
    "beta": {"kind": "sealed", "artifact": BETA},
}

ALPHA_ONE = "2024-01-02__000000__alpha_one"
BOTH = "2024-01-03__000000__both"
ALPHA_TWO = "2024-01-04__000000__alpha_two"
BETA_THREE = "2024-01-06__000000__beta_three"
#: A retried job: sealed after the first build, its run id sorting before alpha's last snapshot.
LATE = "2024-01-03__120000__alpha_retried"
ALPHA_NEW = "2024-01-09__000000__alpha_new"
BETA_NEW = "2024-01-10__000000__beta_new"


@pytest.fixture
def ws(tmp_path: Path) -> DeltaWorkspace:
    """alpha: ALPHA_ONE, BOTH, ALPHA_TWO; beta: BOTH, BETA_THREE; all recorded by build 1."""
    workspace = DeltaWorkspace.create(tmp_path / "ws", REGISTRIES)
    workspace.run(ALPHA_ONE, {ALPHA: '{"v": 1}\n'})
    workspace.run(BOTH, {ALPHA: '{"v": 1}\n', f"{BETA}/a.txt": "a1\n"})
    workspace.run(ALPHA_TWO, {ALPHA: '{"v": 2}\n'})
    workspace.run(BETA_THREE, {f"{BETA}/a.txt": "a2\n"})
    workspace.build_ok(at=build_at(1))
    return workspace


def error_line(result) -> str:
    return next(line for line in result.stderr_lines if line.startswith("govern: error:"))


# ------------------------------------------------------------------ point 5: --reseal


def test_reseal_of_a_recorded_snapshot_is_refused_naming_the_build_that_recorded_it(ws: DeltaWorkspace) -> None:
    """The issue's scenario: a recorded snapshot's artifact edited, E_ALREADY_SEALED, then
    ``--reseal`` — which used to succeed and break ``verify --log`` for good."""
    ws.run(ALPHA_NEW, {ALPHA: '{"v": 3}\n'})
    ws.build_ok(at=build_at(2))  # records ALPHA_NEW: the second build is the one to name
    for run_id, recorded_by in ((ALPHA_TWO, build_id(build_at(1))), (ALPHA_NEW, build_id(build_at(2)))):
        (ws.runs / run_id / ALPHA).write_text('{"v": "edited after sealing"}\n')
        again = ws.govern("seal", str(ws.runs / run_id))
        assert again.returncode == 2 and "E_ALREADY_SEALED" in again.stderr
        assert f"govern verify {ws.runs / run_id}" in again.stderr, "the hint points to verify first"
        before = ws.photograph()
        refused = ws.govern("seal", "--reseal", str(ws.runs / run_id))
        assert_refused(refused, "E_RESEAL_REFUSED", str(ws.runs / run_id), recorded_by)
        assert ws.photograph() == before
    verify = ws.govern("verify", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_reseal_of_a_delta_log_build_is_refused(ws: DeltaWorkspace) -> None:
    build = ws.runs / build_id(build_at(1))
    before = ws.photograph()
    refused = ws.govern("seal", "--reseal", str(build))
    assert_refused(refused, "E_RESEAL_REFUSED", build.name)
    assert ws.photograph() == before


def test_reseal_of_a_run_never_recorded_replaces_its_seal(ws: DeltaWorkspace) -> None:
    unrecorded = ws.run("2024-02-01__000000__scratch", {"notes.txt": "draft\n"})
    old = ws.root_sha256(unrecorded.name)
    (unrecorded / "notes.txt").write_text("final\n")
    result = ws.govern("seal", "--reseal", str(unrecorded))
    assert result.returncode == 0, result.stderr
    assert ws.root_sha256(unrecorded.name) != old
    assert ws.govern("verify", str(unrecorded)).returncode == 0
    assert not [p for p in ws.runs.iterdir() if p.name.startswith(".govern-tmp-")]


# ------------------------------------------------------------------ point 6: verify --all


def test_verify_all_fails_when_a_recorded_run_was_deleted(ws: DeltaWorkspace) -> None:
    """The issue's scenario: ``rm -rf`` of a recorded run, then ``verify --all`` said
    "N verified, 0 failed", exit 0."""
    assert ws.govern("verify", "--all").returncode == 0
    shutil.rmtree(ws.runs / ALPHA_ONE)
    result = ws.govern("verify", "--all")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"recorded snapshot alpha @ {ALPHA_ONE}: E_SNAPSHOT_MISSING" in result.stdout
    data = ws.govern("--json", "verify", "--all").json()
    assert data["exit_code"] == 1
    assert [(p["code"], p["where"]) for p in data["result"]["recorded_snapshots"]["problems"]] == [
        ("E_SNAPSHOT_MISSING", f"alpha @ {ALPHA_ONE}")
    ]


def test_verify_all_fails_when_a_recorded_run_was_resealed(ws: DeltaWorkspace) -> None:
    """Re-sealed by a tool other than govern (govern refuses): every run verifies, yet the
    log's record of it no longer holds."""
    (ws.runs / BOTH / ALPHA).write_text("rewritten\n")
    ws.reseal(BOTH)
    result = ws.govern("verify", "--all")
    assert result.returncode == 1
    assert f"recorded snapshot alpha @ {BOTH}: E_HISTORY_CONFLICT" in result.stdout
    assert f"recorded snapshot beta @ {BOTH}: E_HISTORY_CONFLICT" in result.stdout


# ------------------------------------------------------------------ point 8a: late runs


def test_a_late_run_blocks_no_build_and_stays_reported_until_accepted(ws: DeltaWorkspace) -> None:
    """The issue's scenario: a retried job sealed after alpha's later snapshots were recorded
    used to stop every build of every registry (even --allow-unknown) while ``registry list``
    said "0 new", exit 0."""
    ws.run(LATE, {ALPHA: '{"v": "retried"}\n'})
    ws.run(ALPHA_NEW, {ALPHA: '{"v": 3}\n'})
    ws.run(BETA_NEW, {f"{BETA}/a.txt": "a3\n"})
    listed = ws.govern("registry", "list")
    assert listed.returncode == 0
    assert f"1 new, 1 late: {LATE}" in next(line for line in listed.stdout.splitlines() if line.strip().startswith("alpha"))
    assert_refused(ws.govern("registry", "list", "--strict"), "E_STRICT", "1 late")

    # Other registries, and alpha's later snapshots, are recorded; the late run is not.
    second = ws.build("--allow-unknown", at=build_at(2))
    assert second.returncode == 0, second.stderr
    assert f"govern: warning: {LATE}: late snapshot of alpha" in second.stderr
    records = ws.records()
    assert transitions(records, "alpha")[-1] == (ALPHA_TWO, ALPHA_NEW)
    assert transitions(records, "beta")[-1] == (BETA_THREE, BETA_NEW)
    assert LATE not in {r["to_ref"]["run_id"] for r in records}
    state = ws.envelope()["inputs"]["state"]
    assert state["registries"]["alpha"]["late"] == [LATE]
    assert LATE in state["runs_examined"]

    # Remembered: later builds still report it (and --strict fails on it), nothing forgotten.
    later = ws.build("--strict", at=build_at(3))
    assert later.returncode == 1 and "up to date" in later.stdout
    assert f"{LATE}: late snapshot of alpha" in later.stderr
    assert error_line(later).startswith("govern: error: E_STRICT: --strict: 0 unsealed runs and 1 late")
    assert "1 late" in ws.govern("registry", "list").stdout

    # Recorded only on an operator's explicit word, as the next transition, the reason kept.
    assert_refused(ws.build("--accept-late", LATE, at=build_at(4)), "E_USAGE", "--reason", exit_code=2)
    assert_refused(ws.build("--accept-late", ALPHA_NEW, "--reason", "x", at=build_at(4)), "E_USAGE", ALPHA_NEW, exit_code=2)
    accepted = ws.build("--accept-late", LATE, "--reason", "retried job 4711", at=build_at(4))
    assert accepted.returncode == 0, accepted.stderr
    records = ws.records()
    last = records[-1]
    assert (last["registry_id"], last["from_ref"]["run_id"], last["to_ref"]["run_id"]) == ("alpha", ALPHA_NEW, LATE)
    assert last["delta_basis"] == "manifest_diff" and last["counts"] == {"added": 0, "removed": 0, "modified": 1}
    envelope = ws.envelope()
    assert envelope["params"]["accept_late"] == [{"registry_id": "alpha", "run_id": LATE, "reason": "retried job 4711"}]
    assert "late" not in envelope["inputs"]["state"]["registries"]["alpha"]
    assert " late" not in ws.govern("registry", "list", "--strict").stdout
    verify = ws.govern("verify", "--all", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_strict_fails_on_unsealed_runs_after_listing_them(ws: DeltaWorkspace) -> None:
    ws.run("2024-02-01__000000__in_progress", {ALPHA: "being written\n"}, seal=False)
    plain = ws.build(at=build_at(2))
    assert plain.returncode == 0
    strict = ws.build("--strict", at=build_at(2))
    assert strict.returncode == 1
    assert "2024-02-01__000000__in_progress: unsealed" in strict.stderr
    assert error_line(strict).startswith("govern: error: E_STRICT: --strict: 1 unsealed run and 0 late")
    assert ws.govern("registry", "list").returncode == 0
    assert_refused(ws.govern("registry", "list", "--strict"), "E_STRICT", "1 unsealed")


# ------------------------------------------------------------------ point 8b: lost snapshots


def test_lost_snapshots_name_every_registry_and_run_until_acknowledged(ws: DeltaWorkspace) -> None:
    """The issue's scenario: a recorded snapshot deleted blocked every build, naming only the
    first registry. Now every affected registry and run is named, and an acknowledged loss
    lets the log continue, recorded — never silently."""
    shutil.rmtree(ws.runs / ALPHA_TWO)  # alpha's last recorded snapshot
    shutil.rmtree(ws.runs / BETA_THREE)  # beta's last recorded snapshot
    ws.run(ALPHA_NEW, {ALPHA: '{"v": 3}\n'})
    before = ws.photograph()
    blocked = ws.build(at=build_at(2))
    assert_refused(blocked, "E_SNAPSHOT_MISSING", f"alpha @ {ALPHA_TWO}", f"beta @ {BETA_THREE}", "--acknowledge-missing")
    assert ws.photograph() == before
    log_check = ws.govern("verify", "--log")
    assert log_check.returncode == 1 and f"E_SNAPSHOT_MISSING alpha @ {ALPHA_TWO}" in log_check.stdout

    assert_refused(ws.build("--acknowledge-missing", ALPHA_ONE, "--reason", "x", at=build_at(2)), "E_USAGE", "still exists", exit_code=2)
    assert_refused(ws.build("--acknowledge-missing", "2024-01-01__000000__never", "--reason", "x", at=build_at(2)), "E_USAGE", exit_code=2)
    acknowledged = ws.build(
        "--acknowledge-missing", ALPHA_TWO, "--acknowledge-missing", BETA_THREE, "--reason", "disk failure, no backup", at=build_at(2)
    )
    assert acknowledged.returncode == 0, acknowledged.stderr
    record = ws.records()[-1]
    assert (record["registry_id"], record["from_ref"]["run_id"], record["to_ref"]["run_id"]) == ("alpha", ALPHA_TWO, ALPHA_NEW)
    assert record["delta_basis"] == "unknown" and record["counts"] == {"added": None, "removed": None, "modified": None}
    assert f"{ALPHA_TWO} was lost" in record["unknown_reason"] and "disk failure, no backup" in record["unknown_reason"]
    envelope = ws.envelope()
    assert envelope["params"]["acknowledge_missing"] == [
        {"registry_id": "alpha", "run_id": ALPHA_TWO, "reason": "disk failure, no backup"},
        {"registry_id": "beta", "run_id": BETA_THREE, "reason": "disk failure, no backup"},
    ]
    assert envelope["inputs"]["state"]["registries"]["beta"]["acknowledged_missing"] == [BETA_THREE]

    # The log continues: beta's next snapshot links to the lost one, and nothing is blocked.
    ws.run(BETA_NEW, {f"{BETA}/a.txt": "a3\n"})
    later = ws.build(at=build_at(3))
    assert later.returncode == 0, later.stderr
    record = ws.records()[-1]
    assert (record["registry_id"], record["from_ref"]["run_id"], record["delta_basis"]) == ("beta", BETA_THREE, "unknown")
    assert "acknowledged by an earlier build" in record["unknown_reason"]

    # verify accepts exactly the acknowledged losses, listing them, and still fails on another.
    for command in (("verify", "--log"), ("verify", "--all")):
        result = ws.govern(*command)
        assert result.returncode == 0, result.stdout + result.stderr
        assert ALPHA_TWO in result.stdout and BETA_THREE in result.stdout
    shutil.rmtree(ws.runs / ALPHA_ONE)
    for command in (("verify", "--log"), ("verify", "--all")):
        result = ws.govern("--json", *command).json()
        assert result["exit_code"] == 1
        found = result["result"]["log"]["snapshot_problems"] if "--log" in command else result["result"]["recorded_snapshots"]["problems"]
        assert [(p["code"], p["where"]) for p in found] == [("E_SNAPSHOT_MISSING", f"alpha @ {ALPHA_ONE}")]


def test_an_earlier_lost_snapshot_is_acknowledged_by_a_build_that_appends_nothing(ws: DeltaWorkspace) -> None:
    """Losing a snapshot that is not a registry's last blocks no build, but fails verify until
    acknowledged; the acknowledgement is a build of its own (never silent), with no record."""
    shutil.rmtree(ws.runs / ALPHA_ONE)
    assert "up to date" in ws.build_ok(at=build_at(2)).stdout
    assert ws.govern("verify", "--log").returncode == 1
    records_before = ws.records()
    result = ws.build("--acknowledge-missing", ALPHA_ONE, "--reason", "pruned by mistake", at=build_at(3))
    assert result.returncode == 0, result.stderr
    assert ws.builds()[-1] == build_id(build_at(3))
    assert ws.records() == records_before
    assert ws.envelope()["params"]["acknowledge_missing"] == [{"registry_id": "alpha", "run_id": ALPHA_ONE, "reason": "pruned by mistake"}]
    verify = ws.govern("verify", "--all", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(ws.govern("--json", "verify", "--log").stdout)["result"]["log"]["acknowledged_missing"] == [f"alpha @ {ALPHA_ONE}"]


def test_a_late_run_with_a_broken_seal_blocks_nothing_either(ws: DeltaWorkspace) -> None:
    """Not recorded unless accepted, a late snapshot's seal is judged only when it is accepted."""
    late = ws.run(LATE, {ALPHA: '{"v": "retried"}\n'})
    (late / "MANIFEST.sha256").write_text("0" * 64 + "  manifest.json\n")
    ws.run(BETA_NEW, {f"{BETA}/a.txt": "a3\n"})
    result = ws.build(at=build_at(2))
    assert result.returncode == 0, result.stderr
    assert transitions(ws.records(), "beta")[-1] == (BETA_THREE, BETA_NEW)
    assert f"{LATE}: late snapshot of alpha" in result.stderr
    refused = ws.build("--accept-late", LATE, "--reason", "retried", at=build_at(3))
    assert_refused(refused, "E_SNAPSHOT_UNVERIFIED", LATE)
