"""``govern validate [FILE...]``: JSON-Schema validation of registry artifacts."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.output import OkLine
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import ExitCode, GovernError, Problem, problem_json
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.config.workspace import Workspace
    from govern.log.validation import ArtifactSchema, ArtifactValidator, FileReport


def _workspace_if_any(state: CliState, required: bool, uses_runs_root: bool) -> Workspace | None:
    """The workspace; with --schema a file can be validated outside any workspace.

    Validation reads artifacts and schemas, never runs a registry kind's code: a kind whose
    plugin is not installed is a warning. The runs root must exist only when the sealed runs
    are what is validated (no FILE given)."""
    try:
        return state.workspace(needs_kind_plugins=False, uses_runs_root=uses_runs_root)
    except GovernError as error:
        if required or error.code != "E_WORKSPACE_NOT_FOUND":
            raise
        return None


def _targets_from_arguments(validator: ArtifactValidator, files: list[Path]) -> list[tuple[Path, ArtifactSchema]]:
    """Each FILE (a directory: its JSON/JSONL files) with its artifact; every file that has
    no schema is named in one E_NO_SCHEMA error before anything is validated."""
    from govern.log.validation import documents_under

    targets: list[tuple[Path, ArtifactSchema]] = []
    unmapped: list[Problem] = []
    for given in files:
        if not given.exists():
            raise GovernError("E_IO", f"{given}: no such file or directory")
        try:
            artifact = validator.artifact_of(given)
        except GovernError as error:
            if error.code != "E_NO_SCHEMA":
                raise
            unmapped.append(Problem(error.code, str(given), error.message))
            continue
        members = documents_under(given) if given.is_dir() else [given]
        targets.extend((member, artifact) for member in members)
    if unmapped:
        more = f" (and {plural(len(unmapped) - 1, 'more file')} without a schema)" if len(unmapped) > 1 else ""
        raise GovernError("E_NO_SCHEMA", unmapped[0].message + more, problems=tuple(unmapped))
    return targets


def _targets_from_sealed_runs(state: CliState, workspace: Workspace, scratch: Path) -> list[tuple[Path, ArtifactSchema, str]]:
    """Every schema-bearing registry artifact in the sealed runs, labelled relative to the workspace."""
    import os

    from govern.log.validation import sealed_artifacts

    return [
        (found.path, found.artifact, found.label or os.path.relpath(found.path, workspace.root))
        for found in sealed_artifacts(workspace, state.output.warn, scratch)
    ]


def _targets_from_changed_paths(workspace: Workspace, paths: list[Path]) -> list[tuple[Path, ArtifactSchema, str]]:
    """--changed: the registry artifact files (of registries with a schema) among the changed
    paths, each in its run, labelled relative to the workspace; every other path is ignored."""
    import os

    from govern.cli.changed_argument import changed_runs_of
    from govern.log.changed_artifacts import changed_artifact_files
    from govern.log.validation import artifact_schemas

    runs_root, changed = changed_runs_of(workspace, paths)
    found = changed_artifact_files(runs_root, changed, artifact_schemas(workspace))
    return [(file.path, file.artifact, os.path.relpath(file.path, workspace.root)) for file in found]


def validate(
    ctx: typer.Context,
    files: Annotated[
        Optional[list[Path]],
        typer.Argument(metavar="[FILE]...", help="Files (or directory artifacts) to validate; with --changed, changed files.", show_default=False),
    ] = None,
    schema: Annotated[
        Optional[str],
        typer.Option(
            "--schema",
            metavar="SCHEMA",
            help="Validate every FILE against this schema (a path, or a built-in schema's file name) instead of the registry map.",
        ),
    ] = None,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="The arguments are changed files (relative to the current directory, as a git hook passes them): validate those that are a registry's artifact in a run.",
        ),
    ] = False,
) -> None:
    """Validate registry artifacts (JSON and JSONL) against their JSON Schemas.

    Each FILE is matched by name to a registry's `artifact` in registry_config.toml and
    checked against that registry's `schema`; the workspace's delta-log artifact is checked
    against the built-in delta-log record schema. A directory named like an artifact: every
    .json/.jsonl file under it. Without FILE: the registry artifacts of every sealed run under
    the runs root (unsealed runs are skipped with a warning).

    A .jsonl file holds one strict JSON value per line: blank lines, CRLF endings and a last
    line without its newline are errors. Format checking is on. A $ref resolves only to the
    built-in schemas and the workspace's schemas/ directory: nothing is ever fetched.

    Exit 0 when every record is valid; 1 when any is not (every problem listed, with file,
    line and JSON path); 2 when a file has no schema, a schema is broken, or on usage errors.

    With --changed FILE...: the files are those changed in a commit, relative to the current
    directory (pre-commit passes them from the repository's root; docs/ci.md). Each one that
    is, inside a run of the runs root, a registry's artifact (or a document under a folder
    artifact) is validated against its registry's schema; every other file is ignored.
    """
    from govern.log.validation import ArtifactValidator

    state: CliState = ctx.obj
    files = list(files or [])
    if schema is not None and not files:
        raise GovernError("E_USAGE", "--schema needs FILE arguments")
    if schema is not None and changed:
        raise GovernError("E_USAGE", "--changed validates artifacts against their registries' schemas: not with --schema")
    if changed:
        from govern.cli.changed_argument import changed_workspace

        workspace: Workspace | None = changed_workspace(state, needs_kind_plugins=False)
    else:
        workspace = _workspace_if_any(state, required=schema is None, uses_runs_root=not files)
    validator = ArtifactValidator(workspace, schema=schema)
    # Files of a runs root in object storage are validated from copies in a private folder.
    with tempfile.TemporaryDirectory(prefix="govern-validate-") as scratch:
        if changed:
            assert workspace is not None  # changed_workspace never gives None
            targets = _targets_from_changed_paths(workspace, files)
        elif files:
            targets = [(path, artifact, str(path)) for path, artifact in _targets_from_arguments(validator, files)]
        else:
            assert workspace is not None  # required when no FILE is given (no FILE allows no --schema)
            targets = _targets_from_sealed_runs(state, workspace, Path(scratch))
            if not targets:
                where = workspace.runs_root if workspace.runs_root_is_local else workspace.runs_location
                state.output.warn(f"no registry artifact with a schema in any sealed run under {where}")
        reports = []
        with state.output.progress() as progress:
            progress.start(len(targets), "validating")
            for path, artifact, label in targets:
                reports.append(validator.validate(path, artifact, label))
                progress.advance(1)
    state.output.show(ValidateResult(tuple(reports)))


@attrs.frozen
class ValidateResult(CommandResult):
    """What ``govern validate`` found, one report per file."""

    files: tuple[FileReport, ...]

    @property
    def invalid(self) -> int:
        """How many files hold an invalid record."""
        return sum(1 for report in self.files if not report.ok)

    @property
    def records(self) -> int:
        """How many records were checked in all."""
        return sum(report.records for report in self.files)

    @property
    def exit_code(self) -> int:
        """1 when any record is invalid."""
        return ExitCode.PROBLEMS if self.invalid else ExitCode.OK


@text_renderer(ValidateResult)
def validate_text(result: ValidateResult) -> list[str]:
    """OK or INVALID per file (each problem indented), then the totals."""
    lines: list[str] = []
    for report in result.files:
        if report.ok:
            lines.append(OkLine(f"OK       {report.path}  {plural(report.records, 'record')}  registry {report.registry_id}"))
        else:
            lines.append(f"INVALID  {report.path}  {plural(len(report.problems), 'problem')}  registry {report.registry_id}")
            lines.extend(f"  {problem}" for problem in report.problems)
    checked, invalid = len(result.files), result.invalid
    lines.append(f"{plural(checked, 'file')} checked: {checked - invalid} valid, {invalid} invalid ({plural(result.records, 'record')})")
    return lines


@json_renderer(ValidateResult)
def validate_json(result: ValidateResult) -> dict[str, Any]:
    """Per file its registry, schema, records and problems; then the totals."""
    return {
        "files": [
            {
                "path": report.path,
                "registry_id": report.registry_id,
                "schema": report.schema,
                "records": report.records,
                "ok": report.ok,
                "problems": [problem_json(p) for p in report.problems],
            }
            for report in result.files
        ],
        "validated": len(result.files),
        "invalid": result.invalid,
        "records": result.records,
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("validate", short_help="Validate registry artifacts against their JSON Schemas")(validate)
