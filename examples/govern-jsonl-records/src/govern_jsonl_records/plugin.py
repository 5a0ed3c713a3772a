"""The hooks of the ``jsonl_records`` plugin (entry point ``jsonl_records`` in group ``govern``).

- ``govern_registry_kinds``: declares ``jsonl_records``, requiring ``artifact`` and
  ``options.key``;
- ``govern_discover_snapshots``: the same snapshots a ``sealed`` registry would have — govern's
  own discovery (:func:`govern.api.discover_artifact_snapshots`), not a copy of it;
- ``govern_delta_basis`` (govern asks the plugin declaring a registry's kind before the
  built-in ``manifest_diff``; ``tryfirst`` keeps that order among pluggy's implementations too):
  for its own registries, when both snapshots are sealed, the manifest diff of the artifact
  *plus* one ``ARTIFACT#key`` entry per added, removed or modified record.

The basis recorded is ``manifest_diff``. The delta-log schema (v0.1) allows only
``manifest_diff`` and ``unknown``, and the record stays a true manifest diff: its plain paths
are exactly what the manifests give, and every ``ARTIFACT#key`` entry is an addition that
cannot be mistaken for a path (a path at or under a file artifact is the artifact itself). The
record keys are derived from the artifact's bytes only after they are checked against the
sealed manifest. When that is not possible — the artifact is not keyed JSONL, is a folder, or
its bytes differ from the manifest — the record is the plain manifest diff; when a snapshot is
not sealed, this plugin abstains and ``unknown`` answers, as for any registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from govern.api import (
    Delta,
    GovernError,
    Registry,
    RegistryKind,
    RunView,
    Snapshot,
    Workspace,
    discover_artifact_snapshots,
    hookimpl,
    manifest_delta,
    sealed_file_bytes,
)
from govern_jsonl_records.records import keyed_records, record_changes

KIND = "jsonl_records"


def key_field(registry: Registry) -> str:
    """The configured key field (``options.key``); E_CONFIG_INVALID unless a non-empty string."""
    key = registry.config.options.get("key")
    if not isinstance(key, str) or not key:
        raise GovernError(
            "E_CONFIG_INVALID",
            f"registries.{registry.id}.options.key: expected the name of the key field (a non-empty string), got {key!r}",
        )
    return key


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``jsonl_records``."""
    return [
        RegistryKind(
            KIND,
            "sealed runs holding a JSONL artifact; deltas also list records added/removed/modified by key (options.key)",
            requires=("artifact", "options.key"),
        )
    ]


@hookimpl
def govern_discover_snapshots(registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
    """Every run holding the artifact, as govern finds ``sealed`` snapshots."""
    if registry.kind != KIND:
        return None
    key_field(registry)  # a bad key is a configuration error before anything is built
    artifact = registry.config.artifact
    assert artifact is not None  # required by the kind; checked when the config is loaded
    return discover_artifact_snapshots(registry.id, artifact, runs)


@hookimpl(tryfirst=True)
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
    """The manifest diff, refined with ``ARTIFACT#key`` entries for changed records."""
    if registry.kind != KIND:
        return None
    files = manifest_delta(before, after)
    if files is None:
        return None  # a snapshot is not sealed: the built-in `unknown` basis says why
    artifact = registry.config.artifact
    assert artifact is not None
    key = key_field(registry)
    after_records = _records(after, artifact, key)
    before_records = {} if before is None else _records(before, artifact, key)
    if after_records is None or before_records is None:
        return files  # not keyed JSONL (or not a single sealed file): the file-level diff
    added, removed, modified = record_changes(before_records, after_records).paths(artifact)
    return Delta(
        "manifest_diff",
        added=[*files.added, *added],
        removed=[*files.removed, *removed],
        modified=[*files.modified, *modified],
        renamed=files.renamed,
    )


def _records(snapshot: Snapshot, artifact: str, key: str) -> dict[str, bytes] | None:
    data = sealed_file_bytes(snapshot, artifact)
    return None if data is None else keyed_records(data, key)
