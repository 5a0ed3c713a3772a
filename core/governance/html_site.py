"""What ``govern report html`` shows, gathered once: the evidence of the other reports, the
latest build's log with each record's line, its checkpoint, and the governance documents.

The numbers come from :func:`govern.governance.evidence.gather_evidence` (the checks the
``validation`` and ``completion`` reports run) and the registry figures from the same
helpers as those reports; each registry's transitions come from the ``delta show`` query code
(:func:`govern.log.query.select_transitions`, :func:`govern.log.query.path_histories`). The
site's pages are made by :mod:`govern.governance.html_pages`; :func:`build_site` returns the
whole site as files (relative path → bytes), which the command writes in one step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.format.checkpoint import CHECKPOINT_NAME, Checkpoint
from govern.format.envelope import ENVELOPE_NAME
from govern.format.manifest import MANIFEST_NAME, SEAL_NAME
from govern.governance.evidence import Evidence, RegistryRecords
from govern.governance.reports import outcome_rows
from govern.host.manager import PluginHost
from govern.log.delta_log import read_sealed_file
from govern.log.query import Transition, select_transitions
from govern.log.transparency import read_checkpoint, signer_names
from govern.log.verification import seal_check
from govern.runs.run_store import workspace_runs

#: Where the site keeps copies of the documents its numbers come from.
EVIDENCE_DIR = "evidence"


@attrs.frozen
class LoggedTransition:
    """A record of the log as the site shows it: its 1-based line in the latest build's log."""

    line: int
    transition: Transition


@attrs.frozen
class RegistrySite:
    """One registry: how the latest build treated it, and its records (log order)."""

    registry_id: str
    kind: str
    status: str
    reason: str | None
    figures: RegistryRecords | None
    transitions: tuple[LoggedTransition, ...]

    @property
    def slug(self) -> str:
        """The registry's file name stem: its id made safe for a file name (an id may hold any
        character), and a digest of the id so that two ids never share a page."""
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", self.registry_id)[:48].strip("_") or "registry"
        return f"{safe}-{hashlib.sha256(self.registry_id.encode('utf-8')).hexdigest()[:8]}"


@attrs.frozen
class CheckpointSite:
    """The latest build's checkpoint: the tree head, who signed it (not verified here)."""

    checkpoint: Checkpoint
    signers: tuple[str, ...]


@attrs.frozen
class SiteData:
    """Everything the site shows."""

    clock: dt.datetime
    evidence: Evidence
    registries: tuple[RegistrySite, ...]
    checkpoint: CheckpointSite | None
    #: Copies of the documents numbers link to: site path → bytes.
    documents: dict[str, bytes]

    def evidence_path(self, name: str) -> str:
        """The site path of the latest build's file ``name`` (its copy under ``evidence/``)."""
        latest = self.evidence.latest
        assert latest is not None
        return f"{EVIDENCE_DIR}/{latest.run_id}/{name}"


def _registry_order(workspace: Workspace, evidence: Evidence) -> list[str]:
    """Configured registries in configuration order, then any others the log names, by id."""
    configured = list(workspace.config.registries)
    logged = {r.registry_id for r in evidence.registries}
    return configured + sorted(logged - set(configured))


def _registries(workspace: Workspace, evidence: Evidence) -> list[RegistrySite]:
    latest = evidence.latest
    records = list(latest.records) if latest else []
    lines = {id(record): number for number, record in enumerate(records, start=1)}
    outcomes = latest.outcomes if latest else {}
    figures = {r.registry_id: r for r in evidence.registries}
    statuses = {rid: status for status in ("covered", "excluded", "skipped", "not_selected") for rid, _ in outcome_rows(workspace, evidence, status)}
    found = []
    for registry_id in _registry_order(workspace, evidence):
        config = workspace.config.registries.get(registry_id)
        outcome = outcomes.get(registry_id, {})
        transitions = select_transitions(records, registry=registry_id)
        found.append(
            RegistrySite(
                registry_id=registry_id,
                kind=config.kind if config is not None else "not configured",
                status=statuses.get(registry_id, "not in run.json"),
                reason=outcome.get("reason") or (config.reason if config is not None else None),
                figures=figures.get(registry_id),
                transitions=tuple(LoggedTransition(lines[id(t.record)], t) for t in transitions),
            )
        )
    return found


def _latest_files(workspace: Workspace, host: PluginHost, evidence: Evidence) -> tuple[dict[str, bytes], CheckpointSite | None]:
    """Copies of the latest build's log, run.json, checkpoint and seal (each read hash-checked
    against its seal), and its checkpoint read."""
    latest = evidence.latest
    if latest is None:
        return {}, None
    runs = workspace_runs(workspace)
    seal = seal_check(runs, latest.run_id, host, deep=False)
    if not seal.ok or seal.manifest is None:
        raise GovernError("E_LOG_TAMPERED", f"{latest.run_id}: seal does not verify; no report written")
    listed = {entry.path for entry in seal.manifest.files}
    names = [latest.artifact, ENVELOPE_NAME, *([CHECKPOINT_NAME] if CHECKPOINT_NAME in listed else [])]
    files = {f"{EVIDENCE_DIR}/{latest.run_id}/{name}": read_sealed_file(seal, name, runs) for name in names}
    # The seal itself: what pins every file above (sha256sum -c checks the copies).
    for name in (MANIFEST_NAME, SEAL_NAME):
        files[f"{EVIDENCE_DIR}/{latest.run_id}/{name}"] = runs.read_file(latest.run_id, name)
    checkpoint = None
    if CHECKPOINT_NAME in listed:
        note = files[f"{EVIDENCE_DIR}/{latest.run_id}/{CHECKPOINT_NAME}"]
        checkpoint = CheckpointSite(read_checkpoint(note, f"{latest.run_id}/{CHECKPOINT_NAME}"), tuple(signer_names(note)))
    return files, checkpoint


def _governance_files(workspace: Workspace, evidence: Evidence) -> dict[str, bytes]:
    """Copies of the governance documents (as they are on disk) the overview's figures come from."""
    if evidence.books is None:
        return {}
    files = {}
    for document in evidence.books.documents():
        path = workspace.governance_dir / document.relpath
        try:
            files[f"{EVIDENCE_DIR}/governance/{document.relpath}"] = path.read_bytes()
        except OSError as exc:
            raise GovernError("E_IO", f"{path}: cannot read ({exc.strerror}); no report written") from None
    return files


def gather_site(workspace: Workspace, host: PluginHost, evidence: Evidence, clock: dt.datetime) -> SiteData:
    """Everything the HTML report shows, from ``evidence`` and the latest build's sealed files."""
    files, checkpoint = _latest_files(workspace, host, evidence)
    files.update(_governance_files(workspace, evidence))
    return SiteData(clock, evidence, tuple(_registries(workspace, evidence)), checkpoint, files)


def build_site(site: SiteData) -> dict[str, bytes]:
    """The whole site: relative path → bytes (pages, then the evidence copies)."""
    from govern.governance.html_pages import overview_page, registry_pages

    files: dict[str, bytes] = {"index.html": overview_page(site)}
    latest = site.evidence.latest
    build = (latest.run_id, latest.artifact) if latest else None
    for registry in site.registries:
        if registry.transitions:
            files.update(registry_pages(registry, build))
    files.update(site.documents)
    return files


def site_summary(site: SiteData) -> dict[str, Any]:
    """The figures the overview leads with (also the command's ``--json`` result)."""
    covered = [r for r in site.registries if r.status == "covered"]
    return {
        "registries_covered": len(covered),
        "registries_excluded": sum(1 for r in site.registries if r.status == "excluded"),
        "records": len(site.evidence.latest.records) if site.evidence.latest else 0,
        "build": site.evidence.latest.run_id if site.evidence.latest else None,
    }
