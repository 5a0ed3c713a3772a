"""Sealing a run folder: run.json if missing, manifest.json, then MANIFEST.sha256.

``MANIFEST.sha256`` is written last and is the commit point: a run is sealed exactly when it
exists. An interrupted seal (manifest.json without MANIFEST.sha256) is therefore just an
unsealed run, and sealing again finishes the job (removing the temporary files a crash left).
A refusal writes nothing at all, and a write that fails (E_IO) takes back what this seal had
written, so the run is left as it was. ``--reseal`` never leaves a run unsealed: the new seal
is staged beside the run and swapped in, MANIFEST.sha256 last (:func:`_swap_seal`).
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from govern.errors import GovernError, Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import dump_canonical
from govern.format.manifest import MANIFEST_NAME, SEAL_NAME, manifest_bytes, seal_line
from govern.format.paths import SEAL_FILES
from govern.runtime import faults, interrupts
from govern.runtime.faults import crash_point
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.hashing import FileHasher
from govern.seal.seal_file import read_seal
from govern.seal.tree import directories_unchanged, list_run_tree
from govern.store.atomic import TEMP_PREFIX, fsync_directory, io_error, remove_temp_leftovers, write_atomic


@attrs.frozen
class SealResult:
    """What sealing produced."""

    run_id: str
    root_sha256: str
    files: int
    total_bytes: int
    wrote_envelope: bool


def _refuse(run_dir: Path, problems: tuple[Problem, ...] | list[Problem]) -> GovernError:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return GovernError(
        first.code,
        f"cannot seal {run_dir}: {first.where}: {first.message}{more}",
        problems=tuple(problems),
    )


#: The files sealing writes at the top of a run, in the order it writes them.
_SEAL_WRITES = (ENVELOPE_NAME, *SEAL_FILES)


def _withdraw(paths: list[Path]) -> None:
    """Take back what a failed seal wrote, newest first (the seal before the manifest)."""
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            os.unlink(path)


def seal_run(
    run_dir: Path,
    *,
    envelope: dict[str, Any],
    reseal: bool = False,
    progress: Progress = NO_PROGRESS,
) -> SealResult:
    """Seal ``run_dir``; raise :class:`GovernError` (nothing written) when it cannot be sealed.

    ``envelope`` is the run.json written when the run has none; its ``run_id`` is the id
    recorded in the manifest (a staged run's folder is renamed to it afterwards).
    ``progress`` counts the files hashed.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or run_dir.is_symlink():
        raise GovernError("E_NOT_A_DIRECTORY", f"{run_dir}: not a directory")
    if finish_interrupted_reseal(run_dir) and not reseal:
        return _sealed_result(run_dir)
    seal_path = run_dir / SEAL_NAME
    if (seal_path.is_file() or seal_path.is_symlink()) and not reseal:
        raise GovernError(
            "E_ALREADY_SEALED",
            f"{run_dir}: already sealed (MANIFEST.sha256 exists); check it with 'govern verify {run_dir}' — "
            "a seal that fails there is evidence, not something to replace (--reseal only for a run the delta log never recorded)",
        )
    # Crash debris, never payload (the caller holds the lock, so no seal is writing them now).
    remove_temp_leftovers(run_dir, _SEAL_WRITES)
    listing = list_run_tree(run_dir)
    if listing.problems:
        raise _refuse(run_dir, listing.problems)
    envelope_path = run_dir / ENVELOPE_NAME
    envelope_bytes = None
    if not envelope_path.exists():
        envelope_bytes = dump_canonical(envelope)
    progress.start(len(listing.paths), f"sealing {run_dir.name}")
    with FileHasher(listing) as hasher:
        # Every file's stamp before any is hashed, as each must still hold when it is: a file
        # that changes between the walk and its hash means a writer is at work in the run.
        stamps = hasher.stamps()
        if stamps.problems:
            raise _refuse(run_dir, [Problem(code, listing.paths[position], message) for position, code, message in stamps.problems])
        hashed = hasher.fingerprint(progress, stamps)
        if hashed.problems:
            raise _refuse(run_dir, [Problem(code, listing.paths[position], message) for position, code, message in hashed.problems])
        # Every stamp once more, now that all files are hashed: a file changed after its hash
        # (or a folder that gained or lost an entry) would make the manifest a lie. The
        # workers check while this process writes the manifest.
        unchanged = hasher.unchanged(hashed)
        paths, sizes = listing.paths, hashed.sizes
        entries: Iterable[tuple[str, str, int]] = zip(paths, hashed.hex_digests(), sizes)
        total_bytes = sum(sizes)
        if envelope_bytes is not None:
            # run.json is payload like any other file, so it is listed; its hash is known already.
            envelope_entry = (ENVELOPE_NAME, hashlib.sha256(envelope_bytes).hexdigest(), len(envelope_bytes))
            at = bisect.bisect(paths, ENVELOPE_NAME)
            entries = itertools.chain(itertools.islice(entries, at), [envelope_entry], entries)
            total_bytes += len(envelope_bytes)
        run_id = envelope["run_id"]
        manifest = manifest_bytes(run_id, entries)
        if not (unchanged() and directories_unchanged(listing)):
            raise GovernError("E_FILE_CHANGED", f"cannot seal {run_dir}: files were added, removed or changed while sealing")
    root, line = seal_line(manifest)
    if reseal:
        if envelope_bytes is not None:
            # A sealed run without run.json (deleted since, or sealed by another tool): its old
            # seal does not verify either way; the new one lists the envelope.
            write_atomic(envelope_path, envelope_bytes)
            crash_point("after-envelope:seal")
        with interrupts.commit_point():  # the swap is the reseal: never cut in two by an interrupt
            _swap_seal(run_dir, manifest, line)
        crash_point("after-seal:seal")
        return _result(run_id, root, len(paths), total_bytes, envelope_bytes)
    attempted: list[Path] = []
    # The writes are the commit: an interrupt waits for them (milliseconds), so the run is
    # either left as it was or sealed — and the command says which.
    with interrupts.commit_point():
        try:
            if envelope_bytes is not None:
                attempted.append(envelope_path)
                write_atomic(envelope_path, envelope_bytes)
                crash_point("after-envelope:seal")
            attempted.append(run_dir / MANIFEST_NAME)
            write_atomic(run_dir / MANIFEST_NAME, manifest)
            crash_point("after-manifest:seal")
            attempted.append(run_dir / SEAL_NAME)
            write_atomic(run_dir / SEAL_NAME, line)
        except BaseException:
            _withdraw(attempted)
            raise
    crash_point("after-seal:seal")
    return _result(run_id, root, len(paths), total_bytes, envelope_bytes)


def _result(run_id: str, root: str, listed: int, total_bytes: int, envelope_bytes: bytes | None) -> SealResult:
    return SealResult(
        run_id=run_id,
        root_sha256=root,
        files=listed + (envelope_bytes is not None),
        total_bytes=total_bytes,
        wrote_envelope=envelope_bytes is not None,
    )


def _sealed_result(run_dir: Path) -> SealResult:
    """What the seal of ``run_dir``, just completed by :func:`finish_interrupted_reseal`, holds."""
    seal = read_seal(run_dir)
    assert seal.manifest is not None and seal.root_sha256 is not None
    files = seal.manifest.files
    return SealResult(run_dir.name, seal.root_sha256, len(files), sum(entry.bytes for entry in files), False)


# ----------------------------------------------------------------------------- --reseal


#: Name prefix of the folder ``--reseal`` stages a run's new seal in (followed by the run id).
RESEAL_STAGING_PREFIX = f"{TEMP_PREFIX}reseal-"


def reseal_staging(run_dir: Path) -> Path:
    """Where ``--reseal`` stages a run's new seal: a hidden folder beside the run (same file
    system, so moving a file from it is one atomic rename; outside the run, so a crash leaves
    no stray file inside a sealed run)."""
    return run_dir.parent / f"{RESEAL_STAGING_PREFIX}{run_dir.name}"


def _swap_seal(run_dir: Path, manifest: bytes, line: bytes) -> None:
    """Replace a run's seal without passing through an unsealed state.

    The new manifest.json and MANIFEST.sha256 are staged (written and fsynced) in
    :func:`reseal_staging`; then manifest.json is moved over the old one and MANIFEST.sha256
    last, each by one atomic rename. Until the first rename the old seal stands; after the
    second the new one does. Between the two (one rename's time) the run holds the new
    manifest under the old seal, and the staged seal — which pins exactly that manifest — is
    what :func:`finish_interrupted_reseal` moves into place when a crash struck there.
    """
    staging = reseal_staging(run_dir)
    _discard_staging(staging)  # a reseal that never reached its first rename: nothing of it counts
    try:
        staging.mkdir()
        write_atomic(staging / MANIFEST_NAME, manifest)
        write_atomic(staging / SEAL_NAME, line)
        fsync_directory(run_dir.parent)
    except OSError as exc:
        _discard_staging(staging)
        raise io_error("create", staging, exc, "the old seal is unchanged") from exc
    except BaseException:
        _discard_staging(staging)
        raise
    crash_point("after-stage:reseal")
    try:
        faults.replace(staging / MANIFEST_NAME, run_dir / MANIFEST_NAME)
    except OSError as exc:
        _discard_staging(staging)
        raise io_error("rename", run_dir / MANIFEST_NAME, exc, "the old seal is unchanged") from exc
    crash_point("after-swap-manifest:reseal")
    _commit_staged_seal(run_dir, staging)


def _commit_staged_seal(run_dir: Path, staging: Path) -> None:
    """Move the staged MANIFEST.sha256 over the run's (the commit point), make it durable, and
    remove the staging folder."""
    try:
        faults.replace(staging / SEAL_NAME, run_dir / SEAL_NAME)
        fsync_directory(run_dir)
    except OSError as exc:
        raise io_error("rename", run_dir / SEAL_NAME, exc, f"'govern seal {run_dir}' finishes the reseal") from exc
    _discard_staging(staging)


def _discard_staging(staging: Path) -> None:
    if staging.is_dir() and not staging.is_symlink():
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            fsync_directory(staging.parent)


def finish_interrupted_reseal(run_dir: Path) -> bool:
    """Complete or discard what a crashed ``--reseal`` of ``run_dir`` left; True when it
    completed one (the run now carries the new seal). Call under the workspace lock.

    A staged seal whose manifest was already moved into the run, and which pins the run's
    manifest.json exactly, is moved into place (the crash struck between the two renames);
    anything else staged never replaced a byte of the run and is discarded.
    """
    staging = reseal_staging(run_dir)
    if not staging.is_dir() or staging.is_symlink():
        return False
    staged_seal = staging / SEAL_NAME
    finished = False
    if not (staging / MANIFEST_NAME).exists() and staged_seal.is_file():
        pinned: bytes | None
        current: bytes | None
        try:
            pinned = staged_seal.read_bytes()
            current = (run_dir / MANIFEST_NAME).read_bytes()
        except OSError:
            pinned = current = None
        if current is not None and seal_line(current)[1] == pinned:
            _commit_staged_seal(run_dir, staging)
            finished = True
    _discard_staging(staging)
    return finished
