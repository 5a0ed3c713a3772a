"""Policies held to delta records (docs/policies.md): ``govern check`` over the log, and
``govern delta build --enforce`` over the records a build would append.

The path and count rules are pure (:mod:`govern.format.policies`); the ``schema`` rule reads
the to-snapshot's artifact and validates it with ``govern validate``'s validator. An
operator's override of one violation (``--allow ID --reason TEXT``) is recorded in the
build's run.json (``params.allow_violations``) and honoured by ``govern check`` afterwards
for the records that build appended.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError, Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.models import DeltaRecord
from govern.format.policies import PathCounts, Policy, Violation, judge_record, new_violation
from govern.log.delta_log import BuildContents, committed_builds, parse_log_lines, read_sealed_file
from govern.log.recorded_snapshots import read_latest_build
from govern.log.validation import ArtifactSchema, ArtifactValidator, artifact_members, run_artifact_files
from govern.runs.run_store import RunStore, workspace_runs

#: run.json ``params`` key of a build's overridden violations: a list of
#: ``{"violation_id", "reason"}``, present only when the build was asked to allow one.
ALLOW_VIOLATIONS_PARAM = "allow_violations"


@attrs.frozen
class AllowedViolation:
    """A violation an operator allowed, with the reason and the build that recorded it."""

    violation: Violation
    reason: str
    build: str

    def to_json(self) -> dict[str, Any]:
        """The violation's fields, with ``reason`` and ``allowed_by`` (the build)."""
        return {**self.violation.to_json(), "reason": self.reason, "allowed_by": self.build}


@attrs.frozen
class PolicyFindings:
    """What judging records by the policies found."""

    #: Violations nobody allowed, in log order.
    violations: tuple[Violation, ...]
    #: Violations an operator allowed (``--allow``), in log order.
    allowed: tuple[AllowedViolation, ...]
    #: How many records were judged.
    records_judged: int
    #: The build whose log was read (None: no log yet, or a build's own plan).
    build: str | None = None
    #: Records appended after this build only (``--since``).
    since: str | None = None


def registry_policy(workspace: Workspace, registry_id: str) -> Policy:
    """The policy a registry's records are held to: its own rules over the workspace-wide
    ``[policies]`` (a registry no longer configured: the workspace-wide rules)."""
    workspace_wide = workspace.config.policies
    configured = workspace.config.registries.get(registry_id)
    return workspace_wide if configured is None else configured.policy.over(workspace_wide)


class PolicyJudge:
    """Judges records by the workspace's policies; each schema is compiled once."""

    def __init__(self, workspace: Workspace, runs: RunStore | None = None) -> None:
        self.workspace = workspace
        self.runs = runs or workspace_runs(workspace)
        self.validator = ArtifactValidator(workspace)

    def judge(self, records: Sequence[Mapping[str, Any]], history: Iterable[Mapping[str, Any]] = ()) -> list[Violation]:
        """The violations of ``records`` (JSON objects, in log order), each record after the
        ``history`` of records before it (what a percentage limit's path count is replayed from)."""
        counts = PathCounts()
        for record in history:
            counts.advance(record)
        found: list[Violation] = []
        with tempfile.TemporaryDirectory(prefix="govern-check-") as scratch:
            for record in records:
                policy = registry_policy(self.workspace, record["registry_id"])
                if not policy.is_empty:
                    found.extend(judge_record(record, policy, counts.before(record)))
                    if policy.schema is not None:
                        found.extend(self.schema_violations(record, policy.schema, Path(scratch)))
                counts.advance(record)
        return found

    def schema_violations(self, record: Mapping[str, Any], schema: str, scratch: Path) -> list[Violation]:
        """The ``schema`` rule: every file of the registry's artifact at the to-snapshot must
        satisfy ``schema`` (a snapshot kept outside the runs root, or one whose manifest cannot
        be read, cannot be checked, and says so)."""
        to_ref = record.get("to_ref") or {}
        run_id, relpath = to_ref.get("run_id"), to_ref.get("relpath")
        if "source" in to_ref or not isinstance(run_id, str) or not isinstance(relpath, str):
            return [new_violation(record, "schema", "cannot be checked: the snapshot is not an artifact of a sealed run (docs/policies.md)")]
        if not self.runs.exists(run_id):
            return [new_violation(record, "schema", f"cannot be checked: {self.workspace.run_location(run_id)} no longer exists")]
        seal = self.runs.read_seal(run_id)
        if seal.manifest is None:
            problem = seal.problems[0] if seal.problems else "no manifest"
            return [new_violation(record, "schema", f"cannot be checked: the manifest of {run_id} cannot be read ({problem})")]
        artifact = ArtifactSchema(record["registry_id"], relpath, schema)
        paths = [entry.path for entry in seal.manifest.files]
        files = run_artifact_files(self.workspace, self.runs, run_id, paths, artifact, scratch)
        if not files:
            return [new_violation(record, "schema", f"no file of artifact {relpath!r} to validate in {run_id}")]
        invalid: list[str] = []
        problems: list[Problem] = []
        for found, member in zip(files, artifact_members(paths, relpath), strict=True):
            try:
                report = self.validator.validate(found.path, found.artifact, member)
            except GovernError as error:
                if not error.code.startswith("E_SCHEMA"):
                    raise
                # A schema that cannot be loaded is the configuration's fault: name the key.
                where = f"{self.workspace.config_path}: registries.{record['registry_id']}.policy.schema"
                raise GovernError(error.code, f"{where}: {error.message}", problems=error.problems) from None
            if not report.ok:
                invalid.append(member)
                problems.extend(report.problems)
        if not problems:
            return []
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        return [new_violation(record, "schema", f"does not satisfy {schema}: {problems[0]}{more}", invalid)]


def allowed_in(envelope: Any) -> dict[str, str]:
    """violation id -> reason of each override a build's run.json records; nothing for anything malformed."""
    params = envelope.get("params") if isinstance(envelope, dict) else None
    items = params.get(ALLOW_VIOLATIONS_PARAM) if isinstance(params, dict) else None
    return {
        item["violation_id"]: item["reason"]
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict) and isinstance(item.get("violation_id"), str) and isinstance(item.get("reason"), str)
    }


def _build_overrides(runs: RunStore, build: str) -> dict[str, str]:
    """The overrides build ``build`` recorded (read from its sealed run.json)."""
    seal = runs.read_seal(build)
    try:
        return allowed_in(loads_strict(read_sealed_file(seal, ENVELOPE_NAME, runs)))
    except StrictJSONError as exc:
        raise GovernError("E_LOG_INVALID", f"{build}/{ENVELOPE_NAME}: {exc.reason}") from None


def check_log(workspace: Workspace, since: str | None = None) -> PolicyFindings:
    """Judge every record of the latest build's log (or those appended after build ``since``)
    by the policies; a violation the build that appended its record allowed is listed as allowed.

    Raises E_USAGE when ``since`` is not a committed build, E_LOG_* when the log cannot be trusted.
    """
    runs = workspace_runs(workspace)
    artifact = workspace.config.workspace.delta_log_artifact
    if since is not None:
        builds = committed_builds(runs)
        if since not in builds:
            known = f"{builds[0]} … {builds[-1]}" if builds else "none yet"
            raise GovernError("E_USAGE", f"--since {since}: not a build of the delta log (builds: {known})")
    latest = read_latest_build(runs, artifact)
    if latest is None:
        return PolicyFindings((), (), 0, None, since)
    records = parse_log_lines(latest.log_bytes, f"{latest.run_id}/{artifact}")
    cut = len(records) if since is None else 0
    if since is not None:
        cut = next((index for index, record in enumerate(records) if str(record.get("derivation_run_id")) > since), len(records))
    history, judged = (records[:cut], records[cut:]) if since is not None else ([], records)
    found = PolicyJudge(workspace, runs).judge(judged, history)
    overrides = {build: _build_overrides(runs, build) for build in sorted({v.derivation_run_id for v in found})}
    violations = tuple(v for v in found if v.violation_id not in overrides[v.derivation_run_id])
    allowed = tuple(
        AllowedViolation(v, overrides[v.derivation_run_id][v.violation_id], v.derivation_run_id)
        for v in found
        if v.violation_id in overrides[v.derivation_run_id]
    )
    return PolicyFindings(violations, allowed, len(judged), latest.run_id, since)


def enforce_policies(
    workspace: Workspace, runs: RunStore, previous: BuildContents | None, records: Sequence[DeltaRecord], allow: Mapping[str, str]
) -> tuple[AllowedViolation, ...]:
    """``delta build --enforce``: judge the records a build would append (after the records
    of the ``previous`` build's log); return the violations ``allow`` (violation id -> reason)
    overrides.

    Raises E_USAGE for an ``--allow`` that names no violation of these records, and
    E_POLICY_VIOLATION listing every violation not allowed (nothing is written).
    """
    artifact = workspace.config.workspace.delta_log_artifact
    history = parse_log_lines(previous.log_bytes, f"{previous.run_id}/{artifact}") if previous is not None else []
    found = PolicyJudge(workspace, runs).judge([record.to_json() for record in records], history)
    ids = {v.violation_id for v in found}
    stray = sorted(set(allow) - ids)
    if stray:
        raise GovernError(
            "E_USAGE",
            f"--allow {', '.join(stray)}: names no violation of this build (violations: {', '.join(sorted(ids)) or 'none'})",
        )
    refused = [v for v in found if v.violation_id not in allow]
    if refused:
        problems = tuple(Problem("E_POLICY_VIOLATION", v.violation_id, violation_summary(v)) for v in refused)
        first = problems[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise GovernError(
            "E_POLICY_VIOLATION",
            f"{first.where}: {first.message}{more}; nothing written "
            "(an operator overrides one: --allow VIOLATION-ID --reason TEXT)",
            problems=problems,
        )
    return tuple(AllowedViolation(v, allow[v.violation_id], v.derivation_run_id) for v in found)


#: How many offending paths a one-line summary names (the JSON output lists them all).
SUMMARY_PATHS = 5


def violation_summary(violation: Violation) -> str:
    """One line: the transition, the rule's message, the first paths and how many in all."""
    transition = f"{violation.from_label or '(bootstrap)'} -> {violation.to_label}"
    shown = ", ".join(violation.paths[:SUMMARY_PATHS])
    more = f" (and {len(violation.paths) - SUMMARY_PATHS} more)" if len(violation.paths) > SUMMARY_PATHS else ""
    paths = f": {shown}{more}" if violation.paths else ""
    return f"{violation.registry_id} {transition}: {violation.rule}: {violation.message}{paths}"
