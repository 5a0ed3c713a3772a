#!/usr/bin/env python3
"""Generate the reference workspace: the seed report's registries as sealed run folders.

    python scripts/make_reference_workspace.py [--out DIR] [--check] [--force]

The reference workspace reproduces the registries of the Phase 2.2.3 completion report
(seeds/000): 12 registries, 8 of them sealed — run_registry with 8 snapshots, op_status_table
with 8, drift_signals with 3, and migration_ledger, expected_versions, threshold_packs_file,
derived_validation_reports and fingerprint_index with 1 each — and 4 excluded by design with
the seed's reasons. It writes, under ``--out`` (default: the repository root):

* ``registry_config.toml`` — hand-written text with comments;
* ``.codex/RUNS/<run_id>/`` — 13 sealed runs dated January–February 2026;
* ``schemas/REGISTRY_<id>_v0_1.schema.json`` — JSON Schemas of the sealed JSON/JSONL artifacts;
* ``governance/ACTIVE_REGISTRY_POINTERS_v0_1.json`` — registry id → run_id of its active
  snapshot (every pointer on the latest snapshot, so nothing is pending).

Everything is deterministic: every time comes from the run ids (never the wall clock), every
JSON file is canonical, and the runs are sealed with :func:`govern.seal.sealing.seal_run`, so the
output is byte-identical on every machine. ``--check`` regenerates into a temporary directory
and compares byte for byte with ``--out`` (exit 1, listing the differences).

Safety: the script only ever writes or deletes the files and run folders it owns (listed
above). It refuses (exit 2) when the runs root holds run folders it did not make, and, unless
``--out`` is the repository root or ``--force`` is given, when a file it owns already exists
with other content (a different workspace).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

try:
    from govern.errors import GovernError
    from govern.format.envelope import make_envelope
    from govern.format.jsonio import dump_canonical, dump_jsonl_line
    from govern.format.paths import RUN_ID_PATTERN
    from govern.format.plurals import plural
    from govern.seal.sealing import seal_run
except ImportError:  # pragma: no cover - run from a checkout without the package installed
    sys.exit("make_reference_workspace: cannot import govern; run it with the project's venv (.venv/bin/python)")

RUNS_ROOT = ".codex/RUNS"
CONFIG_NAME = "registry_config.toml"
POINTERS_PATH = "governance/ACTIVE_REGISTRY_POINTERS_v0_1.json"
#: Who "made" the reference runs (run.json ``tool``): fixed, so a govern version bump does not
#: re-seal the reference history.
TOOL = {"name": "make_reference_workspace", "version": "1"}
#: Run folder names in the runs root that are not runs and may be left alone.
IGNORED_IN_RUNS_ROOT = {".govern.lock"}

# ---------------------------------------------------------------------------------------------
# Registries
# ---------------------------------------------------------------------------------------------

#: Sealed registries: id → (artifact inside a run, schema file or None).
SEALED: dict[str, tuple[str, str | None]] = {
    "run_registry": ("RUN_REGISTRY_v0_1.jsonl", "schemas/REGISTRY_run_registry_v0_1.schema.json"),
    "op_status_table": ("OPERATION_STATUS_TABLE_v0_1.json", "schemas/REGISTRY_op_status_table_v0_1.schema.json"),
    "drift_signals": ("DRIFT_SIGNALS_v0_1.json", "schemas/REGISTRY_drift_signals_v0_1.schema.json"),
    "migration_ledger": ("MIGRATION_LEDGER_v0_1.jsonl", "schemas/REGISTRY_migration_ledger_v0_1.schema.json"),
    "expected_versions": ("EXPECTED_VERSIONS_v0_1.json", "schemas/REGISTRY_expected_versions_v0_1.schema.json"),
    "threshold_packs_file": ("THRESHOLD_PACKS_v0_1.json", "schemas/REGISTRY_threshold_packs_file_v0_1.schema.json"),
    # A directory artifact: every file under it belongs to the snapshot.
    "derived_validation_reports": ("DERIVED_VALIDATION_REPORTS", None),
    "fingerprint_index": ("FINGERPRINT_INDEX_v0_1.json", "schemas/REGISTRY_fingerprint_index_v0_1.schema.json"),
}

#: Registries excluded by design: id → (kind, reason — the seed's words, verbatim).
EXCLUDED: dict[str, tuple[str, str]] = {
    "threshold_registry_db": ("external", "External database — cannot compute manifest diffs from repo evidence"),
    "validation_range_results": ("collection", "Collection registry — no single sealed snapshot"),
    "evidence_pack_registry": ("collection", "Collection registry — individual per-run seals"),
    "system_health_report": ("presentation", "Presentation-only — no active pointer, no meaningful delta semantics"),
}

# Artifacts of excluded registries that some runs hold anyway (they must not matter).
VALIDATION_RANGE_RESULTS = "VALIDATION_RANGE_RESULTS_v0_1.json"
EVIDENCE_PACK = "EVIDENCE_PACK"
SYSTEM_HEALTH_REPORT = "SYSTEM_HEALTH_REPORT_v0_1.md"

CONFIG_TEXT = f'''\
# The reference workspace of govern: the registries of the Phase 2.2.3 completion report
# (seeds/000), as sealed run folders under .codex/RUNS/.
#
# GENERATED by scripts/make_reference_workspace.py — edit the script, not this file, then run
#     .venv/bin/python scripts/make_reference_workspace.py
# (`--check` compares the committed files with a fresh generation).

[workspace]
# Where run folders (YYYY-MM-DD__HHMMSS__slug) live, relative to this file.
runs_root = "{RUNS_ROOT}"
# The file name of the delta log inside each delta-log build run.
delta_log_artifact = "REGISTRY_DELTA_LOG_v0_1.jsonl"
# Registry id -> run_id of its active snapshot. Every pointer is on the latest snapshot, so
# nothing is pending.
active_pointers = "{POINTERS_PATH}"
# This is govern's reference workspace: reports word their criteria as the seed's Phase 2.2.3
# completion report did ("Governance references the new op (OP-QA11)"). Leave it out of your own.
reference = true

[plugins]
disable = []

# ---------------------------------------------------------------------------------------------
# Sealed registries: every sealed run whose manifest holds the artifact is a snapshot.
# ---------------------------------------------------------------------------------------------

[registries.run_registry]
kind = "sealed"
description = "Every finished run: op, seal (ROOT_SHA256), file count. Append-only JSONL."
artifact = "RUN_REGISTRY_v0_1.jsonl"
schema = "schemas/REGISTRY_run_registry_v0_1.schema.json"

[registries.op_status_table]
kind = "sealed"
description = "Status and coverage level of each operation."
artifact = "OPERATION_STATUS_TABLE_v0_1.json"
schema = "schemas/REGISTRY_op_status_table_v0_1.schema.json"

[registries.drift_signals]
kind = "sealed"
description = "Open and resolved data-drift signals found by the drift scans."
artifact = "DRIFT_SIGNALS_v0_1.json"
schema = "schemas/REGISTRY_drift_signals_v0_1.schema.json"

[registries.migration_ledger]
kind = "sealed"
description = "Format migrations applied to the registries. Append-only JSONL."
artifact = "MIGRATION_LEDGER_v0_1.jsonl"
schema = "schemas/REGISTRY_migration_ledger_v0_1.schema.json"

[registries.expected_versions]
kind = "sealed"
description = "The format version each artifact is expected to carry."
artifact = "EXPECTED_VERSIONS_v0_1.json"
schema = "schemas/REGISTRY_expected_versions_v0_1.schema.json"

[registries.threshold_packs_file]
kind = "sealed"
description = "Threshold packs (warn/fail levels per metric) used by QA gates and drift scans."
artifact = "THRESHOLD_PACKS_v0_1.json"
schema = "schemas/REGISTRY_threshold_packs_file_v0_1.schema.json"

[registries.derived_validation_reports]
kind = "sealed"
description = "Validation reports derived from sealed registries: a folder of report files."
# A directory: every file under it is part of the snapshot (no trailing slash).
artifact = "DERIVED_VALIDATION_REPORTS"

[registries.fingerprint_index]
kind = "sealed"
description = "SHA-256 fingerprints of the data files of the ingest and feature runs."
artifact = "FINGERPRINT_INDEX_v0_1.json"
schema = "schemas/REGISTRY_fingerprint_index_v0_1.schema.json"

# ---------------------------------------------------------------------------------------------
# Excluded by design: catalogued, but no delta log records (reasons from the seed, verbatim).
# ---------------------------------------------------------------------------------------------

[registries.threshold_registry_db]
kind = "external"
reason = "{EXCLUDED["threshold_registry_db"][1]}"

[registries.validation_range_results]
kind = "collection"
# One results file per evaluation run; each run is its own sealed record.
artifact = "{VALIDATION_RANGE_RESULTS}"
reason = "{EXCLUDED["validation_range_results"][1]}"

[registries.evidence_pack_registry]
kind = "collection"
artifact = "{EVIDENCE_PACK}"
reason = "{EXCLUDED["evidence_pack_registry"][1]}"

[registries.system_health_report]
kind = "presentation"
artifact = "{SYSTEM_HEALTH_REPORT}"
reason = "{EXCLUDED["system_health_report"][1]}"
'''

# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------

DRAFT = "https://json-schema.org/draft/2020-12/schema"
RUN_ID = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}__\d{6}__[a-z0-9_]+$", "description": "A run id, YYYY-MM-DD__HHMMSS__slug."}
OP_ID = {"type": "string", "pattern": r"^OP-[A-Z]+[0-9]{2,}$", "description": "An operation id, e.g. OP-QA03."}
UTC = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
    "description": "A UTC time, YYYY-MM-DDTHH:MM:SSZ.",
}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "A SHA-256 digest, 64 lowercase hex characters."}
VERSION = {"type": "string", "pattern": r"^[0-9]+\.[0-9]+$", "description": "A MAJOR.MINOR format version."}


def _described(base: dict[str, Any], description: str) -> dict[str, Any]:
    return {**base, "description": description}


def _schema(registry_id: str, title: str, description: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        **body,
        "$schema": DRAFT,
        "$id": f"https://govern.invalid/schemas/REGISTRY_{registry_id}_v0_1.schema.json",
        "title": title,
        "description": f"{description} The $id is a name, never fetched.",
    }


def _object(description: str, properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": sorted(properties) if required is None else required,
        "properties": properties,
    }


def _number(description: str) -> dict[str, Any]:
    return {"type": "number", "description": description}


def schemas() -> dict[str, dict[str, Any]]:
    """Schema documents by workspace-relative path."""
    run_record = _object(
        "One finished run, registered once by the first registry snapshot after it.",
        {
            "run_id": _described(RUN_ID, "The registered run."),
            "op_id": _described(OP_ID, "The operation the run performed (from its run.json)."),
            "status": {"enum": ["sealed", "failed", "abandoned"], "description": "How the run ended."},
            "created_utc": _described(UTC, "When the run was made (its run.json created_utc)."),
            "root_sha256": _described(SHA256, "The run's ROOT_SHA256 (the sha256 of its manifest.json)."),
            "files": {"type": "integer", "minimum": 1, "description": "Number of files listed in the run's manifest."},
            "registered_by": _described(RUN_ID, "The run whose registry snapshot first added this record."),
        },
    )
    operation = _object(
        "One operation and its current status.",
        {
            "op_id": OP_ID,
            "title": {"type": "string", "minLength": 1, "description": "Human name of the operation."},
            "status": {"enum": ["planned", "active", "deprecated", "retired"], "description": "Lifecycle status."},
            "coverage_level": {"type": "string", "pattern": "^C[0-9]$", "description": "Enforcement coverage level, C0 (none) to C4."},
            "executables": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
                "description": "Scripts or commands that implement the operation.",
            },
        },
    )
    signal = _object(
        "One drift signal: a monitored metric of a feature that crossed its warn level.",
        {
            "signal_id": {"type": "string", "pattern": "^DS-[0-9]{4}$", "description": "Stable id, DS-NNNN."},
            "feature": {"type": "string", "minLength": 1, "description": "The monitored feature (column)."},
            "metric": {"type": "string", "minLength": 1, "description": "The drift metric (psi, null_rate, mean_shift…)."},
            "observed": _number("The metric's value in the latest scan that saw the signal."),
            "warn": _number("The warn level of the threshold pack rule."),
            "severity": {"enum": ["info", "warn", "critical"], "description": "How serious the signal is."},
            "status": {"enum": ["open", "acknowledged", "resolved"], "description": "Triage status."},
            "first_seen_run_id": _described(RUN_ID, "The scan that first raised the signal."),
            "last_seen_run_id": _described(RUN_ID, "The latest scan that saw the metric above its warn level."),
            "note": {"type": "string", "description": "Triage note (why acknowledged or resolved)."},
        },
        required=["signal_id", "feature", "metric", "observed", "warn", "severity", "status", "first_seen_run_id", "last_seen_run_id"],
    )
    migration = _object(
        "One applied format migration.",
        {
            "migration_id": {"type": "string", "pattern": "^MIG-[0-9]{4}$", "description": "Stable id, MIG-NNNN."},
            "target": {"type": "string", "minLength": 1, "description": "The artifact whose format changed."},
            "from_version": {"type": ["string", "null"], "pattern": r"^[0-9]+\.[0-9]+$", "description": "Version before (null: newly created)."},
            "to_version": _described(VERSION, "Version after."),
            "applied_utc": _described(UTC, "When the migration was applied."),
            "description": {"type": "string", "minLength": 1, "description": "What changed."},
        },
    )
    rule = _object(
        "Warn and fail levels of one metric.",
        {
            "metric": {"type": "string", "minLength": 1, "description": "The metric the rule applies to."},
            "warn": _number("Value at or above which a warning is raised."),
            "fail": _number("Value at or above which the gate fails."),
        },
    )
    pack = _object(
        "A named set of threshold rules.",
        {
            "pack_id": {"type": "string", "pattern": "^TP-[A-Z]+-[0-9]{2}$", "description": "Stable id, e.g. TP-DRIFT-01."},
            "description": {"type": "string", "description": "What the pack is for."},
            "rules": {"type": "array", "minItems": 1, "items": rule, "description": "The pack's rules."},
        },
    )
    fingerprint = _object(
        "The fingerprint of one data file inside a sealed run.",
        {
            "run_id": _described(RUN_ID, "The run holding the file."),
            "path": {"type": "string", "minLength": 1, "description": "The file's path in that run's manifest."},
            "sha256": SHA256,
            "bytes": {"type": "integer", "minimum": 0, "description": "The file's size."},
        },
    )
    return {
        SEALED["run_registry"][1]: _schema(
            "run_registry",
            "RUN_REGISTRY_v0_1.jsonl record",
            "One line of the run registry (JSONL: each line is one object valid against this schema).",
            run_record,
        ),
        SEALED["op_status_table"][1]: _schema(
            "op_status_table",
            "OPERATION_STATUS_TABLE_v0_1.json",
            "The operation status table: every operation with its status and coverage level.",
            _object(
                "The whole table.",
                {
                    "table_version": _described(VERSION, "Format version of the table."),
                    "operations": {"type": "array", "items": operation, "description": "Operations, sorted by op_id."},
                },
            ),
        ),
        SEALED["drift_signals"][1]: _schema(
            "drift_signals",
            "DRIFT_SIGNALS_v0_1.json",
            "Drift signals as of one drift scan.",
            _object(
                "The signals document.",
                {
                    "signals_version": _described(VERSION, "Format version of the document."),
                    "scan_run_id": _described(RUN_ID, "The drift scan that wrote this document."),
                    "baseline_run_id": _described(RUN_ID, "The run whose data is the drift baseline."),
                    "threshold_pack": {"type": "string", "pattern": "^TP-[A-Z]+-[0-9]{2}$", "description": "The threshold pack applied."},
                    "signals": {"type": "array", "items": signal, "description": "Signals, sorted by signal_id."},
                },
            ),
        ),
        SEALED["migration_ledger"][1]: _schema(
            "migration_ledger",
            "MIGRATION_LEDGER_v0_1.jsonl record",
            "One line of the migration ledger (JSONL: each line is one object valid against this schema).",
            migration,
        ),
        SEALED["expected_versions"][1]: _schema(
            "expected_versions",
            "EXPECTED_VERSIONS_v0_1.json",
            "The format version each artifact is expected to carry.",
            _object(
                "The expected-versions document.",
                {
                    "document_version": _described(VERSION, "Format version of this document."),
                    "expected": {
                        "type": "array",
                        "description": "One entry per artifact, sorted by artifact.",
                        "items": _object(
                            "The expected version of one artifact.",
                            {
                                "artifact": {"type": "string", "minLength": 1, "description": "Artifact file name."},
                                "version": _described(VERSION, "The version it must carry."),
                            },
                        ),
                    },
                },
            ),
        ),
        SEALED["threshold_packs_file"][1]: _schema(
            "threshold_packs_file",
            "THRESHOLD_PACKS_v0_1.json",
            "Threshold packs used by QA gates and drift scans.",
            _object(
                "The packs document.",
                {
                    "packs_version": _described(VERSION, "Format version of the document."),
                    "packs": {"type": "array", "items": pack, "description": "Packs, sorted by pack_id."},
                },
            ),
        ),
        SEALED["fingerprint_index"][1]: _schema(
            "fingerprint_index",
            "FINGERPRINT_INDEX_v0_1.json",
            "SHA-256 fingerprints of data files held by sealed runs.",
            _object(
                "The index document.",
                {
                    "index_version": _described(VERSION, "Format version of the index."),
                    "source_runs": {"type": "array", "items": RUN_ID, "description": "The runs whose files are indexed."},
                    "entries": {"type": "array", "items": fingerprint, "description": "Entries, sorted by run_id then path."},
                },
            ),
        ),
    }


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


def run_moment(run_id: str) -> dt.datetime:
    """The fixed clock of a run: the time in its id, UTC."""
    match = RUN_ID_PATTERN.match(run_id)
    if not match:
        raise ValueError(f"{run_id!r} is not a run id")
    y, mo, d, h, mi, s = (int(g) for g in match.groups()[:6])
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.UTC)


def utc(run_id: str, seconds: int = 0) -> str:
    """``run_id``'s moment plus ``seconds``, as YYYY-MM-DDTHH:MM:SSZ."""
    return (run_moment(run_id) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


# The runs, in order. Snapshots: run_registry and op_status_table in runs 02, 03, 04, 06, 07, 08,
# 10, 12; drift_signals in 04, 08, 11; one each for the other five sealed registries.
R01 = "2026-01-05__083000__data_ingest"
R02 = "2026-01-05__091200__registry_bootstrap"
R03 = "2026-01-07__140315__threshold_pack_import"
R04 = "2026-01-09__103040__drift_scan"
R05 = "2026-01-12__081500__feature_extract"
R06 = "2026-01-14__162045__fingerprint_index_build"
R07 = "2026-01-16__110730__qa_gate"
R08 = "2026-01-20__093000__drift_scan"
R09 = "2026-01-22__150000__model_eval"
R10 = "2026-01-26__120500__validation_report_derive"
R11 = "2026-01-29__084510__drift_scan"
R12 = "2026-02-02__101500__system_health_render"
R13 = "2026-02-03__170000__data_ingest"


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(dump_jsonl_line(r) for r in records)


def _op(op_id: str, title: str, status: str, level: str, *executables: str) -> dict[str, Any]:
    return {"op_id": op_id, "title": title, "status": status, "coverage_level": level, "executables": list(executables)}


def op_status_table(version: int) -> bytes:
    """The op status table as re-issued by the ``version``-th snapshot (1-based)."""
    ops = {
        "OP-QA00": _op("OP-QA00", "Legacy Manual Registry Edit", "deprecated", "C0", "manual"),
        "OP-QA01": _op("OP-QA01", "Registry Bootstrap", "active", "C3", "scripts/bootstrap_registries.py"),
        "OP-QA02": _op("OP-QA02", "Threshold Pack Import", "planned", "C1", "scripts/import_threshold_packs.py"),
        "OP-QA03": _op("OP-QA03", "Data Ingest", "active", "C2", "scripts/ingest.py"),
        "OP-QA04": _op("OP-QA04", "QA Gate", "active", "C3", "scripts/qa_gate.py"),
        "OP-QA05": _op("OP-QA05", "Drift Scan", "planned", "C1", "scripts/drift_scan.py"),
    }
    if version >= 2:
        ops["OP-QA02"].update(status="active", coverage_level="C3")
    if version >= 3:
        ops["OP-QA05"].update(status="active", coverage_level="C3")
        ops["OP-QA06"] = _op("OP-QA06", "Fingerprint Index Build", "planned", "C0", "scripts/build_fingerprint_index.py")
        ops["OP-QA03"]["executables"].append("scripts/extract_features.py")
    if version >= 4:
        ops["OP-QA06"].update(status="active", coverage_level="C2")
        ops["OP-QA07"] = _op("OP-QA07", "Model Evaluation", "planned", "C1", "scripts/evaluate_model.py")
    # version 5 re-issues version 4 unchanged (the QA gate changed no operation).
    if version >= 6:
        ops["OP-QA03"].update(coverage_level="C3")
        ops["OP-QA07"].update(status="active", coverage_level="C2")
        ops["OP-QA08"] = _op("OP-QA08", "Validation Report Derivation", "planned", "C1", "scripts/derive_validation_reports.py")
    if version >= 7:
        ops["OP-QA08"].update(status="active", coverage_level="C3")
        ops["OP-QA09"] = _op("OP-QA09", "System Health Render", "planned", "C0", "scripts/render_system_health.py")
    if version >= 8:
        ops["OP-QA00"].update(status="retired")
        ops["OP-QA09"].update(status="active", coverage_level="C1")
    return dump_canonical({"table_version": "0.1", "operations": [ops[k] for k in sorted(ops)]})


def _signal(sid: str, feature: str, metric: str, observed: float, warn: float, severity: str, status: str, first: str, last: str, note: str | None = None) -> dict[str, Any]:
    signal = {
        "signal_id": sid,
        "feature": feature,
        "metric": metric,
        "observed": observed,
        "warn": warn,
        "severity": severity,
        "status": status,
        "first_seen_run_id": first,
        "last_seen_run_id": last,
    }
    if note is not None:
        signal["note"] = note
    return signal


def drift_signals(scan_run_id: str) -> bytes:
    """DRIFT_SIGNALS as written by one of the three drift scans."""
    if scan_run_id == R04:
        signals = [_signal("DS-0001", "session_length", "psi", 0.14, 0.1, "warn", "open", R04, R04)]
    elif scan_run_id == R08:
        signals = [
            _signal("DS-0001", "session_length", "psi", 0.17, 0.1, "warn", "acknowledged", R04, R08, "holiday traffic; re-baseline planned"),
            _signal("DS-0002", "country_code", "null_rate", 0.031, 0.02, "warn", "open", R08, R08),
            _signal("DS-0003", "basket_value", "mean_shift", 0.06, 0.05, "info", "open", R08, R08),
        ]
    elif scan_run_id == R11:
        signals = [
            _signal("DS-0001", "session_length", "psi", 0.17, 0.1, "warn", "resolved", R04, R08, "baseline moved to the feature_extract run of 2026-01-12"),
            _signal("DS-0002", "country_code", "null_rate", 0.044, 0.02, "critical", "open", R08, R11),
            _signal("DS-0003", "basket_value", "mean_shift", 0.06, 0.05, "info", "resolved", R08, R08, "below the warn level since the 2026-01-22 evaluation"),
            _signal("DS-0004", "device_type", "psi", 0.12, 0.1, "warn", "open", R11, R11),
        ]
    else:  # pragma: no cover
        raise ValueError(scan_run_id)
    baseline = R01 if scan_run_id != R11 else R05
    return dump_canonical(
        {"signals_version": "0.1", "scan_run_id": scan_run_id, "baseline_run_id": baseline, "threshold_pack": "TP-DRIFT-01", "signals": signals}
    )


def migration_ledger() -> bytes:
    records = [
        {
            "migration_id": "MIG-0001",
            "target": "RUN_REGISTRY_v0_1.jsonl",
            "from_version": "0.0",
            "to_version": "0.1",
            "applied_utc": utc(R02, 12),
            "description": "run registry moved from a hand-kept CSV to sealed, append-only JSONL",
        },
        {
            "migration_id": "MIG-0002",
            "target": "OPERATION_STATUS_TABLE_v0_1.json",
            "from_version": "0.0",
            "to_version": "0.1",
            "applied_utc": utc(R02, 19),
            "description": "coverage levels C0-C4 replace the free-text 'enforced' column",
        },
        {
            "migration_id": "MIG-0003",
            "target": "EXPECTED_VERSIONS_v0_1.json",
            "from_version": None,
            "to_version": "0.1",
            "applied_utc": utc(R02, 23),
            "description": "expected versions recorded for the first time",
        },
    ]
    return _jsonl(records)


def expected_versions() -> bytes:
    artifacts = {
        "DRIFT_SIGNALS_v0_1.json": "0.1",
        "EXPECTED_VERSIONS_v0_1.json": "0.1",
        "FINGERPRINT_INDEX_v0_1.json": "0.1",
        "MIGRATION_LEDGER_v0_1.jsonl": "0.1",
        "OPERATION_STATUS_TABLE_v0_1.json": "0.1",
        "RUN_REGISTRY_v0_1.jsonl": "0.1",
        "THRESHOLD_PACKS_v0_1.json": "0.1",
        "manifest.json": "0.1",
        "run.json": "0.1",
    }
    return dump_canonical({"document_version": "0.1", "expected": [{"artifact": a, "version": v} for a, v in sorted(artifacts.items())]})


def threshold_packs() -> bytes:
    packs = [
        {
            "pack_id": "TP-DRIFT-01",
            "description": "Drift scan levels for the order features.",
            "rules": [
                {"metric": "mean_shift", "warn": 0.05, "fail": 0.15},
                {"metric": "null_rate", "warn": 0.02, "fail": 0.05},
                {"metric": "psi", "warn": 0.1, "fail": 0.25},
            ],
        },
        {
            "pack_id": "TP-QA-01",
            "description": "QA gate levels for ingested batches.",
            "rules": [
                {"metric": "duplicate_rate", "warn": 0.001, "fail": 0.01},
                {"metric": "row_count_delta", "warn": 0.1, "fail": 0.3},
            ],
        },
    ]
    return dump_canonical({"packs_version": "0.1", "packs": packs})


class Builder:
    """Writes and seals the runs in order, remembering each seal for the run registry."""

    def __init__(self, runs_root: Path) -> None:
        self.runs_root = runs_root
        self.sealed: list[dict[str, Any]] = []  # run registry records, in run order
        self.registered: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, bytes]] = {}  # payload of every run written so far

    def run_registry(self, snapshot_run_id: str) -> bytes:
        """The run registry as re-issued by ``snapshot_run_id``: earlier records, plus every
        run sealed since, registered by this snapshot (append-only)."""
        known = {r["run_id"] for r in self.registered}
        for record in self.sealed:
            if record["run_id"] not in known:
                self.registered.append({**record, "registered_by": snapshot_run_id})
        return _jsonl(self.registered)

    def add(self, run_id: str, op_id: str, files: dict[str, bytes], *, inputs: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> None:
        run_dir = self.runs_root / run_id
        run_dir.mkdir(parents=True)
        for relpath, data in files.items():
            target = run_dir / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        clock = run_moment(run_id)
        envelope = make_envelope(
            run_id,
            op_id=op_id,
            clock=clock,
            inputs=inputs,
            outputs={"files": sorted(files)},
            params=params,
        )
        envelope["tool"] = dict(TOOL)
        (run_dir / "run.json").write_bytes(dump_canonical(envelope))
        result = seal_run(run_dir, envelope=envelope)
        self.files[run_id] = files
        self.sealed.append(
            {
                "run_id": run_id,
                "op_id": op_id,
                "status": "sealed",
                "created_utc": utc(run_id),
                "root_sha256": result.root_sha256,
                "files": result.files,
            }
        )

    def fingerprints(self, *run_ids: str) -> bytes:
        entries = []
        for run_id in run_ids:
            for path, data in sorted(self.files[run_id].items()):
                entries.append({"run_id": run_id, "path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
        return dump_canonical({"index_version": "0.1", "source_runs": list(run_ids), "entries": entries})

    def root_of(self, run_id: str) -> str:
        return next(r["root_sha256"] for r in self.sealed if r["run_id"] == run_id)


def _validation_report(target: str, source_run: str, source_root: str, checks: list[tuple[str, str]]) -> bytes:
    result = "fail" if any(r == "fail" for _, r in checks) else ("warn" if any(r == "warn" for _, r in checks) else "pass")
    return dump_canonical(
        {
            "report_version": "0.1",
            "target": target,
            "source_run_id": source_run,
            "source_root_sha256": source_root,
            "checks": [{"check": c, "result": r} for c, r in checks],
            "result": result,
        }
    )


def build_runs(runs_root: Path) -> dict[str, str]:
    """Write and seal every reference run; return registry id → run_id of its latest snapshot."""
    b = Builder(runs_root)
    ops_version = 0

    def registry_files(run_id: str) -> dict[str, bytes]:
        nonlocal ops_version
        ops_version += 1
        return {
            "RUN_REGISTRY_v0_1.jsonl": b.run_registry(run_id),
            "OPERATION_STATUS_TABLE_v0_1.json": op_status_table(ops_version),
        }

    # 01 — an ordinary pipeline run: no registry artifact at all.
    b.add(
        R01,
        "OP-QA03",
        {
            "raw/orders_2026-01-04.csv": _text(
                [
                    "order_id,customer_id,country_code,basket_value,session_length",
                    "100231,C-0192,DE,54.20,312",
                    "100232,C-0077,FR,12.99,95",
                    "100233,C-0310,,101.50,640",
                    "100234,C-0192,DE,8.75,41",
                    "100235,C-0451,NL,33.10,220",
                ]
            ),
            "raw/customers_2026-01-04.csv": _text(["customer_id,segment,since", "C-0077,retail,2023-04-01", "C-0192,retail,2021-11-17", "C-0310,b2b,2024-02-29", "C-0451,retail,2025-08-03"]),
            "ingest_log.txt": _text([f"{utc(R01)} ingest start source=s3://orders-export/2026-01-04", f"{utc(R01, 41)} orders: 5 rows, customers: 4 rows", f"{utc(R01, 42)} ingest done"]),
        },
        inputs={"source": "s3://orders-export/2026-01-04"},
        params={"batch_date": "2026-01-04"},
    )
    # 02 — bootstrap: first run registry and op status table; the only migration ledger and
    # expected versions.
    b.add(
        R02,
        "OP-QA01",
        {
            **registry_files(R02),
            "MIGRATION_LEDGER_v0_1.jsonl": migration_ledger(),
            "EXPECTED_VERSIONS_v0_1.json": expected_versions(),
        },
        inputs={"runs_root": RUNS_ROOT},
    )
    # 03 — the threshold packs (their only snapshot).
    b.add(
        R03,
        "OP-QA02",
        {**registry_files(R03), "THRESHOLD_PACKS_v0_1.json": threshold_packs()},
        inputs={"source": "config/threshold_packs.yaml"},
    )
    # 04 — first drift scan.
    b.add(
        R04,
        "OP-QA05",
        {**registry_files(R04), "DRIFT_SIGNALS_v0_1.json": drift_signals(R04), "scan_log.txt": _text([f"{utc(R04)} scan baseline={R01} pack=TP-DRIFT-01", f"{utc(R04, 57)} 1 signal"])},
        inputs={"baseline_run_id": R01},
        params={"threshold_pack": "TP-DRIFT-01"},
    )
    # 05 — an ordinary pipeline run: no registry artifact at all.
    b.add(
        R05,
        "OP-QA03",
        {
            "features/orders_features.csv": _text(
                [
                    "order_id,basket_value_z,session_length_bucket,country_known",
                    "100231,0.31,long,1",
                    "100232,-0.82,short,1",
                    "100233,1.77,long,0",
                    "100234,-1.04,short,1",
                    "100235,-0.22,medium,1",
                ]
            ),
            "features/feature_spec.txt": _text(["basket_value_z: z-score of basket_value over the batch", "session_length_bucket: short < 120 <= medium < 300 <= long", "country_known: country_code present"]),
        },
        inputs={"source_run_id": R01},
    )
    # 06 — the fingerprint index (its only snapshot), over the data of runs 01 and 05.
    b.add(
        R06,
        "OP-QA06",
        {**registry_files(R06), "FINGERPRINT_INDEX_v0_1.json": b.fingerprints(R01, R05)},
        inputs={"source_runs": [R01, R05]},
    )
    # 07 — QA gate: an evidence pack (collection registry, excluded); the op status table is
    # re-issued unchanged (a transition with nothing changed).
    b.add(
        R07,
        "OP-QA04",
        {
            **registry_files(R07),
            f"{EVIDENCE_PACK}/checks.json": dump_canonical(
                {"gate": "TP-QA-01", "subject_run_id": R05, "checks": [{"metric": "duplicate_rate", "value": 0.0, "result": "pass"}, {"metric": "row_count_delta", "value": 0.0, "result": "pass"}]}
            ),
            f"{EVIDENCE_PACK}/subject_root_sha256.txt": _text([f"{b.root_of(R05)}  {R05}"]),
        },
        inputs={"subject_run_id": R05},
        params={"threshold_pack": "TP-QA-01"},
    )
    # 08 — second drift scan: two new signals, one acknowledged.
    b.add(
        R08,
        "OP-QA05",
        {**registry_files(R08), "DRIFT_SIGNALS_v0_1.json": drift_signals(R08), "scan_log.txt": _text([f"{utc(R08)} scan baseline={R01} pack=TP-DRIFT-01", f"{utc(R08, 63)} 3 signals (2 new)"])},
        inputs={"baseline_run_id": R01},
        params={"threshold_pack": "TP-DRIFT-01"},
    )
    # 09 — model evaluation: a validation range results file (collection registry, excluded).
    b.add(
        R09,
        "OP-QA07",
        {
            VALIDATION_RANGE_RESULTS: dump_canonical(
                {
                    "results_version": "0.1",
                    "evaluated_run_id": R05,
                    "ranges": [
                        {"metric": "auc", "low": 0.78, "high": 0.84, "observed": 0.812, "in_range": True},
                        {"metric": "calibration_error", "low": 0.0, "high": 0.05, "observed": 0.031, "in_range": True},
                    ],
                }
            ),
            "eval_log.txt": _text([f"{utc(R09)} evaluate model=orders-ranker@7 data={R05}", f"{utc(R09, 188)} 2/2 metrics in range"]),
        },
        inputs={"data_run_id": R05, "model": "orders-ranker@7"},
    )
    # 10 — derived validation reports: a directory artifact of several files (its only
    # snapshot), plus another evidence pack.
    reports = {
        "DERIVED_VALIDATION_REPORTS/VR_drift_signals.json": _validation_report(
            "DRIFT_SIGNALS_v0_1.json", R08, b.root_of(R08), [("schema", "pass"), ("signals_triaged", "warn")]
        ),
        "DERIVED_VALIDATION_REPORTS/VR_op_status_table.json": _validation_report(
            "OPERATION_STATUS_TABLE_v0_1.json", R08, b.root_of(R08), [("schema", "pass"), ("no_planned_op_has_runs", "pass")]
        ),
        "DERIVED_VALIDATION_REPORTS/VR_run_registry.json": _validation_report(
            "RUN_REGISTRY_v0_1.jsonl", R08, b.root_of(R08), [("schema", "pass"), ("append_only", "pass"), ("root_sha256_matches_seal", "pass")]
        ),
        "DERIVED_VALIDATION_REPORTS/SUMMARY.md": _text(
            [
                "# Derived validation reports",
                "",
                f"Source snapshot: `{R08}`",
                "",
                "| target | result |",
                "|---|---|",
                "| DRIFT_SIGNALS_v0_1.json | warn |",
                "| OPERATION_STATUS_TABLE_v0_1.json | pass |",
                "| RUN_REGISTRY_v0_1.jsonl | pass |",
            ]
        ),
    }
    b.add(
        R10,
        "OP-QA08",
        {
            **registry_files(R10),
            **reports,
            f"{EVIDENCE_PACK}/checks.json": dump_canonical(
                {"gate": "TP-QA-01", "subject_run_id": R08, "checks": [{"metric": "schema_valid", "value": 1.0, "result": "pass"}]}
            ),
        },
        inputs={"source_run_id": R08},
    )
    # 11 — third drift scan (no run registry re-issue: the next registry snapshot registers it).
    b.add(
        R11,
        "OP-QA05",
        {"DRIFT_SIGNALS_v0_1.json": drift_signals(R11), "scan_log.txt": _text([f"{utc(R11)} scan baseline={R05} pack=TP-DRIFT-01", f"{utc(R11, 71)} 4 signals (1 new, 2 resolved)"])},
        inputs={"baseline_run_id": R05},
        params={"threshold_pack": "TP-DRIFT-01"},
    )
    # 12 — system health page (presentation, excluded), last registry snapshots.
    b.add(
        R12,
        "OP-QA09",
        {
            **registry_files(R12),
            SYSTEM_HEALTH_REPORT: _text(
                [
                    "# System health — 2026-02-02",
                    "",
                    "- Runs registered: 11",
                    "- Open drift signals: 2 (DS-0002 critical, DS-0004 warn)",
                    "- Operations active: 9 of 10",
                ]
            ),
        },
    )
    # 13 — an ordinary pipeline run after the last snapshot: no registry artifact at all.
    b.add(
        R13,
        "OP-QA03",
        {
            "raw/orders_2026-02-02.csv": _text(
                [
                    "order_id,customer_id,country_code,basket_value,session_length",
                    "100891,C-0451,NL,47.80,188",
                    "100892,C-0512,,22.40,73",
                    "100893,C-0077,FR,64.00,402",
                ]
            ),
            "ingest_log.txt": _text([f"{utc(R13)} ingest start source=s3://orders-export/2026-02-02", f"{utc(R13, 29)} orders: 3 rows", f"{utc(R13, 30)} ingest done"]),
        },
        inputs={"source": "s3://orders-export/2026-02-02"},
        params={"batch_date": "2026-02-02"},
    )
    return latest_snapshots(b.files)


def latest_snapshots(files: dict[str, dict[str, bytes]]) -> dict[str, str]:
    """Registry id → run_id of the latest run holding its artifact (file or folder)."""
    latest = {}
    for run_id in sorted(files):
        for registry_id, (artifact, _) in SEALED.items():
            if any(path == artifact or path.startswith(artifact + "/") for path in files[run_id]):
                latest[registry_id] = run_id
    return latest


RUN_IDS = (R01, R02, R03, R04, R05, R06, R07, R08, R09, R10, R11, R12, R13)

# ---------------------------------------------------------------------------------------------
# Generation, comparison, installation
# ---------------------------------------------------------------------------------------------


def generate(root: Path) -> None:
    """Write the whole reference workspace into the empty directory ``root``."""
    runs_root = root / RUNS_ROOT
    runs_root.mkdir(parents=True)
    pointers = build_runs(runs_root)
    (root / CONFIG_NAME).write_bytes(CONFIG_TEXT.encode("utf-8"))
    for relpath, schema in schemas().items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(dump_canonical(schema))
    (root / POINTERS_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / POINTERS_PATH).write_bytes(dump_canonical(pointers))


def owned_files(root: Path) -> dict[str, bytes]:
    """Every file the script owns under ``root`` (workspace-relative POSIX path → bytes)."""
    found: dict[str, bytes] = {}
    for relpath in (CONFIG_NAME, POINTERS_PATH, *schemas()):
        path = root / relpath
        if path.is_file():
            found[relpath] = path.read_bytes()
    for run_id in RUN_IDS:
        run_dir = root / RUNS_ROOT / run_id
        if run_dir.is_dir():
            for path in sorted(run_dir.rglob("*")):
                if path.is_file() or path.is_symlink():
                    found[path.relative_to(root).as_posix()] = path.read_bytes() if path.is_file() else b"<symlink>"
    return found


def foreign_runs(root: Path) -> list[str]:
    """Entries of the runs root that this script did not make."""
    runs_root = root / RUNS_ROOT
    if not runs_root.is_dir():
        return []
    return sorted(e.name for e in runs_root.iterdir() if e.name not in RUN_IDS and e.name not in IGNORED_IN_RUNS_ROOT)


def differences(expected_root: Path, actual_root: Path) -> list[str]:
    """What differs between the fresh generation and ``actual_root``, one line each."""
    expected = owned_files(expected_root)
    actual = owned_files(actual_root)
    lines = []
    for relpath in sorted(expected.keys() | actual.keys()):
        if relpath not in actual:
            lines.append(f"missing:   {relpath}")
        elif relpath not in expected:
            lines.append(f"extra:     {relpath}")
        elif expected[relpath] != actual[relpath]:
            lines.append(f"differs:   {relpath}")
    lines.extend(f"foreign:   {RUNS_ROOT}/{name} (not made by this script)" for name in foreign_runs(actual_root))
    return lines


def install(fresh: Path, out: Path, *, force: bool) -> list[str]:
    """Copy the fresh generation into ``out``, replacing only what the script owns."""
    foreign = foreign_runs(out)
    if foreign:
        raise SystemExit(
            f"make_reference_workspace: refusing: {out / RUNS_ROOT} holds entries this script did not make: "
            f"{', '.join(foreign)} (move them away first; nothing was changed)"
        )
    is_repo_root = out.resolve() == REPO_ROOT
    if not is_repo_root and not force:
        wanted = owned_files(fresh)
        clashing = [p for p, data in owned_files(out).items() if wanted.get(p) != data]
        if clashing:
            raise SystemExit(
                f"make_reference_workspace: refusing: {out} already holds a different workspace "
                f"({plural(len(clashing), 'file')} differ, e.g. {clashing[0]}); use --force to replace the files this script owns"
            )
    changed = differences(fresh, out)
    for run_id in RUN_IDS:
        target = out / RUNS_ROOT / run_id
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh / RUNS_ROOT / run_id, target, copy_function=shutil.copyfile)
    for relpath in (CONFIG_NAME, POINTERS_PATH, *schemas()):
        target = out / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (fresh / relpath).read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="workspace directory to write (default: the repository root)")
    parser.add_argument("--check", action="store_true", help="compare --out with a fresh generation; write nothing; exit 1 on any difference")
    parser.add_argument("--force", action="store_true", help="replace this script's files in an --out holding a different workspace")
    args = parser.parse_args(argv)
    out: Path = args.out
    with tempfile.TemporaryDirectory(prefix="govern-reference-") as scratch:
        fresh = Path(scratch) / "workspace"
        try:
            generate(fresh)
        except GovernError as exc:
            print(f"make_reference_workspace: error: {exc}", file=sys.stderr)
            return 2
        if args.check:
            lines = differences(fresh, out)
            if lines:
                print(f"{out}: differs from a fresh generation ({plural(len(lines), 'difference')}):", file=sys.stderr)
                for line in lines:
                    print(f"  {line}", file=sys.stderr)
                print("regenerate with: .venv/bin/python scripts/make_reference_workspace.py", file=sys.stderr)
                return 1
            print(f"{out}: reference workspace is up to date ({len(owned_files(fresh))} files)")
            return _governance_books(out, check=True)
        if out.exists() and not out.is_dir():
            print(f"make_reference_workspace: error: {out} is not a directory", file=sys.stderr)
            return 2
        out.mkdir(parents=True, exist_ok=True)
        try:
            changed = install(fresh, out, force=args.force)
        except SystemExit as exc:
            print(exc, file=sys.stderr)
            return 2
    print(f"{out}: reference workspace written ({plural(len(RUN_IDS), 'run')}, {plural(len(changed), 'file')} changed)")
    return _governance_books(out, check=False)


def _governance_books(out: Path, *, check: bool) -> int:
    """The governance books belong to the same reference workspace: generate (or check) them too."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_reference_governance

    return make_reference_governance.main(["--out", str(out), *(["--check"] if check else [])])


if __name__ == "__main__":
    sys.exit(main())
