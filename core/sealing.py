"""Sealing a run folder: run.json if missing, manifest.json, then MANIFEST.sha256.

``MANIFEST.sha256`` is written last and is the commit point: a run is sealed exactly when it
exists. An interrupted seal (manifest.json without MANIFEST.sha256) is therefore just an
unsealed run, and sealing again finishes the job. A refusal writes nothing at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import attrs

from govern.atomic import TEMP_PREFIX, write_atomic
from govern.envelope import ENVELOPE_NAME
from govern.errors import ExitCode, GovernError, Problem
from govern.hashing import hash_files
from govern.jsonio import dump_canonical
from govern.manifest import MANIFEST_NAME, SEAL_NAME, Manifest, ManifestEntry, seal_line
from govern.paths import SEAL_FILES
from govern.progress import NO_PROGRESS, Progress
from govern.tree import TreeScan, scan_run_tree


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


def _remove_seal_leftovers(run_dir: Path) -> None:
    for name in SEAL_FILES:
        with contextlib.suppress(FileNotFoundError):
            for leftover in run_dir.glob(f"{TEMP_PREFIX}*-{name}"):
                leftover.unlink()


def _tree_signature(scan: TreeScan) -> list[tuple[str, int, int]]:
    return [(f.path, f.size, f.mtime_ns) for f in scan.files]


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
    ``progress`` counts the bytes hashed.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or run_dir.is_symlink():
        raise GovernError("E_NOT_A_DIRECTORY", f"{run_dir}: not a directory")
    if (run_dir / SEAL_NAME).exists() and not reseal:
        raise GovernError("E_ALREADY_SEALED", f"{run_dir}: already sealed (MANIFEST.sha256 exists); use --reseal to replace the seal")
    scan = scan_run_tree(run_dir)
    if scan.problems:
        raise _refuse(run_dir, scan.problems)
    envelope_path = run_dir / ENVELOPE_NAME
    envelope_bytes = None
    if not envelope_path.exists():
        envelope_bytes = dump_canonical(envelope)
    progress.start(sum(f.size for f in scan.files), f"sealing {run_dir.name}")
    digests = list(hash_files(scan.files, progress))
    problems = [d.problem for d in digests if d.problem is not None]
    if problems:
        raise _refuse(run_dir, problems)
    if _tree_signature(scan_run_tree(run_dir)) != _tree_signature(scan):
        raise GovernError("E_FILE_CHANGED", f"cannot seal {run_dir}: files were added, removed or changed while sealing")
    entries = [ManifestEntry(d.path, d.sha256, d.size) for d in digests]  # type: ignore[arg-type]
    if envelope_bytes is not None:
        # run.json is payload like any other file, so it is listed; its hash is known already.
        envelope_entry = ManifestEntry(ENVELOPE_NAME, hashlib.sha256(envelope_bytes).hexdigest(), len(envelope_bytes))
        entries = sorted([*entries, envelope_entry], key=lambda e: e.path)
    run_id = envelope["run_id"]
    manifest = Manifest(run_id=run_id, files=tuple(entries))
    manifest_bytes = manifest.to_bytes()
    root, line = seal_line(manifest_bytes)
    _remove_seal_leftovers(run_dir)
    if reseal:
        # Withdraw the old seal first so no instant shows the old seal over a new manifest.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(run_dir / SEAL_NAME)
    if envelope_bytes is not None:
        write_atomic(envelope_path, envelope_bytes)
    write_atomic(run_dir / MANIFEST_NAME, manifest_bytes)
    write_atomic(run_dir / SEAL_NAME, line)
    return SealResult(
        run_id=run_id,
        root_sha256=root,
        files=len(entries),
        total_bytes=sum(e.bytes for e in entries),
        wrote_envelope=envelope_bytes is not None,
    )
