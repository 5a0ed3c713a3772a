"""The snapshots the delta log records, read back from its latest build, and the one judgement
of whether each still exists with the manifest hash recorded for it.

History is protected outside a build too: ``govern seal --reseal`` refuses a snapshot the log
records (:func:`recording_build`), ``govern verify --all`` fails on a recorded snapshot that
was deleted or re-sealed, and ``govern verify --log`` judges the same way
(:func:`recorded_snapshot_problems`). A loss an operator acknowledged with
``govern delta build --acknowledge-missing`` is known, not a failure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from govern.errors import GovernError, Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.manifest import SealCheck
from govern.log.delta_log import (
    BuildContents,
    is_build_run,
    latest_committed,
    parse_log_lines,
    read_build,
)
from govern.runs.run_store import RunStore, as_run_store

#: run id -> registry id -> the manifest hash recorded for that snapshot (None: recorded as an
#: unsealed legacy folder, with no seal to hold it to).
RecordedSnapshots = dict[str, dict[str, "str | None"]]


def _declared_artifact(seal: SealCheck, runs: RunStore) -> str:
    """The log file a build holds, as its sealed run.json says (``outputs.artifact``): a build
    is read without the workspace's configuration (``govern seal`` needs none)."""
    build = seal.run_id
    if not seal.ok or seal.manifest is None:
        first = seal.problems[0] if seal.problems else "no manifest"
        raise GovernError("E_LOG_TAMPERED", f"delta-log build {build}: seal does not verify: {first}")
    try:
        artifact = loads_strict(runs.read_sealed_file(seal, ENVELOPE_NAME))["outputs"]["artifact"]
    except (StrictJSONError, KeyError, TypeError) as exc:
        raise GovernError("E_LOG_INVALID", f"{build}/{ENVELOPE_NAME}: no readable outputs.artifact ({exc})") from None
    if not isinstance(artifact, str):
        raise GovernError("E_LOG_INVALID", f"{build}/{ENVELOPE_NAME}: outputs.artifact is not a file name")
    return artifact


def read_latest_build(runs: RunStore | Path, artifact: str | None = None, run_ids: Sequence[str] | None = None) -> BuildContents | None:
    """The latest build's log and state, checked against its seal; None before the first build.

    ``runs`` is the run store (or the local runs root); ``artifact`` the log's file name
    (default: the name the build's run.json declares). Only a committed build counts (the latest head's): a
    build run without its head or its seal is never the latest build. Raises E_LOG_* when the
    latest build cannot be trusted. ``run_ids`` is a listing of the runs root already made.
    """
    store = as_run_store(runs)
    latest, _ = latest_committed(store, run_ids)
    if latest.run_id is None:
        return None
    seal = store.read_seal(latest.run_id)  # read once: run.json and the log are both checked against it
    # The head's ROOT_SHA256 is held against the seal by 'verify --log' and by the next build,
    # not here: reading the log needs the build's own checks only.
    return read_build(seal, _declared_artifact(seal, store) if artifact is None else artifact, store)


def log_records(build: BuildContents) -> list[dict[str, Any]]:
    """The records of a build's log (every record the history holds)."""
    return parse_log_lines(build.log_bytes, f"{build.run_id}/log")


def _to_ref(record: dict[str, Any]) -> dict[str, Any]:
    to_ref = record.get("to_ref")
    return to_ref if isinstance(to_ref, dict) else {}


def recorded_snapshots(records: Iterable[dict[str, Any]]) -> RecordedSnapshots:
    """Every snapshot the records hold, with the manifest hash recorded for it."""
    recorded: RecordedSnapshots = {}
    for record in records:
        to_ref = _to_ref(record)
        run_id, registry_id = to_ref.get("run_id"), record.get("registry_id")
        if isinstance(run_id, str) and isinstance(registry_id, str):
            recorded.setdefault(run_id, {})[registry_id] = to_ref.get("manifest_sha256")
    return recorded


def recording_build(records: Iterable[dict[str, Any]], run_id: str) -> str | None:
    """The build that first recorded ``run_id`` as a snapshot (its record's
    ``derivation_run_id``: the log is append-only, so that is the first build whose log holds
    it), or None when the log never recorded it."""
    for record in records:
        if _to_ref(record).get("run_id") == run_id:
            return str(record.get("derivation_run_id"))
    return None


def acknowledged_losses(build: BuildContents) -> set[tuple[str, str]]:
    """(registry id, run id) of every recorded snapshot whose loss was acknowledged, as the
    build's state carries them forward."""
    return {(registry_id, run_id) for registry_id, state in build.state.registries.items() for run_id in state.acknowledged_missing}


def snapshot_roots(runs: RunStore | Path, run_ids: list[str]) -> dict[str, str | None]:
    """Each run's current ROOT_SHA256 (None: unsealed); runs that no longer exist are left out."""
    store = as_run_store(runs)
    return {run_id: store.read_root(run_id) for run_id in run_ids if store.exists(run_id)}


def recorded_snapshot_problems(
    recorded: RecordedSnapshots, roots: dict[str, str | None], acknowledged: Collection[tuple[str, str]] = ()
) -> list[Problem]:
    """Each recorded snapshot that no longer exists (E_SNAPSHOT_MISSING, unless its loss is
    ``acknowledged``) or no longer carries the recorded manifest hash (E_HISTORY_CONFLICT:
    re-sealed after it was recorded); sorted by registry, then run. ``roots`` holds the
    current root of every recorded run that exists (runs recorded with a null hash need none)."""
    problems: list[tuple[str, str, Problem]] = []
    for run_id, by_registry in recorded.items():
        for registry_id, manifest_sha256 in by_registry.items():
            if manifest_sha256 is None:
                continue  # a legacy snapshot recorded as unknown: there was no seal to hold it to
            where = f"{registry_id} @ {run_id}"
            if run_id not in roots:
                if (registry_id, run_id) not in acknowledged:
                    message = (
                        "recorded snapshot no longer exists, and its loss was never acknowledged "
                        f"(restore it, or 'govern delta build --acknowledge-missing {run_id} --reason TEXT')"
                    )
                    problems.append((registry_id, run_id, Problem("E_SNAPSHOT_MISSING", where, message)))
                continue
            now = roots[run_id]
            if now != manifest_sha256:
                message = f"recorded with manifest {manifest_sha256}, now {now or 'unsealed'} (re-sealed after it was recorded)"
                problems.append((registry_id, run_id, Problem("E_HISTORY_CONFLICT", where, message)))
    return [problem for *_, problem in sorted(problems, key=lambda item: item[:2])]


def missing_acknowledged(recorded: RecordedSnapshots, roots: dict[str, str | None], acknowledged: Collection[tuple[str, str]]) -> list[str]:
    """``registry @ run`` of each recorded snapshot that no longer exists, its loss acknowledged."""
    return sorted(
        f"{registry_id} @ {run_id}"
        for run_id, by_registry in recorded.items()
        for registry_id, manifest_sha256 in by_registry.items()
        if manifest_sha256 is not None and run_id not in roots and (registry_id, run_id) in acknowledged
    )


def refuse_reseal_of_history(run_dir: Path) -> None:
    """Refuse (E_RESEAL_REFUSED, exit 1) to re-seal a delta-log build or a snapshot the log
    records: either would rewrite history that ``verify --log`` then fails on forever.

    The log is found beside the run (builds live in the run's runs root); a run the latest
    build's log never recorded may be re-sealed.
    """
    if is_build_run(run_dir.name):
        raise GovernError(
            "E_RESEAL_REFUSED",
            f"{run_dir}: a delta-log build ({run_dir.name}) is never re-sealed: its seal is what proves the log's history",
        )
    latest = read_latest_build(run_dir.parent)
    build = None if latest is None else recording_build(log_records(latest), run_dir.name)
    if build is not None:
        raise GovernError(
            "E_RESEAL_REFUSED",
            f"{run_dir}: recorded as a snapshot by delta-log build {build}; re-sealing it would rewrite history "
            f"('govern verify {run_dir}' names what changed; seal new content as a new run)",
        )


def check_recorded_snapshots(
    runs: RunStore | Path, artifact: str, known_roots: Mapping[str, str | None] | None = None, run_ids: Sequence[str] | None = None
) -> tuple[list[Problem], list[str]]:
    """Every snapshot the latest build's log records still exists with its recorded manifest
    hash (``govern verify --all``): the problems (a log that cannot be read is one), and
    ``registry @ run`` of the acknowledged losses. ``known_roots`` are runs' ROOT_SHA256 the
    caller has just read (verify's own checks), so their seals are not read again; ``run_ids``
    a listing of the runs root the caller has just made, so it is not listed again."""
    try:
        latest = read_latest_build(runs, artifact, run_ids)
        if latest is None:
            return [], []
        recorded = recorded_snapshots(log_records(latest))
    except GovernError as error:
        return [Problem(error.code, "delta log", f"recorded snapshots not checked: {error.message}")], []
    known = known_roots or {}
    to_read = sorted(
        run_id for run_id, by_registry in recorded.items() if run_id not in known and any(h is not None for h in by_registry.values())
    )
    roots = {**{run_id: root for run_id, root in known.items() if run_id in recorded}, **snapshot_roots(runs, to_read)}
    acknowledged = acknowledged_losses(latest)
    return recorded_snapshot_problems(recorded, roots, acknowledged), missing_acknowledged(recorded, roots, acknowledged)
