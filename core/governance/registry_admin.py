"""``govern registry``: what each configured registry is, what evidence it has, and adding one.

The status of a registry is the delta build's view of it — *covered* (a plugin discovers its
snapshots), *excluded* by design (its kind's plugin says why), or *skipped* (no plugin
discovers it) — with its snapshots among the runs and what the latest delta-log build
recorded for it (read from that build's sealed run.json).

Removing one cuts its table out of the file the same way (everything else kept byte for
byte) and takes it out of the governance books, in one journaled transaction; the delta log
keeps whatever it recorded for it.

Adding a registry appends a new ``[registries.ID]`` table to ``registry_config.toml`` (written
with tomli-w): the rest of the file — comments, order, formatting — is kept byte for byte.
The new file is parsed and checked (structure, kinds, required keys) before it replaces the
old one atomically, under the workspace lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from govern.config.workspace import (
    REGISTRY_ID_PATTERN,
    Registry,
    RegistryConfig,
    Workspace,
    check_registry_kinds,
    folder_artifact,
    parse_config,
)
from govern.errors import GovernError
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, dump_canonical, loads_strict
from govern.format.manifest import SealCheck
from govern.format.models import RegistryKind, SnapshotRef, ref_label
from govern.governance.documents import Document
from govern.host.manager import PluginHost
from govern.log.build import registry_exclusion, skipped_reason
from govern.log.delta_log import BuildState, committed_builds, parse_log_lines, source_runs
from govern.runs.run_store import workspace_runs
from govern.runs.views import Snapshot
from govern.runtime import interrupts
from govern.runtime.progress import NO_PROGRESS
from govern.store.atomic import write_atomic
from govern.store.locking import DEFAULT_LOCK_TIMEOUT, exclusive_lock

#: The reason a covered registry whose versions are kept outside the runs root lists no snapshots.
SOURCE_VERSIONS_NOTE = "versions kept where they are, outside the runs root (read by 'govern delta build')"


@attrs.frozen
class RecordedHistory:
    """What the latest delta-log build says about one registry."""

    build: str
    records: int
    last_recorded: SnapshotRef | None
    #: Run ids of the snapshots the log records (only when read in detail).
    recorded_runs: tuple[str, ...] | None = None
    #: Runs the log has already examined for this registry (recorded, or seen and passed
    #: over); a snapshot ordered before the last recorded one and not among them is late too.
    examined: frozenset[str] = frozenset()


@attrs.frozen
class RegistryStatus:
    """One registry as govern sees it now."""

    registry: Registry
    kind: RegistryKind | None
    #: The plugin declaring the kind.
    provider: str | None
    #: ``covered``, ``excluded`` (by design) or ``skipped``.
    status: str
    reason: str | None
    #: Snapshots among the runs, in run-id order (None unless covered).
    snapshots: tuple[Snapshot, ...] | None
    history: RecordedHistory | None

    @property
    def new_snapshots(self) -> tuple[Snapshot, ...]:
        """Snapshots after the last recorded one (what the next build would look at)."""
        last = self.history.last_recorded if self.history else None
        return tuple(s for s in self.snapshots or () if last is None or s.run_id > last.label)

    @property
    def late_snapshots(self) -> tuple[Snapshot, ...]:
        """Snapshots with a seal (sealed, or broken) ordered before the last recorded one and
        never recorded: reported by a build (or to be, by the next one), recorded only with
        ``--accept-late``. (An unsealed folder is not a snapshot yet.)"""
        history = self.history
        last = history.last_recorded if history else None
        if history is None or last is None:
            return ()
        return tuple(
            s for s in self.snapshots or () if s.status != "unsealed" and s.run_id < last.label and s.run_id not in history.examined
        )

    def status_counts(self) -> dict[str, int]:
        """How many snapshots are sealed, broken and unsealed."""
        counts = {"sealed": 0, "broken": 0, "unsealed": 0}
        for snapshot in self.snapshots or ():
            counts[snapshot.status] += 1
        return counts

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        """The registry's JSON form (``detail``: with its config and every snapshot)."""
        last = self.history.last_recorded if self.history else None
        data: dict[str, Any] = {
            "registry_id": self.registry.id,
            "kind": self.registry.kind,
            "status": self.status,
            "reason": self.reason,
            "artifact": self.registry.config.artifact,
            "snapshots": None if self.snapshots is None else len(self.snapshots),
            "snapshot_status": None if self.snapshots is None else self.status_counts(),
            "new_snapshots": None if self.snapshots is None else len(self.new_snapshots),
            "late_snapshots": None if self.snapshots is None else [s.run_id for s in self.late_snapshots],
            "records": self.history.records if self.history else 0,
            "last_recorded": None if last is None else last.to_json(),
        }
        if detail:
            config = self.registry.config
            recorded = set(self.history.recorded_runs or ()) if self.history else set()
            data.update(
                {
                    "kind_summary": None if self.kind is None else self.kind.summary,
                    "kind_plugin": self.provider,
                    "schema": config.schema,
                    "description": config.description,
                    "configured_reason": config.reason,
                    "options": dict(config.options),
                    "keys": config.kind_key_values(),
                    "latest_build": self.history.build if self.history else None,
                    "snapshot_list": [
                        {
                            "run_id": s.run_id,
                            "status": s.status,
                            "problem": s.problem,
                            "manifest_sha256": s.manifest_sha256,
                            "recorded": s.run_id in recorded,
                        }
                        for s in self.snapshots or ()
                    ],
                }
            )
        return data


@attrs.frozen
class RegistryOverview:
    """Every registry's status, and what was wrong with the delta log if it could not be read."""

    registries: tuple[RegistryStatus, ...]
    latest_build: str | None
    log_problem: str | None = None

    def count(self, status: str) -> int:
        """How many registries have ``status``."""
        return sum(r.status == status for r in self.registries)


def _latest_state(workspace: Workspace, host: PluginHost) -> tuple[str | None, BuildState | None, str | None]:
    """(latest build, its recorded state, problem): read from the build's sealed run.json only
    (not its log), so listing costs the same however long the history is."""
    builds = committed_builds(workspace_runs(workspace))
    if not builds:
        return None, None, None
    latest = builds[-1]
    seal = _build_seal(workspace, host, latest)
    if not seal.ok or seal.manifest is None:
        return latest, None, f"{latest}: seal does not verify: {seal.problems[0] if seal.problems else 'no manifest'}"
    try:
        envelope = loads_strict(workspace_runs(workspace).read_sealed_file(seal, ENVELOPE_NAME))
        return latest, BuildState.from_json(envelope["inputs"]["state"]), None
    except GovernError as error:
        return latest, None, error.message
    except (StrictJSONError, KeyError, TypeError, ValueError) as exc:
        return latest, None, f"{latest}/{ENVELOPE_NAME}: no readable build state ({exc})"


def _build_seal(workspace: Workspace, host: PluginHost, build: str) -> SealCheck:
    """A build's seal (payload not read): the seal plugin's check of a local run folder, the
    run store's for a run in object storage."""
    runs = workspace_runs(workspace)
    folder = runs.local_dir(build)
    return runs.read_seal(build) if folder is None else host.verify_seal(folder, False, NO_PROGRESS)


def _recorded_runs(workspace: Workspace, host: PluginHost, build: str, registry_id: str) -> tuple[str, ...]:
    """The snapshots the log of ``build`` records for one registry (reads the whole log)."""
    artifact = workspace.config.workspace.delta_log_artifact
    seal = _build_seal(workspace, host, build)
    records = parse_log_lines(workspace_runs(workspace).read_sealed_file(seal, artifact), f"{build}/{artifact}")
    return tuple(ref_label(r["to_ref"]) or "" for r in records if r.get("registry_id") == registry_id)


def registry_overview(workspace: Workspace, host: PluginHost, *, only: str | None = None) -> RegistryOverview:
    """The status of every configured registry (or only of ``only``, read in detail).

    Reads run seals and the latest build's run.json; writes nothing. A delta log that cannot
    be read does not stop the listing: it is reported in ``log_problem``.
    """
    registries = [workspace.registry(only)] if only is not None else workspace.registries()
    providers = host.registry_kind_providers()
    runs = source_runs(workspace_runs(workspace))
    build, state, problem = _latest_state(workspace, host)
    statuses = []
    for registry in registries:
        kind, provider = providers.get(registry.kind, (None, None))
        recorded = state.registries.get(registry.id) if state is not None else None
        history = None
        if recorded is not None and build is not None:
            recorded_runs = None
            if only is not None and problem is None:
                try:
                    recorded_runs = _recorded_runs(workspace, host, build, registry.id)
                except GovernError as error:
                    problem = error.message
            examined = frozenset(state.runs_examined) - set(recorded.backlog) - set(recorded.late) if state is not None else frozenset()
            history = RecordedHistory(build, recorded.records, recorded.last_recorded, recorded_runs, examined)
        exclusion = registry_exclusion(registry, workspace, host)
        if exclusion is not None:
            statuses.append(RegistryStatus(registry, kind, provider, "excluded", exclusion, None, history))
            continue
        if host.keeps_source_versions(registry.kind):
            # Its versions are read where they are (OCFL, BagIt, git) by a build, not listed here.
            statuses.append(RegistryStatus(registry, kind, provider, "covered", SOURCE_VERSIONS_NOTE, None, history))
            continue
        snapshots = host.discover_snapshots(registry, workspace, runs)
        if snapshots is None:
            statuses.append(RegistryStatus(registry, kind, provider, "skipped", skipped_reason(registry), None, history))
            continue
        statuses.append(RegistryStatus(registry, kind, provider, "covered", None, tuple(snapshots), history))
    return RegistryOverview(tuple(statuses), build, problem)


# -------------------------------------------------------------------------------- adding


@attrs.frozen
class RegistryAddition:
    """A registry added (or, in a dry run, that would be) to ``registry_config.toml``."""

    registry_id: str
    table: dict[str, Any]
    #: The TOML text appended to the file.
    appended: str
    config_path: Path
    written: bool
    warnings: tuple[str, ...] = ()


def registry_table(
    kind: str,
    *,
    artifact: str | None = None,
    schema: str | None = None,
    reason: str | None = None,
    description: str | None = None,
    options: Mapping[str, Any] | None = None,
    kind_keys: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``[registries.ID]`` table for these settings (unset ones left out); a folder
    ``artifact`` may be given with a trailing '/' (:func:`govern.config.workspace.folder_artifact`).
    ``kind_keys``: kind-specific registry keys (``dsn``, ``table``, ``key`` of ``sql_table``;
    ``pattern``, ``op_id``, ``marker`` of ``collection``; ``path``, ``repo``…), None values left
    out; whether ``kind`` uses them is checked with the rest of the configuration (:func:`plan_addition`)."""
    table: dict[str, Any] = {"kind": kind}
    if artifact is not None:
        artifact = folder_artifact(artifact) or artifact
    for key, value in (("description", description), ("artifact", artifact), ("schema", schema), ("reason", reason)):
        if value is not None:
            table[key] = value
    table.update((key, value) for key, value in (kind_keys or {}).items() if value is not None)
    if options:
        table["options"] = dict(options)
    return table


def appended_config(text: str, registry_id: str, table: Mapping[str, Any]) -> tuple[str, str]:
    """``text`` with the registry's table appended (matching its line endings); and the
    appended part alone."""
    newline = "\r\n" if "\r\n" in text else "\n"
    block = tomli_w.dumps({"registries": {registry_id: dict(table)}})
    if newline != "\n":
        block = block.replace("\n", newline)
    separator = "" if not text or text.endswith(newline * 2) else (newline if text.endswith(newline) else newline * 2)
    return text + separator + block, block


def plan_addition(
    text: str, config_path: Path, kinds: Mapping[str, RegistryKind], registry_id: str, table: Mapping[str, Any]
) -> tuple[str, str]:
    """The new config text with ``registry_id`` added, checked; and the appended block.

    Refuses (nothing to write) a malformed id, an id already configured (E_REGISTRY_EXISTS),
    an unknown kind or a missing required key (E_CONFIG_UNKNOWN_KIND, E_CONFIG_INVALID), and
    any result that would not read back as exactly the old configuration plus this registry.
    """
    if not REGISTRY_ID_PATTERN.fullmatch(registry_id):
        raise GovernError("E_USAGE", f"registry id {registry_id!r} must match [a-z][a-z0-9_]*")
    before = parse_config(text, config_path)
    if registry_id in before.registries:
        raise GovernError(
            "E_REGISTRY_EXISTS",
            f"{config_path}: registries.{registry_id} already exists (kind {before.registries[registry_id].kind!r}); "
            "edit the file to change it",
        )
    new_text, block = appended_config(text, registry_id, table)
    try:
        parse_config(block, config_path)  # the new table on its own: a bad value is the caller's to fix
    except GovernError as error:
        raise GovernError(error.code, f"{error.message}; nothing written") from None
    try:
        after = parse_config(new_text, config_path)
    except GovernError as error:
        raise GovernError(
            error.code,
            f"appending [registries.{registry_id}] would make the file invalid ({error.message}); nothing written — add it by hand",
        ) from None
    expected_registries = {**before.registries, registry_id: RegistryConfig(**table)}
    if (
        after.registries != expected_registries
        or (after.workspace, after.plugins) != (before.workspace, before.plugins)
    ):
        raise GovernError(
            "E_CONFIG_INVALID",
            f"{config_path}: appending [registries.{registry_id}] would not read back as this one registry added "
            "(the file defines its registries in a form a new table cannot extend); nothing written — add it by hand",
        )
    try:
        check_registry_kinds(Workspace(config_path.parent, after), kinds)
    except GovernError as error:
        raise GovernError(error.code, f"{error.message}; nothing written") from None
    return new_text, block


def _addition_warnings(root: Path, table: Mapping[str, Any], kind: RegistryKind | None, excluded: bool) -> list[str]:
    notes = []
    schema = table.get("schema")
    if schema is not None and not (root / schema).is_file():
        notes.append(f"schema {schema} does not exist yet (govern validate needs it)")
    if table.get("reason") is not None and kind is not None and not excluded:
        notes.append(f"kind {kind.name!r} is not excluded by design: its reason is only shown, never used")
    return notes


def add_registry(
    workspace: Workspace,
    host: PluginHost,
    registry_id: str,
    table: Mapping[str, Any],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    dry_run: bool = False,
) -> RegistryAddition:
    """Append a registry to the workspace's ``registry_config.toml``.

    Under the workspace lock the file is read again (so a concurrent change is never lost),
    the result checked (:func:`plan_addition`) and written with :func:`govern.store.atomic.write_atomic`;
    ``dry_run`` checks and writes nothing. Comments and formatting elsewhere are kept.
    """
    from govern.governance.store import workspace_lock_path

    path = workspace.config_path
    kinds = host.registry_kinds()
    # A dry run only reads: it takes no lock (locking would create the runs root).
    lock = contextlib.nullcontext() if dry_run else exclusive_lock(workspace_lock_path(workspace), lock_timeout)
    with lock:
        data = _read_config(path)
        new_text, block = plan_addition(data, path, kinds, registry_id, table)
        if not dry_run:
            with interrupts.commit_point():
                write_atomic(path, new_text.encode("utf-8"))
    from govern.config.converter import make_converter

    kind = kinds.get(str(table.get("kind")))
    # Asked of the kind's plugin for this very registry: a collection is excluded only while it
    # selects no members.
    added = Registry(registry_id, make_converter().structure(dict(table), RegistryConfig))
    excluded = kind is not None and (kind.excluded or host.exclusion(added, workspace) is not None)
    warnings = tuple(_addition_warnings(workspace.root, table, kind, excluded))
    return RegistryAddition(registry_id, dict(table), block, path, not dry_run, warnings)


def _read_config(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GovernError("E_CONFIG_SYNTAX", f"{path}: invalid UTF-8 at byte {exc.start}") from None



# -------------------------------------------------------------------------------- removing

_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(?:#.*)?$")
_COMMENT_OR_BLANK = re.compile(r"^\s*(?:#.*)?$")


def _header_names_registry(header: str, registry_id: str) -> bool:
    """True when a table header's dotted key is ``registries.ID`` or a subtable of it."""
    parts = [part.strip().strip("\"'") for part in header.split(".")]
    return len(parts) >= 2 and parts[0] == "registries" and parts[1] == registry_id


def removed_config(text: str, registry_id: str) -> tuple[str, str]:
    """``text`` without the ``[registries.ID]`` table (and its subtables); and the removed text.

    A table runs from its header to the last key line before the next header. Comments
    outside that span — above its header, or after its last key (they may introduce the next
    table) — are kept, as is everything else, byte for byte; the blank lines separating it
    from what precedes go with it, so removing what ``registry add`` appended restores the file.
    """
    lines = text.splitlines(keepends=True)
    remove = [False] * len(lines)
    index = 0
    while index < len(lines):
        header = _TABLE_HEADER.match(lines[index])
        if not header or not _header_names_registry(header.group(1), registry_id):
            index += 1
            continue
        start = index
        while start > 0 and not lines[start - 1].strip():
            start -= 1  # the blank separator 'registry add' puts before a table it appends
        stop = index + 1
        last_content = index
        while stop < len(lines) and not _TABLE_HEADER.match(lines[stop]):
            if not _COMMENT_OR_BLANK.match(lines[stop]):
                last_content = stop
            stop += 1
        for position in range(start, last_content + 1):
            remove[position] = True
        index = stop
    kept = [line for line, gone in zip(lines, remove) if not gone]
    removed = "".join(line for line, gone in zip(lines, remove) if gone)
    # A blank line left on both sides of the gap becomes one.
    tidy: list[str] = []
    for line in kept:
        if tidy and not line.strip() and not tidy[-1].strip():
            continue
        tidy.append(line)
    return "".join(tidy), removed


def plan_removal(text: str, config_path: Path, registry_id: str) -> tuple[str, str]:
    """The new config text without ``registry_id``, checked; and the removed text.

    Refuses (nothing to write) an id not configured (the error :meth:`Workspace.registry`
    gives), and any result that would not read back as exactly the old configuration minus
    this registry (E_CONFIG_INVALID: then remove it by hand).
    """
    before = parse_config(text, config_path)
    Workspace(config_path.parent, before).registry(registry_id)
    new_text, removed = removed_config(text, registry_id)
    expected = {rid: cfg for rid, cfg in before.registries.items() if rid != registry_id}
    try:
        after = parse_config(new_text, config_path)
    except GovernError:
        after = None
    if after is None or after.registries != expected or (after.workspace, after.plugins) != (before.workspace, before.plugins):
        raise GovernError(
            "E_CONFIG_INVALID",
            f"{config_path}: removing [registries.{registry_id}] as a table would not read back as this one registry removed "
            "(the file defines it in a form govern does not edit); nothing written — remove it by hand",
        )
    return new_text, removed


@attrs.frozen
class RegistryRemovalResult:
    """A registry removed from ``registry_config.toml`` and from the books."""

    registry_id: str
    config_path: Path
    removed: str
    #: Governance documents written (relative to the governance folder), and their changes.
    documents: tuple[Document, ...]
    #: Frozen documents that keep listing the registry.
    kept_in: tuple[str, ...]
    #: Records the delta log holds for it (kept: history is never modified).
    recorded: int
    latest_build: str | None
    written: bool


def remove_registry(
    workspace: Workspace,
    host: PluginHost,
    registry_id: str,
    clock: dt.datetime,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    dry_run: bool = False,
) -> RegistryRemovalResult:
    """Remove a registry from ``registry_config.toml`` and re-derive the books, all or none.

    Under the workspace lock (after recovering an interrupted change) the config is read
    again, its table cut out (:func:`plan_removal`), and the registry taken out of the
    unfrozen catalog or its addendum (:func:`govern.governance.registries.removal_update`);
    the config and every document are then replaced in one journaled transaction
    (:func:`govern.governance.transaction.commit_files`). The delta log and sealed runs are
    never touched: records already made for the registry stay in the log.
    """
    from govern.governance.registries import removal_update
    from govern.governance.store import load_books, open_books
    from govern.governance.transaction import commit_files

    workspace.registry(registry_id)  # an unknown id is refused before locking: nothing written, not even the lock
    build, state, _problem = _latest_state(workspace, host)
    recorded = state.registries[registry_id].records if state is not None and registry_id in state.registries else 0
    path = workspace.config_path
    governance_dir = workspace.governance_dir
    locked: contextlib.AbstractContextManager[Any] = open_books(workspace, lock_timeout) if not dry_run else contextlib.nullcontext([])
    with locked:
        new_text, removed = plan_removal(_read_config(path), path, registry_id)
        books = load_books(governance_dir) if governance_dir.is_dir() else None
        removal = removal_update(books, registry_id, clock) if books is not None else None
        documents = removal.update.documents if removal is not None else ()
        if not dry_run:
            # One transaction for the config and the books: a crash leaves both old or both new.
            changes = {os.path.relpath(path, governance_dir): new_text.encode("utf-8")}
            changes.update({document.relpath: dump_canonical(document.to_json()) for document in documents})
            if governance_dir.is_dir():
                commit_files(governance_dir, changes)
            else:
                write_atomic(path, new_text.encode("utf-8"))
    return RegistryRemovalResult(
        registry_id, path, removed, tuple(documents), removal.kept_in if removal is not None else (), recorded, build, not dry_run
    )
