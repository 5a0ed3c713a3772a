"""``govern delta build``: plan the records a build appends, then write the build atomically.

Planning reads only sealed evidence, and only what is new since the previous build: the runs
that build had not examined, plus each registry's backlog (snapshots pending behind an active
pointer, or registries not selected with ``--registry``). Writing copies the previous log byte
for byte, appends the new lines, and seals the result as a new run — staged in a hidden
folder, fsynced, then renamed into place, all under the workspace lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from govern.config.workspace import Registry, Workspace
from govern.errors import GovernError, Problem
from govern.format.checkpoint import CHECKPOINT_NAME, Checkpoint
from govern.format.envelope import ENVELOPE_NAME, make_envelope
from govern.format.heads import GENESIS_SEQ, LOG_FOLDER, HeadLink
from govern.format.jsonio import dump_jsonl_line
from govern.format.manifest import MANIFEST_NAME, SEAL_NAME
from govern.format.merkle import CompactRange
from govern.format.models import Delta, DeltaRecord, SealedRef, SourceVersion
from govern.format.note_keys import Ed25519Signer, NoteError
from govern.host.manager import PluginHost
from govern.log.attestation import build_attestation
from govern.log.commit import CommitRaceLost, commit_build, ensure_genesis, new_writer_id
from govern.log.delta_log import (
    ACCEPT_LATE_PARAM,
    ACKNOWLEDGE_MISSING_PARAM,
    BUILD_OP_ID,
    LOG_TREE_OUTPUT,
    BuildContents,
    BuildState,
    RegistryState,
    build_run_id,
    check_head_root,
    latest_committed,
    read_build,
    source_runs,
    uncommitted_builds,
)
from govern.log.heads import latest_head, read_head
from govern.log.planned_records import check_planned_records, check_record_version
from govern.log.policy_check import ALLOW_VIOLATIONS_PARAM, AllowedViolation, enforce_policies
from govern.log.source_records import plan_source_records, require_source_records, versions_until
from govern.log.transparency import checkpoint_note, extend_tree, log_origin, previous_tree
from govern.runs.listing import staging_names
from govern.runs.payloads import payload_checked
from govern.runs.run_store import RunStore, workspace_runs
from govern.runs.views import RunView, Snapshot, read_run_seals
from govern.runtime import interrupts
from govern.runtime.clock import format_utc
from govern.runtime.faults import crash_point
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.sealing import RESEAL_STAGING_PREFIX, finish_interrupted_reseal
from govern.store.atomic import TEMP_PREFIX, io_error, write_atomic
from govern.store.files import load_json_file


@attrs.frozen
class RegistryOutcome:
    """What a build did (or would do) for one registry."""

    registry_id: str
    kind: str
    #: ``covered``, ``excluded`` (by design), ``skipped`` (no plugin could discover it) or
    #: ``not_selected`` (``--registry`` named others).
    status: str
    reason: str | None = None
    records_total: int = 0
    bootstrap: int = 0
    transitions: int = 0
    unknown: int = 0
    pending: tuple[str, ...] = ()
    #: Late snapshots: sealed, ordered before the last recorded one, reported and not recorded.
    late: tuple[str, ...] = ()
    #: Warnings of the source versions this build records (``SourceVersion.warnings``), each
    #: naming its version: shown, never stopping the build.
    warnings: tuple[str, ...] = ()

    @property
    def appended(self) -> int:
        """Records this build appends for the registry."""
        return self.bootstrap + self.transitions

    def to_json(self) -> dict[str, Any]:
        """JSON form for summaries."""
        return {
            "registry_id": self.registry_id,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "records_total": self.records_total,
            "appended": {"bootstrap": self.bootstrap, "transitions": self.transitions, "unknown": self.unknown},
            "pending": list(self.pending),
            "late": list(self.late),
            # Only when there are some: the summary of every other registry stays as it was.
            **({"warnings": list(self.warnings)} if self.warnings else {}),
        }


@attrs.frozen
class OperatorDecision:
    """An operator's explicit decision a build records in its run.json ``params``: a late
    snapshot accepted (``--accept-late``) or a lost one acknowledged (``--acknowledge-missing``)."""

    registry_id: str
    run_id: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """``{"registry_id", "run_id", "reason"}``."""
        return {"registry_id": self.registry_id, "run_id": self.run_id, "reason": self.reason}


@attrs.frozen
class BuildPlan:
    """Everything a build will write, decided before anything is written."""

    run_id: str
    created_utc: str
    previous: BuildContents | None
    records: tuple[DeltaRecord, ...]
    state: BuildState
    outcomes: tuple[RegistryOutcome, ...]
    unsealed_runs: tuple[str, ...]
    allow_unknown: bool
    selected: tuple[str, ...] | None
    accepted_late: tuple[OperatorDecision, ...] = ()
    acknowledged_missing: tuple[OperatorDecision, ...] = ()
    #: Records whose snapshot's artifact files were hashed against its manifest when planned.
    payloads_hashed: int = 0
    #: The head the build commits after (docs/object-storage.md, "The commit protocol").
    base: HeadLink = HeadLink(GENESIS_SEQ, None)
    #: The log's Merkle tree after this build (the previous build's extended by the new
    #: records) and the origin of its checkpoint (docs/transparency.md).
    log_tree: CompactRange = CompactRange.empty()
    origin: str = ""
    #: ``--enforce``: the records were judged by the policies (docs/policies.md), and these
    #: violations were overridden by the operator (``--allow ID --reason TEXT``).
    enforced: bool = False
    allowed_violations: tuple[AllowedViolation, ...] = ()

    @property
    def up_to_date(self) -> bool:
        """True when there is nothing to write: no record to append and no loss to acknowledge
        (an acknowledgement is written even when it appends nothing: never silent)."""
        return not self.records and not self.acknowledged_missing

    @property
    def late_runs(self) -> tuple[str, ...]:
        """Every late snapshot reported (not recorded), sorted."""
        return tuple(sorted({run_id for outcome in self.outcomes for run_id in outcome.late}))

    def new_lines(self) -> list[bytes]:
        """One canonical line per new record, each with its newline."""
        # A record holds strings, integers and nulls only (no floats), so orjson may write it.
        return _record_lines(self.records)

    def log_bytes(self) -> bytes:
        """The new log: the previous log's bytes, then one canonical line per new record."""
        previous = self.previous.log_bytes if self.previous else b""
        return previous + b"".join(self.new_lines())

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint of the log after this build: origin, size, root."""
        return Checkpoint(self.origin, self.log_tree.size, self.log_tree.root())


def _conflict(message: str) -> GovernError:
    return GovernError("E_HISTORY_CONFLICT", message)


def registry_exclusion(registry: Registry, workspace: Workspace, host: PluginHost) -> str | None:
    """Why ``registry`` gets no delta-log records by design (its kind's plugin says why, or it
    is the delta log itself), or None."""
    exclusion = host.exclusion(registry, workspace)
    if exclusion is None and registry.config.artifact == workspace.config.workspace.delta_log_artifact:
        exclusion = "the delta log never records itself"
    return exclusion


def skipped_reason(registry: Registry) -> str:
    """Why a registry that is not excluded is skipped: no plugin discovers its snapshots."""
    return f"no installed plugin discovers snapshots of kind {registry.kind!r}"


def _active_pointers(workspace: Workspace) -> dict[str, str]:
    path = workspace.active_pointers_path
    if path is None:
        return {}
    if not path.is_file():
        raise GovernError("E_CONFIG_INVALID", f"{workspace.config_path}: workspace.active_pointers: {path} does not exist")
    data = load_json_file(path)
    pointers = data.get("pointers", data) if isinstance(data, dict) else None
    if not isinstance(pointers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in pointers.items()):
        raise GovernError("E_JSON_INVALID", f"{path}: expected an object mapping registry id to run id")
    return pointers


class _Planner:
    """One build's planning pass (holds the per-run seal cache shared by all registries)."""

    def __init__(
        self,
        workspace: Workspace,
        host: PluginHost,
        clock: dt.datetime,
        allow_unknown: bool,
        accept_late: frozenset[str] = frozenset(),
        acknowledged: dict[str, frozenset[str]] | None = None,
        reason: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.host = host
        self.allow_unknown = allow_unknown
        self.created_utc = format_utc(clock)
        self.run_id = build_run_id(self.created_utc)
        self.run_root = workspace.recorded_runs_root
        self.runs = workspace_runs(workspace)
        self.artifact = workspace.config.workspace.delta_log_artifact
        self.pointers = _active_pointers(workspace)
        self.broken: list[Problem] = []
        #: Recorded snapshots that no longer exist, their loss not acknowledged.
        self.missing: list[Problem] = []
        #: Late runs the operator asked to record, the reason, and those found late and accepted.
        self.accept_late = accept_late
        self.reason = reason
        self.accepted: list[OperatorDecision] = []
        #: registry id -> runs of it whose loss this build acknowledges.
        self.acknowledged = acknowledged or {}
        #: The runs of the runs root by id, each seal read at most once for the whole plan.
        self.views: dict[str, RunView] = {}
        self.record_version = workspace.config.workspace.record_version
        #: The plugin whose govern_delta_basis answered, by (registry id, snapshot run id).
        self.producers: dict[tuple[str, str], str | None] = {}
        #: Registry id -> the last source version to take (a rebuild's cap; None: take all).
        self.source_until: Mapping[str, str | None] | None = None
        self.payloads_hashed = 0

    def read_seals(self, new_runs: list[RunView], state: BuildState, selected: tuple[str, ...] | None) -> None:
        """Read, all at once, the seals the plan will need: every new run's, and the last
        recorded snapshot of each registry to plan (large manifests are read side by side)."""
        recorded: list[RunView] = []
        for registry_id, registry_state in state.registries.items():
            last = registry_state.last_recorded
            if isinstance(last, SealedRef) and last.manifest_sha256 is not None and (selected is None or registry_id in selected):
                recorded.extend(run for run in [self.views.get(last.run_id)] if run is not None)
        read_run_seals([*new_runs, *recorded])

    def previous_build(self, run_ids: Sequence[str]) -> tuple[HeadLink, BuildContents | None]:
        """The head the build commits after, and the latest build: the one that head names
        (a build run without a head or a seal was never committed, and is never taken for it).
        ``run_ids`` is the build's one listing of the runs root."""
        base, root = latest_committed(self.runs, run_ids)
        if base.run_id is None:
            return base, None
        seal = self.runs.read_seal(base.run_id)
        previous = read_build(seal, self.artifact, self.runs)  # its own damage (a torn log) named first
        check_head_root(seal, root)
        return base, previous

    def check_lands_after(self, previous: BuildContents | None) -> None:
        """A build that appends must land after the latest build: never on it, never before it.

        Checked only when there is something to append, so that re-running a build at a fixed
        clock (``SOURCE_DATE_EPOCH``) with nothing new stays "up to date" (idempotence).
        """
        if previous is None:
            return
        if previous.run_id == self.run_id:
            raise GovernError(
                "E_RUN_EXISTS",
                f"{previous.run_id}: the latest build already has this build's name (clock {self.created_utc}); "
                "it is never overwritten (build again with a later clock)",
            )
        if previous.run_id > self.run_id:
            raise _conflict(
                f"the build clock {self.created_utc} is not after the latest build {previous.run_id}; "
                "a build never lands before an existing one"
            )

    def snapshot_at(self, registry: Registry, ref: SealedRef) -> Snapshot | None:
        """The last recorded snapshot, re-read; it must still carry the recorded manifest hash.
        None when it no longer exists (the caller decides whether that loss is acknowledged)."""
        run = self.views.get(ref.run_id) or RunView(ref.run_id, self.runs)
        if not self.runs.exists(run.run_id):
            return None
        if ref.manifest_sha256 is None:
            # Recorded as an unsealed legacy folder: there was no seal to hold it to, and a seal
            # added since cannot tell what it held when recorded. It stays what it was recorded
            # as, so the transition from it is "unknown" rather than a diff against new evidence.
            return Snapshot(registry.id, run, ref.relpath, "unsealed", "recorded as an unsealed legacy snapshot")
        found = self.host.discover_snapshots(registry, self.workspace, [run]) or []
        if len(found) != 1 or found[0].manifest_sha256 != ref.manifest_sha256:
            raise _conflict(
                f"{registry.id}: recorded snapshot {ref.run_id} has changed since it was recorded "
                f"(manifest {ref.manifest_sha256}, now {found[0].manifest_sha256 if found else 'not a snapshot'})"
            )
        return found[0]

    def lost_reason(self, registry: Registry, state: RegistryState, last: SealedRef) -> str | None:
        """Why the transition from the missing snapshot ``last`` is unknown, when its loss is
        acknowledged (by this build or an earlier one); else None, the loss noted as a problem."""
        if last.run_id in self.acknowledged.get(registry.id, ()):
            return f"from snapshot {last.run_id} was lost (no longer exists; loss acknowledged by this build: {self.reason})"
        if last.run_id in state.acknowledged_missing:
            return f"from snapshot {last.run_id} was lost (no longer exists; loss acknowledged by an earlier build)"
        self.missing.append(Problem("E_SNAPSHOT_MISSING", f"{registry.id} @ {last.run_id}", "recorded snapshot no longer exists"))
        return None

    def refused(self, registry: Registry, snapshot: Snapshot) -> bool:
        """True (the problem noted, to stop the build) for a snapshot to record whose seal does
        not verify, unless ``--allow-unknown`` records it as 'unknown'."""
        if snapshot.status == "broken" and not self.allow_unknown:
            self.broken.append(Problem("E_SNAPSHOT_UNVERIFIED", f"{registry.id} @ {snapshot.run_id}", snapshot.problem or "broken"))
            return True
        return False

    def answered_delta(self, registry: Registry, before: Snapshot | None, after: Snapshot) -> tuple[Delta, str | None]:
        """The delta from ``before`` to ``after`` and the plugin that answered. A kind's plugin
        may find the transition rewrites history (E_HISTORY_CONFLICT: a collection member
        re-sealed); with ``--allow-unknown`` that is recorded as ``unknown`` with its reason."""
        try:
            return self.host.answered_delta_basis(registry, before, after)
        except GovernError as error:
            if error.code != "E_HISTORY_CONFLICT" or not self.allow_unknown:
                raise
            return Delta("unknown", unknown_reason=error.message), None

    def ref(self, snapshot: Snapshot) -> SealedRef:
        return SealedRef(snapshot.run_id, self.run_root, snapshot.relpath, snapshot.manifest_sha256)

    def plan_source_registry(
        self, registry: Registry, versions: list[SourceVersion], state: RegistryState | None
    ) -> tuple[list[DeltaRecord], RegistryOutcome, RegistryState]:
        """The records of a registry kept outside the runs root (:mod:`govern.log.source_records`):
        its versions after the last recorded one. Versions that do not validate are noted in
        ``broken`` (the build stops) unless ``--allow-unknown``."""
        require_source_records(registry, self.workspace)
        if self.source_until is not None:
            versions = versions_until(versions, self.source_until.get(registry.id))
        last = state.last_recorded if state else None
        plan = plan_source_records(
            registry,
            versions,
            last,
            allow_unknown=self.allow_unknown,
            created_utc=self.created_utc,
            derivation_run_id=self.run_id,
            record_version=self.record_version,
        )
        self.broken.extend(plan.refused)
        producer = self.host.kind_plugin(registry.kind)
        for record in plan.records:
            self.producers[registry.id, record.to_ref.label] = producer
        previous_total = state.records if state else 0
        bootstrap = 1 if plan.records and last is None else 0
        new_state = RegistryState(
            kind=registry.kind,
            artifact=registry.config.artifact,
            last_recorded=plan.last_recorded,
            records=previous_total + len(plan.records),
            acknowledged_missing=state.acknowledged_missing if state else (),
        )
        outcome = RegistryOutcome(
            registry.id,
            registry.kind,
            "covered",
            records_total=new_state.records,
            bootstrap=bootstrap,
            transitions=len(plan.records) - bootstrap,
            unknown=plan.unknown,
            warnings=plan.warnings,
        )
        return list(plan.records), outcome, new_state

    def plan_registry(
        self, registry: Registry, candidates: list[RunView], state: RegistryState | None
    ) -> tuple[list[DeltaRecord], RegistryOutcome, RegistryState | None]:
        snapshots = self.host.discover_snapshots(registry, self.workspace, candidates)
        if snapshots is None:
            return [], RegistryOutcome(registry.id, registry.kind, "skipped", skipped_reason(registry)), state
        pointer = self.pointers.get(registry.id)
        pending = tuple(s.run_id for s in snapshots if pointer is not None and s.run_id > pointer)
        last = state.last_recorded if state else None
        if last is not None and not isinstance(last, SealedRef):
            raise _conflict(f"{registry.id}: recorded as the source version {last.label}, but its kind {registry.kind!r} takes snapshots from runs")
        usable: list[Snapshot] = []
        # A snapshot ordered before the last recorded one arrived late (a retried job): it is
        # never inserted into history behind the operator's back, and never blocks anything —
        # other registries, or this one's later snapshots. It is reported until an operator
        # records it (--accept-late).
        late: list[Snapshot] = []
        for snapshot in snapshots:
            if snapshot.run_id in pending:
                continue
            if snapshot.status == "unsealed" and not self.allow_unknown:
                continue  # possibly still being written: listed as unsealed, never frozen into history
            if last is not None and snapshot.run_id <= last.run_id:
                if snapshot.run_id < last.run_id:
                    late.append(snapshot)
                continue
            snapshot = payload_checked(snapshot)  # a snapshot about to be recorded: its files hashed
            if self.refused(registry, snapshot):
                continue
            usable.append(snapshot)
        before: Snapshot | None = None
        lost: str | None = None
        if state is not None and last is not None:
            before = self.snapshot_at(registry, last)
            if before is None:
                lost = self.lost_reason(registry, state, last)
                if lost is None:
                    # Stopped at the end of planning, with every registry's loss named.
                    return [], RegistryOutcome(registry.id, registry.kind, "covered", records_total=state.records), state
        # Late snapshots are judged only when accepted: then their files are hashed like any new one's.
        accepted = [payload_checked(s) for s in late if s.run_id in self.accept_late]
        for snapshot in accepted:
            self.refused(registry, snapshot)
        self.accepted.extend(OperatorDecision(registry.id, s.run_id, self.reason or "") for s in accepted)
        still_late = tuple(s.run_id for s in late if s.run_id not in self.accept_late)
        records = []
        unknown = 0
        # The chain links to the ref as recorded, never as re-read (a legacy snapshot recorded
        # with no seal keeps its null hash even if it has been sealed since). Accepted late
        # snapshots come first: each is "the next transition" from the last recorded one.
        before_ref = last
        for snapshot in [*accepted, *usable]:
            if lost is not None:
                # govern itself says why (no plugin answered): the snapshot it would diff against is gone.
                delta, lost = Delta("unknown", unknown_reason=lost), None
                self.producers[registry.id, snapshot.run_id] = None
            else:
                delta, self.producers[registry.id, snapshot.run_id] = self.answered_delta(registry, before, snapshot)
            unknown += delta.basis == "unknown"
            self.payloads_hashed += snapshot.status == "sealed"
            records.append(
                DeltaRecord(
                    registry_id=registry.id,
                    from_ref=before_ref,
                    to_ref=self.ref(snapshot),
                    delta=delta,
                    created_utc=self.created_utc,
                    derivation_run_id=self.run_id,
                    delta_version=self.record_version,
                )
            )
            before, before_ref = snapshot, self.ref(snapshot)
        previous_total = state.records if state else 0
        bootstrap = 1 if records and last is None else 0
        new_state = RegistryState(
            kind=registry.kind,
            artifact=registry.config.artifact,
            last_recorded=before_ref,
            records=previous_total + len(records),
            backlog=pending,
            late=still_late,
            acknowledged_missing=_with_acknowledged(state, self.acknowledged.get(registry.id, frozenset())),
        )
        outcome = RegistryOutcome(
            registry.id,
            registry.kind,
            "covered",
            records_total=new_state.records,
            bootstrap=bootstrap,
            transitions=len(records) - bootstrap,
            unknown=unknown,
            pending=pending,
            late=still_late,
        )
        return records, outcome, new_state


def registry_candidates(runs: Sequence[RunView], new_runs: Sequence[RunView], positions: Mapping[str, int], wanted: set[str]) -> list[RunView]:
    """The runs a registry already in the log is planned over: those of ``runs`` no build
    examined (``new_runs``, in order) and those it still ``wanted`` (backlog, late), in the
    order of ``runs`` (``positions``: each run's index there) — the plain rule ``[run for run
    in runs if run not examined or run.run_id in wanted]`` without a pass over every run of the
    runs root per registry (tests/test_log_fast_paths.py holds the two equal)."""
    if not wanted:
        return list(new_runs)
    taken = {run.run_id for run in new_runs}
    extra = [runs[positions[run_id]] for run_id in wanted if run_id in positions and run_id not in taken]
    return sorted((*new_runs, *extra), key=lambda run: positions[run.run_id])


def _with_acknowledged(state: RegistryState | None, runs: Iterable[str]) -> tuple[str, ...]:
    """A registry's acknowledged losses: those of its state, and ``runs`` acknowledged now."""
    return tuple(sorted(set(state.acknowledged_missing if state else ()) | set(runs)))


def _losses_to_acknowledge(
    workspace: Workspace, previous: BuildContents | None, runs: Iterable[str]
) -> dict[str, frozenset[str]]:
    """registry id -> the runs of it whose loss is acknowledged now: each run must be a
    snapshot the log records, for any registry, and must no longer exist (E_USAGE otherwise)."""
    from govern.log.recorded_snapshots import log_records, recorded_snapshots

    wanted = sorted(set(runs))
    if not wanted:
        return {}
    recorded = recorded_snapshots(log_records(previous)) if previous is not None else {}
    by_registry: dict[str, set[str]] = {}
    for run_id in wanted:
        if run_id not in recorded:
            raise GovernError("E_USAGE", f"--acknowledge-missing {run_id}: not a snapshot the delta log records; nothing to acknowledge")
        if workspace_runs(workspace).exists(run_id):
            raise GovernError(
                "E_USAGE", f"--acknowledge-missing {run_id}: {workspace.run_location(run_id)} still exists; only a lost snapshot is acknowledged"
            )
        for registry_id in recorded[run_id]:
            by_registry.setdefault(registry_id, set()).add(run_id)
    return {registry_id: frozenset(run_ids) for registry_id, run_ids in by_registry.items()}


def _check_decisions(
    accept_late: frozenset[str], acknowledge_missing: Iterable[str], reason: str | None, allow: Iterable[str] = (), enforce: bool = False
) -> None:
    """An operator's decision needs a reason, and a reason needs a decision; an override
    needs the policies enforced (E_USAGE)."""
    allowing = bool(list(allow))
    if allowing and not enforce:
        raise GovernError("E_USAGE", "--allow overrides a violation --enforce finds; give --enforce")
    deciding = bool(accept_late) or bool(list(acknowledge_missing)) or allowing
    if deciding and not (reason and reason.strip()):
        raise GovernError(
            "E_USAGE", "--accept-late, --acknowledge-missing and --allow need --reason TEXT (it is recorded in the build's run.json)"
        )
    if reason is not None and not deciding:
        raise GovernError("E_USAGE", "--reason explains --accept-late RUN, --acknowledge-missing RUN or --allow VIOLATION-ID; none was given")


def plan_build(
    workspace: Workspace,
    host: PluginHost,
    *,
    clock: dt.datetime,
    allow_unknown: bool = False,
    only: Iterable[str] | None = None,
    accept_late: Iterable[str] = (),
    acknowledge_missing: Iterable[str] = (),
    reason: str | None = None,
    source_until: Mapping[str, str | None] | None = None,
    enforce: bool = False,
    allow: Iterable[str] = (),
) -> BuildPlan:
    """Decide what a build at ``clock`` appends. Reads; never writes.

    ``source_until`` (a rebuild of an earlier build: the determinism check) caps each registry
    kept outside the runs root at the version that build recorded last (None, or absent: it
    had recorded none), so versions added since are not taken.

    Late snapshots (sealed, ordered before their registry's last recorded one) are reported in
    the outcomes and the state, and recorded only when named in ``accept_late``; losses of
    recorded snapshots named in ``acknowledge_missing`` are acknowledged (both with ``reason``,
    recorded in the build's run.json). With ``enforce`` the records are judged by the
    policies (docs/policies.md): a violation not named in ``allow`` is E_POLICY_VIOLATION,
    nothing written; those allowed are recorded with ``reason``.

    Raises E_SNAPSHOT_UNVERIFIED (a snapshot's seal fails and ``allow_unknown`` is off),
    E_SNAPSHOT_MISSING (recorded snapshots that no longer exist, every one named, their loss
    not acknowledged), E_HISTORY_CONFLICT (recorded history changed, a clock before the
    latest build's), E_RUN_EXISTS (records to append at the latest build's own clock), E_USAGE
    (a decision without a reason, or about a run it does not fit) and E_LOG_* (the previous
    build is not intact). Nothing new at any clock is "up to date".
    """
    selected = None if only is None else tuple(sorted(set(only)))
    for registry_id in selected or ():
        workspace.registry(registry_id)  # unknown ids are an error naming the known ones
    accept = frozenset(accept_late)
    acknowledge = tuple(acknowledge_missing)
    allowing = tuple(sorted(set(allow)))
    _check_decisions(accept, acknowledge, reason, allowing, enforce)
    reason = reason.strip() if reason else None
    planner = _Planner(workspace, host, clock, allow_unknown, accept_late=accept, reason=reason)
    planner.source_until = source_until
    run_ids = planner.runs.list_runs().names
    base, previous = planner.previous_build(run_ids)
    planner.acknowledged = _losses_to_acknowledge(workspace, previous, acknowledge)
    previous_state = previous.state if previous else BuildState()
    examined_before = set(previous_state.runs_examined)
    runs = source_runs(planner.runs, run_ids)
    new_runs = [run for run in runs if run.run_id not in examined_before]
    planner.views = {run.run_id: run for run in runs}
    positions = {run.run_id: position for position, run in enumerate(runs)}
    planner.read_seals(new_runs, previous_state, selected)
    newly_examined = {run.run_id for run in new_runs if run.seal.sealed}
    records: list[DeltaRecord] = []
    outcomes: list[RegistryOutcome] = []
    states: dict[str, RegistryState] = {}
    for registry in workspace.registries():
        state = previous_state.registries.get(registry.id)
        exclusion = registry_exclusion(registry, workspace, host)
        if exclusion is not None:
            outcomes.append(RegistryOutcome(registry.id, registry.kind, "excluded", exclusion))
            continue
        if state is not None and (state.kind, state.artifact) != (registry.kind, registry.config.artifact):
            raise _conflict(
                f"{registry.id}: configured as kind {registry.kind!r}, artifact {registry.config.artifact!r}, but "
                f"recorded as kind {state.kind!r}, artifact {state.artifact!r}; a registry's identity cannot change"
            )
        if selected is not None and registry.id not in selected:
            if state is not None:
                states[registry.id] = attrs.evolve(
                    state,
                    backlog=tuple(sorted(set(state.backlog) | newly_examined)),
                    acknowledged_missing=_with_acknowledged(state, planner.acknowledged.get(registry.id, ())),
                )
            outcomes.append(
                RegistryOutcome(
                    registry.id, registry.kind, "not_selected", records_total=state.records if state else 0, late=state.late if state else ()
                )
            )
            continue
        versions = host.source_versions(registry, workspace, NO_PROGRESS)
        if versions is not None:
            # Kept where it is (OCFL, BagIt, git): its versions, not runs, are its snapshots.
            source_records, source_outcome, source_state = planner.plan_source_registry(registry, versions, state)
            records.extend(source_records)
            outcomes.append(source_outcome)
            states[registry.id] = source_state
            continue
        if state is None:
            candidates = runs  # a registry new to the log: its whole history
        else:
            # Late runs were examined, and are read again so that they stay reported (and can
            # be accepted) until recorded.
            candidates = registry_candidates(runs, new_runs, positions, set(state.backlog) | set(state.late))
        new_records, outcome, new_state = planner.plan_registry(registry, candidates, state)
        records.extend(new_records)
        outcomes.append(outcome)
        if new_state is not None:
            states[registry.id] = new_state
    if planner.missing:
        listed = ", ".join(problem.where for problem in planner.missing)
        raise GovernError(
            "E_SNAPSHOT_MISSING",
            f"recorded snapshots no longer exist: {listed}; nothing written (restore them, or if lost for good: "
            "'govern delta build --acknowledge-missing RUN --reason TEXT')",
            problems=tuple(planner.missing),
        )
    if planner.broken:
        first = planner.broken[0]
        more = f" (and {len(planner.broken) - 1} more)" if len(planner.broken) > 1 else ""
        raise GovernError(
            "E_SNAPSHOT_UNVERIFIED",
            f"snapshot {first.where}: {first.message}{more}; nothing written (--allow-unknown records it as 'unknown')",
            problems=tuple(planner.broken),
        )
    not_late = sorted(accept - {decision.run_id for decision in planner.accepted})
    if not_late:
        late = sorted({run_id for outcome in outcomes for run_id in outcome.late})
        raise GovernError(
            "E_USAGE",
            f"--accept-late {', '.join(not_late)}: not a late snapshot of any registry built here "
            f"(late now: {', '.join(late) or 'none'})",
        )
    acknowledged = tuple(
        OperatorDecision(registry_id, run_id, reason or "")
        for registry_id, run_ids in sorted(planner.acknowledged.items())
        for run_id in sorted(run_ids)
    )
    if records or acknowledged:
        planner.check_lands_after(previous)
        # Every record is held to its schema before anything is written (dry runs too).
        check_record_version(workspace, previous.log_bytes if previous else b"", previous.run_id if previous else None)
        producers = [planner.producers[record.registry_id, record.to_ref.label] for record in records]
        check_planned_records(records, producers, workspace, host)
    allowed: tuple[AllowedViolation, ...] = ()
    if enforce and (records or allowing):  # nothing to append: nothing to judge (an --allow is still checked)
        allowed = enforce_policies(workspace, planner.runs, previous, records, dict.fromkeys(allowing, reason or ""))
    recorded_unsealed = {r.to_ref.run_id for r in records if isinstance(r.to_ref, SealedRef) and r.to_ref.manifest_sha256 is None}
    # Folders taken as legacy snapshots (--allow-unknown) are recorded, not "not a snapshot yet".
    unsealed = tuple(run.run_id for run in new_runs if not run.seal.sealed and run.run_id not in recorded_unsealed)
    build_state = BuildState(
        runs_examined=tuple(sorted(examined_before | newly_examined | recorded_unsealed)),
        registries=states,
        records_total=previous_state.records_total + len(records),
    )
    # The tree grows by the new records only: the previous build's sealed edge, extended.
    origin = log_origin(workspace, previous.checkpoint if previous else None)
    tree = extend_tree(previous_tree(previous, origin), (line[:-1] for line in _record_lines(records)))
    return BuildPlan(
        run_id=planner.run_id,
        created_utc=planner.created_utc,
        previous=previous,
        records=tuple(records),
        state=build_state,
        outcomes=tuple(outcomes),
        unsealed_runs=unsealed,
        allow_unknown=allow_unknown,
        selected=selected,
        accepted_late=tuple(sorted(planner.accepted, key=lambda d: (d.registry_id, d.run_id))),
        acknowledged_missing=acknowledged,
        payloads_hashed=planner.payloads_hashed,
        base=base,
        log_tree=tree,
        origin=origin,
        enforced=enforce,
        allowed_violations=allowed,
    )


def _record_lines(records: Iterable[DeltaRecord]) -> list[bytes]:
    """The log lines of ``records``, each with its newline (the one spelling :meth:`BuildPlan.new_lines` uses)."""
    return [dump_jsonl_line(record.to_json(), floats=False) for record in records]


def build_envelope(plan: BuildPlan, workspace: Workspace, clock: dt.datetime) -> dict[str, Any]:
    """The build run's run.json: what it saw (inputs.state), what it wrote, how it was asked."""
    previous = None if plan.previous is None else {"run_id": plan.previous.run_id, "manifest_sha256": plan.previous.root_sha256}
    return make_envelope(
        plan.run_id,
        op_id=BUILD_OP_ID,
        clock=clock,
        inputs={"runs_root": workspace.config.workspace.runs_root, "previous_build": previous, "state": plan.state.to_json()},
        outputs={
            "artifact": workspace.config.workspace.delta_log_artifact,
            "records_appended": len(plan.records),
            "payloads_hashed": plan.payloads_hashed,
            "records_total": plan.state.records_total,
            "registries": {o.registry_id: o.to_json() for o in plan.outcomes},
            LOG_TREE_OUTPUT: plan.log_tree.to_json(),
        },
        params=_params(plan),
    )


def _params(plan: BuildPlan) -> dict[str, Any]:
    """How the build was asked; an operator's decisions only when made (docs/delta-log.md)."""
    params: dict[str, Any] = {"allow_unknown": plan.allow_unknown, "registries": None if plan.selected is None else list(plan.selected)}
    if plan.accepted_late:
        params[ACCEPT_LATE_PARAM] = [decision.to_json() for decision in plan.accepted_late]
    if plan.acknowledged_missing:
        params[ACKNOWLEDGE_MISSING_PARAM] = [decision.to_json() for decision in plan.acknowledged_missing]
    if plan.enforced:
        params["enforce"] = True
    if plan.allowed_violations:
        params[ALLOW_VIOLATIONS_PARAM] = [
            {"violation_id": allowed.violation.violation_id, "reason": allowed.reason} for allowed in plan.allowed_violations
        ]
    return params


def remove_stale_staging(runs_root: Path) -> list[str]:
    """Delete what crashed writers left in the runs root: staging folders of builds, builds
    published only in part (a build run without its seal, newer than the latest sealed build:
    never committed), and finish (or discard) what a crashed ``seal --reseal`` staged beside
    its run. Call only while holding the lock: it is what guarantees that no writer is
    publishing one of those builds right now."""
    removed = []
    for name in staging_names(runs_root):
        path = runs_root / name
        if name.startswith(RESEAL_STAGING_PREFIX):
            finish_interrupted_reseal(runs_root / name[len(RESEAL_STAGING_PREFIX) :])
            removed.append(name)
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(name)
    for name in staging_names(runs_root / LOG_FOLDER):
        # A head put cut short before its link: a temporary file, never a head.
        with contextlib.suppress(FileNotFoundError):
            (runs_root / LOG_FOLDER / name).unlink()
        removed.append(f"{LOG_FOLDER}/{name}")
    runs = RunStore.local(runs_root)
    latest = latest_committed(runs)[0].run_id or ""
    for run_id in uncommitted_builds(runs):
        # An uncommitted build older than the latest build is not a crashed publish (a build
        # lands after the latest one): left for 'govern gc', never deleted here.
        if run_id > latest:
            _discard_build(runs, run_id)
            removed.append(run_id)
    return removed


def write_build(
    plan: BuildPlan, workspace: Workspace, host: PluginHost, clock: dt.datetime, progress: Progress = NO_PROGRESS, *, signer: Ed25519Signer | None = None
) -> str:
    """Write the planned build as a sealed run; return its ROOT_SHA256. Call under the lock.

    The run holds the log, its ``checkpoint`` (signed by ``signer`` when given, the checkpoint
    text alone otherwise) and run.json with ``outputs.log_tree``.

    The build is sealed in a hidden staging folder (the seal plugin seals a local folder),
    then published through the run store (:meth:`RunStore.publish_run`): the log, run.json and
    manifest.json, then MANIFEST.sha256 put ``if_absent``; then it is committed by the put
    ``if_absent`` of its head after ``plan.base`` (:mod:`govern.log.commit`). Of two writers
    publishing one build id exactly one succeeds (the other gets E_RUN_EXISTS); of two
    writers committing after one head exactly one succeeds: the other takes its run back and
    gets E_COMMIT_RACE_LOST. A failure before the end (E_IO, a plugin error) takes the build
    back, so the runs root is left as it was; a crash leaves at most a staging folder or a
    build run without its seal or head (never a build), which the next build removes
    (:func:`remove_stale_staging`) or ``govern gc`` does. With ``signer`` the build attests
    itself: its attestation is published with it, before its seal (:mod:`govern.log.attestation`).
    """
    runs = workspace_runs(workspace)
    writer_id = new_writer_id()
    if runs.exists(plan.run_id):
        raise GovernError("E_RUN_EXISTS", f"{workspace.run_location(plan.run_id)}: a run of that name already exists; it is never overwritten")
    artifact = workspace.config.workspace.delta_log_artifact
    log_bytes = plan.log_bytes()
    try:
        checkpoint = checkpoint_note(plan.checkpoint, signer)
    except NoteError as exc:
        raise GovernError("E_KEY_INVALID", f"cannot sign the checkpoint of {plan.run_id}: {exc}") from None
    payload = {artifact: log_bytes, CHECKPOINT_NAME: checkpoint}
    # The seal plugin seals a local folder: beside the runs root when it is local (a rename
    # away), in a private temporary folder when the runs root is object storage.
    staging_parent = workspace.runs_root if workspace.runs_root_is_local else Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    staging = staging_parent / f"{TEMP_PREFIX}{plan.run_id}"
    try:
        with _io_step("create", staging):
            staging.mkdir(parents=True)
    except GovernError as error:
        if isinstance(error.__cause__, FileExistsError):  # stale ones are removed under the lock first
            raise GovernError("E_RUN_EXISTS", f"{staging}: another writer is writing a build of that name") from None
        raise
    try:
        # Sealing the staging folder is not the build's commit (interrupts.staging): an
        # interrupt up to the publish takes the staging folder back.
        with interrupts.staging():
            crash_point("after-staging:build")
            for relpath, data in payload.items():
                write_atomic(staging / relpath, data)
            crash_point("after-write:build")
            result = host.seal(staging, build_envelope(plan, workspace, clock), False, progress)
            with _io_step("read", staging):
                envelope, manifest, seal = ((staging / name).read_bytes() for name in (ENVELOPE_NAME, MANIFEST_NAME, SEAL_NAME))
                unlisted = build_attestation(staging, plan.run_id, signer)
            crash_point("before-publish:build")
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging if workspace.runs_root_is_local else staging_parent)
    with interrupts.commit_point():  # the publish and the commit, never cut in two by an interrupt
        _check_base(runs, plan, writer_id)  # nothing uploaded yet: a loss here leaves nothing to take back
        try:
            runs.publish_run(plan.run_id, payload, envelope, manifest, seal, unlisted)
            crash_point("after-publish:build")
            commit_build(runs.backend, plan.base, plan.run_id, result.root_sha256, writer_id, plan.created_utc)
        except CommitRaceLost as lost:
            _discard_build(runs, plan.run_id)  # nothing of a lost build stays visible
            raise _race_lost(lost) from None
        except GovernError as error:
            if error.code != "E_RUN_EXISTS":  # another writer's build: never ours to take back
                _discard_uncommitted(runs, plan, writer_id)
            raise
        except BaseException:
            # Nothing is reported written unless all of it is durable: take the build back.
            _discard_uncommitted(runs, plan, writer_id)
            raise
        crash_point("after-commit:build")
    return result.root_sha256


def _check_base(runs: RunStore, plan: BuildPlan, writer_id: str) -> None:
    """Before uploading anything: put the genesis head when the runs root has none yet (naming
    the build the plan continues), and make sure no build was committed since the plan was
    made — else E_COMMIT_RACE_LOST now, with nothing uploaded."""
    previous_root = plan.previous.root_sha256 if plan.previous else None
    ensure_genesis(runs.backend, plan.base.run_id, previous_root, writer_id, plan.created_utc)
    latest = latest_head(runs.backend, plan.base.seq)
    if latest is not None and latest.link != plan.base:
        raise _race_lost(CommitRaceLost(latest))


def _race_lost(lost: CommitRaceLost) -> GovernError:
    """E_COMMIT_RACE_LOST naming the build that committed first."""
    return GovernError(
        "E_COMMIT_RACE_LOST",
        f"another build committed first: {lost.winner.run_id} at seq {lost.winner.seq}; "
        "this build was taken back ('govern delta build --retry' rebuilds on the new head)",
    )


@contextlib.contextmanager
def _io_step(action: str, path: Path) -> Iterator[None]:
    """Turn an OSError of one step of writing a build into E_IO naming the path."""
    try:
        yield
    except OSError as exc:
        raise io_error(action, path, exc, "the build was not written") from exc


def _discard_uncommitted(runs: RunStore, plan: BuildPlan, writer_id: str) -> None:
    """Take back this writer's build after a failure, unless its head is there: a put whose
    answer was lost may have committed it, and a committed build is never removed."""
    there = None
    with contextlib.suppress(Exception):
        there = read_head(runs.backend, plan.base.seq + 1)
    if there is None or there.writer_id != writer_id:
        _discard_build(runs, plan.run_id)


def _discard_build(runs: RunStore, run_id: str) -> None:
    """Best-effort removal of this writer's own build that failed half way (the next build
    retries it)."""
    with contextlib.suppress(OSError, GovernError):
        remove_uncommitted_build(runs, run_id)


def remove_uncommitted_build(runs: RunStore, run_id: str) -> None:
    """Delete a build run that has no head (never committed): its seal first, so that it is
    never seen as a sealed run while it goes, then every other file."""
    runs.backend.delete(f"{run_id}/{SEAL_NAME}")
    runs.remove_unsealed(run_id)
