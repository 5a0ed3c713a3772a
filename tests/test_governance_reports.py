"""``govern report validation | completion``: every number derived, every total the sum of its
rows, every criterion with its evidence (never ticked without it), same inputs → same bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from govern.testing import ScratchWorkspace
from governance_books import CHANGE_AT, gov, reference_copy
from helpers import run_govern

REPORT_AT = "2026-02-05T03:20:00Z"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the reference workspace with the delta log built at the seed's moment."""
    root = reference_copy(tmp_path_factory.mktemp("reports") / "ws")
    result = gov(root, "delta", "build", "--at", CHANGE_AT)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def completion(built: Path) -> str:
    result = gov(built, "report", "completion", "--at", REPORT_AT)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def validation(built: Path) -> str:
    result = gov(built, "report", "validation", "--at", REPORT_AT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def table_after(markdown: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped, header and rule dropped) of the first table after ``heading``."""
    lines = markdown.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and heading in line)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif rows:
            break
    return rows[2:]


def number(text: str) -> int:
    return int(re.match(r"\**(\d+)", text).group(1))


def test_completion_totals_equal_the_sums_of_their_rows(completion: str):
    covered = table_after(completion, "Registries Covered")
    body, total = covered[:-1], covered[-1]
    assert total[0] == "**Total**"
    assert number(total[1]) == sum(number(row[1]) for row in body)
    assert number(total[2]) == sum(number(row[2]) for row in body)
    for row in body:  # "8 (1 bootstrap + 7 transitions)": the parts add up
        parts = re.match(r"(\d+) \((\d+) bootstrap \+ (\d+) transitions\)", row[2])
        if parts:
            assert int(parts[1]) == int(parts[2]) + int(parts[3])
    outputs = {row[0]: number(row[1]) for row in table_after(completion, "Outputs")}
    assert outputs["**Total delta records**"] == number(total[2]) == 24
    assert outputs["**Registries covered**"] == len(body) == 8
    assert outputs["**Registries excluded (by design)**"] == len(table_after(completion, "Registries Excluded")) == 4
    assert outputs["**Registries skipped**"] == 0


def test_validation_totals_equal_the_sums_of_their_rows(validation: str):
    rows = table_after(validation, "Records per Registry")
    body, total = rows[:-1], rows[-1]
    for column in range(2, 7):
        assert number(total[column]) == sum(int(row[column]) for row in body)
    for row in body:
        assert int(row[3]) == int(row[4]) + int(row[5])  # records = bootstrap + transitions
    builds = table_after(validation, "Builds")
    assert sum(int(row[1]) for row in builds[-1:]) == number(total[3]) == 24


def test_the_completion_report_carries_the_seeds_corrected_figures(completion: str):
    assert "**Status**: COMPLETE" in completion
    for text in ("| Total ops | 35 → 36 |", "| C3+ coverage | 85.7% → 86.1% (+0.4pp) |", "| Executables | 164 → 165 (+1) |",
                 "| Sealed registries | 8/12 → 9/13 |", "| run_registry | 8 | 8 (1 bootstrap + 7 transitions) |",
                 "REGISTRY_CATALOG_ADDENDUM_v0_1__phase_2_2_3.json", "| ADD OP-QA11 | Registry Delta Log Build |"):
        assert text in completion, text
    criteria = table_after(completion, "Success Criteria") + table_after(completion, "Hard Constraints")
    assert len(criteria) == 10
    for name, status, evidence in criteria:
        assert status == "✅ proven", name
        assert evidence, name


def test_the_schema_summary_is_generated_from_the_schema_file(completion: str):
    import importlib.resources
    import json

    schema = json.loads(importlib.resources.files("govern.schemas").joinpath("REGISTRY_registry_delta_log_v0_1.schema.json").read_bytes())
    rows = {row[0]: row for row in table_after(completion, "Schema Summary")}
    assert set(rows) == set(schema["properties"])
    for field in schema["properties"]:
        assert (rows[field][2] == "✅") == (field in schema["required"]), field
    assert rows["unknown_reason"][2] == 'when delta_basis is "unknown"'
    assert rows["delta_basis"][1] == 'enum["manifest_diff", "unknown"]'


def test_same_inputs_and_clock_give_identical_bytes(built: Path, tmp_path: Path):
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    for out in (first, second):
        result = gov(built, "report", "completion", "--out", str(out), "--at", REPORT_AT)
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    # And from another copy of the same workspace, elsewhere on disk.
    other = reference_copy(tmp_path / "elsewhere")
    assert gov(other, "delta", "build", "--at", CHANGE_AT).returncode == 0
    third = tmp_path / "c.md"
    assert gov(other, "report", "completion", "--out", str(third), "--at", REPORT_AT).returncode == 0
    assert third.read_bytes() == first.read_bytes()
    validation_a = gov(built, "report", "validation", "--at", REPORT_AT).stdout
    validation_b = gov(other, "report", "validation", "--at", REPORT_AT).stdout
    assert validation_a == validation_b


def test_without_evidence_nothing_is_ticked(tmp_path: Path):
    root = reference_copy(tmp_path / "ws")  # no delta-log build yet
    result = gov(root, "report", "completion", "--at", REPORT_AT)
    assert result.returncode == 0
    assert "INCOMPLETE" in result.stdout
    assert "not proven" in result.stderr
    criteria = {row[0]: row[1] for row in table_after(result.stdout, "Success Criteria") + table_after(result.stdout, "Hard Constraints")}
    assert criteria["Deterministic"] == "⬜ not proven"
    assert criteria["Append-only"] == "⬜ not proven"
    assert criteria["Schema validation passes"] == "⬜ not proven"
    assert all(status != "✅ proven" for name, status in criteria.items() if name != "Governance references the new op (OP-QA11)")


def test_a_tampered_build_fails_the_report(tmp_path: Path):
    root = reference_copy(tmp_path / "ws")
    assert gov(root, "delta", "build", "--at", CHANGE_AT).returncode == 0
    log = next((root / ".codex/RUNS").glob("*__registry_delta_log_build")) / "REGISTRY_DELTA_LOG_v0_1.jsonl"
    log.write_bytes(log.read_bytes().replace(b'"added":1', b'"added":2', 1))
    result = gov(root, "report", "validation", "--at", REPORT_AT)
    assert result.returncode == 1
    assert "**Status**: FAILED" in result.stdout
    checks = {row[0]: row[1] for row in table_after(result.stdout, "Checks Run")}
    assert checks["seal verification"] == "❌ failed"


def test_reports_say_what_was_checked_manifest_hashes_now_payloads_at_record_time(validation: str, completion: str):
    """Issue 11 point 4: the reports said "re-verified" and "derived from sealed truth only ✅"
    for snapshots whose payload nothing had hashed. They now say what was checked: the
    recorded snapshots' manifest hashes, re-checked for the report, and their payloads,
    hashed when a build recorded them (as each build's sealed run.json states)."""
    checks = {row[0]: (row[1], row[2]) for row in table_after(validation, "Checks Run")}
    assert checks["recorded snapshots"] == (
        "✅ passed",
        "manifest hashes of 24 recorded snapshots re-checked: each still carries the manifest_sha256 recorded for it "
        "(their payload files were not re-hashed for this report)",
    )
    assert checks["payloads at record time"] == (
        "✅ passed",
        "payload of 24 snapshots hashed against their manifests when they were recorded, as the sealed run.json of "
        "each build states (1 build; not re-hashed for this report)",
    )
    for report in (validation, completion):
        assert "re-verified" not in report
    constraints = {row[0]: (row[1], row[2]) for row in table_after(completion, "Hard Constraints")}
    status, evidence = constraints["Derived from sealed truth only"]
    assert status == "✅ proven"
    assert "manifest hashes of 24 recorded snapshots re-checked" in evidence
    assert "payloads at record time: payload of 24 snapshots hashed" in evidence


def test_a_build_that_does_not_say_it_hashed_payloads_leaves_sealed_truth_not_proven(tmp_path: Path):
    """A build made before builds hashed payloads (its run.json has no payloads_hashed) proves
    nothing about them: "Derived from sealed truth only" is not proven, never ticked."""
    import json

    from govern.format.jsonio import dump_canonical
    from helpers import seal_in_process

    root = reference_copy(tmp_path / "ws")
    assert gov(root, "delta", "build", "--at", CHANGE_AT).returncode == 0
    build = next((root / ".codex/RUNS").glob("*__registry_delta_log_build"))
    envelope = json.loads((build / "run.json").read_bytes())
    del envelope["outputs"]["payloads_hashed"]
    (build / "run.json").write_bytes(dump_canonical(envelope))
    seal_in_process(build, at=CHANGE_AT, reseal=True)  # as an older govern would have sealed it
    validation = gov(root, "report", "validation", "--at", REPORT_AT)
    assert validation.returncode == 0, validation.stderr
    checks = {row[0]: (row[1], row[2]) for row in table_after(validation.stdout, "Checks Run")}
    assert checks["payloads at record time"][0] == "⬜ not run"
    assert checks["payloads at record time"][1].startswith("builds that do not say whether they hashed their snapshots' payloads (made before builds did): 1 of 1")
    assert checks["recorded snapshots"][0] == "✅ passed"
    completion = gov(root, "report", "completion", "--at", REPORT_AT)
    constraints = {row[0]: row[1] for row in table_after(completion.stdout, "Hard Constraints")}
    assert constraints["Derived from sealed truth only"] == "⬜ not proven"
    assert "INCOMPLETE" in completion.stdout


def test_plugins_add_sections_with_the_reports_figures(built: Path):
    from govern import hookimpl
    from govern.config.workspace import load_workspace
    from govern.format.models import ReportSection
    from govern.governance.evidence import gather_evidence
    from govern.governance.reports import build_report
    from govern.host.manager import PluginHost
    from govern.runtime.clock import parse_utc

    seen = {}

    class AuditorNotes:
        @hookimpl
        def govern_report_sections(self, report, context):
            seen[report] = context
            return [ReportSection("Auditor Notes", f"{context['build']['records']} records reviewed.", order=900)]

    host = PluginHost(load_only=())
    host.load_plugins()
    host.register(AuditorNotes(), "auditor_notes")
    workspace = load_workspace(explicit=built)
    report = build_report("completion", workspace, host, gather_evidence(workspace, host), parse_utc(REPORT_AT))
    assert "## Auditor Notes\n\n24 records reviewed.\n" in report.markdown
    assert report.markdown.index("## Auditor Notes") > report.markdown.index("## 8. Hard Constraints")
    assert seen["completion"]["figures"]["operations"] == 36


# --- a user's own workspace (issue 11 point 11) ------------------------------------------------

SEED_WORDING = ("Governance references the new op (OP-QA11)", 'No new "active" semantics',
                "registry_delta_log exists as append-only JSONL registry", "Reports prove coverage and gaps", "phase_2_2_3")


def test_the_reference_workspace_keeps_the_seeds_wording(completion: str):
    names = [row[0] for row in table_after(completion, "Success Criteria") + table_after(completion, "Hard Constraints")]
    assert "Governance references the new op (OP-QA11)" in names and 'No new "active" semantics' in names


def user_workspace(root: Path) -> Path:
    """A workspace made by 'govern init', one sealed registry with a snapshot, built."""
    assert run_govern("init", root, env={"GOVERN_LOAD_PLUGINS": "", "SOURCE_DATE_EPOCH": "1704067200"}).returncode == 0
    assert gov(root, "registry", "add", "runs", "--kind", "sealed", "--artifact", "RUNS.jsonl").returncode == 0
    workspace = ScratchWorkspace(root)
    workspace.run("2026-01-01__000000__ingest", {"RUNS.jsonl": '{"run": 1}\n'})
    assert gov(root, "governance", "sync", "--at", CHANGE_AT).returncode == 0
    assert gov(root, "delta", "build", "--at", CHANGE_AT).returncode == 0
    return root


def criteria_of(markdown: str) -> dict[str, tuple[str, str]]:
    return {row[0]: (row[1], row[2]) for row in table_after(markdown, "Success Criteria") + table_after(markdown, "Hard Constraints")}


def test_a_users_workspace_reports_complete_without_the_seeds_wording(tmp_path: Path):
    root = user_workspace(tmp_path / "mine")
    for name in ("completion", "validation"):
        result = gov(root, "report", name, "--at", REPORT_AT)
        assert result.returncode == 0, result.stdout
        assert "**Status**: COMPLETE" in result.stdout or "**Status**: PASSED" in result.stdout
        for words in SEED_WORDING:
            assert words not in result.stdout, words
    criteria = criteria_of(gov(root, "report", "completion", "--at", REPORT_AT).stdout)
    assert len(criteria) == 10 and all(status == "✅ proven" for status, _ in criteria.values())


def evidence_is_said_once(text: str) -> None:
    """No part of an evidence cell repeats another ("X — X")."""
    for cell in text.split(" · "):
        parts = cell.split(" — ")
        assert len(parts) == len(set(parts)), cell
        for part in parts[1:]:
            assert part not in parts[0], cell


def test_every_failed_criterion_names_the_command_that_fixes_it_and_following_it_works(tmp_path: Path):
    root = user_workspace(tmp_path / "mine")
    # Two everyday gaps: a registry configured after the build (with a snapshot), not yet catalogued.
    assert gov(root, "registry", "add", "later", "--kind", "sealed", "--artifact", "RUNS.jsonl").returncode == 0
    fixes = set()
    for name in ("completion", "validation"):
        result = gov(root, "report", name, "--at", REPORT_AT)
        assert result.returncode == 1
        rows = (
            criteria_of(result.stdout).items()
            if name == "completion"
            else {row[0]: (row[1], row[2]) for row in table_after(result.stdout, "Checks Run")}.items()
        )
        failed = [(criterion, evidence) for criterion, (status, evidence) in rows if status.startswith("❌")]
        assert failed, result.stdout
        for criterion, evidence in failed:
            evidence_is_said_once(evidence)
            commands = re.findall(r"fix: '(govern [^']+)'", evidence)
            assert commands, f"{criterion}: {evidence}"
            fixes.update(commands)
    assert fixes == {"govern governance sync", "govern delta build"}
    for command in ("governance sync", "delta build"):  # follow the advice as written
        assert gov(root, *command.split()).returncode == 0, command
    for name in ("completion", "validation"):
        assert gov(root, "report", name, "--at", REPORT_AT).returncode == 0, name


def test_books_that_lack_the_delta_log_operation_say_so_once_and_how_to_fix_it(tmp_path: Path):
    """Books made before init synced them (or by hand): OP-QA11 is not catalogued."""
    workspace = ScratchWorkspace.create(tmp_path / "old")  # the starter books, never synced
    result = gov(workspace.root, "report", "validation", "--at", REPORT_AT)
    assert result.returncode == 1
    checks = {row[0]: (row[1], row[2]) for row in table_after(result.stdout, "Checks Run")}
    status, evidence = checks["operation catalogued"]
    assert status == "❌ failed"
    assert evidence == "3 problems in the governance books — listed below — fix: 'govern governance sync'"
    assert "- operation catalogued: OP-QA11 is not in ALLOWED_OPERATIONS_CATALOG.json" in result.stdout
    completion = gov(workspace.root, "report", "completion", "--at", REPORT_AT).stdout
    for _status, evidence in criteria_of(completion).values():
        evidence_is_said_once(evidence)
    assert gov(workspace.root, "governance", "sync").returncode == 0  # the advice, as written
    assert gov(workspace.root, "report", "validation", "--at", REPORT_AT).returncode == 0


def test_reports_count_in_the_right_number(completion: str, validation: str):
    """Issue 11 point 10: no "build(s)" or "1 records" in a report; one build is "1 build"."""
    for report in (completion, validation):
        assert not re.search(r"\w\(s\)", report), re.findall(r".{30}\w\(s\).{10}", report)
        assert not re.search(r"\b1 (builds|records|snapshots|problems)\b", report)
    assert "passed on 1 build, 24 records" in completion
