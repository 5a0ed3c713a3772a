"""``govern verify --log``: prove the delta log's history was never rewritten.

For every build, oldest first: its seal verifies in full (every file's hash); its log begins
with the previous build's log byte for byte (checked against the earlier build's sealed
manifest entry, so a rewrite, truncation or reordering anywhere is caught); it names the
previous build and its ROOT_SHA256 (so a deleted build breaks the chain); each line it appends
is one canonical JSON object, schema-valid, derived by this build, and links to the previous
record of its registry. Finally every recorded snapshot must still carry the manifest hash
recorded for it: a snapshot re-sealed after it was recorded is rewritten history, and one
deleted is a failure unless a build acknowledged its loss (``--acknowledge-missing``).

Each check is made once. Lines are checked in batches (:func:`_check_part`): canonical form
and the schema decision once per batch, the chain checks per record, and line by line only
where a batch holds a line that needs explaining. A long log is shared with one forked process
that checks its second half apart (:class:`_Links`: what the halves cannot know of each other
is checked when they are joined), and each of the two also reads its share of the recorded
snapshots' seals meanwhile, so every run's seal is read once, by one of them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import zlib
from collections.abc import Callable, Iterable
from sys import intern
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError, Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, dump_jsonl_line, loads_strict
from govern.format.jsonl import (
    NOT_CANONICAL,
    TORN_LAST_LINE,
    batches,
    canonical_batch_parser,
    fast_parser,
    lines_between,
    parse_line,
)
from govern.format.manifest import ManifestEntry, SealCheck
from govern.host.manager import PluginHost
from govern.log.delta_log import acknowledged_in, committed_builds, parse_log_lines
from govern.log.heads import chain_problems, read_chain
from govern.log.recorded_snapshots import missing_acknowledged, recorded_snapshot_problems, snapshot_roots
from govern.log.source_records import source_ref_problems
from govern.runs.run_store import RunStore, workspace_runs
from govern.runtime import gc_pause as collector
from govern.runtime import parallel
from govern.runtime.jobs import default_jobs
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.store.backend import KeyNotFound

#: Checks one record against the delta-log schema; returns messages (empty when valid). One
#: with an ``is_valid(record) -> bool`` attribute (:class:`govern.log.validation.RecordChecker`)
#: lets whole batches of valid records through on that decision alone.
RecordValidator = Callable[[dict[str, Any]], list[str]]


@attrs.frozen
class BuildCheck:
    """The outcome for one build run."""

    run_id: str
    root_sha256: str | None
    records: int
    problems: tuple[Problem, ...]


@attrs.frozen
class LogVerification:
    """The outcome of ``verify --log``: per build, plus the recorded-snapshot checks."""

    builds: tuple[BuildCheck, ...]
    snapshot_problems: tuple[Problem, ...]
    records: int
    #: ``registry @ run`` of each recorded snapshot that no longer exists, its loss
    #: acknowledged by a build (``--acknowledge-missing``): known, not a failure.
    acknowledged_missing: tuple[str, ...] = ()
    #: How many head objects the chain holds (0: a runs root from before heads), and what is
    #: wrong with it (:func:`govern.log.heads.chain_problems`).
    heads: int = 0
    head_problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.snapshot_problems and not self.head_problems and all(not b.problems for b in self.builds)


class _Chain:
    """State carried from build to build while walking the history."""

    def __init__(self, read_roots: Callable[[list[str]], dict[str, str | None]] = lambda run_ids: {}) -> None:
        self.previous_entry: ManifestEntry | None = None
        self.previous_bytes: bytes = b""
        self.previous_build: dict[str, str] | None = None
        self.last_ref: dict[str, Any] = {}
        #: run id -> registry id -> the manifest hash recorded for that snapshot (None: unknown).
        self.recorded: dict[str, dict[str, str | None]] = {}
        #: ``read_roots(run_ids)``: the current ROOT_SHA256 of each run that exists.
        self.read_roots = read_roots
        #: The recorded snapshots' current roots, read so far; ``looked_at`` also holds runs
        #: found missing. Each run's seal is read once.
        self.roots: dict[str, str | None] = {}
        self.looked_at: set[str] = set()
        #: (registry id, run id) of recorded snapshots whose loss a build acknowledged
        #: (its run.json ``params.acknowledge_missing``).
        self.acknowledged: set[tuple[str, str]] = set()


def _first_difference(old: bytes, new: bytes) -> int:
    """1-based number of the first line where ``new`` stops repeating ``old``."""
    for number, (a, b) in enumerate(zip(old.split(b"\n"), new.split(b"\n")), start=1):
        if a != b:
            return number
    return min(old.count(b"\n"), new.count(b"\n")) + 1


def _check_prefix(chain: _Chain, run_id: str, data: bytes, where: str, problems: list[Problem]) -> int:
    """Check the previous log is an exact prefix of ``data``; return the prefix length."""
    previous = chain.previous_entry
    if previous is None:
        return 0
    prefix = data[: previous.bytes]
    if len(data) < previous.bytes or hashlib.sha256(prefix).hexdigest() != previous.sha256:
        line = _first_difference(chain.previous_bytes, data)
        problems.append(
            Problem(
                "E_LOG_TAMPERED",
                f"{where}: line {line}",
                "does not begin with the previous build's log byte for byte (history rewritten, truncated or reordered)",
            )
        )
        return _common_prefix_length(chain.previous_bytes, data)
    return previous.bytes


def _common_prefix_length(old: bytes, new: bytes) -> int:
    length = 0
    for a, b in zip(old.split(b"\n"), new.split(b"\n")):
        if a != b:
            break
        length += len(a) + 1
    return min(length, len(new))


#: Appended lines checked together: one canonical check and one schema decision per batch.
BATCH_LINES = 256
#: A build's appended lines are shared with a forked process only from this many bytes on.
PARALLEL_MIN_BYTES = 4 << 20
#: The share of a build's lines this process checks when it shares them (see :func:`_halves`).
OWN_SHARE_PERCENT = 45

#: A problem of one line: (line number, problem); kept in line order.
_LineProblem = tuple[int, Problem]


def _record_of_line(
    line: bytes, number: int, where: str, validate: RecordValidator | None, found: list[_LineProblem]
) -> dict[str, Any] | None:
    """One line parsed and checked on its own — the slow path, which says what is wrong with
    a line: the record, or None when the line holds no JSON object (the problem is recorded)."""
    at = f"{where}: line {number}"
    parse_canonical = fast_parser()
    record = parse_canonical(line)
    if record is NOT_CANONICAL:
        try:
            record = parse_line(line)
        except StrictJSONError as exc:
            found.append((number, Problem("E_LOG_INVALID", at, exc.reason)))
            return None
        if isinstance(record, dict) and dump_jsonl_line(record) != line + b"\n":
            found.append((number, Problem("E_LOG_INVALID", at, "not canonical JSON (sorted keys, compact, UTF-8)")))
    if not isinstance(record, dict):
        found.append((number, Problem("E_LOG_INVALID", at, "not a JSON object")))
        return None
    for message in validate(record) if validate else ():
        found.append((number, Problem("E_LOG_INVALID", at, f"schema: {message}")))
    return record


def _batch_decider(validate: RecordValidator | None) -> Callable[[Any], bool]:
    """``ok(value) -> bool``: whether a parsed line needs no explaining — a JSON object the
    schema accepts (decided by the fast engine when ``validate`` offers one)."""
    if validate is None:
        return lambda value: isinstance(value, dict)
    is_valid = getattr(validate, "is_valid", None)
    if is_valid is not None:
        return is_valid  # the record schema admits objects only
    return lambda value: isinstance(value, dict) and not validate(value)


@attrs.define
class _Links:
    """The per-record chain checks over consecutive lines of one build: derived by this build,
    registries in id order, each record linking to its registry's previous ``to_ref``.

    A part checked apart from the lines before it (in a forked process) cannot know what they
    left: it starts with ``previous_registry`` None and empty ``last_ref``, defers each
    registry's first link and its first order check to :meth:`join`, and numbers its lines
    from 1 (counting the lines before it would cost a pass over them), renumbered on joining.
    """

    run_id: str
    where: str
    last_ref: dict[str, Any]
    recorded: dict[str, dict[str, str | None]]
    previous_registry: str | None = ""
    #: Links to check against the lines before: (line, registry id, its from_ref).
    deferred: list[tuple[int, str, Any]] | None = None
    #: The first registry seen, when ``previous_registry`` was not known: (line, registry id).
    first_registry: tuple[int, str] | None = None
    found: list[_LineProblem] = attrs.field(factory=list)
    #: The number of the first line, and how many lines were checked.
    first_line: int = 1
    lines: int = 0
    #: Recorded snapshots' roots read alongside (see :func:`_read_share_of_roots`).
    roots: dict[str, str | None] = attrs.field(factory=dict)
    looked_at: set[str] = attrs.field(factory=set)

    @classmethod
    def apart(cls, run_id: str, where: str) -> _Links:
        """Links for lines checked apart from the lines before them."""
        return cls(run_id, where, {}, {}, previous_registry=None, deferred=[])

    def link(self, record: dict[str, Any], number: int) -> None:
        """Check ``record``, line ``number``, and carry the chain past it."""
        self.link_all((record,), number)

    def link_all(self, records: Iterable[dict[str, Any]], first: int) -> None:
        """Check consecutive ``records``, numbered from line ``first``, and carry the chain past
        them: the one chain rule, a batch of records per call so the hot loop holds its state
        in locals (a record costs no method call and no attribute look-up of its own)."""
        run_id, last_ref, recorded, deferred = self.run_id, self.last_ref, self.recorded, self.deferred
        previous = self.previous_registry
        for number, record in enumerate(records, start=first):
            get = record.get
            derived = get("derivation_run_id")
            if derived != run_id:
                self._problem(number, f"derivation_run_id {derived!r} but it was appended by {run_id}")
            registry_id = get("registry_id")
            if not isinstance(registry_id, str):
                continue
            # A build appends registry by registry in id order: records swapped across registries
            # link correctly, so only this catches such a reordering in the latest build.
            if previous is None:
                self.first_registry = (number, registry_id)
            elif registry_id < previous:
                self._order_problem(number, registry_id, previous)
            previous = registry_id
            if deferred is not None and registry_id not in last_ref:
                deferred.append((number, registry_id, get("from_ref")))
            elif get("from_ref") != last_ref.get(registry_id):
                self._link_problem(number, registry_id)
            to_ref = last_ref[registry_id] = get("to_ref")
            if isinstance(to_ref, dict):
                snapshot = to_ref.get("run_id")
                if isinstance(snapshot, str):
                    by_registry = recorded.get(snapshot)
                    if by_registry is None:
                        by_registry = recorded[snapshot] = {}
                    # Interned, a registry id (and a run's manifest hash) is one object however
                    # many records repeat it: what a forked part sends back pickles 9x smaller.
                    manifest_sha256 = to_ref.get("manifest_sha256")
                    by_registry[intern(registry_id)] = intern(manifest_sha256) if type(manifest_sha256) is str else manifest_sha256
        self.previous_registry = previous

    def join(self, later: _Links) -> None:
        """Carry the chain past ``later``, the part that follows these lines, checking what it
        deferred; its problems join these, in line order."""
        shift = self.first_line + self.lines - later.first_line
        found: list[_LineProblem] = []
        if later.first_registry is not None and self.previous_registry is not None:
            number, registry_id = later.first_registry
            if registry_id < self.previous_registry:
                self._order_problem(number + shift, registry_id, self.previous_registry, found)
        for number, registry_id, from_ref in later.deferred or ():
            if from_ref != self.last_ref.get(registry_id):
                self._link_problem(number + shift, registry_id, found)
        renumbered = [(number + shift, Problem(p.code, f"{self.where}: line {number + shift}", p.message)) for number, p in later.found]
        # Stable: on one line, the deferred checks come after what the part found there.
        self.found.extend(heapq.merge(renumbered, found, key=lambda item: item[0]))
        self.lines += later.lines
        self.last_ref.update(later.last_ref)
        for snapshot, by_registry in later.recorded.items():
            self.recorded.setdefault(snapshot, {}).update(by_registry)
        if later.previous_registry is not None:
            self.previous_registry = later.previous_registry
        self.roots.update(later.roots)
        self.looked_at.update(later.looked_at)

    def _problem(self, number: int, message: str, found: list[_LineProblem] | None = None) -> None:
        (self.found if found is None else found).append((number, Problem("E_LOG_INVALID", f"{self.where}: line {number}", message)))

    def _order_problem(self, number: int, registry_id: str, previous: str, found: list[_LineProblem] | None = None) -> None:
        self._problem(number, f"{registry_id} appended after {previous} (a build appends in registry-id order)", found)

    def _link_problem(self, number: int, registry_id: str, found: list[_LineProblem] | None = None) -> None:
        self._problem(number, f"{registry_id}: from_ref does not link to the registry's previous to_ref", found)


#: One part of a build's appended lines: its bytes ``data[start:end]`` (whole lines).
_Part = tuple[int, int]


def _check_part(links: _Links, data: bytes, part: _Part, validate: RecordValidator | None) -> _Links:
    """Check the lines of one part, batch by batch: a batch of canonical lines that all pass
    the schema costs one orjson parse per line, one re-serialisation and one schema call per
    batch, then the chain checks; a batch holding any other line is taken line by line, which
    says what is wrong."""
    start, end = part
    number = links.first_line + links.lines
    parse_batch = canonical_batch_parser()
    ok = _batch_decider(validate)
    link, link_all = links.link, links.link_all
    with collector.paused():
        for lines in lines_between(data, start, end):
            for offset, batch in batches(lines, BATCH_LINES):
                records = parse_batch(batch)
                if records is not None and all(map(ok, records)):
                    link_all(records, number + offset)
                    continue
                for at, line in enumerate(batch, start=number + offset):
                    record = _record_of_line(line, at, links.where, validate, links.found)
                    if record is not None:
                        link(record, at)
            number += len(lines)
            links.lines += len(lines)
    return links


def _share_of(run_id: str) -> int:
    """Which of two processes reads a run's seal: by a checksum of its id, so that the two
    need not tell each other which runs they recorded."""
    return zlib.crc32(run_id.encode("utf-8", "surrogatepass")) & 1


def _runs_to_read(recorded: dict[str, dict[str, str | None]], looked_at: set[str]) -> list[str]:
    """The recorded runs whose roots are still to be read: those with a recorded hash (a legacy
    snapshot recorded as unknown had no seal to hold it to) not looked at yet."""
    return sorted(
        run_id
        for run_id, by_registry in recorded.items()
        if run_id not in looked_at and any(manifest_sha256 is not None for manifest_sha256 in by_registry.values())
    )


def _read_share_of_roots(links: _Links, read_roots: Callable[[list[str]], dict[str, str | None]], share: int) -> None:
    """Read the roots of this process's share of the runs ``links`` recorded."""
    run_ids = [run_id for run_id in _runs_to_read(links.recorded, links.looked_at) if _share_of(run_id) == share]
    links.roots.update(read_roots(run_ids))
    links.looked_at.update(run_ids)


def _halves(data: bytes, start: int, end: int) -> list[_Part]:
    """``data[start:end]`` (whole lines) as one part, or as two cut at a line start when it is
    long enough to be worth a second process. This process takes a little less than half: it
    also checks the build's seal (hashing the log: about a tenth of the work of its lines)."""
    middle = start + (end - start) * OWN_SHARE_PERCENT // 100
    cut = data.find(b"\n", max(start, middle - 1), end) + 1  # the first line start from there on
    if not parallel.CAN_FORK or default_jobs() < 2 or end - start < PARALLEL_MIN_BYTES or not start < cut < end:
        return [(start, end)]
    return [(start, cut), (cut, end)]


def _check_lines(
    chain: _Chain,
    run_id: str,
    data: bytes,
    start: int,
    where: str,
    validate: RecordValidator | None,
    problems: list[Problem],
    before: Callable[[], bool] = lambda: True,
) -> int | None:
    """Check each line this build appended to the log (``data[start:]``); return how many
    complete lines the log holds.

    ``before()`` runs in this process before it checks its own lines (the other process is
    already at work): when it returns False, nothing is checked after all, the chain is left
    as it was, and None is returned.

    A long run of lines is shared with a forked worker
    (:func:`govern.runtime.parallel.parallel_map`) that checks the second half apart; this one joins the halves' chains. The children split their lines
    themselves: line objects made before forking would be copied page by page as both
    processes touch their reference counts.
    """
    first_line = data.count(b"\n", 0, start) + 1
    end = data.rfind(b"\n", start) + 1 or start  # past the last complete line
    parts = _halves(data, start, end)
    links = _Links(
        run_id, where, chain.last_ref, chain.recorded, roots=chain.roots, looked_at=chain.looked_at, first_line=first_line
    )

    def check(part: _Part) -> _Links | None:
        # The first part continues the chain (here); a later one is checked apart (forked).
        # Each then reads its share of the recorded snapshots' seals, as the two are busy
        # at the same time now and no second fork is needed at the end.
        share = 0 if part is parts[0] else 1
        if share == 0 and not before():
            return None
        checked = _check_part(links if share == 0 else _Links.apart(run_id, where), data, part, validate)
        if len(parts) > 1:
            _read_share_of_roots(checked, chain.read_roots, share)
        return checked

    first, *others = parallel.parallel_map(check, parts)
    later = [part for part in others if part is not None]  # only the first part can stop short
    if first is None:
        for part in later:  # the seals it read meanwhile are facts all the same: never read twice
            chain.roots.update(part.roots)
            chain.looked_at.update(part.looked_at)
        return None
    for part in later:
        first.join(part)
    complete = first.first_line - 1 + first.lines
    if end < len(data):
        problems.append(Problem("E_LOG_TORN", f"{where}: line {complete + 1}", TORN_LAST_LINE))
    problems.extend(problem for _, problem in first.found)
    return complete


def _check_envelope(chain: _Chain, runs: RunStore, where: str, lines: int, problems: list[Problem]) -> None:
    """run.json names the previous build in the history, and the number of records the log holds."""
    try:
        envelope = loads_strict(runs.read_file(where, ENVELOPE_NAME))
        pointer = envelope["inputs"]["previous_build"]
        records_total = envelope["outputs"]["records_total"]
    except (OSError, KeyNotFound, StrictJSONError, KeyError, TypeError) as exc:
        problems.append(Problem("E_LOG_INVALID", f"{where}/{ENVELOPE_NAME}", f"no readable inputs.previous_build and outputs.records_total ({exc})"))
        return
    chain.acknowledged.update(acknowledged_in(envelope))
    if pointer != chain.previous_build:
        problems.append(
            Problem("E_LOG_TAMPERED", f"{where}/{ENVELOPE_NAME}", f"names previous build {pointer!r}, but the history holds {chain.previous_build!r}")
        )
    # A log cut back to a line boundary still extends the previous one: the count catches it.
    if records_total != lines:
        problems.append(Problem("E_LOG_TAMPERED", f"{where}/{ENVELOPE_NAME}", f"says the log holds {records_total!r} records, it holds {lines}"))


def _log_entry(seal: SealCheck, artifact: str) -> ManifestEntry | None:
    """The log's entry in the build's manifest, if the build holds one."""
    return seal.manifest.by_path().get(artifact) if seal.manifest else None


def _check_version_order(data: bytes, start: int, where: str, problems: list[Problem]) -> None:
    """The lines a build appended (from byte ``start``) never go back to an older record
    version than a record before them (each line is also held to its own version's schema)."""
    from govern.log.planned_records import record_version_regression

    regression = record_version_regression(data, start)
    if regression is not None:
        line, older, later = regression
        problems.append(
            Problem(
                "E_LOG_INVALID",
                f"{where}: line {line}",
                f"record version {older} after version {later} (a log moves to a later record version, never back)",
            )
        )


def _check_build(
    chain: _Chain, runs: RunStore, run_id: str, artifact: str, host: PluginHost, validate: RecordValidator | None, progress: Progress
) -> tuple[BuildCheck, ManifestEntry | None, bytes]:
    """One build: its seal in full, its run.json, its log against the previous one, and each
    line it appended; the chain is carried past it. Returns the check, the log's manifest
    entry (None: the build holds no log) and the log's bytes."""
    where = f"{run_id}/{artifact}"
    seals: list[SealCheck] = []

    def check_seal_first() -> bool:
        # The seal is checked in full here while a forked process already works on the
        # log's lines; the lines count only if the build holds the log.
        seals.append(seal_check(runs, run_id, host, deep=True, progress=progress))
        return _log_entry(seals[0], artifact) is not None

    def check_log(data: bytes, before: Callable[[], bool] = lambda: True) -> tuple[list[Problem], int | None]:
        found: list[Problem] = []
        start = _check_prefix(chain, run_id, data, where, found)
        complete = _check_lines(chain, run_id, data, start, where, validate, found, before=before)
        _check_version_order(data, start, where, found)
        return found, complete

    try:
        data: bytes | None = runs.read_file(run_id, artifact)
    except (OSError, KeyNotFound):
        data = None  # the seal says what is wrong with it
    if data is not None:
        found_in_log, complete = check_log(data, before=check_seal_first)
    else:
        check_seal_first()
    seal = seals[0]
    problems = [Problem(p.code, f"{run_id}: {p.where}", p.message) for p in seal.problems]
    entry = _log_entry(seal, artifact)
    if entry is None:
        problems.append(Problem("E_LOG_INVALID", where, "the build holds no log"))
        return BuildCheck(run_id, seal.root_sha256, 0, tuple(problems)), None, b""
    if data is None:
        data = runs.read_file(run_id, artifact)  # listed, yet unreadable: raises, as it always has
        found_in_log, complete = check_log(data)
    assert complete is not None  # the build holds its log, so its lines were checked
    lines = complete + (1 if data and not data.endswith(b"\n") else 0)  # a torn tail is a line too
    _check_envelope(chain, runs, run_id, lines, problems)
    problems.extend(found_in_log)
    return BuildCheck(run_id, seal.root_sha256, complete, tuple(problems)), entry, data


def seal_check(runs: RunStore, run_id: str, host: PluginHost, *, deep: bool, progress: Progress = NO_PROGRESS) -> SealCheck:
    """A run's seal (``deep``: and every file of it): the seal plugin's check of a local run
    folder, or, for a run in another store, its seal read through the store (and with
    ``deep`` each listed file hash-checked)."""
    folder = runs.local_dir(run_id)
    if folder is not None:
        return host.verify_seal(folder, deep, progress)
    return runs.check_stored_run(run_id, progress) if deep else runs.read_seal(run_id)


def verify_log(
    workspace: Workspace,
    host: PluginHost,
    *,
    validate: RecordValidator | None = None,
    progress: Progress = NO_PROGRESS,
) -> LogVerification:
    """Check every build of the workspace's delta log and every recorded snapshot."""
    artifact = workspace.config.workspace.delta_log_artifact
    runs = workspace_runs(workspace)
    chain = _Chain(functools.partial(snapshot_roots, runs))
    checks: list[BuildCheck] = []
    records = 0
    # Committed builds only: a build run without its head or seal was never committed. The
    # chain is read once, first: a build committed while this check runs is not its business.
    heads = read_chain(runs.backend)
    for run_id in committed_builds(runs, heads=heads):
        check, entry, data = _check_build(chain, runs, run_id, artifact, host, validate, progress)
        checks.append(check)
        if entry is None:
            continue
        records = check.records
        chain.previous_entry = entry
        chain.previous_bytes = data
        chain.previous_build = {"run_id": check.run_id, "manifest_sha256": check.root_sha256 or ""}
    snapshot_problems = _check_recorded_snapshots(chain)
    if b'"source":' in chain.previous_bytes:  # records of registries kept outside the runs root
        # A log that does not parse is named by its build's own checks above.
        with contextlib.suppress(GovernError):
            records_read = parse_log_lines(chain.previous_bytes, f"{artifact} (latest build)")
            snapshot_problems.extend(source_ref_problems(records_read, workspace, host, progress))
    lost = missing_acknowledged(chain.recorded, chain.roots, chain.acknowledged)
    head_count, head_problems = chain_problems(runs.backend, {check.run_id: check.root_sha256 for check in checks}, heads)
    return LogVerification(tuple(checks), tuple(snapshot_problems), records, tuple(lost), head_count, tuple(head_problems))


#: The recorded snapshots' seals are shared with a forked process only from this many runs on.
PARALLEL_MIN_SNAPSHOTS = 200


def _check_recorded_snapshots(chain: _Chain) -> list[Problem]:
    """Every recorded snapshot still carries the manifest hash recorded for it, or its loss was
    acknowledged by a build (:func:`govern.log.recorded_snapshots.recorded_snapshot_problems`).
    Roots not read alongside the lines are read now (by two processes when there are many)."""
    run_ids = _runs_to_read(chain.recorded, chain.looked_at)
    parts = [run_ids]
    if parallel.CAN_FORK and default_jobs() >= 2 and len(run_ids) >= PARALLEL_MIN_SNAPSHOTS:
        parts = [run_ids[0::2], run_ids[1::2]]
    for found in parallel.parallel_map(chain.read_roots, parts):
        chain.roots.update(found)
    chain.looked_at.update(run_ids)
    return recorded_snapshot_problems(chain.recorded, chain.roots, chain.acknowledged)
