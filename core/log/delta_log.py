"""The delta log as stored: build runs, their log file, their recorded state (docs/delta-log.md, "Where it lives" and "The build").

Each build of the log is a sealed run named ``YYYY-MM-DD__HHMMSS__registry_delta_log_build``
holding the log (JSONL) and a run.json whose ``inputs`` record what the build saw — the
state the next build continues from, so that it reads only what is new. Everything read here
is checked against the build's seal first: the log is derived from sealed truth only, and so
is its continuation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from govern.errors import GovernError
from govern.format.checkpoint import CHECKPOINT_NAME
from govern.format.envelope import ENVELOPE_NAME
from govern.format.heads import GENESIS_SEQ, HeadLink, LogHead
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.jsonl import TORN_LAST_LINE, TornLineError, complete_length, parse_jsonl
from govern.format.manifest import ManifestEntry, SealCheck
from govern.format.models import SnapshotRef, ref_from_json
from govern.log.heads import latest_head, read_chain
from govern.runs.run_store import RunStore, as_run_store
from govern.runs.views import RunView
from govern.store.backend import KeyNotFound

BUILD_SLUG = "registry_delta_log_build"
#: The operation a build runs as (declared to governance by the ``delta_log`` plugin).
BUILD_OP_ID = "OP-QA11"
BUILD_OP_TITLE = "Registry Delta Log Build"
#: Registry id of the delta log itself in the registry catalog.
DELTA_LOG_REGISTRY_ID = "registry_delta_log"
STATE_VERSION = "0.1"
#: run.json ``params`` keys recording an operator's decisions (docs/delta-log.md, "Retention
#: and recovery"): each a list of ``{"registry_id", "run_id", "reason"}``, present only when
#: the build was asked to make one.
ACCEPT_LATE_PARAM = "accept_late"
ACKNOWLEDGE_MISSING_PARAM = "acknowledge_missing"
#: run.json ``outputs`` key of the compact range of the log's Merkle tree at the build's size
#: (:mod:`govern.log.transparency`): what the next build extends without re-reading old records.
LOG_TREE_OUTPUT = "log_tree"


def acknowledged_in(envelope: Any) -> set[tuple[str, str]]:
    """(registry id, run id) of each loss a build's run.json acknowledges
    (``params.acknowledge_missing``); nothing for anything malformed."""
    params = envelope.get("params") if isinstance(envelope, dict) else None
    items = params.get(ACKNOWLEDGE_MISSING_PARAM) if isinstance(params, dict) else None
    return {
        (item["registry_id"], item["run_id"])
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict) and isinstance(item.get("registry_id"), str) and isinstance(item.get("run_id"), str)
    }


def is_build_run(run_id: str) -> bool:
    """True for a delta-log build run (which is never a snapshot of anything)."""
    return run_id.endswith("__" + BUILD_SLUG)


def build_run_id(clock_text: str) -> str:
    """The run id of a build at ``clock_text`` (``YYYY-MM-DDTHH:MM:SSZ``)."""
    date, time = clock_text.rstrip("Z").split("T")
    return f"{date}__{time.replace(':', '')}__{BUILD_SLUG}"


def committed_builds(runs: RunStore | Path, run_ids: Sequence[str] | None = None, heads: list[LogHead] | None = None) -> list[str]:
    """The run ids of every committed build of the log, oldest first.

    A build is committed by its head object (:mod:`govern.log.commit`): the builds are those
    the head chain names, after the builds made before the chain began — sealed build runs up
    to the one the genesis head names. A runs root without a genesis (every workspace made
    before heads existed, until its next build) keeps the old rule: every sealed build run is
    a build. A build run without a head (or without a seal) is an uncommitted leftover, never
    read as a build (:func:`uncommitted_builds`). ``run_ids`` is a listing already made.
    """
    store = as_run_store(runs)
    chain = read_chain(store.backend) if heads is None else heads
    names = store.list_runs().names if run_ids is None else run_ids
    if chain:
        genesis = chain[0].run_id or ""
        names = tuple(run_id for run_id in names if run_id <= genesis)
    before_chain = [run_id for run_id in names if is_build_run(run_id) and store.is_sealed(run_id)]
    return before_chain + [head.run_id for head in chain[1:] if head.run_id is not None]


def latest_committed(runs: RunStore | Path, run_ids: Sequence[str] | None = None) -> tuple[HeadLink, str | None]:
    """Where the next build commits from: the latest head's link and the ROOT_SHA256 it names
    (probing upward from a listing of ``_log/``). Without a head chain, the latest sealed build
    run, as the genesis head the next build writes will name it (its hash read from its seal)."""
    store = as_run_store(runs)
    head = latest_head(store.backend)
    if head is not None:
        return head.link, head.root_sha256
    builds = committed_builds(store, run_ids)
    return HeadLink(GENESIS_SEQ, builds[-1] if builds else None), None


def source_runs(runs: RunStore | Path, run_ids: Sequence[str] | None = None) -> list[RunView]:
    """Every run of the runs root but the log's own builds, as run views, in run-id order:
    the runs registries' snapshots are found among. ``run_ids`` is a listing already made."""
    store = as_run_store(runs)
    names = store.list_runs().names if run_ids is None else run_ids
    return [RunView(run_id, store) for run_id in names if not is_build_run(run_id)]


def uncommitted_builds(runs: RunStore | Path, run_ids: Sequence[str] | None = None) -> list[str]:
    """Build runs that are not committed builds (no head, or no seal): leftovers of a lost race
    or a crash, never builds; oldest first (``govern gc`` removes them). ``run_ids`` is a
    listing already made."""
    store = as_run_store(runs)
    names = store.list_runs().names if run_ids is None else run_ids
    committed = set(committed_builds(store, names))
    # A listed name may hold no object any more (a lost builder took its run back, and the
    # store still lists the empty folder): not a leftover.
    return [run_id for run_id in names if is_build_run(run_id) and run_id not in committed and store.exists(run_id)]


def list_builds(runs_root: Path) -> list[Path]:
    """The folders of every build under the local ``runs_root``, oldest first (:func:`committed_builds`)."""
    return [Path(runs_root) / run_id for run_id in committed_builds(runs_root)]


@attrs.frozen
class RegistryState:
    """What the log holds for one registry after a build."""

    kind: str
    artifact: str | None
    last_recorded: SnapshotRef | None
    records: int
    #: Runs examined globally but not yet for this registry (pending or not selected).
    backlog: tuple[str, ...] = ()
    #: Late snapshots reported and not recorded: sealed runs ordered before the last recorded
    #: snapshot (a retried job). Kept so they stay visible until accepted (``--accept-late``).
    late: tuple[str, ...] = ()
    #: Recorded snapshots of this registry that no longer exist and whose loss an operator
    #: acknowledged (``--acknowledge-missing``).
    acknowledged_missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form for run.json (``late`` and ``acknowledged_missing`` only when not empty,
        so a workspace that never needed them keeps the state it always had)."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "artifact": self.artifact,
            "last_recorded": None if self.last_recorded is None else self.last_recorded.to_json(),
            "records": self.records,
            "backlog": list(self.backlog),
        }
        if self.late:
            data["late"] = list(self.late)
        if self.acknowledged_missing:
            data["acknowledged_missing"] = list(self.acknowledged_missing)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegistryState:
        """Rebuild from run.json."""
        last = data["last_recorded"]
        return cls(
            kind=data["kind"],
            artifact=data["artifact"],
            last_recorded=None if last is None else ref_from_json(last),
            records=data["records"],
            backlog=tuple(data["backlog"]),
            late=tuple(data.get("late", ())),
            acknowledged_missing=tuple(data.get("acknowledged_missing", ())),
        )


@attrs.frozen
class BuildState:
    """What a build saw: the runs it examined and each registry's state."""

    runs_examined: tuple[str, ...] = ()
    registries: dict[str, RegistryState] = attrs.Factory(dict)
    records_total: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form for run.json ``inputs.state``."""
        return {
            "state_version": STATE_VERSION,
            "runs_examined": list(self.runs_examined),
            "registries": {rid: state.to_json() for rid, state in sorted(self.registries.items())},
            "records_total": self.records_total,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildState:
        """Rebuild from run.json ``inputs.state``."""
        if data.get("state_version") != STATE_VERSION:
            raise ValueError(f"state_version {data.get('state_version')!r} is not {STATE_VERSION!r}")
        return cls(
            runs_examined=tuple(data["runs_examined"]),
            registries={rid: RegistryState.from_json(state) for rid, state in data["registries"].items()},
            records_total=data["records_total"],
        )


@attrs.frozen
class BuildContents:
    """A build run's log bytes and state, both checked against its seal."""

    run_id: str
    root_sha256: str
    log_bytes: bytes
    state: BuildState
    #: run.json ``outputs.log_tree`` as written (the compact range of the log's Merkle tree);
    #: None for a build made before builds kept it.
    log_tree: Any = None
    #: The build's sealed ``checkpoint`` file (a signed note, or the checkpoint text alone);
    #: None for a build made before builds wrote one.
    checkpoint: bytes | None = None


def read_sealed_file(seal: SealCheck, relpath: str, runs: RunStore | None = None) -> bytes:
    """Read a file of a run whose seal verified, refusing bytes that differ from the manifest
    (:meth:`RunStore.read_sealed_file`; ``runs`` defaults to the local runs root of
    ``seal.run_dir``). Raises E_LOG_TAMPERED (exit 1) when the file is missing or its hash differs.
    """
    return _runs_of(seal, runs).read_sealed_file(seal, relpath)


def _runs_of(seal: SealCheck, runs: RunStore | None) -> RunStore:
    """The run store ``seal`` was read from: ``runs``, or the local runs root of its folder."""
    if runs is not None:
        return runs
    if seal.run_dir is None:
        raise ValueError(f"{seal.run_id}: read through a store; pass it")
    return RunStore.local(seal.run_dir.parent)


def check_head_root(seal: SealCheck, expected: str | None) -> None:
    """E_LOG_TAMPERED when the build's seal is not the one its head committed (``expected``:
    the head's ROOT_SHA256; None for a build before the head chain, which has no head)."""
    if expected is not None and seal.root_sha256 != expected:
        raise GovernError(
            "E_LOG_TAMPERED",
            f"delta-log build {seal.run_id}: its head commits ROOT_SHA256 {expected}, its seal has {seal.root_sha256}",
        )


def torn_tail_offset(data: bytes, entry: ManifestEntry) -> int | None:
    """Where a torn tail starts when ``data`` is exactly the sealed bytes of ``entry`` plus a
    last line without its newline (what an append cut short leaves); None otherwise."""
    keep = complete_length(data)
    if keep == len(data) or keep != entry.bytes:
        return None
    return keep if hashlib.sha256(data[:keep]).hexdigest() == entry.sha256 else None


def _torn_after_sealing(seal: SealCheck, artifact: str, runs: RunStore) -> GovernError | None:
    """E_LOG_TORN when the log differs from its seal only by a torn tail added since."""
    assert seal.manifest is not None
    entry = seal.manifest.by_path().get(artifact)
    try:
        data = runs.read_file(seal.run_id, artifact)
    except (KeyNotFound, OSError):
        return None
    if entry is None or torn_tail_offset(data, entry) is None:
        return None
    line = data.count(b"\n") + 1
    return GovernError(
        "E_LOG_TORN",
        f"{seal.run_id}/{artifact}: line {line}: {TORN_LAST_LINE}, added after the build was sealed; "
        "nothing will be appended ('govern repair --log' cuts it, keeping a backup)",
    )


def read_build(seal: SealCheck, artifact: str, runs: RunStore | None = None) -> BuildContents:
    """The log and state of a build run whose seal has been read (not deep-verified) from
    ``runs`` (default: the local runs root of ``seal.run_dir``).

    The seal must verify and the log and run.json must hash to their manifest entries; the
    log must end with a complete line (else E_LOG_TORN: ``govern repair --log``).
    """
    run_id = seal.run_id
    if not seal.ok or seal.manifest is None or seal.root_sha256 is None:
        first = seal.problems[0] if seal.problems else "no manifest"
        raise GovernError("E_LOG_TAMPERED", f"delta-log build {run_id}: seal does not verify: {first}")
    runs = _runs_of(seal, runs)
    try:
        log_bytes = runs.read_sealed_file(seal, artifact)
    except GovernError as error:
        raise _torn_after_sealing(seal, artifact, runs) or error from None
    if log_bytes and not log_bytes.endswith(b"\n"):
        line = log_bytes.count(b"\n") + 1
        raise GovernError(
            "E_LOG_TORN",
            f"{run_id}/{artifact}: line {line}: {TORN_LAST_LINE}, and the build's seal covers it; "
            "nothing will be appended (no crash seals a torn log: inspect it — see docs/reliability.md)",
        )
    envelope_bytes = runs.read_sealed_file(seal, ENVELOPE_NAME)
    try:
        envelope = loads_strict(envelope_bytes)
        state = BuildState.from_json(envelope["inputs"]["state"])
        outputs = envelope.get("outputs")
        log_tree = outputs.get(LOG_TREE_OUTPUT) if isinstance(outputs, dict) else None
    except (StrictJSONError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise GovernError("E_LOG_INVALID", f"{run_id}/{ENVELOPE_NAME}: no readable build state ({exc})") from None
    has_checkpoint = CHECKPOINT_NAME in seal.manifest.by_path()
    checkpoint = runs.read_sealed_file(seal, CHECKPOINT_NAME) if has_checkpoint else None
    return BuildContents(run_id, seal.root_sha256, log_bytes, state, log_tree, checkpoint)


def parse_log_lines(data: bytes, where: str) -> list[dict[str, Any]]:
    """Parse a log's JSONL by the one JSONL rule (:func:`govern.format.jsonl.parse_jsonl`), each
    line a JSON object: E_LOG_TORN for a last line without its newline, E_LOG_INVALID naming
    the line for anything else."""
    records: list[dict[str, Any]] = []
    try:
        for number, value in parse_jsonl(data):
            if not isinstance(value, dict):
                raise GovernError("E_LOG_INVALID", f"{where}: line {number}: not a JSON object")
            records.append(value)
    except TornLineError as exc:
        raise GovernError("E_LOG_TORN", f"{where}: line {exc.line}: {exc.reason}") from None
    except StrictJSONError as exc:
        raise GovernError("E_LOG_INVALID", f"{where}: line {exc.line}: {exc.reason}") from None
    return records
