"""The members of a ``collection`` registry now, and its collection index runs (for ``govern.plugins.collection``).

A member is a run of the runs root, sealed, that the registry's ``pattern`` (a glob over run
ids) and ``op_id`` (its run.json's) both select — each only when configured — and that holds
the ``marker`` when one is configured. Never a member: the delta log's builds, collection index
runs, and runs without a seal (possibly still being written; they join a later index). A
selected run whose seal does not verify stops the snapshot (E_SNAPSHOT_UNVERIFIED): what it
holds cannot be told, and nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from govern.config.workspace import Registry, Workspace
from govern.errors import GovernError
from govern.format.collection_index import INDEX_FOLDER, INDEX_PATH, Member, index_bytes, parse_index
from govern.format.envelope import ENVELOPE_NAME, make_envelope
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.run_selection import matches, run_slug
from govern.log.delta_log import source_runs
from govern.runs.new_run import write_new_run
from govern.runs.run_store import workspace_runs
from govern.runs.snapshots import classify_run
from govern.runs.views import RunView
from govern.runtime.clock import format_utc
from govern.runtime.progress import Progress
from govern.store.atomic import write_atomic


def index_run_id(registry: Registry, clock: dt.datetime) -> str:
    """``YYYY-MM-DD__HHMMSS__<registry id>``: the index run of ``registry`` at ``clock``."""
    date, time = format_utc(clock).rstrip("Z").split("T")
    return f"{date}__{time.replace(':', '')}__{registry.id}"


def _is_index_run(run: RunView) -> bool:
    """True for a collection index run (of any collection): never a member of one."""
    manifest = run.seal.manifest
    return manifest is not None and INDEX_PATH in manifest.paths


def _op_id(run: RunView) -> str | None:
    """The op_id the run's sealed run.json names (None when it has none, or no run.json)."""
    seal = run.seal
    if seal.manifest is None or ENVELOPE_NAME not in seal.manifest.paths:
        return None
    try:
        envelope = loads_strict(run.runs.read_sealed_file(seal, ENVELOPE_NAME))
    except StrictJSONError:
        return None
    op_id = envelope.get("op_id") if isinstance(envelope, dict) else None
    return op_id if isinstance(op_id, str) else None


def current_members(registry: Registry, workspace: Workspace) -> list[Member]:
    """The member runs of ``registry`` sealed now, sorted by run id."""
    selection = registry.config
    members = []
    for run in source_runs(workspace_runs(workspace)):
        if selection.pattern is not None and not matches(selection.pattern, run.run_id):
            continue
        seal = run.seal
        if not seal.sealed:
            continue  # possibly still being written: a later index takes it
        if not seal.ok or seal.manifest is None or seal.root_sha256 is None:
            first = seal.problems[0] if seal.problems else None
            raise GovernError(
                "E_SNAPSHOT_UNVERIFIED",
                f"{registry.id}: run {run.run_id} may be a member, but its seal does not verify"
                f"{f': {first}' if first else ''}; nothing written (verify it with 'govern verify {run.run_id}')",
            )
        if _is_index_run(run):
            continue
        if selection.op_id is not None and _op_id(run) != selection.op_id:
            continue
        if selection.marker is not None and classify_run(run, registry.id, selection.marker) is None:
            continue
        members.append(Member(run.run_id, seal.root_sha256, len(seal.manifest)))
    return members


def latest_index(registry: Registry, workspace: Workspace) -> dict[str, Member] | None:
    """The members of the registry's latest sealed index run, or None when it has none."""
    runs = workspace_runs(workspace)
    for run_id in reversed(runs.list_runs().names):
        if run_slug(run_id) != registry.id:
            continue
        seal = runs.read_seal(run_id)
        if seal.ok and seal.manifest is not None and INDEX_PATH in seal.manifest.paths:
            try:
                return parse_index(runs.read_sealed_file(seal, INDEX_PATH))
            except StrictJSONError as exc:
                raise GovernError("E_JSON_INVALID", f"{run_id}/{INDEX_PATH}: {exc.reason} ({exc.where()})") from None
    return None


def index_is_stale(registry: Registry, workspace: Workspace) -> bool:
    """True when the members sealed now differ from the latest index's (without an index:
    when there is any member)."""
    members = {m.run_id: m for m in current_members(registry, workspace)}
    latest = latest_index(registry, workspace)
    return bool(members) if latest is None else members != latest


def write_index_run(registry: Registry, workspace: Workspace, clock: dt.datetime, progress: Progress, op_id: str | None) -> Path:
    """Write the sealed collection index run of ``registry`` at ``clock`` (its run.json naming
    ``op_id`` and the selection); return its folder (:func:`govern.runs.new_run.write_new_run`)."""
    if not registry.config.selects_members:
        raise GovernError(
            "E_USAGE",
            f"{workspace.config_path}: registries.{registry.id} selects no member runs (set pattern or op_id): "
            "it is excluded by design and has no snapshots",
        )
    members = current_members(registry, workspace)
    run_id = index_run_id(registry, clock)
    selection = {"pattern": registry.config.pattern, "op_id": registry.config.op_id, "marker": registry.config.marker}
    envelope = make_envelope(
        run_id,
        op_id=op_id,
        clock=clock,
        inputs={"runs_root": workspace.runs_location},
        outputs={"artifact": INDEX_FOLDER, "members": len(members)},
        params={"registry_id": registry.id, "selection": selection},
    )
    data = index_bytes(members)

    def write_payload(folder: Path) -> dict[str, Any]:
        (folder / INDEX_FOLDER).mkdir()
        write_atomic(folder / INDEX_PATH, data)
        return envelope

    return write_new_run(workspace, run_id, write_payload, progress)
