"""The evidence a report stands on: checks actually run, now, with their results.

Nothing here is taken on trust from a previous claim. For the latest delta-log build:
its seal (and every earlier build's) is verified file by file; ``verify --log``'s chain
check runs over every build, and re-checks each recorded snapshot's manifest hash (not its
payload files: those were hashed once, when a build recorded the snapshot, and each build's
sealed run.json says how many it hashed — which is all a report can say of them); every
record of the log is validated against the delta-log schema; the build is *rebuilt* — in a temporary copy holding the runs it examined and the
builds before it, at its own clock and parameters — and the bytes compared; the per-registry
counts of the log are reconciled with the build's run.json; and ``governance check`` runs.
Each result is a :class:`CheckOutcome` — passed, failed (with the problems) or not run (with
why) — and a report turns a criterion into ✅ only from passed outcomes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from govern.config.workspace import CONFIG_NAME, Workspace, load_workspace
from govern.errors import GovernError, Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, dump_jsonl_line, loads_strict
from govern.format.models import ref_label
from govern.format.plurals import plural
from govern.format.renames import as_written_before_renames
from govern.governance.check import check_books
from govern.governance.registries import known_registries
from govern.governance.store import Books
from govern.host.manager import PluginHost
from govern.log.delta_log import (
    BUILD_OP_ID,
    DELTA_LOG_REGISTRY_ID,
    committed_builds,
    is_build_run,
    parse_log_lines,
    read_sealed_file,
    source_runs,
)
from govern.log.source_records import recorded_until
from govern.log.verification import seal_check
from govern.runs.run_store import RunStore, workspace_runs
from govern.runtime.clock import parse_utc
from govern.schema.store import DELTA_LOG_SCHEMAS

if TYPE_CHECKING:
    from govern.log.build import BuildPlan

Status = Literal["passed", "failed", "not_run"]
#: The delta-log record schema, shipped as package data (``govern.schemas``).
DELTA_LOG_SCHEMA = "REGISTRY_registry_delta_log_v0_1.schema.json"


@attrs.frozen
class CheckOutcome:
    """One check: whether it ran and passed, a one-line summary, each problem found and, when
    it failed, the command that fixes it (or that names what to restore, when nothing can
    rewrite sealed history)."""

    name: str
    status: Status
    summary: str
    problems: tuple[str, ...] = ()
    fix: str | None = None

    @property
    def passed(self) -> bool:
        """True only when the check ran and found nothing wrong."""
        return self.status == "passed"


def _outcome(
    name: str, ok: bool, passed: str, failed: str, problems: list[str] | tuple[str, ...] = (), *, fix: str
) -> CheckOutcome:
    if ok:
        return CheckOutcome(name, "passed", passed, tuple(problems))
    return CheckOutcome(name, "failed", failed, tuple(problems), fix)


#: What to run when the log's history or a seal is damaged: nothing rewrites sealed history,
#: so the fix is to find what changed and restore it (docs/reliability.md).
RESTORE_FIX = "'govern verify --log' names each damaged build or snapshot; restore it from a copy (docs/reliability.md)"
CONFIGURED_SINCE_FIX = "'govern delta build' (records the registries configured since the latest build)"


def not_run(name: str, why: str) -> CheckOutcome:
    """A check that could not run, and why (its criterion is *not proven*)."""
    return CheckOutcome(name, "not_run", why)


@attrs.frozen
class RegistryRecords:
    """What the log holds for one registry: records, distinct snapshots, their kinds."""

    registry_id: str
    records: int
    snapshots: int
    bootstrap: int
    transitions: int
    unknown: int


@attrs.frozen
class BuildRow:
    """One build of the log as ``verify --log`` saw it."""

    run_id: str
    records: int
    root_sha256: str | None
    ok: bool


@attrs.frozen
class LatestBuild:
    """The latest delta-log build as its seal proves it."""

    run_id: str
    path: str
    root_sha256: str | None
    artifact: str
    files: tuple[str, ...]
    envelope: dict[str, Any]
    records: tuple[dict[str, Any], ...]
    log_sha256: str

    @property
    def outcomes(self) -> dict[str, dict[str, Any]]:
        """run.json's per-registry outcomes (covered, excluded, skipped, not_selected)."""
        return dict(self.envelope.get("outputs", {}).get("registries", {}))

    @property
    def records_claimed(self) -> Any:
        """The record total run.json states."""
        return self.envelope.get("outputs", {}).get("records_total")


@attrs.frozen
class Evidence:
    """Everything a report is built from."""

    workspace_name: str
    runs_root: str
    active_pointers: str | None
    builds: tuple[BuildRow, ...]
    latest: LatestBuild | None
    latest_problem: str | None
    registries: tuple[RegistryRecords, ...]
    books: Books | None
    schema_file: str
    schema: dict[str, Any]
    schema_sha256: str
    seals: CheckOutcome
    chain: CheckOutcome
    snapshots: CheckOutcome
    payloads: CheckOutcome
    schema_check: CheckOutcome
    determinism: CheckOutcome
    reconciliation: CheckOutcome
    governance: CheckOutcome
    op_catalogued: CheckOutcome
    no_active_pointer: CheckOutcome

    def checks(self) -> list[CheckOutcome]:
        """Every check, in the order reports list them."""
        return [
            self.seals,
            self.chain,
            self.snapshots,
            self.payloads,
            self.schema_check,
            self.determinism,
            self.reconciliation,
            self.no_active_pointer,
            self.op_catalogued,
            self.governance,
        ]


def registry_records(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[RegistryRecords]:
    """Per-registry counts of a log, sorted by registry id (records = bootstrap + transitions)."""
    by_registry: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_registry.setdefault(str(record.get("registry_id")), []).append(record)
    found = []
    for registry_id, items in sorted(by_registry.items()):
        bootstrap = sum(1 for r in items if r.get("from_ref") is None)
        snapshots = len({ref_label(r.get("to_ref")) for r in items})
        unknown = sum(1 for r in items if r.get("delta_basis") == "unknown")
        found.append(RegistryRecords(registry_id, len(items), snapshots, bootstrap, len(items) - bootstrap, unknown))
    return found


def _read_latest(workspace: Workspace, host: PluginHost, runs: RunStore, latest: str) -> LatestBuild:
    """The latest build's log and run.json, each checked against its sealed hash."""
    artifact = workspace.config.workspace.delta_log_artifact
    seal = seal_check(runs, latest, host, deep=False)
    if not seal.ok or seal.manifest is None:
        first = seal.problems[0] if seal.problems else "no manifest"
        raise GovernError("E_LOG_TAMPERED", f"{latest}: seal does not verify: {first}")
    log_bytes = read_sealed_file(seal, artifact, runs)
    try:
        envelope = loads_strict(read_sealed_file(seal, ENVELOPE_NAME, runs))
    except StrictJSONError as exc:
        raise GovernError("E_LOG_INVALID", f"{latest}/{ENVELOPE_NAME}: unreadable: {exc.reason}") from None
    records = tuple(parse_log_lines(log_bytes, f"{latest}/{artifact}"))
    return LatestBuild(
        run_id=latest,
        path=f"{workspace.config.workspace.runs_root.rstrip('/')}/{latest}",
        root_sha256=seal.root_sha256,
        artifact=artifact,
        files=tuple(entry.path for entry in seal.manifest.files),
        envelope=envelope if isinstance(envelope, dict) else {},
        records=records,
        log_sha256=hashlib.sha256(log_bytes).hexdigest(),
    )


def _schema_file() -> tuple[dict[str, Any], str]:
    import importlib.resources

    data = importlib.resources.files("govern.schemas").joinpath(DELTA_LOG_SCHEMA).read_bytes()
    return loads_strict(data), hashlib.sha256(data).hexdigest()


def _check_seals(host: PluginHost, runs: RunStore, builds: list[str]) -> CheckOutcome:
    name = "seal verification"
    if not builds:
        return not_run(name, "no delta-log build yet ('govern delta build')")
    problems: list[str] = []
    for build in builds:
        check = seal_check(runs, build, host, deep=True)
        problems.extend(f"{build}: {p}" for p in check.problems)
    return _outcome(
        name,
        not problems,
        f"{plural(len(builds), 'build')} checked, all verify: every file matches its SHA-256, the manifest matches ROOT_SHA256",
        f"{plural(len(problems), 'seal problem')} in {plural(len(builds), 'build')}",
        problems,
        fix=RESTORE_FIX,
    )


def _check_chain(
    workspace: Workspace, host: PluginHost, builds: list[str], records: tuple[dict[str, Any], ...]
) -> tuple[CheckOutcome, CheckOutcome, tuple[BuildRow, ...]]:
    from govern.log.verification import verify_log

    if not builds:
        why = "no delta-log build yet ('govern delta build')"
        return not_run("verify --log", why), not_run("recorded snapshots", why), ()
    result = verify_log(workspace, host)
    rows = tuple(BuildRow(b.run_id, b.records, b.root_sha256, not b.problems) for b in result.builds)
    chain_problems = [f"{build.run_id}: {p}" for build in result.builds for p in build.problems]
    note = "" if len(builds) > 1 else " (a single build: no earlier log yet to be its prefix)"
    chain = _outcome(
        "verify --log",
        not chain_problems,
        f"passed on {plural(len(result.builds), 'build')}, {plural(result.records, 'record')}: each build's log begins with the "
        f"previous build's byte for byte, every line canonical and linked to its registry's previous record{note}",
        f"failed: {plural(len(chain_problems), 'problem')} in the log's history",
        chain_problems,
        fix=f"{RESTORE_FIX}; a torn last line: 'govern repair --log'",
    )
    recorded = {(r.get("registry_id"), ref_label(r.get("to_ref"))) for r in records}
    unsealed = sum(1 for r in records if (r.get("to_ref") or {}).get("manifest_sha256") is None)
    legacy = f"; {plural(unsealed, 'legacy snapshot')} had no seal to hold them to" if unsealed else ""
    snapshot_problems = [str(p) for p in result.snapshot_problems]
    snapshots = _outcome(
        "recorded snapshots",
        not snapshot_problems,
        f"manifest hashes of {plural(len(recorded), 'recorded snapshot')} re-checked: each still carries the manifest_sha256 "
        f"recorded for it (their payload files were not re-hashed for this report){legacy}",
        f"{plural(len(snapshot_problems), 'recorded snapshot')} changed after they were recorded",
        snapshot_problems,
        fix=RESTORE_FIX,
    )
    return chain, snapshots, rows


def _check_payloads(host: PluginHost, runs: RunStore, builds: list[str], records: tuple[dict[str, Any], ...]) -> CheckOutcome:
    """Each build's sealed run.json says how many snapshots' payloads it hashed when it
    recorded them; every record claiming a sealed derivation (any basis but unknown) needs
    one. Builds made before builds hashed payloads say nothing: then this is not proven."""
    name = "payloads at record time"
    if not builds:
        return not_run(name, "no delta-log build yet ('govern delta build')")
    # A source_ref's version was checked by its kind's plugin (an OCFL validator, a bag's
    # fixity, git's object ids), not hashed from a run's payload: it claims no sealed derivation.
    claiming = Counter(
        r.get("derivation_run_id") for r in records if r.get("delta_basis") != "unknown" and "source" not in (r.get("to_ref") or {})
    )
    unknown = sum(1 for r in records if r.get("delta_basis") == "unknown")
    hashed = 0
    silent: list[str] = []
    problems: list[str] = []
    for build in builds:
        try:
            envelope = loads_strict(read_sealed_file(seal_check(runs, build, host, deep=False), ENVELOPE_NAME, runs))
            said = envelope["outputs"].get("payloads_hashed")
        except (GovernError, StrictJSONError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{build}/{ENVELOPE_NAME}: unreadable ({getattr(exc, 'message', exc)})")
            continue
        if said is None:
            silent.append(build)
        elif not isinstance(said, int) or said < claiming[build]:
            problems.append(
                f"{build}: says it hashed {said!r} snapshot payloads, but appended {plural(claiming[build], 'record')} derived from sealed evidence"
            )
        else:
            hashed += said
    if problems:
        return CheckOutcome(
            name, "failed", f"{plural(len(problems), 'build')} cannot account for their snapshots' payloads", tuple(problems), RESTORE_FIX
        )
    note = f"; {plural(unknown, 'record')} with basis unknown claim no sealed derivation" if unknown else ""
    if silent:
        return CheckOutcome(
            name,
            "not_run",
            f"builds that do not say whether they hashed their snapshots' payloads (made before builds did): "
            f"{len(silent)} of {len(builds)}, {', '.join(silent[:3])}{' …' if len(silent) > 3 else ''}",
        )
    return _outcome(
        name,
        True,
        f"payload of {plural(hashed, 'snapshot')} hashed against their manifests when they were recorded, as the sealed run.json "
        f"of each build states ({plural(len(builds), 'build')}; not re-hashed for this report){note}",
        "",
        fix=RESTORE_FIX,
    )


def _check_schema(latest: LatestBuild | None, schema_file: str) -> CheckOutcome:
    from govern.log.validation import delta_record_checker

    name = "schema validation"
    if latest is None:
        return not_run(name, "no readable delta-log build")
    check = delta_record_checker()  # each record against the schema of the version it states
    problems = [f"line {number}: {message}" for number, record in enumerate(latest.records, start=1) for message in check(record)]
    later = sorted({str(r.get("delta_version")) for r in latest.records} - {"0.1"})
    schemas = schema_file + "".join(f" and schemas/{DELTA_LOG_SCHEMAS[v]} (v{v} records)" for v in later if v in DELTA_LOG_SCHEMAS)
    return _outcome(
        name,
        not problems and bool(latest.records),
        f"{plural(len(latest.records), 'record')} of {latest.run_id} checked, all valid against {schemas}",
        f"{plural(len(problems), 'violation')} in {plural(len(latest.records), 'record')}" if latest.records else "the log holds no records",
        problems,
        fix="'govern validate' names each violation; records come only from a build: restore the build from a copy"
        if latest.records
        else "'govern delta build' once a sealed run holds a configured registry's artifact",
    )


def _link_or_copy(source: str, destination: str) -> None:
    # Hard links make the copy free where the filesystem allows; the rebuild only reads.
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _copy_run(runs: RunStore, run_id: str, destination: Path) -> None:
    """Copy run ``run_id`` of ``runs`` to the local folder ``destination`` (hard links for a
    local runs root; every object downloaded from any other store)."""
    folder = runs.local_dir(run_id)
    if folder is not None:
        shutil.copytree(folder, destination, copy_function=_link_or_copy, symlinks=True)
        return
    for key, _size in runs.backend.list(run_id + "/"):
        target = destination / key.removeprefix(run_id + "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(runs.backend.get(key))


def _check_determinism(
    workspace: Workspace, host: PluginHost, runs: RunStore, latest: LatestBuild | None, builds: list[str]
) -> CheckOutcome:
    """Rebuild the latest build in a temporary copy and compare the log's bytes."""
    from govern.log.build import plan_build

    name = "determinism"
    if latest is None:
        return not_run(name, "no readable delta-log build to rebuild")
    try:
        clock = parse_utc(latest.envelope["created_utc"])
        params = latest.envelope.get("params", {})
        examined = set(latest.envelope["inputs"]["state"]["runs_examined"])
    except (KeyError, TypeError, ValueError) as exc:
        return not_run(name, f"{latest.run_id}/run.json does not say how it was built ({exc})")
    earlier = {build for build in builds if build < latest.run_id}
    with tempfile.TemporaryDirectory(prefix="govern-rebuild-") as scratch:
        copy = Path(scratch) / "workspace"
        copy.mkdir()
        shutil.copyfile(workspace.config_path, copy / CONFIG_NAME)
        pointers = workspace.active_pointers_path
        if pointers is not None and pointers.is_file():
            target = copy / pointers.relative_to(workspace.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pointers, target)
        # The copy's runs root is a local folder under the name the records give the runs
        # root (on object storage: its key prefix), so the rebuild records what the build did.
        recorded = workspace.recorded_runs_root
        runs_copy = copy / recorded
        runs_copy.mkdir(parents=True, exist_ok=True)
        for run_id in runs.list_runs().names:
            if run_id in earlier or (run_id in examined and not is_build_run(run_id)):
                _copy_run(runs, run_id, runs_copy / run_id)
        _link_workspace_sources(workspace.root, copy, recorded)
        copied = load_workspace(explicit=copy)
        copied = attrs.evolve(copied, config=attrs.evolve(copied.config, workspace=attrs.evolve(copied.config.workspace, runs_root=recorded)))
        try:
            plan = plan_build(
                copied,
                host,
                clock=clock,
                allow_unknown=bool(params.get("allow_unknown", False)),
                only=params.get("registries"),
                source_until=recorded_until(latest.envelope["inputs"]["state"]),
            )
        except GovernError as error:
            return CheckOutcome(name, "failed", f"the rebuild on a copy failed: {error.message}", (error.message,), RESTORE_FIX)
        rebuilt = plan.log_bytes()
        if hashlib.sha256(rebuilt).hexdigest() != latest.log_sha256:
            rebuilt = _as_recorded(plan, latest.records)
    rebuilt_sha = hashlib.sha256(rebuilt).hexdigest()
    return _outcome(
        name,
        rebuilt_sha == latest.log_sha256,
        f"a rebuild of {latest.run_id} on a copy of its inputs (its clock {latest.envelope['created_utc']}) gives identical "
        f"bytes: sha256 {rebuilt_sha} = {latest.log_sha256}",
        f"a rebuild on a copy gives different bytes: sha256 {rebuilt_sha} ≠ {latest.log_sha256}",
        () if rebuilt_sha == latest.log_sha256 else (f"rebuilt {len(rebuilt)} bytes, recorded log differs",),
        # The rebuild reads today's configuration: registries configured since the build
        # change its bytes, and a new build is what brings the log up to them.
        fix=CONFIGURED_SINCE_FIX if set(workspace.config.registries) - set(latest.outcomes) else RESTORE_FIX,
    )


def _as_recorded(plan: BuildPlan, recorded: Sequence[dict[str, Any]]) -> bytes:
    """The rebuilt log with each new v0.2 record written as the build did when it recorded it
    without ``renamed_paths`` (a build from before renames were detected): the same evidence,
    spelt as the record version then spelt it, so such a build is still found deterministic."""
    previous = plan.previous.log_bytes if plan.previous else b""
    offset = previous.count(b"\n")
    lines = []
    for index, record in enumerate(plan.records):
        shown = record.to_json()
        earlier = recorded[offset + index] if offset + index < len(recorded) else {}
        if "renamed_paths" in shown and isinstance(earlier, dict) and "renamed_paths" not in earlier:
            shown = as_written_before_renames(shown)
        lines.append(dump_jsonl_line(shown, floats=False))
    return previous + b"".join(lines)


def _link_workspace_sources(root: Path, copy: Path, runs_root: str) -> None:
    """Link into the rebuild's ``copy`` of the workspace every other top-level entry of the
    workspace ``root`` (not its config, not the runs root, not what is already copied), so that
    registries kept outside the runs root (OCFL objects, bags, git repositories: paths relative
    to the workspace) are read where they are. The rebuild only reads them."""
    skipped = {CONFIG_NAME, Path(runs_root).parts[0] if Path(runs_root).parts else ""}
    for entry in sorted(root.iterdir()):
        target = copy / entry.name
        if entry.name not in skipped and not target.exists():
            target.symlink_to(entry, target_is_directory=entry.is_dir())


def _with_snapshots(workspace: Workspace, host: PluginHost, registry_ids: list[str]) -> list[str]:
    """Of ``registry_ids`` (configured after the latest build), those a build would record now:
    not excluded, with snapshots. The others have nothing to record yet, so a build would be
    "up to date" and they are no gap in the log."""
    if not registry_ids:
        return []
    from govern.log.build import registry_exclusion

    runs = source_runs(workspace_runs(workspace))
    pending = []
    for registry_id in registry_ids:
        registry = workspace.registry(registry_id)
        if registry_exclusion(registry, workspace, host) is None and host.discover_snapshots(registry, workspace, runs):
            pending.append(registry_id)
    return pending


def _check_reconciliation(
    workspace: Workspace, host: PluginHost, latest: LatestBuild | None, per_registry: list[RegistryRecords]
) -> CheckOutcome:
    """Every total equals the sum of its rows; every configured registry is accounted for."""
    name = "reconciliation"
    if latest is None:
        return not_run(name, "no readable delta-log build")
    problems = []
    outcomes = latest.outcomes
    in_log = {r.registry_id: r for r in per_registry}
    total = sum(r.records for r in per_registry)
    if total != len(latest.records):
        problems.append(f"per-registry records sum to {total}, the log holds {len(latest.records)} lines")
    if latest.records_claimed != len(latest.records):
        problems.append(f"run.json says {latest.records_claimed} records, the log holds {len(latest.records)}")
    for registry_id, outcome in sorted(outcomes.items()):
        held = in_log[registry_id].records if registry_id in in_log else 0
        if outcome.get("records_total", 0) != held:
            problems.append(f"{registry_id}: run.json says {outcome.get('records_total')} records, the log holds {held}")
        if outcome.get("status") in ("excluded", "skipped") and not outcome.get("reason"):
            problems.append(f"{registry_id}: {outcome.get('status')} without a reason")
    for registry_id in sorted(set(in_log) - set(outcomes)):
        problems.append(f"{registry_id}: records in the log but no outcome in run.json")
    configured_since = sorted({r.id for r in workspace.registries()} - set(outcomes))
    unrecorded = _with_snapshots(workspace, host, configured_since)
    problems.extend(f"{registry_id}: has snapshots, but is not in the latest build (configured after it?)" for registry_id in unrecorded)
    waiting = len(configured_since) - len(unrecorded)
    not_yet = f"; {waiting} configured since with nothing to record yet" if waiting else ""
    statuses = Counter(o.get("status") for o in outcomes.values())
    return _outcome(
        name,
        not problems,
        f"{len(latest.records)} records = sum of {len(per_registry)} registries' rows = run.json's total; "
        f"{len(outcomes)} registries accounted for ({statuses.get('covered', 0)} covered, {statuses.get('excluded', 0)} "
        f"excluded with reasons, {statuses.get('skipped', 0)} skipped){not_yet}",
        f"{plural(len(problems), 'disagreement')} between the log, run.json and the configuration",
        problems,
        # Registries configured after the build only need a new build; anything else is damage.
        fix=CONFIGURED_SINCE_FIX
        if problems == [p for p in problems if p.endswith("(configured after it?)")]
        else RESTORE_FIX,
    )


def _check_no_active_pointer(workspace: Workspace, latest: LatestBuild | None) -> CheckOutcome:
    name = "no active semantics"
    if latest is None:
        return not_run(name, "no readable delta-log build")
    problems = []
    pointers_path = workspace.active_pointers_path
    shown = workspace.config.workspace.active_pointers
    if pointers_path is not None and pointers_path.is_file():
        try:
            data = loads_strict(pointers_path.read_bytes())
        except StrictJSONError as exc:
            return CheckOutcome(name, "failed", f"{shown}: unreadable ({exc.reason})", (exc.reason,), f"repair {shown} (canonical JSON)")
        pointers = data.get("pointers", data) if isinstance(data, dict) else {}
        if DELTA_LOG_REGISTRY_ID in pointers:
            problems.append(f"{shown} has an active pointer for {DELTA_LOG_REGISTRY_ID}")
        where = f"no active pointer names {DELTA_LOG_REGISTRY_ID} in {shown}"
    else:
        where = "no active-pointers file is configured"
    snapshot_ids = ((r.get("to_ref") or {}).get("run_id") for r in latest.records)
    self_recorded = sorted({run_id for run_id in snapshot_ids if isinstance(run_id, str) and is_build_run(run_id)})
    problems.extend(f"a record's snapshot is the delta-log build {run_id} (the log recorded itself)" for run_id in self_recorded)
    return _outcome(
        name,
        not problems,
        f"{where}; no record's snapshot is a delta-log build (the latest build is found by scanning the runs root)",
        f"{plural(len(problems), 'active-semantics problem')}",
        problems,
        fix=f"remove the {DELTA_LOG_REGISTRY_ID} pointer from {shown}" if pointers_path is not None else RESTORE_FIX,
    )


def _check_op(books: Books | None, latest: LatestBuild | None) -> CheckOutcome:
    name = "operation catalogued"
    op_id = (latest.envelope.get("op_id") if latest else None) or BUILD_OP_ID
    if books is None:
        return not_run(name, "the governance books could not be read")
    op = books.catalog.get(op_id)
    row = books.matrix.row(op_id)
    registry_places = [books.registry_catalog.relpath] if DELTA_LOG_REGISTRY_ID in books.registry_catalog.ids() else []
    registry_places += [a.relpath for a in books.addenda if DELTA_LOG_REGISTRY_ID in a.ids()]
    problems = []
    if op is None:
        problems.append(f"{op_id} is not in {books.catalog.relpath}")
    if row is None:
        problems.append(f"{op_id} has no row in {books.matrix.relpath}")
    if not registry_places:
        problems.append(f"{DELTA_LOG_REGISTRY_ID} is in neither the registry catalog nor an addendum")
    passed = (
        f"{op_id} ({op.title if op else ''}) in {books.catalog.NAME} v{books.catalog.version}, matrix row "
        f"{row.coverage if row else ''} ({', '.join(row.enforcement) if row else ''}); {DELTA_LOG_REGISTRY_ID} in "
        f"{', '.join(registry_places)}"
    )
    label = " --label L" if books.registry_catalog.frozen and not registry_places else ""
    return _outcome(
        name, not problems, passed, f"{plural(len(problems), 'problem')} in the governance books", problems, fix=f"'govern governance sync{label}'"
    )


def _check_governance(workspace: Workspace, host: PluginHost) -> tuple[CheckOutcome, Books | None]:
    result = check_books(workspace.governance_dir, known_registries(workspace, host), host.operations(), workspace_runs(workspace))
    problems = [str(p) for p in result.problems]
    outcome = _outcome(
        "governance check",
        result.ok,
        f"{len(result.books.documents()) if result.books else 0} documents agree: every derived figure recomputed",
        f"{plural(len(problems), 'disagreement')}",
        problems,
        fix=_governance_fix(result.problems, result.books),
    )
    return outcome, result.books


def _governance_fix(problems: Sequence[Problem], books: Books | None) -> str:
    """The command that fixes what ``governance check`` found: ``sync`` adds what the books
    lack; a hand-edited document is restored, as nothing re-derives it behind its back."""
    if problems and books is not None and all(p.code == "E_REGISTRY_UNCATALOGUED" for p in problems):
        return "'govern governance addendum --label L'" if books.registry_catalog.frozen else "'govern governance sync'"
    return "'govern governance check' names each disagreement; restore the named document from version control"


def gather_evidence(workspace: Workspace, host: PluginHost) -> Evidence:
    """Run every check on the workspace. Call under the workspace lock (``open_books``)."""
    runs = workspace_runs(workspace)
    builds = committed_builds(runs)
    latest: LatestBuild | None = None
    latest_problem = None
    if builds:
        try:
            latest = _read_latest(workspace, host, runs, builds[-1])
        except GovernError as error:
            latest_problem = error.message
    per_registry = registry_records(latest.records) if latest else []
    schema, schema_sha = _schema_file()
    schema_file = f"schemas/{DELTA_LOG_SCHEMA}"
    chain, snapshots, rows = _check_chain(workspace, host, builds, latest.records if latest else ())
    governance, books = _check_governance(workspace, host)
    return Evidence(
        workspace_name=workspace.root.name,
        runs_root=workspace.config.workspace.runs_root,
        active_pointers=workspace.config.workspace.active_pointers,
        builds=rows,
        latest=latest,
        latest_problem=latest_problem,
        registries=tuple(per_registry),
        books=books,
        schema_file=schema_file,
        schema=schema,
        schema_sha256=schema_sha,
        seals=_check_seals(host, runs, builds),
        chain=chain,
        snapshots=snapshots,
        payloads=_check_payloads(host, runs, builds, latest.records if latest else ()),
        schema_check=_check_schema(latest, schema_file),
        determinism=_check_determinism(workspace, host, runs, latest, builds),
        reconciliation=_check_reconciliation(workspace, host, latest, per_registry),
        governance=governance,
        op_catalogued=_check_op(books, latest),
        no_active_pointer=_check_no_active_pointer(workspace, latest),
    )

