"""JSON-Schema validation of registry artifacts, JSON and JSONL (``govern validate``).

Which schema a file follows comes from the workspace configuration: a file whose name is a
registry's ``artifact`` name follows that registry's ``schema``, and the workspace's delta-log
artifact follows the built-in delta-log record schema. A JSON file is one document; a JSONL
file is one record per line (read by :mod:`govern.format.jsonl`). Every problem is reported,
each naming the file, the line (JSONL) and the JSON path.

A JSONL file is checked in batches of lines: one canonical check and one schema decision
(``jsonschema_rs``) per batch, and only a batch holding a bad line is taken line by line to
say what is wrong. A large file is cut into byte ranges at line starts and validated by
several processes (forked, so the compiled schema is shared, never rebuilt); line numbers are
joined back up.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError, Problem
from govern.format.jsonio import StrictJSONError
from govern.format.jsonl import (
    NOT_CANONICAL,
    TORN_LAST_LINE,
    batches,
    canonical_batch_parser,
    fast_parser,
    parse_line,
    read_lines,
    split_ranges,
)
from govern.runs.run_store import RunStore, workspace_runs
from govern.runtime import gc_pause as collector
from govern.runtime import parallel
from govern.runtime.jobs import default_jobs
from govern.schema.store import DELTA_RECORD_SCHEMA, SchemaStore
from govern.schema.validator import SchemaValidator
from govern.store.files import load_json_file

#: The registry id under which the delta log's own records are validated.
DELTA_LOG_REGISTRY_ID = "registry_delta_log"
#: File suffixes read as JSON Lines; anything else is one JSON document.
JSONL_SUFFIXES = (".jsonl", ".ndjson")
#: Suffixes of the files validated inside a directory artifact.
DOCUMENT_SUFFIXES = (".json", *JSONL_SUFFIXES)
#: A JSONL file is shared among processes only in slices of at least this many bytes.
PARALLEL_SLICE_BYTES = 4 << 20
#: Most processes one file is shared among.
MAX_PROCESSES = 8


@attrs.frozen
class ArtifactSchema:
    """A registry artifact as configured, with the schema its files follow (None: no schema)."""

    registry_id: str
    artifact: str
    schema: str | None

    @property
    def name(self) -> str:
        """The artifact's file (or directory) name, which is what a file is matched by."""
        return PurePosixPath(self.artifact).name


@attrs.frozen
class FileReport:
    """What validating one file found."""

    path: str
    registry_id: str
    schema: str
    records: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when every record is valid."""
        return not self.problems


def artifact_schemas(workspace: Workspace) -> list[ArtifactSchema]:
    """Every configured registry artifact with its schema, and the delta log with the built-in
    schema (unless a registry configures that artifact with a schema of its own)."""
    found = [
        ArtifactSchema(registry.id, registry.config.artifact, registry.config.schema)
        for registry in workspace.registries()
        if registry.config.artifact is not None
    ]
    delta_log = workspace.config.workspace.delta_log_artifact
    delta_name = PurePosixPath(delta_log).name
    if not any(entry.name == delta_name and entry.schema for entry in found):
        found.append(ArtifactSchema(DELTA_LOG_REGISTRY_ID, delta_log, DELTA_RECORD_SCHEMA))
    return found


def schema_for(path: Path, artifacts: list[ArtifactSchema], config_path: Path) -> ArtifactSchema:
    """The artifact ``path`` is, by its name (E_NO_SCHEMA if none, or if it has no schema)."""
    matches = [entry for entry in artifacts if entry.name == path.name]
    with_schema = [entry for entry in matches if entry.schema]
    if len({entry.schema for entry in with_schema}) > 1:
        claims = ", ".join(f"{entry.registry_id} ({entry.schema})" for entry in with_schema)
        raise GovernError("E_CONFIG_INVALID", f"{config_path}: artifact name {path.name!r} has different schemas: {claims}")
    if with_schema:
        return with_schema[0]
    if matches:
        ids = ", ".join(entry.registry_id for entry in matches)
        raise GovernError(
            "E_NO_SCHEMA",
            f"{path}: registry {ids} has no schema (add schema = \"schemas/….schema.json\" to its table in {config_path})",
        )
    known = ", ".join(sorted({entry.name for entry in artifacts})) or "none"
    raise GovernError(
        "E_NO_SCHEMA",
        f"{path}: the name matches no registry artifact in {config_path} (artifacts: {known}); or give --schema",
    )


class ArtifactValidator:
    """Validates files against the schemas the workspace maps them to, or against one schema
    named on the command line. Each schema is loaded and compiled once, however many files
    use it."""

    def __init__(self, workspace: Workspace | None, *, schema: str | None = None) -> None:
        self.workspace = workspace
        self.store = SchemaStore(workspace.root if workspace is not None else None)
        self.artifacts = artifact_schemas(workspace) if workspace is not None else []
        self._compiled: dict[str, SchemaValidator] = {}
        self._forced: ArtifactSchema | None = None
        if schema is not None:
            # Named on the command line: a path from the current directory, or a built-in.
            loaded = self.store.load(schema, relative_to=Path.cwd())
            self._forced = ArtifactSchema("-", "-", schema)
            self._compiled[schema] = SchemaValidator(self.store.resolve(loaded))

    def artifact_of(self, path: Path) -> ArtifactSchema:
        """The artifact ``path`` is, by its name, or the command line's schema (E_NO_SCHEMA)."""
        if self._forced is not None:
            return self._forced
        if self.workspace is None:
            raise GovernError("E_NO_SCHEMA", f"{path}: no workspace to map it to a registry; give --schema")
        return schema_for(path, self.artifacts, self.workspace.config_path)

    def compiled(self, artifact: ArtifactSchema) -> SchemaValidator:
        """The artifact's schema, loaded (relative to the workspace), resolved and compiled."""
        schema = artifact.schema
        if schema is None:
            raise GovernError("E_NO_SCHEMA", f"{artifact.artifact}: registry {artifact.registry_id} configures no schema")
        compiled = self._compiled.get(schema)
        if compiled is None:
            compiled = SchemaValidator(self.store.resolve(self.store.load(schema)))
            self._compiled[schema] = compiled
        return compiled

    def validate(self, path: Path, artifact: ArtifactSchema, label: str | None = None) -> FileReport:
        """Validate one file of ``artifact`` (JSONL by suffix, else one JSON document)."""
        label = label or str(path)
        compiled = self.compiled(artifact)
        if path.suffix.lower() in JSONL_SUFFIXES:
            records, problems = validate_jsonl(path, label, compiled)
        else:
            records, problems = validate_json(path, label, compiled)
        return FileReport(label, artifact.registry_id, compiled.source, records, tuple(problems))


def validate_json(path: Path, label: str, compiled: SchemaValidator) -> tuple[int, list[Problem]]:
    """Validate a JSON document: ``(1, problems)``."""
    try:
        value = load_json_file(path)
    except GovernError as error:
        if error.code != "E_JSON_INVALID":
            raise
        return 1, [Problem("E_JSON_INVALID", label, error.message.removeprefix(f"{path}: "))]
    return 1, [Problem("E_SCHEMA_INVALID", f"{label} {v.json_path}", v.message) for v in compiled.violations(value)]


#: A problem found in a byte range: (line within the range, code, JSON path or "", message).
_RangeProblem = tuple[int, str, str, str]
#: Lines checked together: the canonical check and the schema decision run once per batch.
#: Small enough that a batch's values stay in the CPU caches (larger batches are slower).
BATCH_LINES = 256


def _explain_lines(compiled: SchemaValidator, lines: list[bytes], first: int, problems: list[_RangeProblem]) -> None:
    """Check ``lines`` one by one (numbered from ``first``), recording every problem: the
    slow path, taken only by a batch holding a line that is not canonical or not valid."""
    parse_canonical = fast_parser()
    for number, line in enumerate(lines, start=first):
        value = parse_canonical(line)
        if value is NOT_CANONICAL:
            try:
                value = parse_line(line)
            except StrictJSONError as exc:
                column = f"column {exc.column}: " if exc.column is not None else ""
                problems.append((number, "E_JSON_INVALID", "", column + exc.reason))
                continue
        problems.extend((number, "E_SCHEMA_INVALID", v.json_path, v.message) for v in compiled.violations(value))


def _validate_range(compiled: SchemaValidator, path: Path, bounds: tuple[int, int]) -> tuple[int, list[_RangeProblem]]:
    """Validate the lines of ``path[start:end]``: ``(lines, problems)``. The hot loop: a batch
    of canonical, valid lines costs one orjson parse per line and two calls per batch."""
    parse_batch = canonical_batch_parser()
    is_valid = compiled.is_valid
    problems: list[_RangeProblem] = []
    number = 0
    with collector.paused():
        for lines, torn in read_lines(path, *bounds):
            for first, batch in batches(lines, BATCH_LINES):
                values = parse_batch(batch)
                if values is None or not all(map(is_valid, values)):
                    _explain_lines(compiled, batch, number + first + 1, problems)
            number += len(lines)
            if torn is not None:
                number += 1
                problems.append((number, "E_JSON_INVALID", "", TORN_LAST_LINE))
    return number, problems


def _process_count(path: Path) -> int:
    """How many processes to share ``path`` among: one unless it is large (and can fork)."""
    if not parallel.CAN_FORK:
        return 1
    return max(1, min(default_jobs(), MAX_PROCESSES, path.stat().st_size // PARALLEL_SLICE_BYTES))


def validate_jsonl(
    path: Path, label: str, compiled: SchemaValidator, *, processes: int | None = None
) -> tuple[int, list[Problem]]:
    """Validate a JSONL file line by line: ``(lines, problems)``, every problem reported.

    ``processes`` (default: by file size and CPUs) shares the file among that many processes
    (:func:`govern.runtime.parallel.parallel_map`: this one and forked children).
    """
    try:
        ranges = split_ranges(path, processes or _process_count(path))
        results = parallel.parallel_map(functools.partial(_validate_range, compiled, path), ranges)
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror or exc}") from None
    problems: list[Problem] = []
    offset = 0
    for lines, found in results:
        problems.extend(
            Problem(code, f"{label}:{offset + number}{' ' + where if where else ''}", message)
            for number, code, where, message in found
        )
        offset += lines
    return offset, problems


def documents_under(directory: Path) -> list[Path]:
    """The JSON and JSONL files under a directory artifact, sorted by path."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found.extend(Path(root) / name for name in sorted(files) if name.lower().endswith(DOCUMENT_SUFFIXES))
    return found


@attrs.frozen
class SealedArtifact:
    """A registry artifact file found in a sealed run."""

    path: Path
    artifact: ArtifactSchema
    #: How to name the file when it is a copy of a file in object storage (its URL).
    label: str | None = None


def sealed_artifacts(workspace: Workspace, warn: Callable[[str], None], scratch: Path | None = None) -> list[SealedArtifact]:
    """The files of every configured artifact with a schema in every sealed run, by run id.

    Unsealed runs (perhaps still being written) are passed over with a warning, as are runs
    whose manifest cannot be read; a run whose seal does not verify is still validated,
    with a warning (validation is not verification: see ``govern verify``). When the runs
    root is object storage each file is copied into the folder ``scratch`` (the validators
    read local files) and labelled with its URL.
    """
    runs = workspace_runs(workspace)
    artifacts = [entry for entry in artifact_schemas(workspace) if entry.schema]
    found: list[SealedArtifact] = []
    names = runs.list_runs().names
    for run_id, seal in zip(names, runs.read_seals(names), strict=True):
        if not seal.sealed:
            warn(f"{run_id}: unsealed (no MANIFEST.sha256); not validated")
            continue
        if seal.manifest is None:
            warn(f"{run_id}: manifest cannot be read ({seal.problems[0]}); not validated")
            continue
        if not seal.ok:
            warn(f"{run_id}: seal does not verify ({seal.problems[0].code}); validated anyway, see 'govern verify'")
        paths = [entry.path for entry in seal.manifest.files]
        for artifact in artifacts:
            found.extend(run_artifact_files(workspace, runs, run_id, paths, artifact, scratch))
    return found


def run_artifact_files(
    workspace: Workspace, runs: RunStore, run_id: str, paths: list[str], artifact: ArtifactSchema, scratch: Path | None
) -> list[SealedArtifact]:
    """The files of ``artifact`` in run ``run_id`` whose manifest lists ``paths``: the artifact
    file, or the JSON/JSONL documents under a folder artifact (copied into ``scratch`` when
    the runs root is object storage)."""
    return [_sealed_artifact(workspace, runs, run_id, member, artifact, scratch) for member in artifact_members(paths, artifact.artifact)]


def artifact_members(paths: list[str], artifact: str) -> list[str]:
    """The manifest paths among ``paths`` that are files of ``artifact``: the artifact file, or
    the JSON/JSONL documents under a folder artifact."""
    prefix = artifact + "/"
    return [p for p in paths if p == artifact or (p.startswith(prefix) and p.lower().endswith(DOCUMENT_SUFFIXES))]


def _sealed_artifact(
    workspace: Workspace, runs: RunStore, run_id: str, member: str, artifact: ArtifactSchema, scratch: Path | None
) -> SealedArtifact:
    """A sealed run's artifact file as the validators read it: a local file (the run's own,
    or a copy of the object in ``scratch``)."""
    folder = runs.local_dir(run_id)
    if folder is not None:
        return SealedArtifact(folder / member, artifact)  # the validator reads files by path
    if scratch is None:
        raise ValueError("a runs root in object storage needs a scratch folder to validate in")
    copy = scratch / run_id / member
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(runs.read_file(run_id, member))
    return SealedArtifact(copy, artifact, f"{workspace.run_location(run_id)}/{member}")


@attrs.frozen
class RecordChecker:
    """Checks records against one compiled schema: ``checker(record) -> ["$.path: message", …]``
    (empty when valid); :attr:`is_valid` is the bare pass/fail decision, for hot loops."""

    compiled: SchemaValidator

    def __call__(self, record: object) -> list[str]:
        return [f"{v.json_path}: {v.message}" for v in self.compiled.violations(record)]

    @property
    def is_valid(self) -> Callable[[object], bool]:
        """The deciding engine's own ``is_valid(record) -> bool`` (see :class:`SchemaValidator`)."""
        return self.compiled.is_valid


def delta_record_checker() -> RecordChecker:
    """The checker of the built-in delta-log record schema, each record held to the schema of
    the record version it states — what ``govern verify --log`` needs for each line, and what
    a build checks each record it plans against."""
    store = SchemaStore()
    return RecordChecker(SchemaValidator(store.resolve(store.load(DELTA_RECORD_SCHEMA))))
