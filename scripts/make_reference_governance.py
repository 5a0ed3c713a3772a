#!/usr/bin/env python3
"""Generate the reference workspace's governance books: the seed's Phase 2.2.3 change.

    python scripts/make_reference_governance.py [--out DIR] [--check]

The books start as they stood before Phase 2.2.3 (seeds/000, section 4), written here as
version 0.1: 35 operations — 30 of them at coverage C3 or above — with 164 distinct
executables, one coverage row each, and the frozen registry catalog of the 12 registries
configured in ``registry_config.toml`` (8 sealed). Then the phase's change is applied
through the real console script, exactly as an operator would:

1. ``govern governance sync --label phase_2_2_3`` adds OP-QA11 "Registry Delta Log Build"
   (declared by the delta-log plugin: C3, E1 E2 E5 E6 E7, executable ``govern delta build``)
   to catalog and matrix, and — the catalog being frozen — the ``registry_delta_log``
   registry (contributed by the same plugin) to the addendum ``phase_2_2_3``, re-deriving the
   scorecard, all in one change: operations 35 → 36, C3+ 85.7% → 86.1% (+0.4pp),
   executables 164 → 165, sealed registries 8/12 → 9/13;
2. ``govern governance addendum --label phase_2_2_3`` regenerates the addendum and must
   find it up to date (identical bytes);
3. ``govern governance check`` must pass.

Everything is deterministic: fixed clocks, canonical JSON, built-in plugins only
(``GOVERN_LOAD_PLUGINS`` empty), so the output is byte-identical on every machine. The
script writes into a scratch copy of the workspace's ``registry_config.toml`` and installs
only the files it owns (:data:`OWNED`) into ``--out`` (default: the repository root).
``--check`` regenerates and compares byte for byte with ``--out`` (exit 1 on a difference).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

try:
    from govern.config.workspace import CONFIG_NAME, load_workspace
    from govern.errors import GovernError
    from govern.format.jsonio import dump_canonical
    from govern.format.plurals import plural
    from govern.governance.defaults import DEFAULT_COVERAGE_LEVELS, DEFAULT_ENFORCEMENT_POINTS
    from govern.governance.documents import (
        CatalogOperation,
        CoverageMatrix,
        MatrixRow,
        OperationsCatalog,
        RegistryCatalog,
        Scorecard,
        addendum_file_name,
    )
    from govern.governance.registries import configured_entries
    from govern.governance.revision import first_version
    from govern.governance.scorecard import DEFAULT_THRESHOLD, figures_of
    from govern.governance.store import load_books
    from govern.governance.versioning import Change
    from govern.host.manager import PluginHost
    from govern.runtime.clock import parse_utc
    from govern.store.atomic import write_atomic
    from govern.testing import run_cli
except ImportError:  # pragma: no cover - run from a checkout without the package installed
    sys.exit("make_reference_governance: cannot import govern; run it with the project's venv (.venv/bin/python)")

#: When version 0.1 of the books was written: the end of Phase 2.2, after the last reference run.
BASELINE_CLOCK = "2026-02-03T18:00:00Z"
#: When the Phase 2.2.3 change was applied: the seed's delta-log build moment.
CHANGE_CLOCK = "2026-02-05T03:10:05Z"
LABEL = "phase_2_2_3"
GOVERNANCE_DIR = "governance"
#: The files this script owns, relative to the workspace.
OWNED = (
    f"{GOVERNANCE_DIR}/ALLOWED_OPERATIONS_CATALOG.json",
    f"{GOVERNANCE_DIR}/ENFORCEMENT_COVERAGE_MATRIX.json",
    f"{GOVERNANCE_DIR}/GOVERNANCE_COMPLETENESS_SCORECARD.json",
    f"{GOVERNANCE_DIR}/REGISTRY_CATALOG.json",
    f"{GOVERNANCE_DIR}/addenda/{addendum_file_name('0.1', LABEL)}",
)

# (op id, title, coverage level, enforcement points beyond what the level requires, executables).
# The QA family matches the operations of the reference runs' op status table.
OPERATIONS: list[tuple[str, str, str, tuple[str, ...], list[str]]] = [
    ("OP-QA00", "Legacy Manual Registry Edit", "C0", (), ["manual", "docs/runbooks/manual_registry_edit.md"]),
    ("OP-QA01", "Registry Bootstrap", "C3", ("E6", "E7"), ["scripts/bootstrap_registries.py", "scripts/bootstrap/seed_run_registry.py", "scripts/bootstrap/seed_op_status_table.py", "scripts/bootstrap/write_expected_versions.py", "scripts/bootstrap/check_registry_layout.py", "govern seal"]),
    ("OP-QA02", "Threshold Pack Import", "C3", ("E6",), ["scripts/import_threshold_packs.py", "scripts/thresholds/parse_yaml_packs.py", "scripts/thresholds/check_pack_levels.py", "make threshold-packs"]),
    ("OP-QA03", "Data Ingest", "C3", ("E6", "E7"), ["scripts/ingest.py", "scripts/extract_features.py", "scripts/ingest/fetch_export.py", "scripts/ingest/normalise_csv.py", "scripts/ingest/write_ingest_log.py", "govern seal"]),
    ("OP-QA04", "QA Gate", "C5", ("E6",), ["scripts/qa_gate.py", "scripts/qa/duplicate_rate.py", "scripts/qa/row_count_delta.py", "scripts/qa/write_evidence_pack.py", "scripts/qa/approve_gate.py"]),
    ("OP-QA05", "Drift Scan", "C3", ("E6",), ["scripts/drift_scan.py", "scripts/drift/psi.py", "scripts/drift/null_rate.py", "scripts/drift/mean_shift.py", "scripts/drift/triage_signals.py", "scripts/drift/write_signals.py"]),
    ("OP-QA06", "Fingerprint Index Build", "C2", ("E7",), ["scripts/build_fingerprint_index.py", "scripts/fingerprints/hash_data_files.py", "scripts/fingerprints/merge_index.py"]),
    ("OP-QA07", "Model Evaluation", "C2", (), ["scripts/evaluate_model.py", "scripts/eval/load_model.py", "scripts/eval/score_ranges.py", "scripts/eval/write_range_results.py"]),
    ("OP-QA08", "Validation Report Derivation", "C3", ("E6",), ["scripts/derive_validation_reports.py", "scripts/reports/validate_drift_signals.py", "scripts/reports/validate_op_status_table.py", "scripts/reports/validate_run_registry.py", "scripts/reports/write_summary.py", "bin/derive_reports.sh"]),
    ("OP-QA09", "System Health Render", "C1", (), ["scripts/render_system_health.py", "scripts/health/collect_counts.py", "templates/system_health.md.j2"]),
    ("OP-QA10", "Registry Schema Validation", "C4", ("E6",), ["scripts/validate_registry_schema.py", "scripts/schemas/load_schema_map.py", "scripts/schemas/report_violations.py", "govern validate"]),
    ("OP-IN01", "Orders Export Pull", "C3", ("E7",), ["scripts/ingest/pull_orders_export.py", "scripts/ingest/verify_export_checksum.py", "scripts/ingest/stage_orders.py", "bin/s3_sync_orders.sh", "cron/orders_pull.cron"]),
    ("OP-IN02", "Customer Snapshot Pull", "C3", ("E7",), ["scripts/ingest/pull_customers.py", "scripts/ingest/mask_customer_pii.py", "scripts/ingest/stage_customers.py", "bin/s3_sync_customers.sh", "cron/customers_pull.cron"]),
    ("OP-IN03", "Raw Batch Deduplication", "C4", (), ["scripts/ingest/dedupe_batch.py", "scripts/ingest/dedupe_keys.py", "scripts/ingest/dedupe_report.py", "sql/dedupe_orders.sql", "sql/dedupe_customers.sql"]),
    ("OP-IN04", "Late Data Backfill", "C3", ("E6", "E7"), ["scripts/ingest/backfill_late_batches.py", "scripts/ingest/find_late_partitions.py", "scripts/ingest/replay_partition.py", "bin/backfill.sh", "docs/runbooks/late_data_backfill.md"]),
    ("OP-FE01", "Feature Extraction", "C4", ("E7",), ["scripts/features/extract_order_features.py", "scripts/features/zscore.py", "scripts/features/bucket_session_length.py", "scripts/features/write_feature_spec.py", "sql/features_orders.sql"]),
    ("OP-FE02", "Feature Spec Publish", "C4", ("E6",), ["scripts/features/publish_spec.py", "scripts/features/diff_spec.py", "schemas/feature_spec.schema.json", "make publish-feature-spec"]),
    ("OP-FE03", "Feature Store Sync", "C3", ("E7",), ["scripts/features/sync_feature_store.py", "scripts/features/feature_store_client.py", "scripts/features/verify_sync.py", "bin/feature_store_sync.sh", "cron/feature_store_sync.cron"]),
    ("OP-FE04", "Feature Backfill", "C3", ("E6",), ["scripts/features/backfill_features.py", "scripts/features/plan_backfill.py", "scripts/features/backfill_report.py", "bin/feature_backfill.sh", "docs/runbooks/feature_backfill.md"]),
    ("OP-MD01", "Model Training", "C3", ("E7",), ["scripts/models/train_ranker.py", "scripts/models/load_training_set.py", "scripts/models/split_dataset.py", "scripts/models/save_model.py", "configs/ranker_train.yaml", "bin/train.sh"]),
    ("OP-MD02", "Hyperparameter Search", "C3", (), ["scripts/models/hparam_search.py", "scripts/models/search_space.py", "scripts/models/collect_trials.py", "configs/ranker_search.yaml", "bin/hparam_search.sh", "scripts/models/prune_trials.py"]),
    ("OP-MD03", "Model Registration", "C4", ("E6",), ["scripts/models/register_model.py", "scripts/models/model_card.py", "scripts/models/sign_model.py", "schemas/model_card.schema.json"]),
    ("OP-MD04", "Model Promotion", "C5", ("E6", "E7"), ["scripts/models/promote_model.py", "scripts/models/compare_champion.py", "scripts/models/approve_promotion.py", "scripts/models/update_serving_pointer.py", "bin/promote.sh"]),
    ("OP-MD05", "Model Rollback", "C4", ("E6", "E7"), ["scripts/models/rollback_model.py", "scripts/models/find_previous_champion.py", "scripts/models/rollback_report.py", "bin/rollback.sh", "docs/runbooks/model_rollback.md"]),
    ("OP-RP01", "Weekly KPI Report", "C3", (), ["scripts/reports/weekly_kpis.py", "scripts/reports/kpi_queries.py", "scripts/reports/render_kpi_pdf.py", "templates/weekly_kpis.md.j2", "sql/weekly_kpis.sql"]),
    ("OP-RP02", "Data Quality Dashboard Build", "C3", (), ["scripts/reports/dq_dashboard.py", "scripts/reports/dq_metrics.py", "scripts/reports/publish_dashboard.py", "templates/dq_dashboard.html.j2", "cron/dq_dashboard.cron"]),
    ("OP-RP03", "Audit Export", "C4", ("E6",), ["scripts/reports/audit_export.py", "scripts/reports/collect_seals.py", "scripts/reports/export_bundle.py", "scripts/reports/verify_bundle.py", "govern verify"]),
    ("OP-GV01", "Registry Catalog Freeze", "C3", ("E6",), ["scripts/governance/freeze_registry_catalog.py", "scripts/governance/diff_catalog.py", "scripts/governance/catalog_addendum.py", "docs/runbooks/catalog_freeze.md"]),
    ("OP-GV02", "Access Review", "C5", ("E6",), ["scripts/governance/access_review.py", "scripts/governance/list_grants.py", "scripts/governance/revoke_stale_grants.py", "scripts/governance/sign_off_review.py", "docs/runbooks/access_review.md"]),
    ("OP-GV03", "Retention Purge", "C4", ("E7",), ["scripts/governance/retention_purge.py", "scripts/governance/retention_policy.py", "scripts/governance/purge_dry_run.py", "scripts/governance/purge_report.py", "bin/retention_purge.sh"]),
    ("OP-GV04", "Evidence Pack Assembly", "C4", ("E6",), ["scripts/governance/assemble_evidence_pack.py", "scripts/governance/collect_gate_results.py", "scripts/governance/pin_subject_run.py", "scripts/governance/seal_evidence_pack.py", "govern verify"]),
    ("OP-EX01", "Threshold Registry DB Sync", "C1", (), ["scripts/external/sync_threshold_db.py", "scripts/external/threshold_db_client.py", "bin/threshold_db_sync.sh", "cron/threshold_db_sync.cron"]),
    ("OP-EX02", "Vendor Feed Reconciliation", "C3", (), ["scripts/external/reconcile_vendor_feed.py", "scripts/external/vendor_feed_client.py", "scripts/external/reconcile_report.py", "bin/vendor_reconcile.sh", "cron/vendor_reconcile.cron"]),
    ("OP-EX03", "Warehouse Load", "C3", ("E7",), ["scripts/external/warehouse_load.py", "scripts/external/warehouse_schema_check.py", "scripts/external/warehouse_merge.py", "sql/warehouse_merge_orders.sql", "bin/warehouse_load.sh"]),
    ("OP-EX04", "Cold Storage Archive", "C3", ("E6", "E7"), ["scripts/external/archive_runs.py", "scripts/external/verify_archive.py", "scripts/external/restore_drill.py", "bin/archive.sh"]),
]


def baseline_books(workspace_root: Path) -> list:
    """Version 0.1 of the four documents, as they stood before Phase 2.2.3."""
    clock = parse_utc(BASELINE_CLOCK)
    workspace = load_workspace(explicit=workspace_root)
    host = PluginHost(load_only=())
    host.load_plugins()
    registries = tuple(configured_entries(workspace, host))
    points = tuple(DEFAULT_ENFORCEMENT_POINTS)
    levels = tuple(DEFAULT_COVERAGE_LEVELS)
    blank_matrix = CoverageMatrix("0.1", (), points, levels, ())
    operations = tuple(CatalogOperation(op_id, title, tuple(executables)) for op_id, title, _, _, executables in OPERATIONS)
    rows = tuple(
        MatrixRow(op_id, level, blank_matrix.sort_points((*blank_matrix.required_points(level), *extra)))
        for op_id, _, level, extra, _ in OPERATIONS
    )
    catalog = first_version(
        OperationsCatalog("0.1", (), tuple(sorted(operations, key=lambda o: o.op_id))),
        [Change("CREATE", f"Phase 2.2 catalog: {len(operations)} operations")],
        clock,
    )
    matrix = first_version(
        CoverageMatrix("0.1", (), points, levels, tuple(sorted(rows, key=lambda r: r.op_id))),
        [Change("CREATE", f"Phase 2.2 matrix: {len(rows)} rows")],
        clock,
    )
    registry_catalog = first_version(
        RegistryCatalog("0.1", (), registries, frozen=True),
        [
            Change("CREATE", f"Phase 2.2 catalog: {len(registries)} registries"),
            Change("FREEZE", "frozen at the end of Phase 2.2; later registries go into addenda"),
        ],
        clock,
    )
    figures = figures_of(catalog, matrix, registry_catalog.registries, DEFAULT_THRESHOLD)
    scorecard = first_version(Scorecard("0.1", (), figures), [Change("CREATE", "figures derived from the Phase 2.2 books")], clock)
    return [catalog, matrix, scorecard, registry_catalog]


def run_govern(workspace: Path, *args: str) -> str:
    """Run ``govern -C workspace ARGS`` with built-in plugins only; its stdout, or exit."""
    # No third-party plugins: the books must not depend on the machine.
    result = run_cli("-C", str(workspace), *args, env={"GOVERN_LOAD_PLUGINS": ""})
    if result.returncode != 0:
        raise SystemExit(
            f"make_reference_governance: `govern {' '.join(args)}` exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def expect(condition: bool, message: str) -> None:
    """Stop with ``message`` unless ``condition``: the generated books must be the seed's."""
    if not condition:
        raise SystemExit(f"make_reference_governance: {message}")


def generate(source_workspace: Path, scratch: Path) -> None:
    """Build the books in ``scratch`` (a new workspace with ``source_workspace``'s config)."""
    config = source_workspace / CONFIG_NAME
    if not config.is_file():
        raise SystemExit(f"make_reference_governance: {config} is missing (run scripts/make_reference_workspace.py first)")
    scratch.mkdir(parents=True)
    shutil.copyfile(config, scratch / CONFIG_NAME)
    # An empty runs root: the governance commands lock there, and govern refuses a runs root
    # that does not exist (it only reads the registries' configuration here, no run).
    load_workspace(explicit=scratch).runs_root.mkdir(parents=True)
    governance = scratch / GOVERNANCE_DIR
    governance.mkdir()
    for document in baseline_books(scratch):
        write_atomic(governance / document.relpath, dump_canonical(document.to_json()))
    before = load_books(governance).scorecard.figures
    expect(
        (before.operations, before.at_or_above, before.executables, before.sealed_text, str(before.percent))
        == (35, 30, 164, "8/12", "85.7"),
        f"version 0.1 is not the seed's starting point: {before}",
    )
    run_govern(scratch, "governance", "sync", "--label", LABEL, "--at", CHANGE_CLOCK)
    again = run_govern(scratch, "governance", "addendum", "--label", LABEL, "--at", CHANGE_CLOCK)
    expect("up to date" in again, f"regenerating the addendum changed it:\n{again}")
    run_govern(scratch, "governance", "check")
    card = load_books(governance).scorecard
    after = card.figures
    expect(
        (after.operations, after.at_or_above, after.executables, after.sealed_text, str(after.percent))
        == (36, 31, 165, "9/13", "86.1"),
        f"the change does not give the seed's figures: {after}",
    )
    expect(card.to_json()["deltas"]["at_or_above_threshold"] == "+0.4pp", f"C3+ delta is not +0.4pp: {card.to_json()['deltas']}")


def owned_files(root: Path) -> dict[str, bytes]:
    """The owned files present under ``root``."""
    return {relpath: (root / relpath).read_bytes() for relpath in OWNED if (root / relpath).is_file()}


def differences(expected: Path, actual: Path) -> list[str]:
    """What differs between a fresh generation and ``actual``, one line each."""
    fresh, current = owned_files(expected), owned_files(actual)
    lines = []
    for relpath in OWNED:
        if relpath not in current:
            lines.append(f"missing:   {relpath}")
        elif fresh.get(relpath) != current[relpath]:
            lines.append(f"differs:   {relpath}")
    return lines


def install(fresh: Path, out: Path) -> int:
    """Copy the owned files into ``out`` (only those that differ); how many were written."""
    written = 0
    for relpath, data in owned_files(fresh).items():
        target = out / relpath
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    """Generate (or, with --check, compare) the reference governance books."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="workspace holding registry_config.toml (default: the repository root)")
    parser.add_argument("--check", action="store_true", help="compare --out with a fresh generation; write nothing; exit 1 on any difference")
    args = parser.parse_args(argv)
    out: Path = args.out
    with tempfile.TemporaryDirectory(prefix="govern-reference-governance-") as scratch:
        fresh = Path(scratch) / "workspace"
        try:
            generate(out, fresh)
        except GovernError as exc:
            print(f"make_reference_governance: error: {exc}", file=sys.stderr)
            return 2
        if args.check:
            lines = differences(fresh, out)
            if lines:
                print(f"{out}: governance books differ from a fresh generation:", file=sys.stderr)
                for line in lines:
                    print(f"  {line}", file=sys.stderr)
                print("regenerate with: .venv/bin/python scripts/make_reference_governance.py", file=sys.stderr)
                return 1
            print(f"{out}: reference governance books are up to date ({len(OWNED)} files)")
            return 0
        written = install(fresh, out)
    print(f"{out}: reference governance books written ({plural(written, 'file')} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
