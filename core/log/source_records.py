"""Records of registries kept where they are, outside the runs root (OCFL objects, BagIt bags,
git commits): planned by a build from their kind's ``govern_source_versions``, and re-checked
by ``govern verify --log``.

A source version is recorded as a ``source_ref`` (record version 0.2; docs/delta-log.md,
"Snapshots kept outside the runs root"): the source's kind, location and version, the pin
that fixes the version, and the SHA-256 of its listing. Each build reads the versions again:
the last recorded one must still be there with the same pin and listing (else
E_HISTORY_CONFLICT, nothing written), and the versions after it become records whose delta
is the ``manifest_diff`` of the two versions' entries — the very diff sealed snapshots get.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from govern.config.workspace import Registry, Workspace
from govern.errors import GovernError, Problem
from govern.format.models import Delta, DeltaRecord, SnapshotRef, SourceRef, SourceVersion
from govern.host.manager import PluginHost
from govern.runs.snapshots import diff_sorted_columns
from govern.runtime.progress import Progress


@attrs.frozen
class SourcePlan:
    """What a build appends for one registry kept outside the runs root."""

    records: tuple[DeltaRecord, ...]
    #: The ref the registry's history ends at after these records (None: nothing recorded yet).
    last_recorded: SnapshotRef | None
    unknown: int
    #: Versions that do not validate, refused (the build stops on them) without --allow-unknown.
    refused: tuple[Problem, ...]
    #: The warnings of the versions recorded, each as ``<location>@<version>: <warning>``.
    warnings: tuple[str, ...] = ()


def require_source_records(registry: Registry, workspace: Workspace) -> None:
    """A source_ref exists only from record version 0.2 on: refuse (E_RECORD_INVALID, exit 2)
    a registry kept outside the runs root in a workspace writing version 0.1 records."""
    version = workspace.config.workspace.record_version
    if version == "0.1":
        raise GovernError(
            "E_RECORD_INVALID",
            f"registry {registry.id} (kind {registry.kind}) keeps its versions outside the runs root: its records "
            f'point to them with source_refs, which record version 0.1 does not admit; set [workspace] record_version = "0.2" '
            f"in {workspace.config_path}; nothing written",
        )


def where(registry_id: str, ref: SourceRef | SourceVersion) -> str:
    """``<registry> @ <location>@<version>``: how a problem names a source version."""
    return f"{registry_id} @ {ref.location}@{ref.version}"


def _changed(recorded: SourceRef, now: SourceVersion | None, kind: str) -> str | None:
    """Why the recorded version ``recorded`` no longer stands as recorded (``now`` is the
    version of that name read today, None when it is gone), or None when it still does."""
    if now is None:
        return f"recorded version {recorded.version} of {recorded.location} no longer exists (history rewritten)"
    current = SourceRef.of(kind, now)
    if current.pin != recorded.pin:
        return f"recorded version {recorded.version} of {recorded.location} has changed: pin {recorded.pin}, now {current.pin}"
    if current.manifest_sha256 != recorded.manifest_sha256:
        return (
            f"recorded version {recorded.version} of {recorded.location} has changed: listing {recorded.manifest_sha256}, "
            f"now {current.manifest_sha256}"
        )
    return None


def _conflict(registry: Registry, message: str) -> GovernError:
    return GovernError("E_HISTORY_CONFLICT", f"{registry.id}: {message}; nothing written")


def _versions_after(registry: Registry, versions: Sequence[SourceVersion], last: SnapshotRef | None) -> tuple[SourceVersion | None, list[SourceVersion]]:
    """The last recorded version as read now (None before the first record) and the versions
    after it; E_HISTORY_CONFLICT when the recorded one is gone or changed."""
    if last is None:
        return None, list(versions)
    if not isinstance(last, SourceRef):
        raise _conflict(registry, f"recorded as the sealed snapshot {last.label}, but its kind {registry.kind} keeps versions outside the runs root")
    for index, version in enumerate(versions):
        if version.version == last.version:
            changed = _changed(last, version, registry.kind)
            if changed is not None:
                raise _conflict(registry, changed)
            return version, list(versions[index + 1 :])
    raise _conflict(registry, _changed(last, None, registry.kind) or "")


def versions_until(versions: Sequence[SourceVersion], last: str | None) -> list[SourceVersion]:
    """``versions`` up to and including the one named ``last`` (none when ``last`` is None or
    not among them)."""
    names = [version.version for version in versions]
    return list(versions[: names.index(last) + 1]) if last in names else []


def recorded_until(state: Mapping[str, Any]) -> dict[str, str | None]:
    """Registry id -> the source version a build's state (run.json ``inputs.state``) records
    last, for the registries whose last record is a source_ref (None for the others: a build
    capped by it takes no version of a registry it had not recorded)."""
    found: dict[str, str | None] = {}
    for registry_id, registry_state in (state.get("registries") or {}).items():
        last = registry_state.get("last_recorded") if isinstance(registry_state, dict) else None
        found[registry_id] = last.get("version") if isinstance(last, dict) and "source" in last else None
    return found


def source_delta(before: SourceVersion | None, after: SourceVersion) -> Delta:
    """The ``manifest_diff`` of two versions' entries (``before`` None: the bootstrap, all
    added); ``unknown`` with the reason when either version does not validate."""
    if after.problem is not None:
        return Delta("unknown", unknown_reason=f"version {after.version} does not validate: {after.problem}")
    if before is not None and before.problem is not None:
        return Delta("unknown", unknown_reason=f"from version {before.version}, which does not validate: {before.problem}")
    return diff_sorted_columns(_columns(before), _columns(after))


def _columns(version: SourceVersion | None) -> tuple[list[str], list[str]]:
    """``(paths, digests)`` sorted by path, as :func:`diff_sorted_columns` takes them."""
    if version is None:
        return [], []
    paths = sorted(version.entries)
    return paths, [version.entries[path] for path in paths]


def plan_source_records(
    registry: Registry,
    versions: Sequence[SourceVersion],
    last: SnapshotRef | None,
    *,
    allow_unknown: bool,
    created_utc: str,
    derivation_run_id: str,
    record_version: str,
) -> SourcePlan:
    """The records for ``registry``'s versions after ``last`` (its last recorded ref).

    A version with a ``problem`` is refused (E_SNAPSHOT_UNVERIFIED, in ``refused``) unless
    ``allow_unknown``, which records the transitions into and out of it as ``unknown``.
    """
    before, new = _versions_after(registry, versions, last)
    refused = tuple(
        Problem("E_SNAPSHOT_UNVERIFIED", where(registry.id, version), version.problem)
        for version in new
        if version.problem is not None and not allow_unknown
    )
    if refused:
        return SourcePlan((), last, 0, refused)
    records: list[DeltaRecord] = []
    before_ref = last
    for version in new:
        ref = SourceRef.of(registry.kind, version)
        delta = source_delta(before, version)
        records.append(DeltaRecord(registry.id, before_ref, ref, delta, created_utc, derivation_run_id, record_version))
        before, before_ref = version, ref
    unknown = sum(record.delta.basis == "unknown" for record in records)
    warnings = tuple(f"{version.location}@{version.version}: {warning}" for version in new for warning in version.warnings)
    return SourcePlan(tuple(records), before_ref, unknown, (), warnings)


def recorded_source_refs(records: Iterable[dict[str, Any]]) -> dict[str, list[SourceRef]]:
    """registry id -> every source_ref its records point to (``to_ref``), in log order."""
    found: dict[str, list[SourceRef]] = {}
    for record in records:
        to_ref = record.get("to_ref")
        registry_id = record.get("registry_id")
        if isinstance(to_ref, dict) and "source" in to_ref and isinstance(registry_id, str):
            try:
                found.setdefault(registry_id, []).append(SourceRef.from_json(to_ref))
            except (KeyError, TypeError):
                continue  # a malformed ref: the record schema check names it
    return found


def source_ref_problems(records: Iterable[dict[str, Any]], workspace: Workspace, host: PluginHost, progress: Progress) -> list[Problem]:
    """Every recorded source_ref still names a version with its recorded pin and listing
    (``govern verify --log``): E_HISTORY_CONFLICT for one gone or changed, E_SNAPSHOT_MISSING
    when its registry can no longer be read (no longer configured, or no plugin for its kind)."""
    problems: list[Problem] = []
    for registry_id, refs in sorted(recorded_source_refs(records).items()):
        registry = next((r for r in workspace.registries() if r.id == registry_id), None)
        versions = None if registry is None else host.source_versions(registry, workspace, progress)
        if registry is None or versions is None:
            why = "no longer configured" if registry is None else f"no installed plugin reads versions of kind {registry.kind!r}"
            problems.append(Problem("E_SNAPSHOT_MISSING", registry_id, f"{len(refs)} recorded versions cannot be re-checked: registry {why}"))
            continue
        by_name = {version.version: version for version in versions}
        for ref in refs:
            changed = _changed(ref, by_name.get(ref.version), ref.source)
            if changed is not None:
                problems.append(Problem("E_HISTORY_CONFLICT", where(registry_id, ref), changed))
    return problems
