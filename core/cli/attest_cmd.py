"""``govern attest RUN`` and ``govern verify --attestation FILE``: a run's signed in-toto statement, written and checked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.output import OkLine
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import GovernError
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.runs.run_store import RunStore


@attrs.frozen
class LocatedRun:
    """A run named on the command line: the run store holding it, its id, where it is (for
    messages) and its local folder (None on object storage)."""

    runs: RunStore
    run_id: str
    location: str
    folder: Path | None


def locate_run(state: CliState, given: str) -> LocatedRun:
    """The run ``given`` names: a local run folder (a path, or a run id under a local runs
    root), or a run id in the workspace's runs root on object storage."""
    from govern.cli.run_argument import run_folder, stored_run_id
    from govern.runs.run_store import RunStore, workspace_runs

    run_id = stored_run_id(state, Path(given))
    if run_id is None:
        folder = run_folder(state, Path(given))
        return LocatedRun(RunStore.local(folder.parent), folder.name, str(folder), folder)
    workspace = state.workspace(needs_kind_plugins=False)
    return LocatedRun(workspace_runs(workspace), run_id, workspace.run_location(run_id), None)


@attrs.frozen
class AttestResult(CommandResult):
    """``govern attest``: the run attested, its root, its subjects, the key id and where the envelope went."""

    run_id: str
    root_sha256: str
    subjects: int
    keyid: str
    written_to: str


@text_renderer(AttestResult)
def attest_text(result: AttestResult) -> list[str]:
    """What was signed, by which key, and where the envelope is."""
    return [
        f"attested {result.run_id}: {plural(result.subjects, 'subject')}, ROOT_SHA256 {result.root_sha256}, signed by {result.keyid}",
        f"wrote {result.written_to}",
    ]


@json_renderer(AttestResult)
def attest_json(result: AttestResult) -> dict[str, Any]:
    """The run, its root, the number of subjects, the predicate type, the key id and the envelope's place."""
    from govern.log.attestation import PREDICATE_TYPE

    return {
        "run_id": result.run_id,
        "root_sha256": result.root_sha256,
        "subjects": result.subjects,
        "predicate_type": PREDICATE_TYPE,
        "keyid": result.keyid,
        "written_to": result.written_to,
    }


def attest(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(metavar="RUN", help="The run: its folder, or its run id in the workspace.", show_default=False)],
    key: Annotated[
        Optional[Path], typer.Option("--key", metavar="FILE", help="Signer key file (default: the file GOVERN_SIGNING_KEY names).")
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", metavar="FILE", help="Write the envelope here instead of RUN/attestation.dsse.json.")
    ] = None,
) -> None:
    """Sign an in-toto statement about a sealed run (every file with its SHA-256) in a DSSE envelope.

    The run's seal and every file are verified first; a run that does not verify is not
    attested (exit 1, its problems listed). The envelope is written to
    RUN/attestation.dsse.json (beside the seal, outside the manifest), replacing an earlier
    one atomically, or to --out; on object storage it is put as the object
    <run id>/attestation.dsse.json. Check it with 'govern verify --attestation FILE --vkey KEY'.
    """
    from govern.config.keys import SIGNING_KEY_VARIABLE, configured_signer
    from govern.format.paths import ATTESTATION_NAME
    from govern.log.attestation import attest_run
    from govern.runs.listing import LOCK_NAME
    from govern.store.atomic import remove_temp_leftovers, write_atomic
    from govern.store.locking import exclusive_lock

    state: CliState = ctx.obj
    signer, _ = configured_signer(key)
    if signer is None:
        raise GovernError("E_USAGE", f"no signing key: give --key FILE or set {SIGNING_KEY_VARIABLE} to a signer key file ('govern log keygen')")
    located = locate_run(state, run)
    with state.output.progress() as progress:
        if located.folder is None:  # object storage: the envelope is an object beside the run
            attested = attest_run(located.runs, located.run_id, signer, located.location, progress)
            if out is None:
                located.runs.backend.put(f"{located.run_id}/{ATTESTATION_NAME}", attested.envelope)
        else:
            # The lock a seal takes: no --reseal swaps the seal between the check and the write.
            with exclusive_lock(located.folder.parent / LOCK_NAME, state.lock_timeout):
                remove_temp_leftovers(located.folder, [ATTESTATION_NAME])
                attested = attest_run(located.runs, located.run_id, signer, located.location, progress)
                if out is None:
                    write_atomic(located.folder / ATTESTATION_NAME, attested.envelope)
    if out is not None:
        write_atomic(out, attested.envelope)
    written_to = str(out) if out is not None else f"{located.location.rstrip('/')}/{ATTESTATION_NAME}"
    state.output.show(AttestResult(attested.run_id, attested.root_sha256, attested.subjects, attested.keyid, written_to))


@attrs.frozen
class AttestationCheck:
    """``govern verify --attestation``: the envelope verified, and every subject matches its
    run's file now (shown as part of the verify result, :class:`govern.cli.verify_cmd.VerifyResult`)."""

    attestation: str
    run_id: str
    run_location: str
    root_sha256: str
    subjects: int
    signed_by: tuple[str, ...]


def attestation_check_lines(check: AttestationCheck) -> list[str]:
    """One OK line: the envelope, the run, the subjects matched and the signers."""
    return [
        OkLine(
            f"OK      attestation {check.attestation}: run {check.run_id}, {plural(check.subjects, 'subject')} match, "
            f"ROOT_SHA256 {check.root_sha256}, signed by {', '.join(check.signed_by)}"
        )
    ]


def attestation_check_json(check: AttestationCheck) -> dict[str, Any]:
    """The envelope, the run, the subjects matched and the key ids whose signature verified."""
    return {
        "file": check.attestation,
        "ok": True,
        "run_id": check.run_id,
        "run": check.run_location,
        "root_sha256": check.root_sha256,
        "subjects": check.subjects,
        "signed_by": list(check.signed_by),
    }


def verify_attestation(state: CliState, attestation: Path, vkeys: list[str], run: str | None) -> AttestationCheck:
    """``govern verify --attestation FILE --vkey KEY… [RUN]``: the signature, then every subject
    re-hashed from the run's files (RUN, else the run the predicate names in the workspace).
    E_ATTESTATION_INVALID (exit 1) names the file and the first problem; all are listed."""
    from govern.config.keys import load_verifiers
    from govern.format.manifest import MAX_MANIFEST_BYTES
    from govern.log.attestation import open_attestation, subject_problems
    from govern.store.files import read_bytes_capped

    if not vkeys:
        raise GovernError("E_USAGE", "--attestation needs --vkey KEY (the signer's verifier key, text or file)")
    verifiers = load_verifiers(vkeys)
    # base64 makes the statement a third larger than the manifest it lists, never twice as large.
    data = read_bytes_capped(attestation, 2 * MAX_MANIFEST_BYTES)
    opened = open_attestation(data, verifiers, str(attestation))
    located = locate_run(state, run if run is not None else opened.run_id)
    with state.output.progress() as progress:
        problems = subject_problems(located.runs, located.run_id, opened, progress)
    if problems:
        first = problems[0]
        raise GovernError.found("E_ATTESTATION_INVALID", f"{attestation}: {first.where}: {first.message}", problems=tuple(problems))
    return AttestationCheck(
        str(attestation), located.run_id, located.location, opened.root_sha256, len(opened.statement.subjects), opened.signed_by
    )


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("attest", short_help="Sign an in-toto attestation of a sealed run (DSSE)")(attest)
