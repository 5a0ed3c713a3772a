"""``govern verify --log``: prove the delta log's history was never rewritten.

For every build, oldest first: its seal verifies in full (every file's hash); its log begins
with the previous build's log byte for byte (checked against the earlier build's sealed
manifest entry, so a rewrite, truncation or reordering anywhere is caught); it names the
previous build and its ROOT_SHA256 (so a deleted build breaks the chain); each line it appends
is one canonical JSON object, schema-valid, derived by this build, and links to the previous
record of its registry. Finally every recorded snapshot must still carry the manifest hash
recorded for it: a snapshot re-sealed after it was recorded is rewritten history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from govern.config import Workspace
from govern.delta_log import list_builds
from govern.envelope import ENVELOPE_NAME
from govern.errors import Problem
from govern.jsonio import StrictJSONError, dump_jsonl_line, loads_strict
from govern.jsonl_reader import NOT_CANONICAL, fast_parser
from govern.manifest import ManifestEntry
from govern.plugin_manager import PluginHost
from govern.progress import NO_PROGRESS, Progress

#: Checks one record against the delta-log schema; returns messages (empty when valid).
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

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.snapshot_problems and all(not b.problems for b in self.builds)


class _Chain:
    """State carried from build to build while walking the history."""

    def __init__(self) -> None:
        self.previous_entry: ManifestEntry | None = None
        self.previous_bytes: bytes = b""
        self.previous_build: dict[str, str] | None = None
        self.last_ref: dict[str, Any] = {}
        self.recorded: dict[tuple[str, str], str | None] = {}


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


def _check_lines(
    chain: _Chain, run_id: str, data: bytes, start: int, where: str, validate: RecordValidator | None, problems: list[Problem]
) -> int:
    """Check each line appended by this build; return how many records it holds in all."""
    first_line = data[:start].count(b"\n") + 1
    body = data[start:]
    if body and not body.endswith(b"\n"):
        torn_line = first_line + body.count(b"\n")
        problems.append(Problem("E_LOG_TORN", f"{where}: line {torn_line}", "the last line has no newline"))
        body = body[: body.rfind(b"\n") + 1]
    lines = body.split(b"\n")[:-1] if body else []
    previous_registry = ""
    parse_canonical = fast_parser()
    for offset, line in enumerate(lines):
        at = f"{where}: line {first_line + offset}"
        # A canonical line (what govern writes) is parsed fast; any other line is parsed
        # strictly, which explains what is wrong with it.
        record = NOT_CANONICAL if parse_canonical is None else parse_canonical(line)
        if record is NOT_CANONICAL:
            try:
                record = loads_strict(line)
            except StrictJSONError as exc:
                problems.append(Problem("E_LOG_INVALID", at, exc.reason))
                continue
            if isinstance(record, dict) and dump_jsonl_line(record) != line + b"\n":
                problems.append(Problem("E_LOG_INVALID", at, "not canonical JSON (sorted keys, compact, UTF-8)"))
        if not isinstance(record, dict):
            problems.append(Problem("E_LOG_INVALID", at, "not a JSON object"))
            continue
        for message in validate(record) if validate else ():
            problems.append(Problem("E_LOG_INVALID", at, f"schema: {message}"))
        if record.get("derivation_run_id") != run_id:
            problems.append(Problem("E_LOG_INVALID", at, f"derivation_run_id {record.get('derivation_run_id')!r} but it was appended by {run_id}"))
        registry_id = record.get("registry_id")
        if not isinstance(registry_id, str):
            continue
        # A build appends registry by registry in id order: records swapped across registries
        # link correctly, so only this catches such a reordering in the latest build.
        if registry_id < previous_registry:
            problems.append(Problem("E_LOG_INVALID", at, f"{registry_id} appended after {previous_registry} (a build appends in registry-id order)"))
        previous_registry = registry_id
        if record.get("from_ref") != chain.last_ref.get(registry_id):
            problems.append(Problem("E_LOG_INVALID", at, f"{registry_id}: from_ref does not link to the registry's previous to_ref"))
        to_ref = record.get("to_ref")
        chain.last_ref[registry_id] = to_ref
        if isinstance(to_ref, dict) and isinstance(to_ref.get("run_id"), str):
            chain.recorded[(registry_id, to_ref["run_id"])] = to_ref.get("manifest_sha256")
    return data.count(b"\n")


def _check_envelope(chain: _Chain, run_dir: Path, where: str, lines: int, problems: list[Problem]) -> None:
    """run.json names the previous build in the history, and the number of records the log holds."""
    try:
        envelope = loads_strict((run_dir / ENVELOPE_NAME).read_bytes())
        pointer = envelope["inputs"]["previous_build"]
        records_total = envelope["outputs"]["records_total"]
    except (OSError, StrictJSONError, KeyError, TypeError) as exc:
        problems.append(Problem("E_LOG_INVALID", f"{where}/{ENVELOPE_NAME}", f"no readable inputs.previous_build and outputs.records_total ({exc})"))
        return
    if pointer != chain.previous_build:
        problems.append(
            Problem("E_LOG_TAMPERED", f"{where}/{ENVELOPE_NAME}", f"names previous build {pointer!r}, but the history holds {chain.previous_build!r}")
        )
    # A log cut back to a line boundary still extends the previous one: the count catches it.
    if records_total != lines:
        problems.append(Problem("E_LOG_TAMPERED", f"{where}/{ENVELOPE_NAME}", f"says the log holds {records_total!r} records, it holds {lines}"))


def verify_log(
    workspace: Workspace,
    host: PluginHost,
    *,
    validate: RecordValidator | None = None,
    progress: Progress = NO_PROGRESS,
) -> LogVerification:
    """Check every build of the workspace's delta log and every recorded snapshot."""
    artifact = workspace.config.workspace.delta_log_artifact
    chain = _Chain()
    checks: list[BuildCheck] = []
    records = 0
    for run_dir in list_builds(workspace.runs_root):
        run_id = run_dir.name
        problems: list[Problem] = []
        seal = host.verify_seal(run_dir, True, progress)
        problems.extend(Problem(p.code, f"{run_id}: {p.where}", p.message) for p in seal.problems)
        entry = seal.manifest.by_path().get(artifact) if seal.manifest else None
        where = f"{run_id}/{artifact}"
        if entry is None:
            problems.append(Problem("E_LOG_INVALID", where, "the build holds no log"))
            checks.append(BuildCheck(run_id, seal.root_sha256, 0, tuple(problems)))
            continue
        data = (run_dir / artifact).read_bytes()
        lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)  # a torn tail is a line too
        _check_envelope(chain, run_dir, run_id, lines, problems)
        start = _check_prefix(chain, run_id, data, where, problems)
        records = _check_lines(chain, run_id, data, start, where, validate, problems)
        checks.append(BuildCheck(run_id, seal.root_sha256, records, tuple(problems)))
        chain.previous_entry = entry
        chain.previous_bytes = data
        chain.previous_build = {"run_id": run_id, "manifest_sha256": seal.root_sha256 or ""}
    snapshot_problems = _check_recorded_snapshots(workspace, host, chain.recorded)
    return LogVerification(tuple(checks), tuple(snapshot_problems), records)


def _check_recorded_snapshots(workspace: Workspace, host: PluginHost, recorded: dict[tuple[str, str], str | None]) -> list[Problem]:
    problems = []
    # One run is the snapshot of many registries: look at each run, and read its seal, once.
    roots: dict[str, str | None] = {}
    missing: set[str] = set()
    for (registry_id, run_id), manifest_sha256 in sorted(recorded.items()):
        if manifest_sha256 is None:
            continue  # a legacy snapshot recorded as unknown: there was no seal to hold it to
        where = f"{registry_id} @ {run_id}"
        if run_id not in roots and run_id not in missing:
            run_dir = workspace.runs_root / run_id
            if run_dir.is_dir():
                roots[run_id] = host.verify_seal(run_dir, False, NO_PROGRESS).root_sha256
            else:
                missing.add(run_id)
        if run_id in missing:
            problems.append(Problem("E_HISTORY_CONFLICT", where, "recorded snapshot no longer exists"))
            continue
        now = roots[run_id]
        if now != manifest_sha256:
            problems.append(
                Problem("E_HISTORY_CONFLICT", where, f"recorded with manifest {manifest_sha256}, now {now or 'unsealed'} (re-sealed after it was recorded)")
            )
    return problems
