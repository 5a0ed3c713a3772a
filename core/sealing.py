"""Sealing a run folder: run.json if missing, manifest.json, then MANIFEST.sha256.

``MANIFEST.sha256`` is written last and is the commit point: a run is sealed exactly when it
exists. An interrupted seal (manifest.json without MANIFEST.sha256) is therefore just an
unsealed run, and sealing again finishes the job (removing the temporary files a crash left).
A refusal writes nothing at all, and a write that fails (E_IO) takes back what this seal had
written, so the run is left as it was.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from govern import interrupts
from govern.atomic import remove_temp_leftovers, write_atomic
from govern.envelope import ENVELOPE_NAME
from govern.errors import ExitCode, GovernError, Problem
from govern.faults import crash_point
from govern.hashing import FileHasher
from govern.jsonio import dump_canonical
from govern.manifest import MANIFEST_NAME, SEAL_NAME, manifest_bytes, seal_line
from govern.paths import SEAL_FILES
from govern.progress import NO_PROGRESS, Progress
from govern.tree import directories_unchanged, list_run_tree


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
        exit_code=ExitCode.USAGE,
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
    seal_path = run_dir / SEAL_NAME
    if (seal_path.is_file() or seal_path.is_symlink()) and not reseal:
        raise GovernError("E_ALREADY_SEALED", f"{run_dir}: already sealed (MANIFEST.sha256 exists); use --reseal to replace the seal")
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
        # Withdraw the old seal first so no instant shows the old seal over a new manifest.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(run_dir / SEAL_NAME)
        crash_point("after-withdraw:seal")
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
    return SealResult(
        run_id=run_id,
        root_sha256=root,
        files=len(paths) + (envelope_bytes is not None),
        total_bytes=total_bytes,
        wrote_envelope=envelope_bytes is not None,
    )
