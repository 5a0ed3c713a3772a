"""The two reports, ``validation`` and ``completion``: Markdown in the seed's shape.

Every number is computed from :class:`govern.governance.evidence.Evidence` — the sealed log,
the build's run.json, the books and the checks just run — and every total is the sum of the
rows printed above it. A criterion is ✅ only when each check it rests on ran and passed;
❌ when one failed; otherwise it is shown as *not proven*, never ticked. Plugins add sections
through ``govern_report_sections``. Same inputs and clock → identical bytes (no temporary
paths, no wall clock, everything sorted or in configuration order).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.format.plurals import plural
from govern.governance.documents import ChangelogEntry, CoverageMatrix, Document
from govern.governance.evidence import CheckOutcome, Evidence
from govern.governance.figures import delta_points, format_percent, share_percent
from govern.governance.markdown import code, first_sentence, table
from govern.governance.schema_summary import schema_summary
from govern.host.manager import PluginHost
from govern.runtime.clock import format_utc

PROVEN, FAILED, NOT_PROVEN = "✅ proven", "❌ failed", "⬜ not proven"


@attrs.frozen
class Criterion:
    """A claim the report makes, its status, and the evidence behind it."""

    name: str
    status: str
    evidence: str


@attrs.frozen
class Report:
    """A generated report: its Markdown, its criteria and the figures it shows."""

    name: str
    markdown: str
    status: str
    criteria: tuple[Criterion, ...]
    data: dict[str, Any]

    @property
    def failed(self) -> bool:
        """True when a check behind a criterion failed."""
        return any(c.status == FAILED for c in self.criteria)


def criterion(name: str, checks: Sequence[CheckOutcome]) -> Criterion:
    """A criterion proven only by passed checks; failed if any failed; else not proven."""
    if any(check.status == "failed" for check in checks):
        status = FAILED
    elif checks and all(check.passed for check in checks):
        status = PROVEN
    else:
        status = NOT_PROVEN
    return Criterion(name, status, " · ".join(f"{check.name}: {check_evidence(check)}" for check in checks))


def check_evidence(check: CheckOutcome, *, listed_below: bool = False) -> str:
    """What a check found, said once: its summary; its first problems (unless the summary
    already says them) or, when ``listed_below``, how many are listed further down; and, when
    it failed, the command that fixes it."""
    text = check.summary
    if check.problems and listed_below:
        text += " — listed below"
    elif check.problems:
        shown = "; ".join(check.problems[:3])
        more = f" (and {len(check.problems) - 3} more)" if len(check.problems) > 3 else ""
        if shown not in text:
            text += f" — {shown}{more}"
    if check.status == "failed" and check.fix:
        text += f" — fix: {check.fix}"
    return text


def _wording(reference: bool, seed: str, general: str) -> str:
    """A criterion's name: as the seed's Phase 2.2.3 report worded it, in the reference
    workspace that reproduces that report; in any other workspace, words true of it."""
    return seed if reference else general


def success_criteria(evidence: Evidence, *, reference: bool = False) -> list[Criterion]:
    """The success criteria (the seed's, worded for this workspace), each with the checks that prove it."""
    e = evidence
    return [
        criterion(
            _wording(reference, "registry_delta_log exists as append-only JSONL registry", "The delta log is a catalogued, append-only JSONL registry"),
            [e.op_catalogued, e.chain],
        ),
        criterion("Records derived only from sealed manifests and ordered snapshots", [e.snapshots, e.chain]),
        criterion("Each delta-log build is sealed (manifest + MANIFEST.sha256)", [e.seals]),
        criterion("Schema validation passes", [e.schema_check]),
        criterion(
            _wording(reference, "Governance references the new op (OP-QA11)", "The governance books catalogue the delta-log build operation"),
            [e.op_catalogued, e.governance],
        ),
        criterion(
            _wording(reference, "Reports prove coverage and gaps without inventing certainty", "Every configured registry is accounted for, with its reason"),
            [e.reconciliation],
        ),
    ]


def hard_constraints(evidence: Evidence, *, reference: bool = False) -> list[Criterion]:
    """The hard constraints (the seed's, worded for this workspace), each with the checks that prove it."""
    e = evidence
    return [
        criterion("Append-only", [e.chain]),
        criterion("Derived from sealed truth only", [e.seals, e.snapshots, e.payloads]),
        criterion(_wording(reference, 'No new "active" semantics', 'No "active" semantics'), [e.no_active_pointer]),
        criterion("Deterministic", [e.determinism]),
    ]


def _status_line(criteria: Sequence[Criterion], complete: str) -> str:
    failed = sum(c.status == FAILED for c in criteria)
    unproven = sum(c.status == NOT_PROVEN for c in criteria)
    if failed:
        return f"FAILED — {failed} of {len(criteria)} criteria failed"
    if unproven:
        return f"INCOMPLETE — {unproven} of {len(criteria)} criteria not proven"
    return complete


# -------------------------------------------------------------------------------------------
# Delta log figures
# -------------------------------------------------------------------------------------------


def outcome_rows(workspace: Workspace, evidence: Evidence, status: str) -> list[tuple[str, dict[str, Any]]]:
    """run.json outcomes of one status, in configuration order (then any others by id)."""
    outcomes = evidence.latest.outcomes if evidence.latest else {}
    order = list(workspace.config.registries) + sorted(set(outcomes) - set(workspace.config.registries))
    return [(rid, outcomes[rid]) for rid in order if rid in outcomes and outcomes[rid].get("status") == status]


def _records_text(records: int, bootstrap: int, transitions: int, unknown: int) -> str:
    if records == 0:
        return "0"
    if transitions == 0 and bootstrap == records:
        detail = "bootstrap only"
    else:
        detail = f"{bootstrap} bootstrap + {transitions} transitions"
    if unknown:
        detail += f"; {unknown} with basis unknown"
    return f"{records} ({detail})"


def covered_rows(workspace: Workspace, evidence: Evidence) -> list[tuple[str, int, int, int, int, int]]:
    """(registry, snapshots, records, bootstrap, transitions, unknown) per covered registry."""
    counts = {r.registry_id: r for r in evidence.registries}
    rows = []
    for registry_id, _ in outcome_rows(workspace, evidence, "covered"):
        r = counts.get(registry_id)
        figures = (0, 0, 0, 0, 0) if r is None else (r.snapshots, r.records, r.bootstrap, r.transitions, r.unknown)
        rows.append((registry_id, *figures))
    return rows


def _build_summary(workspace: Workspace, evidence: Evidence, number: str) -> list[str]:
    latest = evidence.latest
    lines = [f"## {number}. Delta Log Build Summary", ""]
    if latest is None:
        why = evidence.latest_problem or "no delta-log build yet (run 'govern delta build')"
        return [*lines, f"No build to summarise: {why}.", ""]
    previous = (latest.envelope.get("inputs", {}) or {}).get("previous_build")
    inputs = [("Runs root", code(evidence.runs_root.rstrip("/") + "/"))]
    if evidence.active_pointers:
        inputs.append(("Active pointers", code(evidence.active_pointers)))
    inputs.append(("Previous build", code(previous["run_id"]) if isinstance(previous, dict) else "none (first build)"))
    covered = covered_rows(workspace, evidence)
    excluded = outcome_rows(workspace, evidence, "excluded")
    skipped = outcome_rows(workspace, evidence, "skipped")
    not_selected = outcome_rows(workspace, evidence, "not_selected")
    total_records = sum(row[2] for row in covered) + sum(o.get("records_total", 0) for _, o in not_selected)
    outputs = [
        ("**Total delta records**", total_records),
        ("**Registries covered**", len(covered)),
        ("**Registries skipped**", len(skipped)),
        ("**Registries excluded (by design)**", len(excluded)),
    ]
    if not_selected:
        outputs.append(("**Registries not selected in this build**", len(not_selected)))
    outputs.append(("**Delta-log builds**", len(evidence.builds)))
    lines += [f"### {number}.1 Inputs", "", *table(("Input", "Path"), inputs), ""]
    lines += [f"### {number}.2 Outputs", "", *table(("Metric", "Value"), outputs), ""]
    covered_table: list[tuple[Any, ...]] = [(rid, snaps, _records_text(recs, boot, trans, unk)) for rid, snaps, recs, boot, trans, unk in covered]
    covered_table.append(("**Total**", f"**{sum(r[1] for r in covered)}**", f"**{sum(r[2] for r in covered)}**"))
    lines += [f"### {number}.3 Registries Covered", "", *table(("Registry ID", "Snapshots", "Delta Records"), covered_table), ""]
    lines += [f"### {number}.4 Registries Excluded (by design)", ""]
    lines += [*table(("Registry ID", "Reason"), [(rid, o.get("reason") or "") for rid, o in excluded]), ""] if excluded else ["None.", ""]
    if skipped or not_selected:
        rows = [(rid, o.get("reason") or "no plugin discovers its snapshots") for rid, o in skipped]
        rows += [(rid, f"not selected (--registry) in this build; {o.get('records_total', 0)} records from earlier builds") for rid, o in not_selected]
        lines += [f"### {number}.5 Registries Skipped", "", *table(("Registry ID", "Reason"), rows), ""]
    return lines


# -------------------------------------------------------------------------------------------
# Governance updates
# -------------------------------------------------------------------------------------------


def _title(name: str) -> str:
    return name.replace("_", " ").title()


def _count_change(label: str, before: dict[str, Any] | None, after: dict[str, Any], key: str) -> tuple[str, str] | None:
    if before is None:
        return (label, f"{after[key]} (new document)")
    if before.get(key) == after.get(key):
        return None
    return (label, f"{before.get(key)} → {after.get(key)}")


def _share(levels: dict[str, int], matrix: CoverageMatrix, threshold: str) -> tuple[int, int]:
    order = matrix.level_ids()
    floor = order.index(threshold)
    total = sum(levels.values())
    return sum(n for level, n in levels.items() if level in order and order.index(level) >= floor), total


def _entry_rows(document: Document, entry: ChangelogEntry, threshold: str, matrix: CoverageMatrix) -> list[tuple[str, str]]:
    """Change rows of one changelog entry, plus its before → after figures where meaningful."""
    rows = [(c.change, c.details) for c in entry.changes]
    before, after = entry.before, entry.after
    name = document.NAME
    if name == "ALLOWED_OPERATIONS_CATALOG":
        rows += [r for r in (_count_change("Total ops", before, after, "operations"), _count_change("Executables", before, after, "executables")) if r]
    elif name == "ENFORCEMENT_COVERAGE_MATRIX" and threshold in matrix.level_ids():
        now = _share(after["levels"], matrix, threshold)
        after_pct = share_percent(*now)
        if before is None:
            rows.append((f"{threshold}+ coverage", f"{format_percent(after_pct)} (new document)"))
        else:
            then = _share(before["levels"], matrix, threshold)
            before_pct = share_percent(*then)
            if then != now:
                rows.append(
                    (f"{threshold}+ coverage", f"{format_percent(before_pct)} → {format_percent(after_pct)} ({delta_points(before_pct, after_pct)})")
                )
    elif name in ("REGISTRY_CATALOG", "REGISTRY_CATALOG_ADDENDUM"):
        rows += [r for r in (_count_change("Registries", before, after, "registries"), _count_change("Sealed", before, after, "sealed")) if r]
    return rows


def _governance_updates(evidence: Evidence, number: str) -> list[str]:
    books = evidence.books
    lines = [f"## {number}. Governance Updates", ""]
    if books is None:
        return [*lines, "The governance books could not be read (see the governance check under the criteria).", ""]
    lines.append("The latest change of each governance document, from its changelog (before → after).")
    lines.append("")
    threshold = books.scorecard.figures.threshold
    documents: list[Document] = [books.catalog, books.matrix, books.scorecard, books.registry_catalog, *books.addenda]
    for index, document in enumerate(documents, start=1):
        entry = document.changelog[-1]
        label = f" ({document.label})" if hasattr(document, "label") else ""
        frozen = ", frozen" if document.frozen else ""
        lines.append(f"### {number}.{index} {_title(document.NAME)} v{document.version}{label}")
        lines.append("")
        lines.append(f"File {code('governance/' + document.relpath)}; changed {entry.date}{frozen}.")
        lines.append("")
        lines += [*table(("Change", "Details"), _entry_rows(document, entry, threshold, books.matrix)), ""]
    return lines


# -------------------------------------------------------------------------------------------
# Sections shared by both reports
# -------------------------------------------------------------------------------------------


def _criteria_table(title: str, criteria: Sequence[Criterion], first: str) -> list[str]:
    return [title, "", *table((first, "Status", "Evidence"), [(c.name, c.status, c.evidence) for c in criteria]), ""]


def _artifacts(workspace: Workspace, evidence: Evidence, number: str) -> list[str]:
    lines = [f"## {number}. Artifacts", ""]
    books = evidence.books
    addenda = list(books.addenda) if books else []
    lines += [f"### {number}.1 Catalog Addenda", ""]
    if addenda:
        rows = [
            (
                code(f"governance/{a.relpath}"),
                f"{', '.join(a.ids())} (does not modify the frozen registry catalog v{a.extends_version})",
            )
            for a in addenda
        ]
        lines += [*table(("Path", "Description"), rows), ""]
    else:
        lines += ["None.", ""]
    lines += [f"### {number}.2 Schema", ""]
    lines += [*table(("Path", "Description"), [(code(evidence.schema_file), first_sentence(evidence.schema.get("description")))]), ""]
    lines += [f"### {number}.3 Sealed Output", ""]
    latest = evidence.latest
    if latest is None:
        lines += [f"None: {evidence.latest_problem or 'no delta-log build yet'}.", ""]
        return lines
    rows = [(code(latest.path + "/"), f"Sealed run folder (ROOT_SHA256 {latest.root_sha256})")]
    rows.append((code(f"└── {latest.artifact}"), f"Delta log artifact ({len(latest.records)} records)"))
    rows.append((code("└── run.json"), f"Run envelope (op_id {latest.envelope.get('op_id')})"))
    rows.append((code("└── manifest.json"), f"File manifest: {len(latest.files)} files with their SHA-256"))
    rows.append((code("└── MANIFEST.sha256"), "Seal: the SHA-256 of manifest.json (ROOT_SHA256)"))
    lines += [*table(("Path", "Description"), rows), ""]
    return lines


def _validation_map(workspace: Workspace, evidence: Evidence, number: str) -> list[str]:
    rows = [
        (code(r.config.artifact or ""), r.id, code(r.config.schema))
        for r in (workspace.registry(rid) for rid in workspace.config.registries)
        if r.config.schema and r.config.artifact
    ]
    rows.append((code(workspace.config.workspace.delta_log_artifact), "registry_delta_log", code(evidence.schema_file) + " (built-in)"))
    return [f"## {number}. Validation Map", "", "Artifacts `govern validate` checks, and the schema of each (from the configuration).", "", *table(("Artifact", "Registry", "Schema"), rows), ""]


def _plugin_sections(host: PluginHost, name: str, context: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for section in host.report_sections(name, copy.deepcopy(context)):
        lines += [f"## {section.title}", "", section.markdown.rstrip("\n"), ""]
    return lines


def _context(name: str, date: str, evidence: Evidence, criteria: Sequence[Criterion], status: str) -> dict[str, Any]:
    latest = evidence.latest
    return {
        "report": name,
        "date": date,
        "status": status,
        "build": None if latest is None else {"run_id": latest.run_id, "root_sha256": latest.root_sha256, "records": len(latest.records)},
        "registries": [attrs.asdict(r) for r in evidence.registries],
        "checks": [attrs.asdict(c) for c in evidence.checks()],
        "criteria": [attrs.asdict(c) for c in criteria],
        "figures": None if evidence.books is None else evidence.books.scorecard.figures.to_json(),
    }


def _header(title: str, date: str, evidence: Evidence, status: str) -> list[str]:
    latest = evidence.latest
    build = f"{code(latest.run_id)} (ROOT_SHA256 {code(latest.root_sha256 or 'none')})" if latest else "none"
    return [f"# {title}", "", f"**Date**: {date}  ", f"**Delta log build**: {build}  ", f"**Status**: {status}", "", "---", ""]


# -------------------------------------------------------------------------------------------
# The reports
# -------------------------------------------------------------------------------------------


def completion_report(workspace: Workspace, host: PluginHost, evidence: Evidence, clock: dt.datetime) -> Report:
    """The completion report: artifacts, build summary, governance updates, schema summary,
    success criteria and hard constraints, each with its evidence."""
    date = format_utc(clock)
    reference = workspace.config.workspace.reference
    criteria = success_criteria(evidence, reference=reference)
    constraints = hard_constraints(evidence, reference=reference)
    everything = [*criteria, *constraints]
    status = _status_line(everything, "COMPLETE")
    proven = sum(c.status == PROVEN for c in everything)
    latest = evidence.latest
    covered = covered_rows(workspace, evidence)
    summary = (
        f"The registry delta log holds {sum(r[2] for r in covered)} records of {len(covered)} registries in "
        f"{plural(len(evidence.builds), 'sealed build')}; {proven} of {len(everything)} criteria and constraints are proven by "
        "checks run for this report."
        if latest
        else f"There is no readable delta-log build; {proven} of {len(everything)} criteria and constraints are proven."
    )
    lines = _header("Registry Delta Log — Completion Report", date, evidence, status)
    lines += ["## 1. Executive Summary", "", summary, ""]
    lines += _artifacts(workspace, evidence, "2")
    lines += _build_summary(workspace, evidence, "3")
    lines += _governance_updates(evidence, "4")
    lines += ["## 5. Schema Summary", "", *schema_summary(evidence.schema, evidence.schema_file.rsplit("/", 1)[-1]), ""]
    lines += _validation_map(workspace, evidence, "6")
    lines += _criteria_table("## 7. Success Criteria Checklist", criteria, "Criterion")
    lines += _criteria_table("## 8. Hard Constraints Verification", constraints, "Constraint")
    context = _context("completion", date, evidence, everything, status)
    lines += _plugin_sections(host, "completion", context)
    lines += ["---", "", "*End of completion report — every number above is derived from sealed evidence and the governance books.*"]
    return Report("completion", "\n".join(lines) + "\n", status, tuple(everything), context)


def validation_report(workspace: Workspace, host: PluginHost, evidence: Evidence, clock: dt.datetime) -> Report:
    """The validation report: every check run, per build and per registry, and every problem."""
    date = format_utc(clock)
    checks = evidence.checks()
    criteria = [criterion(check.name, [check]) for check in checks]
    status = _status_line(criteria, "PASSED")
    lines = _header("Registry Delta Log — Validation Report", date, evidence, status)
    lines += ["## 1. Checks Run", "", f"Each check below ran when this report was generated ({len(checks)} checks).", ""]
    labels = {"passed": "✅ passed", "failed": "❌ failed", "not_run": "⬜ not run"}
    # Table rows: cells of any type (markdown.table writes each with str()).
    rows: list[tuple[Any, ...]] = [(c.name, labels[c.status], check_evidence(c, listed_below=True)) for c in checks]
    lines += [*table(("Check", "Status", "Evidence"), rows), ""]
    lines += ["## 2. Builds", ""]
    if evidence.builds:
        rows = [(code(b.run_id), b.records, code(b.root_sha256 or "none"), "✅ intact" if b.ok else "❌ problems") for b in evidence.builds]
        lines += [*table(("Build", "Records", "ROOT_SHA256", "verify --log"), rows), ""]
    else:
        lines += ["No delta-log build yet.", ""]
    lines += ["## 3. Records per Registry", ""]
    statuses = {rid: o.get("status", "") for rid, o in (evidence.latest.outcomes.items() if evidence.latest else [])}
    rows = [
        (r.registry_id, statuses.get(r.registry_id, "not in run.json"), r.snapshots, r.records, r.bootstrap, r.transitions, r.unknown)
        for r in evidence.registries
    ]
    totals = [sum(r[i] for r in rows) for i in range(2, 7)]
    rows.append(("**Total**", "", *(f"**{t}**" for t in totals)))
    lines += [*table(("Registry ID", "Status", "Snapshots", "Records", "Bootstrap", "Transitions", "Unknown basis"), rows), ""]
    problems = [f"{check.name}: {problem}" for check in checks for problem in check.problems]
    lines += ["## 4. Problems", ""]
    lines += [f"- {problem}" for problem in problems] if problems else ["None."]
    lines.append("")
    context = _context("validation", date, evidence, criteria, status)
    lines += _plugin_sections(host, "validation", context)
    lines += ["---", "", "*End of validation report.*"]
    return Report("validation", "\n".join(lines) + "\n", status, tuple(criteria), context)


def build_report(name: str, workspace: Workspace, host: PluginHost, evidence: Evidence, clock: dt.datetime) -> Report:
    """The report called ``name`` (``validation`` or ``completion``)."""
    builders = {"validation": validation_report, "completion": completion_report}
    return builders[name](workspace, host, evidence, clock)

