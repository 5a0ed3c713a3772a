"""Verifying a sealed run: the seal, the manifest, and every payload file (``govern verify``).

Every problem is reported, not only the first (bagit-python's habit): a missing file does
not hide a modified one. Paths come from a manifest that may be hostile, so each is checked
by :func:`govern.paths.manifest_path_problem` before anything is opened, and files are only
ever reached through the walk of the run folder itself — never by joining a manifest path.
"""

from __future__ import annotations

import os
from pathlib import Path

from govern.errors import Problem
from govern.hashing import FileHasher
from govern.manifest import SEAL_NAME, SealCheck, read_seal
from govern.progress import NO_PROGRESS, Progress
from govern.tree import list_run_tree


def verify_run(run_dir: Path, progress: Progress = NO_PROGRESS) -> SealCheck:
    """Check the seal, the manifest and every file of ``run_dir``; collect all problems."""
    run_dir = Path(run_dir)
    if not os.path.lexists(run_dir / SEAL_NAME):
        return read_seal(run_dir)  # not sealed: nothing to hash
    listing = list_run_tree(run_dir, include_seal_leftovers=True)
    # Every file on disk is hashed — the workers start at once — while this process reads
    # the manifest; a file the manifest does not list is reported, its digest never looked at.
    with FileHasher(listing) as hasher:
        collect = hasher.start_fingerprint()
        seal = read_seal(run_dir)
        if seal.manifest is None:
            return SealCheck(run_dir, seal.root_sha256, None, seal.problems)
        progress.start(len(listing.paths), f"verifying {run_dir.name}")
        hashed = collect(progress)
    problems: list[Problem] = [*seal.problems, *listing.problems]
    listed = seal.manifest.by_path()
    on_disk = set(listing.paths)
    for path in sorted(listed.keys() - on_disk):
        problems.append(Problem("E_FILE_MISSING", path, "listed in the manifest, not on disk"))
    for path in sorted(on_disk - listed.keys()):
        problems.append(Problem("E_FILE_UNLISTED", path, "on disk, not listed in the manifest"))
    # Files both listed and on disk, in path order: size (told by the hash's fstat), then digest.
    failed = {position: (code, message) for position, code, message in hashed.problems}
    size_problems: list[Problem] = []
    hash_problems: list[Problem] = []
    sizes = hashed.sizes
    for position, (path, found) in enumerate(zip(listing.paths, hashed.hex_digests())):
        expected = listed.get(path)
        if expected is None:
            continue
        if failed and position in failed:
            code, message = failed[position]
            size = _size_if_known(listing.location(position))
            if size is not None and size != expected.bytes:
                size_problems.append(Problem("E_SIZE_MISMATCH", path, f"{size} bytes, the manifest says {expected.bytes}"))
            else:
                hash_problems.append(Problem(code, path, message))
        elif sizes[position] != expected.bytes:
            size_problems.append(Problem("E_SIZE_MISMATCH", path, f"{sizes[position]} bytes, the manifest says {expected.bytes}"))
        elif found != expected.sha256:
            hash_problems.append(Problem("E_DIGEST_MISMATCH", path, f"sha256 {found}, the manifest says {expected.sha256}"))
    problems.extend(size_problems)
    problems.extend(hash_problems)
    return SealCheck(run_dir, seal.root_sha256, seal.manifest, tuple(problems))


def _size_if_known(location: str) -> int | None:
    """The size of a file that could not be hashed, if a stat still tells it (a wrong size is
    reported as such, whatever else is wrong with the file)."""
    try:
        return os.stat(location, follow_symlinks=False).st_size
    except OSError:
        return None
